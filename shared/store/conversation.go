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

// The conversation with the requester is stored in the request's own partition: the request
// item (sk REQ) holds the open question, the clock's pauses and an audit event per message,
// and each message's text is an item of its own beside it (sk MSG#<id>), so the request item
// stays small however long the exchange. Opening the requester's status page is one Query on
// the partition.

const messagePrefix = "MSG#"

type messageItem struct {
	PK      string    `dynamodbav:"pk"`
	SK      string    `dynamodbav:"sk"`
	At      time.Time `dynamodbav:"at"`
	From    string    `dynamodbav:"from"`
	Purpose string    `dynamodbav:"purpose,omitempty"`
	Text    string    `dynamodbav:"text"`
	// Inbound is the mail a reply came in (dsr.Message.Mail).
	Inbound   *inboundItem `dynamodbav:"inbound,omitempty"`
	ExpiresAt int64        `dynamodbav:"expires_at,omitempty"`
}

// PutMessage stores message m beside request r, with the TTL r gives its siblings
// (dsr.Request.SiblingsKeptUntil; store.SyncSiblings moves it as r changes). The message's ID
// is its key, so writing the same message again (a retry after a lost answer, or after the
// change that carries it lost a race) writes the same item: it is safe to repeat. A message
// is shown only once an audit event of the request names it (dsr.Request.Messages), so one
// whose change never committed stays invisible, and goes with the request.
func (s *Store) PutMessage(ctx context.Context, r *dsr.Request, m dsr.Message) error {
	// An UpdateItem that sets every attribute, not a PutItem: the functions that write
	// messages may not PutItem in a request's partition (store.Access), where a put could
	// replace the request itself. The key names the message; nothing else can be written.
	u := newUpdate()
	at, err := marshalTime(m.At)
	if err != nil {
		return err
	}
	u.set("at", at)
	u.set("from", str(m.From))
	if m.Purpose != "" {
		u.set("purpose", str(m.Purpose))
	}
	u.set("text", str(m.Text))
	// On the workspace index's history partition, beside the request's mail texts: what
	// the audit export reads, in the order of the requests.
	u.set(AttrWsPK, str(historyPartition(r.ReceivedAt)))
	u.set(AttrWsSK, str(receiptKey(r)+"#"+messagePrefix+m.ID))
	if m.Mail != nil {
		v, err := attributevalue.Marshal(inboundToItem(m.Mail))
		if err != nil {
			return fmt.Errorf("store: marshal message mail: %w", err)
		}
		u.set("inbound", v)
	}
	if exp := s.siblingsExpireAt(r); exp != 0 {
		u.set(AttrExpiresAt, num64(exp))
	}
	key := map[string]ddbtypes.AttributeValue{AttrPK: str(requestPK(r.Ref)), AttrSK: str(messagePrefix + m.ID)}
	if _, err := s.db.UpdateItem(ctx, u.input(s.table, key, "")); err != nil {
		return unavailable("store: put message", err)
	}
	return nil
}

// decodeMessage reads a message item; ok is false for one past its expiry.
func (s *Store) decodeMessage(av map[string]ddbtypes.AttributeValue) (dsr.Message, bool, error) {
	var it messageItem
	if err := attributevalue.UnmarshalMap(av, &it); err != nil {
		return dsr.Message{}, false, fmt.Errorf("store: decode message: %w", err)
	}
	if s.expired(it.ExpiresAt) {
		return dsr.Message{}, false, nil
	}
	return dsr.Message{
		ID: strings.TrimPrefix(it.SK, messagePrefix), At: it.At.UTC(), From: it.From, Purpose: it.Purpose, Text: it.Text,
		Mail: it.Inbound.mail(),
	}, true, nil
}

// Conversation reads request ref and the messages its audit trail names, in order, with one
// strongly consistent Query on the request's partition (the messages' keys sort just before
// the request's). An absent request, or one past its expiry, is fault.NotFound.
func (s *Store) Conversation(ctx context.Context, ref string) (*dsr.Request, []dsr.Message, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk BETWEEN :lo AND :hi"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":pk": str(requestPK(ref)), ":lo": str(messagePrefix), ":hi": str(requestSK)},
		ConsistentRead:            aws.Bool(true),
	}
	var r *dsr.Request
	var stored []dsr.Message
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, nil, unavailable("store: query conversation", err)
		}
		for _, av := range page.Items {
			sk, _ := av[AttrSK].(*ddbtypes.AttributeValueMemberS)
			switch {
			case sk == nil:
				continue
			case sk.Value == requestSK:
				if r, err = s.decodeRequest(av); err != nil {
					return nil, nil, err
				}
			case strings.HasPrefix(sk.Value, messagePrefix):
				m, ok, err := s.decodeMessage(av)
				if err != nil {
					return nil, nil, err
				}
				if ok {
					stored = append(stored, m)
				}
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
	if r == nil {
		return nil, nil, fmt.Errorf("store: request %s: %w", ref, fault.NotFound)
	}
	return r, r.Messages(stored), nil
}

// AddPageLink stores key (dsr.PageLinkKey) as a live link to the status page of request ref,
// for the address whose hash (dsr.HashEmail) is emailHash. It is one write that adds the key
// and leaves the other links alone, on condition that the request still has that address and
// still has a page: confirmed and not answered, or answered less than dsr.PageAfterClose ago
// (the condition compares the stored closing time as text, to the second, and errs on the
// refusing side: a page kept open longer for the files of its answer, dsr.PageOpenUntil,
// gets no new links after that month, and the links already mailed keep working). Past dsr.MaxPageLinks live links, the new one replaces them all. It returns
// the request as written. A request without that address or without a page, or one that is
// not there, is fault.Conflict.
func (s *Store) AddPageLink(ctx context.Context, ref, emailHash, key string) (*dsr.Request, error) {
	page := func(u *update) string {
		u.names["#eh"], u.names["#st"], u.names["#closed"] = "email_hash", "status", "closed_at"
		cutoff := s.now().Add(-dsr.PageAfterClose).UTC().Truncate(time.Second).Format(time.RFC3339)
		return "#eh = " + u.value(str(emailHash)) +
			" AND (#st IN (" + u.value(str(string(dsr.Open))) + ", " + u.value(str(string(dsr.InProgress))) + ")" +
			" OR (#st IN (" + u.value(str(string(dsr.Completed))) + ", " + u.value(str(string(dsr.Rejected))) + ") AND #closed > " + u.value(str(cutoff)) + "))"
	}
	set := &ddbtypes.AttributeValueMemberSS{Value: []string{key}}

	add := newUpdate()
	add.names["#links"] = "page_links"
	expr := "ADD #links " + add.value(set)
	cond := page(add) + " AND (attribute_not_exists(#links) OR size(#links) < " + add.value(num(dsr.MaxPageLinks)) + ")"
	in := add.input(s.table, requestKey(ref), cond)
	in.UpdateExpression = aws.String(expr)
	in.ReturnValues = ddbtypes.ReturnValueAllNew
	out, err := s.db.UpdateItem(ctx, in)
	if isConditionFailed(err) {
		// Either the request has too many links, or no page for this address: the second
		// write holds only in the first case.
		replace := newUpdate()
		replace.names["#links"] = "page_links"
		replace.set("page_links", set)
		cond := page(replace) + " AND size(#links) >= " + replace.value(num(dsr.MaxPageLinks))
		in := replace.input(s.table, requestKey(ref), cond)
		in.ReturnValues = ddbtypes.ReturnValueAllNew
		out, err = s.db.UpdateItem(ctx, in)
	}
	switch {
	case isConditionFailed(err):
		return nil, fmt.Errorf("store: page link for %s: %w", ref, fault.Conflict)
	case err != nil:
		return nil, unavailable("store: add page link", err)
	}
	return s.decodeRequest(out.Attributes)
}

// RequestRefsByEmail returns the references of the requests that may have been filed from
// email: those its search entry names (dsr.Request.SearchWords holds every address whole),
// read from the workspace index without a scan. The entry is cut to the length of a search
// word and folded, so an address that shares it may be named too, and the index is
// eventually consistent: whoever acts on a reference checks the request itself (AddPageLink
// does, by the address's hash).
func (s *Store) RequestRefsByEmail(ctx context.Context, email string) ([]string, error) {
	word := dsr.AddressWord(email)
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(WorkspaceIndex),
		KeyConditionExpression:    aws.String("#p = :p AND begins_with(#s, :w)"),
		ExpressionAttributeNames:  map[string]string{"#p": AttrWsPK, "#s": AttrWsSK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": str(searchPartition(word)), ":w": str(word + "#")},
	}
	var refs []string
	for {
		page, err := s.db.Query(ctx, in)
		if err != nil {
			return nil, unavailable("store: query search entries", err)
		}
		for _, av := range page.Items {
			var it searchItem
			if err := attributevalue.UnmarshalMap(av, &it); err != nil || it.Ref == "" || s.expired(it.ExpiresAt) {
				continue
			}
			if !slices.Contains(refs, it.Ref) {
				refs = append(refs, it.Ref)
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return refs, nil
		}
		in.ExclusiveStartKey = page.LastEvaluatedKey
	}
}

// RequestsFrom returns the requests filed from email, in any status, newest first: the
// references its search entry names (RequestRefsByEmail), then those requests in one batch
// read, each checked against the address itself. Two round trips and no scan, however many
// requests the table holds. What the DPO registers is checked against it for duplicates.
func (s *Store) RequestsFrom(ctx context.Context, email string) ([]*dsr.Request, error) {
	refs, err := s.RequestRefsByEmail(ctx, email)
	if err != nil || len(refs) == 0 {
		return nil, err
	}
	keys := make([]map[string]ddbtypes.AttributeValue, 0, len(refs))
	for _, ref := range refs {
		keys = append(keys, requestKey(ref))
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	rs, err := s.appendRequests(nil, items)
	if err != nil {
		return nil, err
	}
	out := rs[:0]
	for _, r := range rs {
		if r.Email != "" && dsr.HashEmail(r.Email) == dsr.HashEmail(email) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b *dsr.Request) int { return b.ReceivedAt.Compare(a.ReceivedAt) })
	return out, nil
}
