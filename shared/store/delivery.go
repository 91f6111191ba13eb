package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// A delivery (the answer to an access or portability request) is kept on the request: the
// structured answer and the record of each file (dsr.Delivery), bounded by dsr.MaxFiles. What
// grows with use lives beside it in the request's partition:
//
//   - every download of a file, under TAKEN#<id> (the id is its time and a random part): the
//     audit record of which file was fetched when, one small item each, so the request item
//     does not grow with every click, and a download costs one write;
//   - every files link mailed to the requester and the session it opened, under
//     PROOF#<sha256 of the link's secret>, with an expiry of its own of minutes.
//
// PROOF# sorts between the messages and the request, so the status page's one Query
// (Conversation) and the files page's (FilesPage) read it; TAKEN# sorts after the request,
// where only the workspace, which reads the whole partition, looks.
const (
	downloadPrefix = "TAKEN#"
	proofPrefix    = "PROOF#"
)

type deliveryItem struct {
	At         time.Time   `dynamodbav:"at"`
	By         string      `dynamodbav:"by"`
	Files      []fileItem  `dynamodbav:"files,omitempty"`
	Answer     *answerItem `dynamodbav:"answer,omitempty"`
	Format     string      `dynamodbav:"format,omitempty"`
	Controller string      `dynamodbav:"controller,omitempty"`
	RemindAt   *time.Time  `dynamodbav:"remind_at,omitempty"`
	RemindedAt *time.Time  `dynamodbav:"reminded_at,omitempty"`
}

type fileItem struct {
	ID       string    `dynamodbav:"id"`
	Name     string    `dynamodbav:"name"`
	Size     int64     `dynamodbav:"size"`
	MD5      string    `dynamodbav:"md5"`
	Key      string    `dynamodbav:"key"`
	Uploaded time.Time `dynamodbav:"uploaded"`
	Expires  time.Time `dynamodbav:"expires"`
}

type answerItem struct {
	Purposes   string `dynamodbav:"purposes,omitempty"`
	Categories string `dynamodbav:"categories,omitempty"`
	Recipients string `dynamodbav:"recipients,omitempty"`
	Retention  string `dynamodbav:"retention,omitempty"`
	Source     string `dynamodbav:"source,omitempty"`
	Automated  string `dynamodbav:"automated,omitempty"`
	Safeguards string `dynamodbav:"safeguards,omitempty"`
}

func deliveryToItem(d *dsr.Delivery) *deliveryItem {
	if d == nil {
		return nil
	}
	it := &deliveryItem{At: d.At.UTC(), By: d.By, Format: d.Format, Controller: d.Controller,
		RemindAt: timePtr(d.RemindAt), RemindedAt: timePtr(d.RemindedAt)}
	for _, f := range d.Files {
		it.Files = append(it.Files, fileItem{ID: f.ID, Name: f.Name, Size: f.Size, MD5: f.MD5, Key: f.Key,
			Uploaded: f.Uploaded.UTC(), Expires: f.Expires.UTC()})
	}
	if a := d.Answer; a != nil {
		it.Answer = &answerItem{Purposes: a.Purposes, Categories: a.Categories, Recipients: a.Recipients,
			Retention: a.Retention, Source: a.Source, Automated: a.Automated, Safeguards: a.Safeguards}
	}
	return it
}

func (it *deliveryItem) delivery() *dsr.Delivery {
	if it == nil {
		return nil
	}
	d := &dsr.Delivery{At: it.At.UTC(), By: it.By, Format: it.Format, Controller: it.Controller,
		RemindAt: timeVal(it.RemindAt), RemindedAt: timeVal(it.RemindedAt)}
	for _, f := range it.Files {
		d.Files = append(d.Files, dsr.File{ID: f.ID, Name: f.Name, Size: f.Size, MD5: f.MD5, Key: f.Key,
			Uploaded: f.Uploaded.UTC(), Expires: f.Expires.UTC()})
	}
	if a := it.Answer; a != nil {
		d.Answer = &dsr.AccessAnswer{Purposes: a.Purposes, Categories: a.Categories, Recipients: a.Recipients,
			Retention: a.Retention, Source: a.Source, Automated: a.Automated, Safeguards: a.Safeguards}
	}
	return d
}

type downloadItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	At        time.Time `dynamodbav:"at"`
	File      string    `dynamodbav:"file"`
	ExpiresAt int64     `dynamodbav:"expires_at,omitempty"`
}

// RecordDownload records download d of a file of r's delivery: one write, its record beside
// the request (UpdateItem: the functions that write beside a request may not PutItem in its
// partition). The request itself does not change; the sweep reads the records when the
// delivery's reminder falls due. The record is keyed by d.ID, so writing it again (a retry
// after a lost answer) writes the same item.
func (s *Store) RecordDownload(ctx context.Context, r *dsr.Request, d dsr.Download) error {
	u := newUpdate()
	at, err := marshalTime(d.At)
	if err != nil {
		return err
	}
	u.set("at", at)
	u.set("file", str(d.File))
	if exp := s.siblingsExpireAt(r); exp != 0 {
		u.set(AttrExpiresAt, num64(exp))
	}
	key := map[string]ddbtypes.AttributeValue{AttrPK: str(requestPK(r.Ref)), AttrSK: str(downloadPrefix + d.ID)}
	if _, err := s.db.UpdateItem(ctx, u.input(s.table, key, "")); err != nil {
		return unavailable("store: record download", err)
	}
	return nil
}

// downloadOf decodes a download's record, false for an item that is not one or has expired.
func (s *Store) downloadOf(av map[string]ddbtypes.AttributeValue) (dsr.Download, bool) {
	sk := skOf(av)
	if !strings.HasPrefix(sk, downloadPrefix) {
		return dsr.Download{}, false
	}
	var it downloadItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil || s.expired(it.ExpiresAt) {
		return dsr.Download{}, false
	}
	return dsr.Download{ID: strings.TrimPrefix(sk, downloadPrefix), At: it.At.UTC(), File: it.File}, true
}

// Downloads returns every download of a file of request ref, oldest first: the audit
// records the workspace shows with the trail.
func (s *Store) Downloads(ctx context.Context, ref string) ([]dsr.Download, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :p)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(requestPK(ref)), ":p": str(downloadPrefix)},
		ConsistentRead:            aws.Bool(true),
	}
	var out []dsr.Download
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("store: read downloads", err)
		}
		for _, av := range page.Items {
			if d, ok := s.downloadOf(av); ok {
				out = append(out, d)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

type proofItem struct {
	PK          string    `dynamodbav:"pk"`
	SK          string    `dynamodbav:"sk"`
	EmailHash   string    `dynamodbav:"email_hash"`
	Created     time.Time `dynamodbav:"created"`
	ValidUntil  string    `dynamodbav:"valid_until"`
	Used        string    `dynamodbav:"used,omitempty"`
	SessionHash string    `dynamodbav:"session_hash,omitempty"`
	ExpiresAt   int64     `dynamodbav:"expires_at"`
}

func (it proofItem) proof() dsr.Proof {
	p := dsr.Proof{Key: strings.TrimPrefix(it.SK, proofPrefix), EmailHash: it.EmailHash, Created: it.Created.UTC(), SessionHash: it.SessionHash}
	p.ValidUntil, _ = time.Parse(timeKey, it.ValidUntil)
	if it.Used != "" {
		p.Used, _ = time.Parse(timeKey, it.Used)
	}
	return p
}

func proofKey(ref, key string) map[string]ddbtypes.AttributeValue {
	return map[string]ddbtypes.AttributeValue{AttrPK: str(requestPK(ref)), AttrSK: str(proofPrefix + key)}
}

// proofTTL is when a proof's item may go: after its session could have ended, whatever
// happens to it. The store treats it as absent from then on.
func proofTTL(p dsr.Proof) int64 { return p.ValidUntil.Add(dsr.FilesSession).Unix() }

// PutProof stores a new files link of request ref beside it (UpdateItem, on condition that
// no link has that key: a key is the hash of 256 random bits).
func (s *Store) PutProof(ctx context.Context, ref string, p dsr.Proof) error {
	u := newUpdate()
	created, err := marshalTime(p.Created)
	if err != nil {
		return err
	}
	u.set("email_hash", str(p.EmailHash))
	u.set("created", created)
	u.set("valid_until", str(TimeKey(p.ValidUntil)))
	u.set(AttrExpiresAt, num64(proofTTL(p)))
	u.names["#c_pk"] = AttrPK
	_, err = s.db.UpdateItem(ctx, u.input(s.table, proofKey(ref, p.Key), "attribute_not_exists(#c_pk)"))
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: files link of %s: %w", ref, fault.Conflict)
	case err != nil:
		return unavailable("store: put files link", err)
	}
	return nil
}

// UseProof spends files link p of request ref at p.Used, opening its session until
// p.ValidUntil (dsr.Proof.Use): one conditional write that holds only while the link is
// stored, unused and unexpired, so a link opens one session only. Any other link is
// fault.NotFound: the page that says so cannot tell a used link from an unknown one.
func (s *Store) UseProof(ctx context.Context, ref string, p dsr.Proof) error {
	u := newUpdate()
	u.set("used", str(TimeKey(p.Used)))
	u.set("session_hash", str(p.SessionHash))
	u.set("valid_until", str(TimeKey(p.ValidUntil)))
	u.set(AttrExpiresAt, num64(proofTTL(p)))
	u.names["#c_pk"], u.names["#c_used"], u.names["#c_valid"] = AttrPK, "used", "valid_until"
	cond := "attribute_exists(#c_pk) AND attribute_not_exists(#c_used) AND #c_valid > " + u.value(str(TimeKey(p.Used)))
	_, err := s.db.UpdateItem(ctx, u.input(s.table, proofKey(ref, p.Key), cond))
	switch {
	case isConditionFailed(err):
		return fmt.Errorf("store: files link of %s: %w", ref, fault.NotFound)
	case err != nil:
		return unavailable("store: use files link", err)
	}
	return nil
}

// FilesPage reads request ref and its files link keyed key (the hash of the link's secret)
// with one strongly consistent Query: the request's partition from that link to the request,
// filtered to the two. An absent request, or one past its expiry, is fault.NotFound; an
// absent or expired link comes back as the zero Proof.
func (s *Store) FilesPage(ctx context.Context, ref, key string) (*dsr.Request, dsr.Proof, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		KeyConditionExpression:   aws.String("#pk = :pk AND #sk BETWEEN :proof AND :req"),
		ExpressionAttributeNames: map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": str(requestPK(ref)), ":proof": str(proofPrefix + key), ":req": str(requestSK),
		},
		ConsistentRead: aws.Bool(true),
	}
	var r *dsr.Request
	var p dsr.Proof
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, dsr.Proof{}, unavailable("store: read files page", err)
		}
		for _, av := range page.Items {
			switch sk := skOf(av); {
			case sk == requestSK:
				if r, err = s.decodeRequest(av); err != nil {
					return nil, dsr.Proof{}, err
				}
			case sk == proofPrefix+key:
				var it proofItem
				if err := attributevalue.UnmarshalMap(av, &it); err != nil {
					return nil, dsr.Proof{}, fmt.Errorf("store: decode files link: %w", err)
				}
				if !s.expired(it.ExpiresAt) {
					p = it.proof()
				}
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if r == nil {
		return nil, dsr.Proof{}, fmt.Errorf("store: request %s: %w", ref, fault.NotFound)
	}
	return r, p, nil
}
