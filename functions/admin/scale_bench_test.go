package main

import (
	"fmt"
	"net/http"
	"os"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/bulkput"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The workspace at scale: every path a DPO waits on, timed over a table of 1,000 stored
// requests and over one of 100,000 (DSR_BENCH_WORKSPACE_LARGE for a quick look) that hold the
// same result: the same requests of this year (open, unconfirmed, closed; one name shared by
// all of them), beside a history of closed requests from the three years before, which a
// desk that has run for years holds. Each path must cost what its page holds, not what the
// table holds, and make no Scan.

// scaleResult is what each table holds for this year: the requests every path finds.
const scaleResult = 60

// scaleName is the name every request of the result shares, which search looks for.
const scaleName = "Karensen"

// scalePaths are the paths a DPO waits on, as the workspace serves them.
var scalePaths = []struct{ name, target string }{
	{"search-ref", "/admin/search?q=" + scaleRef(7)},
	{"search-email", "/admin/search?q=karensen.7@example.dk"},
	{"search-name", "/admin/search?q=" + scaleName},
	{"list-open", "/admin"},
	{"list-waiting", "/admin?view=waiting"},
	{"list-closed", "/admin?view=closed"},
	{"list-all", "/admin?view=all"},
	{"list-type", "/admin?view=all&type=erasure"},
	{"open-request", requestPath(scaleRef(7))},
	{"report", "/admin/report"},
	{"export", "/admin/export.csv"},
}

// scaleRef is the i-th reference of the result, in the references' alphabet.
func scaleRef(i int) string {
	const alphabet = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
	ref := []byte("KRSN-2222")
	for p := len(ref) - 1; i > 0; p, i = p-1, i/len(alphabet) {
		ref[p] = alphabet[i%len(alphabet)]
	}
	return string(ref)
}

func scaleSizes(b *testing.B) (small, large int) {
	large = 100_000
	if v := os.Getenv("DSR_BENCH_WORKSPACE_LARGE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 2000 {
			b.Fatalf("DSR_BENCH_WORKSPACE_LARGE=%q: want a number of requests of at least 2000", v)
		}
		large = n
	}
	return 1000, large
}

// scaleTable is one table, its DPO's session and what its paths took.
type scaleTable struct {
	e   *tenv
	d   *dpo
	rec *awscount.Recorder
	n   int
	// took are the timed runs of each path, in order.
	took map[string][]time.Duration
	// scans and calls are the most of each any run of a path made.
	scans, calls map[string]int
}

func BenchmarkWorkspaceScaling(b *testing.B) {
	small, large := scaleSizes(b)
	var tables []*scaleTable
	var seedRate float64
	for _, n := range []int{small, large} {
		e := setup(b)
		rec := &awscount.Recorder{}
		e.recorded(rec)
		st := &scaleTable{e: e, d: e.session(e.cfg.DPOAddresses[0]), rec: rec, n: n,
			took: map[string][]time.Duration{}, scans: map[string]int{}, calls: map[string]int{}}
		start := time.Now()
		seedScale(b, e, n)
		took := time.Since(start)
		if n == large {
			seedRate = float64(n) / took.Seconds()
		}
		b.Logf("stored %d requests in %s (%.0f/s)", n, took.Round(time.Millisecond), float64(n)/took.Seconds())
		tables = append(tables, st)
	}
	do := func(st *scaleTable, i int, timed bool) {
		p := scalePaths[i]
		st.rec.Take()
		start := time.Now()
		resp := st.d.get(p.target)
		took := time.Since(start)
		if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("%d stored, %s: status %d", st.n, p.name, resp.StatusCode)
		}
		calls := st.rec.Take()
		st.scans[p.name] = max(st.scans[p.name], awscount.Count(calls, "Scan"))
		st.calls[p.name] = max(st.calls[p.name], len(calls))
		if timed {
			st.took[p.name] = append(st.took[p.name], took)
		}
	}
	// The same result in both, checked once: as many requests on each page, as many rows.
	shown := func(resp web.Response) int {
		return strings.Count(resp.Body, `href="`+requestPath("")) + strings.Count(resp.Body, "\r\n")
	}
	for i, p := range scalePaths {
		small, large := tables[0].d.get(p.target), tables[1].d.get(p.target)
		if shown(small) != shown(large) || small.StatusCode != large.StatusCode {
			b.Fatalf("%s: %d requests among %d, %d among %d: not the same result", p.name, shown(small), tables[0].n, shown(large), tables[1].n)
		}
		b.Logf("%s: %d requests shown", p.name, shown(small))
		do(tables[0], i, false)
		do(tables[1], i, false)
	}
	runs := 0
	for b.Loop() {
		for i := range scalePaths {
			// Taking turns at going first cancels out whatever the order costs.
			do(tables[runs%2], i, true)
			do(tables[1-runs%2], i, true)
		}
		runs++
	}
	b.StopTimer()
	// Medians, and the median of the ratios of runs made one after the other: the machine's
	// load comes and goes, and a run that meets a spike must not decide the figure.
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, p := range scalePaths {
		s, l := tables[0].took[p.name], tables[1].took[p.name]
		ratios := make([]float64, len(s))
		for i := range s {
			ratios[i] = float64(l[i]) / float64(s[i])
		}
		b.ReportMetric(msOf(medianOf(s)), p.name+"-small-ms")
		b.ReportMetric(msOf(medianOf(l)), p.name+"-large-ms")
		b.ReportMetric(medianOf(ratios), p.name+"-ratio")
		b.ReportMetric(float64(max(tables[0].scans[p.name], tables[1].scans[p.name])), p.name+"-scans")
		b.ReportMetric(float64(tables[1].calls[p.name]), p.name+"-calls")
	}
	// The export of the largest year there is: the year the history was mostly received in,
	// which no file of 6 MB holds at 100,000; its response and the heap it takes.
	size, peak := exportPeak(b, tables[1])
	b.ReportMetric(float64(size), "export-large-bytes")
	b.ReportMetric(float64(peak), "export-large-heap-bytes")
	b.ReportMetric(float64(tables[1].n), "stored")
	b.ReportMetric(scaleResult, "result")
	b.ReportMetric(seedRate, "seeded/s")
}

func medianOf[T time.Duration | float64](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// exportPeak exports the busiest year of st's history and returns the size of the response
// as Lambda sends it (JSON) and the most the heap's objects (live, and dead ones not yet
// swept) grew while it was made, sampled. The handler is one without the recorder, which
// keeps every call's output.
func exportPeak(b *testing.B, st *scaleTable) (size int, peak uint64) {
	h, err := newHandler(st.e.cfg, st.e.db, st.e.env.SES(), st.e.after, st.e.clock.Now, st.e.h.log)
	if err != nil {
		b.Fatal(err)
	}
	h.signinFloor = 0
	st.e.h = h
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	heap := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	st.rec.Take()
	runtime.GC()
	base := heap()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var most uint64
	wg.Go(func() {
		tick := time.NewTicker(200 * time.Microsecond)
		defer tick.Stop()
		for {
			most = max(most, heap())
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	})
	resp := st.d.get(fmt.Sprintf("/admin/export.csv?year=%d", historyYears[1]))
	close(done)
	wg.Wait()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("export of %d: status %d", historyYears[1], resp.StatusCode)
	}
	return jsonLen(resp.Body), most - min(most, base)
}

// historyYears are the years the closed history was received in: before the last twelve
// months of now0 (April 2025 to March 2026), which the report and the export cover by default,
// so that they find the same result among 100,000 as among 1,000.
var historyYears = []int{2022, 2023, 2024}

// seedScale stores the result (scaleResult requests of this year through the store, as the
// desk would) and n-scaleResult closed requests of earlier years beside it, each with its
// search entries, written in parallel batches from copies of a stored one.
func seedScale(b *testing.B, e *tenv, n int) {
	b.Helper()
	jan := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	for i := range scaleResult {
		s := submission("da", fmt.Sprintf("karensen.%d@example.dk", i))
		s.Name = fmt.Sprintf("Jens %s", scaleName)
		s.Type = string(dsr.Types[i%len(dsr.Types)])
		at := jan.Add(time.Duration(i) * 24 * time.Hour)
		switch i % 3 {
		case 0:
			e.seed(scaleRef(i), s, at, verify)
		case 1:
			e.seed(scaleRef(i), s, now0.Add(-time.Duration(i)*time.Minute))
		default:
			e.seed(scaleRef(i), s, at, verify, complete)
		}
	}
	proto := e.raw(scaleRef(2))
	item := func(i int) []map[string]ddbtypes.AttributeValue {
		ref := fmt.Sprintf("HIST-%06d", i)
		received := time.Date(historyYears[i%len(historyYears)], time.Month(1+i%12), 1+i%28, 9, 0, 0, 0, time.UTC)
		typ := dsr.Types[i%len(dsr.Types)]
		r := &dsr.Request{Ref: ref, ReceivedAt: received}
		it := make(map[string]ddbtypes.AttributeValue, len(proto))
		for k, v := range proto {
			it[k] = v
		}
		s := func(v string) ddbtypes.AttributeValue { return &ddbtypes.AttributeValueMemberS{Value: v} }
		it[store.AttrPK] = s(store.RequestPrefix + ref)
		it["ref"] = s(ref)
		it["type"] = s(string(typ))
		it["name"] = s(fmt.Sprintf("Kasper Karlsen%d", i))
		it["email"] = s(fmt.Sprintf("kasper.%d@example.dk", i))
		it["received_at"], _ = attributevalue.Marshal(received)
		it[store.AttrWsSK] = s(string(typ) + "#" + store.ReceiptKey(r))
		out := []map[string]ddbtypes.AttributeValue{it}
		// A search entry beside the result's, in the index partition that every search of
		// the result reads (the words beginning "ka").
		for _, w := range []string{fmt.Sprintf("karlsen%d", i)} {
			out = append(out, map[string]ddbtypes.AttributeValue{
				store.AttrPK: s(store.RequestPrefix + ref), store.AttrSK: s("IDX#" + w), "ref": s(ref),
				store.AttrWsPK: s("S#" + dsr.SearchBucket(w)), store.AttrWsSK: s(w + "#" + ref),
			})
		}
		return out
	}
	bulkput.Put(b, e.db, e.table, n-scaleResult, item)
}
