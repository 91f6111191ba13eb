package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// A request's partition (pk REQ#<ref>) holds the request item (sk REQ) and, beside it, what
// grows or is looked up apart from it: the exact text of every mail sent to the requester
// (MAIL#…) and the request's search entries (IDX#…). These siblings are written idempotently
// under deterministic keys after the change they follow, never as part of it: the request
// changes by one conditional write, and a sibling that lags behind it is corrected by
// SyncSiblings or read through the request (search checks every hit against it).
//
// Every sibling carries the TTL its request gives it (dsr.Request.SiblingsKeptUntil), so what
// holds personal data goes when the request's personal data goes.

// Sort key prefixes of the siblings. Stored: never rename one.
const (
	mailPrefix   = "MAIL#"
	searchPrefix = "IDX#"
)

// mailItem is the exact text of one mail to the requester.
type mailTextItem struct {
	PK        string    `dynamodbav:"pk"`
	SK        string    `dynamodbav:"sk"`
	Ref       string    `dynamodbav:"ref"`
	Kind      string    `dynamodbav:"kind"`
	At        time.Time `dynamodbav:"at"`
	To        string    `dynamodbav:"to"`
	Lang      string    `dynamodbav:"lang"`
	Subject   string    `dynamodbav:"subject"`
	Text      string    `dynamodbav:"text"`
	WsPK      string    `dynamodbav:"ws_pk"`
	WsSK      string    `dynamodbav:"ws_sk"`
	ExpiresAt int64     `dynamodbav:"expires_at,omitempty"`
}

// searchItem says that request Ref is found by Word: the workspace index keeps it in Word's
// bucket (dsr.SearchBucket), ordered by the word.
type searchItem struct {
	PK        string `dynamodbav:"pk"`
	SK        string `dynamodbav:"sk"`
	Ref       string `dynamodbav:"ref"`
	WsPK      string `dynamodbav:"ws_pk"`
	WsSK      string `dynamodbav:"ws_sk"`
	ExpiresAt int64  `dynamodbav:"expires_at,omitempty"`
}

// historyPartition is the workspace index partition of the mail texts of the requests received
// in the month of t, which the audit export reads in the order of the requests.
func historyPartition(t time.Time) string { return "H#" + t.UTC().Format("2006-01") }

func searchPartition(word string) string { return "S#" + dsr.SearchBucket(word) }

func mailSK(m dsr.SentMail) string { return mailPrefix + TimeKey(m.At) + "#" + string(m.Kind) }

func (s *Store) mailText(r *dsr.Request, m dsr.SentMail, expires int64) mailTextItem {
	sk := mailSK(m)
	return mailTextItem{
		PK: requestPK(r.Ref), SK: sk, Ref: r.Ref, Kind: string(m.Kind), At: m.At.UTC(), To: m.To, Lang: m.Lang,
		Subject: m.Subject, Text: m.Text,
		WsPK: historyPartition(r.ReceivedAt), WsSK: receiptKey(r) + "#" + sk,
		ExpiresAt: expires,
	}
}

func (it mailTextItem) sentMail() dsr.SentMail {
	return dsr.SentMail{Kind: dsr.MailKind(it.Kind), At: it.At, To: it.To, Lang: it.Lang, Subject: it.Subject, Text: it.Text}
}

// siblingsExpireAt is the TTL of r's siblings as stored, 0 for none.
func (s *Store) siblingsExpireAt(r *dsr.Request) int64 {
	if t := r.SiblingsKeptUntil(s.retention); !t.IsZero() {
		return t.Unix()
	}
	return 0
}

// OpenRequest reads a request with everything its partition holds for a page about it: the
// request and the texts of the mails sent to the requester, oldest first. It is one Query
// (strongly consistent), so the page costs what reading the request alone did.
func (s *Store) OpenRequest(ctx context.Context, ref string) (*dsr.Request, []dsr.SentMail, error) {
	r, mails, _, err := s.OpenConversation(ctx, ref)
	return r, mails, err
}

// OpenConversation is OpenRequest with the messages of the conversation with the requester
// that the request's audit trail names, in its order (dsr.Request.Messages): the same Query.
func (s *Store) OpenConversation(ctx context.Context, ref string) (*dsr.Request, []dsr.SentMail, []dsr.Message, error) {
	items, err := s.partition(ctx, ref)
	if err != nil {
		return nil, nil, nil, err
	}
	var r *dsr.Request
	var mails []dsr.SentMail
	var msgs []dsr.Message
	for _, av := range items {
		switch sk := skOf(av); {
		case sk == requestSK:
			if r, err = s.decodeRequest(av); err != nil {
				return nil, nil, nil, err
			}
		case strings.HasPrefix(sk, mailPrefix):
			var it mailTextItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil {
				return nil, nil, nil, fmt.Errorf("store: decode mail text: %w", err)
			}
			if !s.expired(it.ExpiresAt) {
				mails = append(mails, it.sentMail())
			}
		case strings.HasPrefix(sk, messagePrefix):
			m, ok, err := s.decodeMessage(av)
			if err != nil {
				return nil, nil, nil, err
			}
			if ok {
				msgs = append(msgs, m)
			}
		}
	}
	if r == nil {
		return nil, nil, nil, fmt.Errorf("store: request %s: %w", ref, fault.NotFound)
	}
	slices.SortStableFunc(mails, func(a, b dsr.SentMail) int { return a.At.Compare(b.At) })
	return r, mails, r.Messages(msgs), nil
}

// partition reads every item under REQ#<ref>.
func (s *Store) partition(ctx context.Context, ref string) ([]map[string]ddbtypes.AttributeValue, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(requestPK(ref))},
		ConsistentRead:            aws.Bool(true),
	}
	var out []map[string]ddbtypes.AttributeValue
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("store: read request partition", err)
		}
		out = append(out, page.Items...)
		if len(page.LastEvaluatedKey) == 0 {
			return out, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

func skOf(av map[string]ddbtypes.AttributeValue) string {
	if v, ok := av[AttrSK].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// SyncSiblings brings r's siblings in step with r as it now is, and keeps the exact text of
// the mails in sent beside it: a search entry for every word r is found by and none for a word
// it lost, and on every sibling the TTL r gives them. Once r's personal data is gone (expired),
// its siblings are deleted and no text is kept. It is one Query of the partition and one
// BatchWriteItem of what differs (none if nothing does). A mail is keyed by when it went and
// its kind, so keeping it again (a retried call) writes the same item.
func (s *Store) SyncSiblings(ctx context.Context, r *dsr.Request, sent ...dsr.SentMail) error {
	items, err := s.partition(ctx, r.Ref)
	if err != nil {
		return err
	}
	return s.syncSiblings(ctx, r, items, sent)
}

// StartSync is SyncSiblings in two halves, so that the partition is read while the mails it
// follows are sent (notice.Outbox.Deliver): it starts the Query now; read waits for it, and
// write waits for it and writes what brings the partition in step with r, with the texts of
// sent. r must not change until write has returned. Sending writes no sibling but those
// texts (a status page link goes on the request item), so the read sees what a read after
// the sending would; a sibling another writer adds meanwhile is left as written, as
// SyncSiblings leaves one written between its read and its write.
func (s *Store) StartSync(ctx context.Context, r *dsr.Request) (read func(), write func(sent []dsr.SentMail) error) {
	var items []map[string]ddbtypes.AttributeValue
	var err error
	done := make(chan struct{})
	go func() {
		defer close(done)
		items, err = s.partition(ctx, r.Ref)
	}()
	return func() { <-done }, func(sent []dsr.SentMail) error {
		<-done
		if err != nil {
			return err
		}
		return s.syncSiblings(ctx, r, items, sent)
	}
}

// KeepNew is SyncSiblings for a request whose partition holds nothing but the request yet (a
// request the inbound function or a registration just stored): what SyncSiblings would write,
// its mails' texts and its search entries, in one batch, without the Query.
func (s *Store) KeepNew(ctx context.Context, r *dsr.Request, sent []dsr.SentMail) error {
	return s.syncSiblings(ctx, r, nil, sent)
}

// syncSiblings writes what brings items, r's partition as read, in step with r, with the texts
// of sent.
func (s *Store) syncSiblings(ctx context.Context, r *dsr.Request, items []map[string]ddbtypes.AttributeValue, sent []dsr.SentMail) error {
	exp := s.siblingsExpireAt(r)
	want := map[string]bool{}
	if exp != 0 {
		for _, w := range r.SearchWords() {
			want[searchPrefix+w] = true
		}
	}
	var puts, deletes []map[string]ddbtypes.AttributeValue
	// One batch may not name an item twice: a text kept now replaces the one stored.
	kept := map[string]bool{}
	if exp != 0 {
		for _, m := range sent {
			if kept[mailSK(m)] {
				continue
			}
			kept[mailSK(m)] = true
			av, err := attributevalue.MarshalMap(s.mailText(r, m, exp))
			if err != nil {
				return fmt.Errorf("store: marshal mail text: %w", err)
			}
			puts = append(puts, av)
		}
	}
	for _, av := range items {
		sk := skOf(av)
		if sk == requestSK || kept[sk] {
			continue
		}
		if exp == 0 || (strings.HasPrefix(sk, searchPrefix) && !want[sk]) {
			deletes = append(deletes, map[string]ddbtypes.AttributeValue{AttrPK: str(requestPK(r.Ref)), AttrSK: str(sk)})
			continue
		}
		if strings.HasPrefix(sk, proofPrefix) {
			// A files link lives minutes, by its own expiry: it goes with the request, never
			// later, and never lives longer for being kept with it.
			continue
		}
		delete(want, sk)
		if n, ok := av[AttrExpiresAt].(*ddbtypes.AttributeValueMemberN); ok && n.Value == fmt.Sprint(exp) {
			continue
		}
		av[AttrExpiresAt] = num64(exp)
		puts = append(puts, av)
	}
	for sk := range want {
		word := strings.TrimPrefix(sk, searchPrefix)
		av, err := attributevalue.MarshalMap(searchItem{
			PK: requestPK(r.Ref), SK: sk, Ref: r.Ref,
			WsPK: searchPartition(word), WsSK: word + "#" + r.Ref, ExpiresAt: exp,
		})
		if err != nil {
			return fmt.Errorf("store: marshal search entry: %w", err)
		}
		puts = append(puts, av)
	}
	return s.batchWrite(ctx, puts, deletes)
}

// batchMax is what one BatchWriteItem or BatchGetItem may carry at most (DynamoDB's limits).
const (
	batchWriteMax = 25
	batchGetMax   = 100
)

// batchWrite puts and deletes items in batches, sending again whatever DynamoDB leaves
// unprocessed, with a short pause, a few times.
func (s *Store) batchWrite(ctx context.Context, puts, deletes []map[string]ddbtypes.AttributeValue) error {
	var reqs []ddbtypes.WriteRequest
	for _, p := range puts {
		reqs = append(reqs, ddbtypes.WriteRequest{PutRequest: &ddbtypes.PutRequest{Item: p}})
	}
	for _, d := range deletes {
		reqs = append(reqs, ddbtypes.WriteRequest{DeleteRequest: &ddbtypes.DeleteRequest{Key: d}})
	}
	for len(reqs) > 0 {
		n := min(len(reqs), batchWriteMax)
		batch := reqs[:n]
		reqs = reqs[n:]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt == 4 {
				return fmt.Errorf("store: batch write: %d items unprocessed: %w", len(batch), fault.Unavailable)
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return unavailable("store: batch write", ctx.Err())
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{
				RequestItems: map[string][]ddbtypes.WriteRequest{s.table: batch},
			})
			if err != nil {
				return unavailable("store: batch write", err)
			}
			batch = out.UnprocessedItems[s.table]
		}
	}
	return nil
}

// batchGet reads items by key, in batches, with whatever DynamoDB leaves unprocessed sent
// again; the items come back in no particular order.
func (s *Store) batchGet(ctx context.Context, keys []map[string]ddbtypes.AttributeValue) ([]map[string]ddbtypes.AttributeValue, error) {
	var out []map[string]ddbtypes.AttributeValue
	for len(keys) > 0 {
		n := min(len(keys), batchGetMax)
		batch := keys[:n]
		keys = keys[n:]
		for attempt := 0; len(batch) > 0; attempt++ {
			if attempt == 4 {
				return nil, fmt.Errorf("store: batch get: %d keys unprocessed: %w", len(batch), fault.Unavailable)
			}
			if attempt > 0 {
				select {
				case <-ctx.Done():
					return nil, unavailable("store: batch get", ctx.Err())
				case <-time.After(time.Duration(25<<attempt) * time.Millisecond):
				}
			}
			res, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{
				RequestItems: map[string]ddbtypes.KeysAndAttributes{s.table: {Keys: batch, ConsistentRead: aws.Bool(true)}},
			})
			if err != nil {
				return nil, unavailable("store: batch get", err)
			}
			out = append(out, res.Responses[s.table]...)
			batch = nil
			if u, ok := res.UnprocessedKeys[s.table]; ok {
				batch = u.Keys
			}
		}
	}
	return out, nil
}
