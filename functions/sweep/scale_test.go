package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/bulkput"
)

// reads sums what the sweep's Queries and Scans returned and evaluated, as DynamoDB reports it.
func reads(calls []awscount.Call) (items, scanned int) {
	for _, c := range calls {
		if partitionQuery(c) {
			continue
		}
		switch r := c.Output.(type) {
		case *dynamodb.QueryOutput:
			items += int(r.Count)
			scanned += int(r.ScannedCount)
		case *dynamodb.ScanOutput:
			items += int(r.Count)
			scanned += int(r.ScannedCount)
		}
	}
	return items, scanned
}

// ops counts calls per operation. A Query of one request's own partition (the outbox keeping
// it in step after a mail) is counted apart from the Queries that find requests: it reads
// that request's items, nothing else.
func ops(calls []awscount.Call) map[string]int {
	out := map[string]int{}
	for _, c := range calls {
		if partitionQuery(c) {
			out["Query(partition)"]++
			continue
		}
		out[c.Operation]++
	}
	return out
}

// downloadReads counts the Queries of a request's downloads (its TAKEN# records).
func downloadReads(calls []awscount.Call) int {
	return len(awscount.Filter(calls, func(c awscount.Call) bool {
		in, ok := c.Input.(*dynamodb.QueryInput)
		if !ok || in.IndexName != nil {
			return false
		}
		p, ok := in.ExpressionAttributeValues[":p"].(*ddbtypes.AttributeValueMemberS)
		return ok && p.Value == "TAKEN#"
	}))
}

// partitionQuery reports whether c is a Query of the table itself (one partition), not of an index.
func partitionQuery(c awscount.Call) bool {
	in, ok := c.Input.(*dynamodb.QueryInput)
	return ok && in.IndexName == nil
}

// digests counts the mails among calls that went to the DPO: the sweep's digests.
func digests(calls []awscount.Call, dpo string) int {
	return len(awscount.Filter(calls, func(c awscount.Call) bool {
		in, ok := c.Input.(*ses.SendEmailInput)
		return ok && c.Err == nil && in.Destination != nil && slices.Contains(in.Destination.ToAddresses, dpo)
	}))
}

// countingClients are DynamoDB and SES clients for the emulators that record every call.
func countingClients(h *harness, rec *awscount.Recorder) (*dynamodb.Client, *ses.Client) {
	db := dynamodb.NewFromConfig(h.env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(h.env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	mail := ses.NewFromConfig(h.env.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(h.env.SESEndpoint)
	}, rec.SES)
	return db, mail
}

// Among tens of thousands of stored requests, the sweep reads only the handful that are due:
// zero Scans, and exactly the due items from the index.
func TestSweepReadsOnlyWhatIsDue(t *testing.T) {
	t.Parallel()
	sizes := []int{5000}
	if !testing.Short() {
		sizes = append(sizes, 20000)
	}
	for _, n := range sizes {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			h := newHarness(t, "DK", "da")
			now := localTime(t, "DK", 2026, 11, 23, 7, 0)
			due := len(seedDue(t, h, now))
			// And a refusal by a letter written yesterday and not yet posted, listed until it is.
			h.add(seed{received: now.AddDate(0, 0, -9), byLetter: true, rejectAt: now.AddDate(0, 0, -1)})
			due++
			start := time.Now()
			bulkSeed(t, h, now, n)
			t.Logf("stored %d requests in %s", n, time.Since(start).Round(time.Millisecond))
			if open := countPartition(t, h, dsr.QueueOpen); open < n/5 {
				t.Fatalf("only %d requests on OPEN: the haystack is missing", open)
			}
			if retry := countPartition(t, h, dsr.QueueRetry); retry < n/5 {
				t.Fatalf("only %d requests on RETRY: the answers not yet due are missing", retry)
			}

			for _, page := range []int{store.SweepPageSize, 3} {
				rec := &awscount.Recorder{}
				s := h.sweeperOn(countingClients(h, rec))
				s.pageSize = page
				h.clock.Set(now)
				start = time.Now()
				if err := s.Handle(context.Background(), scheduledEvent(t)); err != nil {
					t.Fatal(err)
				}
				calls := rec.Take()
				c := ops(calls)
				items, scanned := reads(calls)
				t.Logf("page %d: swept in %s: %v, %d items", page, time.Since(start).Round(time.Millisecond), c, items)
				if c["Scan"] != 0 || c["GetItem"] != 0 || c["BatchGetItem"] != 0 {
					t.Errorf("reads other than the index Query: %v", c)
				}
				if items != scanned {
					t.Errorf("the Query evaluated %d items to return %d", scanned, items)
				}
				if page == store.SweepPageSize {
					// Everything due is read once (the first run acts on it), and reported in
					// one digest, not a mail per line.
					if items != due || c["Query"] != 3 {
						t.Errorf("read %d items in %d queries, want the %d due ones in one query per partition", items, c["Query"], due)
					}
					// The downloads are read of the two answers whose reminder is due, and
					// of no other request.
					if n := downloadReads(calls); n != 2 {
						t.Errorf("%d downloads read, want 2", n)
					}
					// The four levels, the refusal that bounced, the letter not posted, the
					// answer not downloaded.
					if got := len(reported(t, h)); got != 7 {
						t.Errorf("%d lines reported, want 7", got)
					}
					if n := digests(calls, h.dpo); n != 1 {
						t.Errorf("%d digests sent, want 1", n)
					}
				} else {
					// Again, after acting: only the escalated ones are still due (their deadlines
					// did not move), the refusal that bounced (listed until a DPO acts on it)
					// and the letter not posted (listed until it is recorded posted), now in
					// pages of three; nothing new to report today, so no digest.
					if items != 6 || c["Query"] > 2+1+1 {
						t.Errorf("second run read %d items in %d queries, want 6 in at most 4", items, c["Query"])
					}
					if n := digests(calls, h.dpo); n != 0 {
						t.Errorf("%d digests sent with nothing new, want 0", n)
					}
				}
			}
		})
	}
}

// seedDue stores the handful of due requests: one per level, an unconfirmed one for its
// reminder, one for expiry, an open one with a failed receipt, a closed one with a failed
// completion mail, a closed one whose refusal bounced, and two answers with files whose
// reminder is due, one downloaded in time and one not. It returns their references.
func seedDue(t testing.TB, h *harness, now time.Time) []string {
	t.Helper()
	failed := dsr.MailState{State: dsr.MailFailed, At: now.Add(-time.Hour), Attempts: 1}
	seeds := []seed{
		{received: now.AddDate(0, -1, -3), verified: true}, // overdue
		{received: now.AddDate(0, -1, 0), verified: true},  // due today
		{received: now.AddDate(0, -1, 1), verified: true},  // wd2
		{received: now.AddDate(0, -1, 3), verified: true},  // wd5
		{received: now.Add(-50 * time.Hour)},
		{received: now.AddDate(0, 0, -8)},
		{received: now.AddDate(0, 0, -3), verified: true, mails: map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: failed}},
		{received: now.AddDate(0, 0, -9), verified: true, completeAt: now.AddDate(0, 0, -1), mails: map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: failed}},
		{received: now.AddDate(0, 0, -9), verified: true, rejectAt: now.AddDate(0, 0, -2), bounce: dsr.MailRejection, bounceAt: now.AddDate(0, 0, -1)},
		{received: now.AddDate(0, 0, -20), verified: true, deliverAt: now.AddDate(0, 0, -8), files: 2, downloaded: []int{0}},
		{received: now.AddDate(0, 0, -20), verified: true, deliverAt: now.AddDate(0, 0, -8), files: 1, downloaded: []int{0}},
	}
	refs := make([]string, len(seeds))
	for i, s := range seeds {
		r, _ := h.add(s)
		refs[i] = r.Ref
	}
	return refs
}

// bulkSeed stores n requests that are not due: open ones due after the horizon, unconfirmed
// ones not yet 48 hours old, closed ones off the index, answers with files whose reminder is
// not due yet (on the retry queue, later), and refusals by a letter that was posted (off the
// index: only a letter not posted holds a request there). They are copies of items the store
// wrote itself, with their own reference and dates, written 25 at a time by parallel workers.
func bulkSeed(t testing.TB, h *harness, now time.Time, n int) {
	t.Helper()
	protoOpen, _ := h.add(seed{received: now.AddDate(0, 0, -1), verified: true})
	protoPending, _ := h.add(seed{received: now.Add(-time.Hour)})
	protoClosed, _ := h.add(seed{received: now.AddDate(0, 0, -20), verified: true, completeAt: now.AddDate(0, 0, -2)})
	protoDelivered, _ := h.add(seed{received: now.AddDate(0, 0, -20), verified: true, deliverAt: now.AddDate(0, 0, -1), files: 1})
	protoPosted, _ := h.add(seed{received: now.AddDate(0, 0, -20), byLetter: true, rejectAt: now.AddDate(0, 0, -3)})
	if err := h.commit(protoPosted, func(r *dsr.Request) (dsr.Change, error) {
		return r.RecordPosted("dpo@example.dk", dsr.MailRejection, h.cal.StartOfDay(now.AddDate(0, 0, -2)), now.AddDate(0, 0, -2))
	}); err != nil {
		t.Fatal(err)
	}
	protos := []map[string]ddbtypes.AttributeValue{h.raw(protoOpen.Ref), h.raw(protoPending.Ref), h.raw(protoClosed.Ref), h.raw(protoDelivered.Ref), h.raw(protoPosted.Ref)}
	horizon := newLadderOrFail(t, h).Horizon(now)

	item := func(i int) map[string]ddbtypes.AttributeValue {
		kind := i % len(protos)
		it := make(map[string]ddbtypes.AttributeValue, len(protos[kind]))
		for k, v := range protos[kind] {
			it[k] = v
		}
		ref := fmt.Sprintf("BULK-%06d", i)
		it[store.AttrPK] = &ddbtypes.AttributeValueMemberS{Value: "REQ#" + ref}
		it["ref"] = &ddbtypes.AttributeValueMemberS{Value: ref}
		switch kind {
		case 0: // open, due from the day after the horizon to two months ahead
			deadline := horizon.Add(time.Duration(1+rand.IntN(60*24)) * time.Hour)
			it[store.AttrSweepAt] = &ddbtypes.AttributeValueMemberS{Value: store.TimeKey(deadline)}
			it["due"], _ = attributevalue.Marshal(deadline.UTC())
		case 1: // unconfirmed for less than 48 hours
			received := now.Add(-time.Duration(rand.IntN(47*60)) * time.Minute)
			it[store.AttrSweepAt] = &ddbtypes.AttributeValueMemberS{Value: store.TimeKey(received.Add(dsr.ReminderAfter))}
			it["received_at"], _ = attributevalue.Marshal(received.UTC())
		case 3: // answered with files, the reminder from tomorrow to a week ahead
			remind := now.Add(time.Duration(24*60+rand.IntN(6*24*60)) * time.Minute)
			it[store.AttrSweepAt] = &ddbtypes.AttributeValueMemberS{Value: store.TimeKey(remind)}
		}
		return it
	}

	bulkput.Put(t, h.db, h.table, n, func(i int) []map[string]ddbtypes.AttributeValue {
		return []map[string]ddbtypes.AttributeValue{item(i)}
	})
}

// countPartition counts what the index holds on a partition, bypassing the sweep.
func countPartition(t testing.TB, h *harness, q dsr.Queue) int {
	t.Helper()
	in := &dynamodb.QueryInput{
		TableName:                aws.String(h.table),
		IndexName:                aws.String(store.SweepIndex),
		KeyConditionExpression:   aws.String("#pk = :pk"),
		ExpressionAttributeNames: map[string]string{"#pk": store.AttrSweepPK},
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":pk": &ddbtypes.AttributeValueMemberS{Value: string(q)},
		},
		Select: ddbtypes.SelectCount,
	}
	n := 0
	for {
		out, err := h.db.Query(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		n += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return n
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}
