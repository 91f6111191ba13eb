package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// tripLatency is added to every AWS call when counting round trips (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// recorded rebuilds e's handler over emulator clients that record every call in rec, with a
// held queue so the calls after the response can be told from the ones the DPO waits for.
func (e *tenv) recorded(rec *awscount.Recorder) {
	e.t.Helper()
	db := dynamodb.NewFromConfig(e.env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.env.DynamoDBEndpoint)
	}, rec.DynamoDB)
	mail := ses.NewFromConfig(e.env.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(e.env.SESEndpoint)
	}, rec.SES)
	e.held = &later.Held{}
	e.after = e.held
	h, err := newHandler(e.cfg, db, mail, e.after, e.clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	h.signinFloor = 0
	e.h = h
}

// actionTrips are the round trips a DPO waits for, one after another, and the calls made
// after the answer.
//
// The session and the request's partition (the request and its mail texts) are read
// together, then the conditional write that decides the
// action and queues the requester's mail. The mail and the record of its sending follow the
// answer (shared/postresponse): the write already holds the mail as queued, so a run cut
// short leaves it for the sweep, never lost. A mail to the requester carries a new link to
// their status page, stored before it is sent. The request's partition is read while the mail
// goes, then its text kept there, with the search entries and retention brought in step, in
// one batch; then its state is recorded. A note mails no one. A question to the requester writes
// its message beside the request with the change that records it, at the same time.
var actionTrips = []struct {
	name  string
	do    func(d *dpo, ref string) web.Response
	trips int
	want  string
	after string
}{
	{"detail", func(d *dpo, ref string) web.Response { return d.get(requestPath(ref)) },
		1, "GetItem ‖ Query", ""},
	{"note", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/note", url.Values{"version": {"2"}, "note": {"Ringede til kunden."}})
	}, 2, "GetItem ‖ Query → UpdateItem", ""},
	{"complete", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/complete", url.Values{"version": {"2"}, "message": {"Vi har sendt dig en kopi af dine oplysninger."}, "confirm": {"no_delivery"}})
	}, 2, "GetItem ‖ Query → UpdateItem", "UpdateItem → Query ‖ SendEmail → BatchWriteItem → UpdateItem"},
	{"ask", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/ask_identity", url.Values{"version": {"2"}, "step": {stepConfirm},
			"text": {"Oplys venligst dit kundenummer."}, "pause_reason": {"To kunder med samme navn."}})
	}, 2, "GetItem ‖ Query → UpdateItem ‖ UpdateItem", "UpdateItem → Query ‖ SendEmail → BatchWriteItem → UpdateItem"},
	// An action's form reads the reply template for the request's type and language.
	{"action-form", func(d *dpo, ref string) web.Response { return d.get(requestPath(ref) + "?action=complete") },
		2, "GetItem ‖ Query → GetItem", ""},
	// The preview writes nothing and sends nothing.
	{"preview", func(d *dpo, ref string) web.Response {
		return d.post(requestPath(ref)+"/complete", url.Values{"version": {"2"}, "step": {"preview"}, "message": {"Vi har sendt dig en kopi."}, "confirm": {"no_delivery"}})
	}, 1, "GetItem ‖ Query", ""},
	// The worklist: a page of the open requests and the counts, all at once.
	{"worklist", func(d *dpo, _ string) web.Response { return d.get("/admin") },
		2, "GetItem → Query ‖ Query ‖ Query ‖ Query", ""},
	// Another list: one Query per type (and one for the requests not yet classified), all at
	// once, and the counts beside them.
	{"closed-list", func(d *dpo, _ string) web.Response { return d.get("/admin?view=closed") },
		2, "GetItem → " + strings.Repeat("Query ‖ ", len(dsr.Types)+3) + "Query", ""},
	// The digest preview: the sweep index's open, unconfirmed and closed requests due, at
	// once (and, when an answer's reminder is due, its downloads after them: TestDigestPreviewRoundTrips).
	{"digest", func(d *dpo, _ string) web.Response { return d.get("/admin/digest") },
		2, "GetItem → Query ‖ Query ‖ Query", ""},
	// Search: the entries of the word, then the requests they name.
	{"search", func(d *dpo, _ string) web.Response { return d.get("/admin/search?q=karen") },
		3, "GetItem → Query → BatchGetItem", ""},
	// Registering a letter: the session is read, then the request written, on condition
	// that its reference is free. The confirmation link goes after the answer, then its text
	// and the request's search entries are written in one batch beside the mail's state (a
	// new request's partition needs no read first).
	{"register", func(d *dpo, _ string) web.Response {
		return d.post(registerPath, url.Values{"step": {stepConfirm}, "channel": {"letter"}, "received_at": {"2026-03-03T11:30"},
			"type": {"access"}, "name": {"Karen Blixen"}, "email": {"req." + uniq() + "@example.dk"}, "requester_lang": {"da"},
			"identity": {"link"}})
	}, 2, "GetItem → UpdateItem", "SendEmail → BatchWriteItem ‖ UpdateItem"},
}

// countActionTrips seeds an open request, runs one case on it and returns the calls made
// before its answer, then does the work left for after it and returns those calls too.
func countActionTrips(e *tenv, d *dpo, rec *awscount.Recorder, i int) (before, after []awscount.Call) {
	ref := dsr.NewReference()
	e.seed(ref, submission("da", "req."+uniq()+"@example.dk"), received0, verify)
	rec.Take()
	resp := actionTrips[i].do(d, ref)
	if resp.StatusCode != http.StatusOK && resp.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("%s: status %d", actionTrips[i].name, resp.StatusCode)
	}
	before = rec.Take()
	e.held.Run()
	return before, rec.Take()
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
			before, after := countActionTrips(e, d, rec, i)
			awscount.CheckAnswer(t, before, after, tc.trips, tc.want, tc.after)
		})
	}
}

// BenchmarkRoundTrips reports the round trips of each case, for make bench's table.
func BenchmarkRoundTrips(b *testing.B) {
	e := setup(b)
	rec := &awscount.Recorder{Latency: tripLatency}
	e.recorded(rec)
	d := e.session(e.cfg.DPOAddresses[0])
	most, after := make([]int, len(actionTrips)), make([]int, len(actionTrips))
	for b.Loop() {
		for i := range actionTrips {
			before, later := countActionTrips(e, d, rec, i)
			most[i] = max(most[i], awscount.Sequential(before))
			after[i] = max(after[i], awscount.Sequential(later))
		}
	}
	for i, tc := range actionTrips {
		b.ReportMetric(float64(most[i]), tc.name+"-trips")
		b.ReportMetric(float64(after[i]), tc.name+"-after-trips")
	}
}

// A requester without an address is answered by letter at the cost of any action: the
// session and the request's partition, then the write that decides the action and records
// the letter; after the answer, the letter's text is kept beside the request (the partition
// read, then one batch), and no mail is sent. Opening the mail a request came in is the
// same two round trips: its audit event is written, and the link signed without a call.
func TestLetterAndMailRoundTrips(t *testing.T) {
	t.Parallel()
	e := setup(t, withInbound(t))
	raw := e.h.rawMails
	rec := &awscount.Recorder{Latency: tripLatency}
	e.recorded(rec)
	e.h.rawMails = raw
	d := e.session(e.cfg.DPOAddresses[0])
	cases := []struct {
		name         string
		ref          func() string
		do           func(ref string) web.Response
		trips        int
		want, wantAt string
	}{
		{"letter", func() string { return byLetter(t, d, "da") }, func(ref string) web.Response {
			return d.act(ref, "extend", url.Values{"reason": {"Fem systemer."}, "step": {stepConfirm}})
		}, 2, "GetItem ‖ Query → UpdateItem", "Query → BatchWriteItem"},
		{"open-mail", func() string { r, _ := e.mailed("gmail-da-utf8.eml"); return r.Ref }, func(ref string) web.Response {
			return d.post(requestPath(ref)+"/"+rawMailPage, url.Values{})
		}, 2, "GetItem ‖ Query → UpdateItem", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			ref := tc.ref()
			e.held.Run()
			rec.Take()
			if resp := tc.do(ref); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("status %d", resp.StatusCode)
			}
			before := rec.Take()
			e.held.Run()
			awscount.CheckAnswer(t, before, rec.Take(), tc.trips, tc.want, tc.wantAt)
		})
	}
}
