package main

import (
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/sesevent"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// tripLatency is added to every AWS call when counting them (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// endToEnd bounds the AWS calls one mail may cost end to end, in sequential round trips
// (issue 13: "an inbound mail ≤ 4 AWS calls end to end"). TestRoundTrips fails over it
// whatever the sequence says, so that a new case cannot be written down above it.
const endToEnd = 4

// tripCases are the AWS calls one mail costs, end to end: nobody waits for an answer, so it
// is all of them. A mail that becomes a request is read once, stored with its acknowledgement
// queued, acknowledged, and then the acknowledgement's text, the request's search entries
// and the mail's state are written together (a new request's partition needs no read first).
// A reply names its request in the receipt, so the request is read with the mail; the
// message and the change that records it are written together; the DPO is told while the
// request's partition is read (store.StartSync), and then the mail's state is recorded,
// beside whatever brings the partition in step (nothing for a reply to an open request; the
// siblings' retention for one whose clock the reply starts again). A machine's mail costs
// nothing.
var tripCases = []struct {
	name  string
	mail  func(hs *harness) ([]byte, sesevent.Receipt)
	trips int
	want  string
}{
	{"request", func(hs *harness) ([]byte, sesevent.Receipt) {
		return fixture(hs.t, "gmail-da-utf8.eml", "soren.olgaard@gmail.com", address("trips")), sesevent.Receipt{}
	}, 4, "GetObject → PutItem → SendEmail → BatchWriteItem ‖ UpdateItem"},
	{"reply", func(hs *harness) ([]byte, sesevent.Receipt) {
		requester := address("trips")
		r := hs.seedOpen(requester)
		return fixture(hs.t, "reply-to-receipt.eml", "kunde@example.dk", requester, "K7MQ-4XTZ", r.Ref),
			sesevent.Receipt{Recipients: []string{dsr.ReplyAddress(inbox, r.Ref)}}
	}, 4, "GetItem ‖ GetObject → UpdateItem ‖ UpdateItem → Query ‖ SendEmail → UpdateItem"},
	{"reply-resumes", func(hs *harness) ([]byte, sesevent.Receipt) {
		requester := address("trips")
		r := hs.seedAsked(requester)
		return fixture(hs.t, "reply-to-receipt.eml", "kunde@example.dk", requester, "K7MQ-4XTZ", r.Ref),
			sesevent.Receipt{Recipients: []string{dsr.ReplyAddress(inbox, r.Ref)}}
	}, 4, "GetItem ‖ GetObject → UpdateItem ‖ UpdateItem → Query ‖ SendEmail → BatchWriteItem ‖ UpdateItem"},
	{"auto-reply", func(hs *harness) ([]byte, sesevent.Receipt) {
		return fixture(hs.t, "autoreply-outlook.eml"), sesevent.Receipt{}
	}, 0, ""},
	{"spam", func(hs *harness) ([]byte, sesevent.Receipt) {
		return fixture(hs.t, "gmail-da-utf8.eml"), sesevent.Receipt{Spam: "FAIL"}
	}, 1, "PutItem"},
}

// countTrips receives one case's mail and returns the calls the function made for it.
func countTrips(hs *harness, rec *awscount.Recorder, i int) []awscount.Call {
	hs.t.Helper()
	raw, r := tripCases[i].mail(hs)
	rec.Take()
	if _, err := hs.receive(raw, r); err != nil {
		hs.t.Fatal(err)
	}
	return rec.Take()
}

func TestRoundTrips(t *testing.T) {
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(t, withRecorder(t, emulator.Get(t), rec))
	for i, tc := range tripCases {
		t.Run(tc.name, func(t *testing.T) {
			hs.t = t
			calls := countTrips(hs, rec, i)
			t.Logf("%d calls in %d round trips: %s", len(calls), awscount.Sequential(calls), awscount.Describe(calls))
			if got := awscount.Describe(calls); awscount.Sequential(calls) != tc.trips || got != tc.want {
				t.Errorf("%d round trips: %s; want %d: %s", awscount.Sequential(calls), got, tc.trips, tc.want)
			}
			if n := awscount.Sequential(calls); n > endToEnd {
				t.Errorf("%d round trips end to end, over the bound of %d", n, endToEnd)
			}
		})
	}
}

// BenchmarkRoundTrips reports each case's round trips and calls, for make bench's table.
func BenchmarkRoundTrips(b *testing.B) {
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(b, withRecorder(b, emulator.Get(b), rec))
	trips, calls := make([]int, len(tripCases)), make([]int, len(tripCases))
	for b.Loop() {
		for i := range tripCases {
			c := countTrips(hs, rec, i)
			trips[i] = max(trips[i], awscount.Sequential(c))
			calls[i] = max(calls[i], len(c))
		}
	}
	for i, tc := range tripCases {
		b.ReportMetric(float64(trips[i]), tc.name+"-trips")
		b.ReportMetric(float64(calls[i]), tc.name+"-calls")
	}
}
