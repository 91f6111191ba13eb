package main

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// tripLatency is added to every AWS call when counting round trips (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// tripCases are the round trips a requester waits for, one after another, and the calls
// made after the answer.
//
// Opening the page is one Query on the request's partition: the request and its messages
// together. A reply is that read, then the message and the change that records it, written
// together; the DPO's notice and the record of its sending follow the answer. A mail scanner
// that opens the link reads and writes nothing else. The lost-link form answers before any
// call: what it looks up, and whether it finds anything, is work after the answer (a
// container's first also reads the deployment's key then, which is counted apart here).
var tripCases = []struct {
	name        string
	do          func(hs *harness, r *dsr.Request, tok string) int
	trips       int
	want, after string
}{
	{"open", func(hs *harness, _ *dsr.Request, tok string) int {
		return hs.browser().open(tok).StatusCode
	}, 1, "Query", ""},
	{"reply", func(hs *harness, _ *dsr.Request, tok string) int {
		b := hs.browser()
		b.cookies[cookieName] = tok
		return b.post("/status/reply", url.Values{"form": {formToken(tok)}, "text": {"Customer number 4711."}}).StatusCode
	}, 2, "Query → UpdateItem ‖ UpdateItem", "SendEmail → Query → UpdateItem"},
	{"lost-link", func(hs *harness, r *dsr.Request, _ string) int {
		return hs.browser().post("/status/lost", url.Values{"email": {r.Email}}).StatusCode
	}, 0, "", "UpdateItem ‖ UpdateItem → Query → UpdateItem → SendEmail"},
}

// countTrips seeds a confirmed request with a question and a link, runs one case on it and
// returns the calls made before its answer, then does the work left for after it and returns
// those calls too.
func countTrips(hs *harness, rec *awscount.Recorder, i int) (before, after []awscount.Call) {
	hs.t.Helper()
	r := hs.seed(i18n.DA, address("trips"))
	hs.ask(r, dsr.PurposeIdentity, "Your customer number, please.", "")
	tok := hs.link(r)
	if _, err := hs.h.keys.Load(context.Background()); err != nil {
		hs.t.Fatal(err)
	}
	rec.Take()
	if status := tripCases[i].do(hs, r, tok); status != http.StatusOK && status != http.StatusSeeOther {
		hs.t.Fatalf("%s: status %d", tripCases[i].name, status)
	}
	before = rec.Take()
	hs.runAfter()
	return before, rec.Take()
}

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(t, withRecorder(emulator.Get(t), rec), withHeld())
	for i, tc := range tripCases {
		t.Run(tc.name, func(t *testing.T) {
			hs.t = t
			before, after := countTrips(hs, rec, i)
			awscount.CheckAnswer(t, before, after, tc.trips, tc.want, tc.after)
		})
	}
}

// BenchmarkRoundTrips reports the round trips of each case, for make bench's table.
func BenchmarkRoundTrips(b *testing.B) {
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(b, withRecorder(emulator.Get(b), rec), withHeld())
	most, after := make([]int, len(tripCases)), make([]int, len(tripCases))
	for b.Loop() {
		for i := range tripCases {
			before, later := countTrips(hs, rec, i)
			most[i] = max(most[i], awscount.Sequential(before))
			after[i] = max(after[i], awscount.Sequential(later))
		}
	}
	for i, tc := range tripCases {
		b.ReportMetric(float64(most[i]), tc.name+"-trips")
		b.ReportMetric(float64(after[i]), tc.name+"-after-trips")
	}
}
