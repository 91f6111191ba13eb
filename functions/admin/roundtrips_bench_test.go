package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/awscount"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// tripLatency is added to every AWS call when counting round trips (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// recorded rebuilds e's handler over emulator clients that record every call in rec.
func (e *tenv) recorded(rec *awscount.Recorder) {
	e.t.Helper()
	db := dynamodb.NewFromConfig(e.env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	mail := ses.NewFromConfig(e.env.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(e.env.SESEndpoint)
	}, rec.SES)
	h, err := newHandler(e.cfg, db, mail, e.clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	h.signinFloor = 0
	e.h = h
}

// actionTrips are the round trips a DPO waits for, one after another.
//
// The session and the request are read together. An action that mails the requester then
// takes three more: the conditional write, the mail, the record of its sending; the record
// cannot go without weakening the outbox (the mail is queued by the write that decides it,
// and only the record tells the sweep it went out). A note mails no one.
var actionTrips = []struct {
	name  string
	do    func(d *dpo, ref string) web.Response
	trips int
	want  string
}{
	{"detail", func(d *dpo, ref string) web.Response { return d.get(requestPath(ref)) },
		1, "GetItem ‖ GetItem"},
	{"note", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/note", url.Values{"version": {"2"}, "note": {"Ringede til kunden."}})
	}, 2, "GetItem ‖ GetItem → UpdateItem"},
	{"complete", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/complete", url.Values{"version": {"2"}, "message": {"Vi har sendt dig en kopi af dine oplysninger."}})
	}, 4, "GetItem ‖ GetItem → UpdateItem → SendEmail → UpdateItem"},
}

// countActionTrips seeds an open request, runs one case on it and returns the calls it made.
func countActionTrips(e *tenv, d *dpo, rec *awscount.Recorder, i int) []awscount.Call {
	ref := dsr.NewReference()
	e.seed(ref, submission("da", "req."+uniq()+"@example.dk"), received0, verify)
	rec.Take()
	resp := actionTrips[i].do(d, ref)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("%s: status %d", actionTrips[i].name, resp.StatusCode)
	}
	return rec.Take()
}

func TestActionRoundTrips(t *testing.T) {
	t.Parallel()
	e := setup(t)
	rec := &awscount.Recorder{Latency: tripLatency}
	e.recorded(rec)
	d := e.session(e.cfg.DPOAddresses[0])
	for i, tc := range actionTrips {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			calls := countActionTrips(e, d, rec, i)
			got := awscount.Sequential(calls)
			t.Logf("%d round trips: %s", got, awscount.Describe(calls))
			if got != tc.trips || awscount.Describe(calls) != tc.want {
				t.Errorf("%d round trips (%s), want %d (%s)", got, awscount.Describe(calls), tc.trips, tc.want)
			}
		})
	}
}

// BenchmarkRoundTrips reports the round trips of each case, for make bench's table.
func BenchmarkRoundTrips(b *testing.B) {
	e := setup(b)
	rec := &awscount.Recorder{Latency: tripLatency}
	e.recorded(rec)
	d := e.session(e.cfg.DPOAddresses[0])
	most := make([]int, len(actionTrips))
	for b.Loop() {
		for i := range actionTrips {
			most[i] = max(most[i], awscount.Sequential(countActionTrips(e, d, rec, i)))
		}
	}
	for i, tc := range actionTrips {
		b.ReportMetric(float64(most[i]), tc.name+"-trips")
	}
}
