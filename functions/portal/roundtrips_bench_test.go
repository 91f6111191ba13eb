package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// tripLatency is added to every AWS call when counting round trips (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// tripCases are the round trips a requester waits for, one after another, and the calls
// made after the answer.
//
// Opening the page is one Query on the request's partition: the request and its messages
// together. A reply is that read, then the message and the change that records it, written
// together; the DPO's notice (sent while the partition is read) and the record of its sending
// follow the answer. A mail scanner that opens the link reads and writes nothing else. The
// lost-link form answers before any call: what it looks up, and whether it finds anything,
// is work after the answer (a container's first also reads the deployment's key then, which
// is counted apart here). A
// download is the request and its files link read in one Query, then its record written;
// the URL it redirects to is signed without a call.
var tripCases = []struct {
	name        string
	do          func(hs *harness, r *dsr.Request, tok string) int
	trips       int
	want, after string
	// prepare, if set, readies the request before the count and returns what do gets in
	// place of the status page link.
	prepare func(hs *harness, r *dsr.Request) string
}{
	{"open", func(hs *harness, _ *dsr.Request, tok string) int {
		return hs.browser().open(tok).StatusCode
	}, 1, "Query", "", nil},
	{"reply", func(hs *harness, _ *dsr.Request, tok string) int {
		b := hs.browser()
		b.cookies[cookieName] = tok
		return b.post("/status/reply", url.Values{"form": {formToken(tok)}, "text": {"Customer number 4711."}}).StatusCode
	}, 2, "Query → UpdateItem ‖ UpdateItem", "Query ‖ SendEmail → UpdateItem", nil},
	{"lost-link", func(hs *harness, r *dsr.Request, _ string) int {
		return hs.browser().post("/status/lost", url.Values{"email": {r.Email}}).StatusCode
	}, 0, "", "UpdateItem ‖ UpdateItem → Query → UpdateItem → SendEmail", nil},
	{"download", func(hs *harness, _ *dsr.Request, cookie string) int {
		b := hs.browser()
		b.cookies[filesCookie] = cookie
		return b.post("/status/files/download", url.Values{"form": {filesFormToken(cookie)}, "file": {"u1"}}).StatusCode
	}, 2, "Query → UpdateItem", "", openFiles},
}

// openFiles answers r with a file and opens a files session for it, as the mailed link's
// button does, and returns the session's cookie.
func openFiles(hs *harness, r *dsr.Request) string {
	hs.t.Helper()
	hs.deliver(r, dsr.File{ID: "u1", Name: "data.csv", Size: 10, MD5: strings.Repeat("0", 32), Key: r.Ref + "/u1/data.csv", Uploaded: hs.clock.Now()})
	ctx, now := context.Background(), hs.clock.Now()
	_, hash := token.ForRequest(r.Ref)
	p := r.NewProof(hash, now)
	if err := hs.st.PutProof(ctx, r.Ref, p); err != nil {
		hs.t.Fatal(err)
	}
	secret := token.New()
	p.Use(token.Hash(secret), now)
	if err := hs.st.UseProof(ctx, r.Ref, p); err != nil {
		hs.t.Fatal(err)
	}
	return r.Ref + "." + p.Key + "." + secret
}

// countTrips seeds a confirmed request with a question and a link, runs one case on it and
// returns the calls made before its answer, then does the work left for after it and returns
// those calls too.
func countTrips(hs *harness, rec *awscount.Recorder, i int) (before, after []awscount.Call) {
	hs.t.Helper()
	r := hs.seed(i18n.DA, address("trips"))
	hs.ask(r, dsr.PurposeIdentity, "Your customer number, please.", "")
	tok := hs.link(r)
	if prepare := tripCases[i].prepare; prepare != nil {
		tok = prepare(hs, r)
	}
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
