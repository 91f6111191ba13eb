package main

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
)

// scalingSizes are the table sizes the sweep is timed over: the small one is the baseline.
// DSR_BENCH_SWEEP_LARGE replaces the large one, for a quick look (seeding 100,000 requests
// into dynalite takes a minute or two).
func scalingSizes(b *testing.B) (small, large int) {
	large = 100_000
	if v := os.Getenv("DSR_BENCH_SWEEP_LARGE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1000 {
			b.Fatalf("DSR_BENCH_SWEEP_LARGE=%q: want a number of requests of at least 1000", v)
		}
		large = n
	}
	return 1000, large
}

// sweepTable is a table of n stored requests that are not due, on which the same set of due
// requests is swept again and again.
type sweepTable struct {
	h    *harness
	n    int
	took time.Duration // the sweeps, added up
	// what the sweeps of this table did, per run, at the most
	queries, scans, digests, items int
}

// BenchmarkSweepScaling sweeps the same handful of due requests stored among 1,000 and among
// 100,000 others: the sweep reads a sparse index, so its time must follow what is due, not
// what is stored. Each iteration seeds a fresh due set in both tables, sweeps each once and
// removes the due set again (both untimed), so every timed sweep faces the same work.
func BenchmarkSweepScaling(b *testing.B) {
	small, large := scalingSizes(b)
	now := localTime(b, "DK", 2026, 11, 23, 7, 0) // a Monday
	tables := make([]*sweepTable, 0, 2)
	var seedRate float64
	for _, n := range []int{small, large} {
		h := newHarness(b, "DK", "da")
		start := time.Now()
		bulkSeed(b, h, now, n)
		took := time.Since(start)
		if n == large {
			seedRate = float64(n) / took.Seconds()
		}
		b.Logf("stored %d requests in %s (%.0f/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
		tables = append(tables, &sweepTable{h: h, n: n})
	}

	ctx := context.Background()
	sweep := func(st *sweepTable, timed bool) {
		h := st.h
		due := seedDue(b, h, now)
		rec := &awscount.Recorder{}
		s := h.sweeperOn(countingClients(h, rec))
		h.clock.Set(now)
		start := time.Now()
		if err := s.Handle(ctx, scheduledEvent(b)); err != nil {
			b.Fatal(err)
		}
		if timed {
			st.took += time.Since(start)
		}
		calls := rec.Take()
		c := ops(calls)
		items, _ := reads(calls)
		st.queries, st.scans = max(st.queries, c["Query"]), max(st.scans, c["Scan"])
		st.digests, st.items = max(st.digests, digests(calls, h.dpo)), max(st.items, items)
		if items != len(due) {
			b.Fatalf("%d stored: the sweep read %d items, %d are due", st.n, items, len(due))
		}
		for _, ref := range due {
			if _, err := h.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{
				TableName: aws.String(h.table),
				Key: map[string]ddbtypes.AttributeValue{
					"pk": &ddbtypes.AttributeValueMemberS{Value: "REQ#" + ref},
					"sk": &ddbtypes.AttributeValueMemberS{Value: "REQ"},
				},
			}); err != nil {
				b.Fatal(err)
			}
		}
	}
	// A first sweep of each, untimed, warms up both sides (templates, the emulator's paths).
	for _, st := range tables {
		sweep(st, false)
	}
	runs := 0
	for b.Loop() {
		// Taking turns at going first cancels out whatever the order costs.
		sweep(tables[runs%2], true)
		sweep(tables[1-runs%2], true)
		runs++
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(runs) / 1000 }
	b.ReportMetric(ms(tables[0].took), "small-ms")
	b.ReportMetric(ms(tables[1].took), "large-ms")
	b.ReportMetric(float64(tables[1].took)/float64(tables[0].took), "ratio")
	b.ReportMetric(float64(tables[1].n), "stored")
	b.ReportMetric(float64(tables[1].items), "due")
	b.ReportMetric(float64(tables[1].queries), "queries")
	b.ReportMetric(float64(tables[1].scans), "scans")
	b.ReportMetric(float64(tables[1].digests), "digests")
	b.ReportMetric(seedRate, "seeded/s")
}
