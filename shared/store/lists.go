package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// The workspace's lists. Every one is read a page at a time with Queries on an index, never a
// Scan: what a page costs depends on the page, not on how many requests the table holds.

// Page is one page of a list: at most the requests asked for, and where the next page
// starts ("" after the last).
type Page struct {
	Requests []*dsr.Request
	Next     string
}

// maxPage bounds what one page of a list may ask for.
const maxPage = 100

// pageSize is n within 1..maxPage.
func pageSize(n int) int { return min(max(n, 1), maxPage) }

// errBadCursor is a page position that no list gave out.
var errBadCursor = fmt.Errorf("store: not a page position: %w", fault.BadRequest)

// OpenPage returns a page of the requests awaiting the controller's answer, by deadline
// (earliest first; a request whose mail waits for a retry may come a little early), of type
// typ or of every type if typ is "". It reads the sweep index's OPEN partition a page at a
// time, at most a few pages when a type filters most of them out.
func (s *Store) OpenPage(ctx context.Context, typ dsr.Type, cursor string, n int) (Page, error) {
	return s.sweepPage(ctx, dsr.QueueOpen, typ, cursor, pageSize(n), func(r *dsr.Request) bool { return r.Status.Active() })
}

// readBudget bounds the Queries one page of a filtered list may take.
const readBudget = 5

func (s *Store) sweepPage(ctx context.Context, q dsr.Queue, typ dsr.Type, cursor string, n int, keep func(*dsr.Request) bool) (Page, error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(SweepIndex),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": AttrSweepPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": str(string(q))},
	}
	if typ != "" {
		in.FilterExpression = aws.String("#type = :type")
		in.ExpressionAttributeNames["#type"] = "type"
		in.ExpressionAttributeValues[":type"] = str(string(typ))
	}
	if cursor != "" {
		at, ref, ok := strings.Cut(cursor, "|")
		if !ok || len(at) != len(timeKey) || ref == "" {
			return Page{}, errBadCursor
		}
		in.ExclusiveStartKey = map[string]ddbtypes.AttributeValue{
			AttrPK: str(requestPK(ref)), AttrSK: str(requestSK), AttrSweepPK: str(string(q)), AttrSweepAt: str(at),
		}
	}
	var p Page
	for range readBudget {
		in.Limit = aws.Int32(int32(n - len(p.Requests)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Page{}, unavailable("store: list "+string(q), err)
		}
		rs, err := s.appendRequests(nil, out.Items)
		if err != nil {
			return Page{}, err
		}
		for _, r := range rs {
			if keep(r) {
				p.Requests = append(p.Requests, r)
			}
		}
		p.Next = ""
		if lek := out.LastEvaluatedKey; len(lek) > 0 {
			p.Next = attrS(lek, AttrSweepAt) + "|" + strings.TrimPrefix(attrS(lek, AttrPK), "REQ#")
		}
		if p.Next == "" || len(p.Requests) >= n {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	return p, nil
}

func attrS(av map[string]ddbtypes.AttributeValue, name string) string {
	if v, ok := av[name].(*ddbtypes.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

// CountQueue counts the requests on a sweep queue, reading at most upTo of them: more is
// reported as upTo and more = true. A flood of unconfirmed requests is counted without being
// read whole.
func (s *Store) CountQueue(ctx context.Context, q dsr.Queue, upTo int) (n int, more bool, err error) {
	in := &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		IndexName:                 aws.String(SweepIndex),
		KeyConditionExpression:    aws.String("#p = :p"),
		ExpressionAttributeNames:  map[string]string{"#p": AttrSweepPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{":p": str(string(q))},
		Select:                    ddbtypes.SelectCount,
	}
	for {
		in.Limit = aws.Int32(int32(upTo - n))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, false, unavailable("store: count "+string(q), err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n, false, nil
		}
		if n >= upTo {
			return n, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// Overdue counts the open requests whose deadline in force is past at now, reading at most
// upTo of the open requests the index has as due by then.
func (s *Store) Overdue(ctx context.Context, now time.Time, upTo int) (n int, more bool, err error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(SweepIndex),
		KeyConditionExpression:   aws.String("#p = :p AND #at < :now"),
		ExpressionAttributeNames: map[string]string{"#p": AttrSweepPK, "#at": AttrSweepAt},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": str(string(dsr.QueueOpen)), ":now": str(TimeKey(now)),
		},
	}
	read := 0
	for {
		in.Limit = aws.Int32(int32(upTo - read))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return 0, false, unavailable("store: overdue", err)
		}
		read += len(out.Items)
		rs, err := s.appendRequests(nil, out.Items)
		if err != nil {
			return 0, false, err
		}
		// The index may have pulled a request forward for a mail retry: the deadline decides.
		for _, r := range rs {
			if r.Status.Active() && now.After(r.Deadline()) {
				n++
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return n, false, nil
		}
		if read >= upTo {
			return n, true, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// GroupPage returns a page of the requests on the given lists (dsr.Group), of type typ or of
// every type if typ is "", newest first, starting after cursor. Each list keeps a type's
// requests together in receipt order (listKey), so the page is one Query per list and type,
// all at once, each for at most a page, merged.
func (s *Store) GroupPage(ctx context.Context, groups []dsr.Group, typ dsr.Type, cursor string, n int) (Page, error) {
	n = pageSize(n)
	if cursor != "" && !validReceiptKey(cursor) {
		return Page{}, errBadCursor
	}
	types := periodTypes // a mail to the privacy address is on the lists before it has a type
	if typ != "" {
		types = []dsr.Type{typ}
	}
	type part struct {
		g dsr.Group
		t dsr.Type
	}
	var parts []part
	for _, g := range groups {
		for _, t := range types {
			parts = append(parts, part{g, t})
		}
	}
	found := make([][]*dsr.Request, len(parts))
	more := make([]bool, len(parts))
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, pt := range parts {
		wg.Go(func() { found[i], more[i], errs[i] = s.listPart(ctx, pt.g, pt.t, cursor, n) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Page{}, err
	}
	var all []*dsr.Request
	anyMore := false
	for i := range parts {
		all = append(all, found[i]...)
		anyMore = anyMore || more[i]
	}
	slices.SortFunc(all, func(a, b *dsr.Request) int { return strings.Compare(receiptKey(b), receiptKey(a)) })
	var p Page
	if len(all) > n {
		all, anyMore = all[:n], true
	}
	p.Requests = all
	if anyMore && len(all) > 0 {
		p.Next = receiptKey(all[len(all)-1])
	}
	return p, nil
}

// validReceiptKey reports whether k could be a receiptKey: a time key, '#', a reference.
func validReceiptKey(k string) bool {
	at, ref, ok := strings.Cut(k, "#")
	_, err := time.Parse(timeKey, at)
	return ok && err == nil && len(ref) > 0 && len(ref) <= 16 && !strings.ContainsAny(ref, "#|")
}

// listPart reads the newest requests of one list and type received before cursor (a
// receiptKey; "" for the newest): at most n, and whether there are more.
func (s *Store) listPart(ctx context.Context, g dsr.Group, t dsr.Type, cursor string, n int) ([]*dsr.Request, bool, error) {
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(WorkspaceIndex),
		KeyConditionExpression:   aws.String("#p = :p AND begins_with(#k, :t)"),
		ExpressionAttributeNames: map[string]string{"#p": AttrWsPK, "#k": AttrWsSK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": str(listPartition(g)), ":t": str(string(t) + "#"),
		},
		ScanIndexForward: aws.Bool(false),
		Limit:            aws.Int32(int32(n + 1)),
	}
	if cursor != "" {
		// Strictly before the cursor: "#" sorts before every character of a time key, so
		// the type's own prefix is the lower bound, and the upper one leaves the cursor out.
		in.KeyConditionExpression = aws.String("#p = :p AND #k BETWEEN :lo AND :hi")
		delete(in.ExpressionAttributeValues, ":t")
		in.ExpressionAttributeValues[":lo"] = str(string(t) + "#")
		in.ExpressionAttributeValues[":hi"] = str(string(t) + "#" + cursor)
	}
	out, err := s.db.Query(ctx, in)
	if err != nil {
		return nil, false, unavailable("store: list "+string(g), err)
	}
	rs, err := s.appendRequests(nil, out.Items)
	if err != nil {
		return nil, false, err
	}
	kept := rs[:0]
	for _, r := range rs {
		// The index lags the table: a request that has moved on is on its new list.
		if r.Group() == g && receiptKey(r) != cursor {
			kept = append(kept, r)
		}
	}
	more := len(out.LastEvaluatedKey) > 0 || len(kept) > n
	if len(kept) > n {
		kept = kept[:n]
	}
	return kept, more, nil
}

// SearchPage returns a page of the requests q finds, newest first within the page, starting
// after cursor. It reads the search entries of q's key word (dsr.Query.Key) from the
// workspace index, where the words that begin alike are kept together in word order, reads the
// requests they name in one BatchGetItem, and keeps those q matches: a stale entry (a request
// whose words changed, or one expired) finds nothing. A page takes a few Queries at most.
func (s *Store) SearchPage(ctx context.Context, q dsr.Query, cursor string, n int) (Page, error) {
	n = pageSize(n)
	key := q.Key()
	in := &dynamodb.QueryInput{
		TableName:                aws.String(s.table),
		IndexName:                aws.String(WorkspaceIndex),
		KeyConditionExpression:   aws.String("#p = :p AND begins_with(#k, :w)"),
		ExpressionAttributeNames: map[string]string{"#p": AttrWsPK, "#k": AttrWsSK, "#ref": "ref"},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": str(searchPartition(key)), ":w": str(key),
		},
		ProjectionExpression: aws.String("#ref, #k, pk, sk, #p"),
	}
	if cursor != "" {
		i := strings.LastIndexByte(cursor, '#')
		if i < 0 || !strings.HasPrefix(cursor, key) {
			return Page{}, errBadCursor
		}
		in.ExclusiveStartKey = map[string]ddbtypes.AttributeValue{
			AttrWsPK: str(searchPartition(key)), AttrWsSK: str(cursor),
			AttrPK: str(requestPK(cursor[i+1:])), AttrSK: str(searchPrefix + cursor[:i]),
		}
	}
	var p Page
	seen := map[string]bool{}
	for range readBudget {
		in.Limit = aws.Int32(int32(n - len(p.Requests)))
		out, err := s.db.Query(ctx, in)
		if err != nil {
			return Page{}, unavailable("store: search", err)
		}
		var keys []map[string]ddbtypes.AttributeValue
		for _, it := range out.Items {
			ref := attrS(it, "ref")
			if ref != "" && !seen[ref] {
				seen[ref] = true
				keys = append(keys, requestKey(ref))
			}
		}
		items, err := s.batchGet(ctx, keys)
		if err != nil {
			return Page{}, err
		}
		rs, err := s.appendRequests(nil, items)
		if err != nil {
			return Page{}, err
		}
		for _, r := range rs {
			if q.Matches(r) {
				p.Requests = append(p.Requests, r)
			}
		}
		p.Next = attrS(out.LastEvaluatedKey, AttrWsSK)
		if p.Next == "" || len(p.Requests) >= n {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	slices.SortStableFunc(p.Requests, func(a, b *dsr.Request) int { return strings.Compare(receiptKey(b), receiptKey(a)) })
	return p, nil
}
