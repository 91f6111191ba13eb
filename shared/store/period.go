package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// The report and the exports read the requests received in a period, oldest first, a page at
// a time from the workspace index: the lists (R#<group>) keep each type's requests in receipt
// order, so a page is one Query per list and type, all at once, each bounded by the period and
// the page, merged; the texts beside a page's requests come from the history partitions (H#),
// which keep them in the same order. What a page costs follows the page and what the period
// holds, never what the table holds: there is no Scan.

// PeriodPage returns at most n (below periodMax) requests received in [from, to), oldest
// first, after cursor (a page's Next; "" for the first page), read as EachReceived reads them.
func (s *Store) PeriodPage(ctx context.Context, from, to time.Time, cursor string, n int) (Page, error) {
	n = min(max(n, 1), periodMax-1)
	var p Page
	err := s.EachReceived(ctx, from, to, cursor, n+1, func(rs []*dsr.Request) (bool, error) {
		p.Requests = rs
		return false, nil
	})
	if err != nil {
		return Page{}, err
	}
	if len(p.Requests) > n {
		p.Requests = p.Requests[:n]
		p.Next = receiptKey(p.Requests[n-1])
	}
	return p, nil
}

// ReceiptKey is r's position in a period, as PeriodPage takes it for a cursor.
func ReceiptKey(r *dsr.Request) string { return receiptKey(r) }

// History is what the history partitions hold about a page of requests, by reference: the
// kept texts of the mails sent to the requester, oldest first, and the messages of the
// conversation in the order of the request's trail (dsr.Request.Messages).
type History struct {
	Mails    map[string][]dsr.SentMail
	Messages map[string][]dsr.Message
}

// PageHistory reads the history of the requests of one page (oldest first, as PeriodPage
// gives them): one Query per month of receipt the page spans, each bounded by the page's
// first and last request, so the page's texts cost what they hold. Without mails, only the
// messages are read.
func (s *Store) PageHistory(ctx context.Context, rs []*dsr.Request, mails bool) (History, error) {
	h := History{Mails: map[string][]dsr.SentMail{}, Messages: map[string][]dsr.Message{}}
	if len(rs) == 0 {
		return h, nil
	}
	byRef := make(map[string]*dsr.Request, len(rs))
	for _, r := range rs {
		byRef[r.Ref] = r
	}
	first, last := rs[0], rs[len(rs)-1]
	lo, hi := receiptKey(first)+"#", receiptKey(last)+"#\uffff"
	msgs := map[string][]dsr.Message{}
	for month := monthOf(first.ReceivedAt); !month.After(last.ReceivedAt.UTC()); month = month.AddDate(0, 1, 0) {
		in := &dynamodb.QueryInput{
			TableName:                aws.String(s.table),
			IndexName:                aws.String(WorkspaceIndex),
			KeyConditionExpression:   aws.String("#p = :p AND #k BETWEEN :lo AND :hi"),
			ExpressionAttributeNames: map[string]string{"#p": AttrWsPK, "#k": AttrWsSK},
			ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
				":p": str(historyPartition(month)), ":lo": str(lo), ":hi": str(hi),
			},
		}
		if !mails {
			in.FilterExpression = aws.String("begins_with(#sk, :msg)")
			in.ExpressionAttributeNames["#sk"] = AttrSK
			in.ExpressionAttributeValues[":msg"] = str(messagePrefix)
		}
		for {
			out, err := s.db.Query(ctx, in)
			if err != nil {
				return History{}, unavailable("store: page history", err)
			}
			for _, av := range out.Items {
				ref := strings.TrimPrefix(attrS(av, AttrPK), RequestPrefix)
				if byRef[ref] == nil {
					continue // a request of the same moment beyond the page
				}
				switch sk := skOf(av); {
				case strings.HasPrefix(sk, messagePrefix):
					m, ok, err := s.decodeMessage(av)
					if err != nil {
						return History{}, err
					}
					if ok {
						msgs[ref] = append(msgs[ref], m)
					}
				case mails && strings.HasPrefix(sk, mailPrefix):
					var it mailTextItem
					if err := attributevalue.UnmarshalMap(av, &it); err != nil {
						return History{}, err
					}
					if !s.expired(it.ExpiresAt) {
						h.Mails[ref] = append(h.Mails[ref], it.sentMail())
					}
				}
			}
			if len(out.LastEvaluatedKey) == 0 {
				break
			}
			in.ExclusiveStartKey = out.LastEvaluatedKey
		}
	}
	for ref, ms := range msgs {
		h.Messages[ref] = byRef[ref].Messages(ms)
	}
	for _, ms := range h.Mails {
		slices.SortStableFunc(ms, func(a, b dsr.SentMail) int { return a.At.Compare(b.At) })
	}
	return h, nil
}

// monthOf is the first moment of t's month in UTC, as historyPartition names months.
func monthOf(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

// periodMax bounds what one page of a period may ask for: the report and the exports read
// more at once than a list shows.
const periodMax = 1000

// periodChunk is how many items each list and type reads at once while a period is walked.
const periodChunk = 100

// EachReceived calls fn with the requests received in [from, to) after cursor (a ReceiptKey;
// "" from the start), oldest first, at most n at a time, until fn returns false or an error,
// or the period ends. It walks each list and type with its own Query, a chunk at a time, and
// merges them as it goes, so every item of the period is read once and no more than a chunk
// of each is held: the report and the exports, which read a whole period, cost what it holds.
func (s *Store) EachReceived(ctx context.Context, from, to time.Time, cursor string, n int, fn func([]*dsr.Request) (bool, error)) error {
	if cursor != "" && !validReceiptKey(cursor) {
		return errBadCursor
	}
	n = min(max(n, 1), periodMax)
	lo, hi := TimeKey(from), TimeKey(to)
	if cursor > lo {
		lo = cursor
	}
	if lo >= hi {
		return nil
	}
	var streams []*receiptStream
	for _, g := range dsr.Groups {
		for _, t := range periodTypes {
			prefix := string(t) + "#"
			streams = append(streams, &receiptStream{g: g, in: &dynamodb.QueryInput{
				TableName:                aws.String(s.table),
				IndexName:                aws.String(WorkspaceIndex),
				KeyConditionExpression:   aws.String("#p = :p AND #k BETWEEN :lo AND :hi"),
				ExpressionAttributeNames: map[string]string{"#p": AttrWsPK, "#k": AttrWsSK},
				ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
					":p": str(listPartition(g)), ":lo": str(prefix + lo), ":hi": str(prefix + hi),
				},
				Limit: aws.Int32(periodChunk),
			}})
		}
	}
	// The first chunk of every stream at once; later ones as each runs dry.
	errs := make([]error, len(streams))
	var wg sync.WaitGroup
	for i, st := range streams {
		wg.Go(func() { errs[i] = s.fill(ctx, st, cursor) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	batch := make([]*dsr.Request, 0, n)
	last := cursor
	for {
		var next *receiptStream
		for _, st := range streams {
			if len(st.buf) > 0 && (next == nil || receiptKey(st.buf[0]) < receiptKey(next.buf[0])) {
				next = st
			}
		}
		if next == nil {
			break
		}
		r := next.buf[0]
		next.buf = next.buf[1:]
		if len(next.buf) == 0 && !next.done {
			if err := s.fill(ctx, next, cursor); err != nil {
				return err
			}
		}
		// The index lags the table: a request moving between lists may show on both, and
		// both copies have the same place.
		if k := receiptKey(r); k != last {
			last = k
			batch = append(batch, r)
		}
		if len(batch) == n {
			more, err := fn(batch)
			if err != nil || !more {
				return err
			}
			batch = make([]*dsr.Request, 0, n)
		}
	}
	if len(batch) > 0 {
		_, err := fn(batch)
		return err
	}
	return nil
}

// periodTypes are the types a request may be stored with: a mail to the privacy address is
// a request before anyone knows its type.
var periodTypes = append(slices.Clone(dsr.Types), dsr.Unclassified)

// receiptStream is one list and type of a period being walked: what is read and not yet taken.
type receiptStream struct {
	g    dsr.Group
	in   *dynamodb.QueryInput
	buf  []*dsr.Request
	done bool
}

// fill reads st's next chunk that holds a request of its list (skipping cursor itself).
func (s *Store) fill(ctx context.Context, st *receiptStream, cursor string) error {
	for len(st.buf) == 0 && !st.done {
		out, err := s.db.Query(ctx, st.in)
		if err != nil {
			return unavailable("store: period "+string(st.g), err)
		}
		rs, err := s.appendRequests(nil, out.Items)
		if err != nil {
			return err
		}
		for _, r := range rs {
			if r.Group() == st.g && receiptKey(r) != cursor {
				st.buf = append(st.buf, r)
			}
		}
		st.in.ExclusiveStartKey = out.LastEvaluatedKey
		st.done = len(out.LastEvaluatedKey) == 0
	}
	return nil
}
