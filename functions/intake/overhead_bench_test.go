package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// withRecorder builds the handler over emulator clients that record every call in rec.
func withRecorder(env *emulator.Env, rec *awscount.Recorder) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.db = dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
		}, rec.DynamoDB)
		c.ses = ses.NewFromConfig(env.AWSConfig(), func(o *ses.Options) {
			o.BaseEndpoint = aws.String(env.SESEndpoint)
		}, rec.SES)
	}
}

// tripLatency is added to every AWS call when counting round trips (see awscount.Recorder).
const tripLatency = 50 * time.Millisecond

// withHeld builds the handler with a held queue, so the calls made after the response can be
// told from the ones the person waits for.
func withHeld() harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.held = &later.Held{}
		c.after = c.held
	}
}

// tripCase is one operation whose round trips are counted.
type tripCase struct {
	name  string
	do    func(hs *harness, rec *awscount.Recorder)
	trips int
	want  string
	// after is what the function does once the person has the answer.
	after string
}

// tripCases are the round trips a person waits for, one after another, and the calls made
// after the answer.
//
// Filing takes two: the two rate-limit counters and the day's ceiling (together), then storing the request with its
// verification mail queued. The mail and the record of its sending follow the answer
// (shared/postresponse): the write already holds the mail as queued, so a run cut short leaves
// it for the sweep, never lost. The request's partition is read while the mail goes, then its
// text (the link's secret cut out) and search entries written there in one batch; then the
// mail's state.
//
// Confirming takes one: the conditional write that opens the request and queues the receipt
// and the DPO's notice, which go out (together) after the answer, the receipt with a new link
// to the requester's status page, stored first. A link that no longer confirms costs the
// refused write and the read that says why.
//
// The first request of a container that needs the deployment's key (shared/keyed) reads it
// first: one more round trip for the form page and for a submission.
var tripCases = []tripCase{
	{"form-first", func(hs *harness, rec *awscount.Recorder) {
		cold := hs.coldContainer(rec)
		if resp := cold.do(event(hs.t, "intake-form-get")); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `name="ts" value="1`) {
			hs.t.Fatalf("form: %s", fmtStatus(resp))
		}
	}, 1, "GetItem", ""},
	{"submit-first", func(hs *harness, rec *awscount.Recorder) {
		v := hs.form(address("trips-first"), i18n.DA) // signed by the warm container: the same key
		if resp := hs.coldContainer(rec).postForm(v); resp.StatusCode != http.StatusSeeOther {
			hs.t.Fatalf("form post: %s", fmtStatus(resp))
		}
	}, 3, "GetItem → UpdateItem ‖ UpdateItem ‖ UpdateItem → PutItem", "Query ‖ SendEmail → BatchWriteItem → UpdateItem"},
	{"submit", func(hs *harness, _ *awscount.Recorder) {
		if resp := hs.postForm(hs.form(address("trips"), i18n.DA)); resp.StatusCode != http.StatusSeeOther {
			hs.t.Fatalf("form post: %s", fmtStatus(resp))
		}
	}, 2, "UpdateItem ‖ UpdateItem ‖ UpdateItem → PutItem", "Query ‖ SendEmail → BatchWriteItem → UpdateItem"},
	{"submit-json", func(hs *harness, _ *awscount.Recorder) {
		resp := hs.do(withJSON(event(hs.t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": address("trips-json")}))
		if resp.StatusCode != http.StatusAccepted {
			hs.t.Fatalf("json post: %s", fmtStatus(resp))
		}
	}, 2, "UpdateItem ‖ UpdateItem ‖ UpdateItem → PutItem", "Query ‖ SendEmail → BatchWriteItem → UpdateItem"},
	{"confirm", func(hs *harness, rec *awscount.Recorder) {
		tok := hs.file(address("trips-confirm"), i18n.DA)
		rec.Take()
		if resp := hs.verifyPost(tok, i18n.DA); resp.StatusCode != http.StatusOK {
			hs.t.Fatalf("confirm: %s", fmtStatus(resp))
		}
	}, 1, "UpdateItem", "UpdateItem → Query ‖ SendEmail ‖ SendEmail → BatchWriteItem → UpdateItem"},
	{"confirm-again", func(hs *harness, rec *awscount.Recorder) {
		tok := hs.file(address("trips-again"), i18n.DA)
		hs.verifyPost(tok, i18n.DA)
		hs.runAfter()
		rec.Take()
		if resp := hs.verifyPost(tok, i18n.DA); !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.DA, "intake.already.title"))) {
			hs.t.Fatalf("second confirm: %s\n%s", fmtStatus(resp), resp.Body)
		}
	}, 2, "UpdateItem! → GetItem", ""},
}

// coldContainer is a second handler over hs's table, recording in rec, that has not read the
// deployment key yet; its work after the response waits in hs's queue.
func (hs *harness) coldContainer(rec *awscount.Recorder) *harness {
	hs.t.Helper()
	cold := newHarness(hs.t, withTable(hs.cfg.Table), withRecorder(hs.env, rec), withColdKey(), func(_ map[string]string, c *harnessClients) {
		c.after, c.held = hs.held, hs.held
	})
	return cold
}

// countTrips runs tc against a handler whose calls are recorded and returns the calls made
// before its answer, then does the work left for after it and returns those calls too.
func countTrips(hs *harness, rec *awscount.Recorder, tc tripCase) (before, after []awscount.Call) {
	rec.Take()
	tc.do(hs, rec)
	before = rec.Take()
	hs.runAfter()
	return before, rec.Take()
}

func TestRoundTrips(t *testing.T) {
	t.Parallel()
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(t, withRecorder(emulator.Get(t), rec), withHeld())
	for _, tc := range tripCases {
		t.Run(tc.name, func(t *testing.T) {
			hs.t = t
			before, after := countTrips(hs, rec, tc)
			awscount.CheckAnswer(t, before, after, tc.trips, tc.want, tc.after)
		})
	}
}

// BenchmarkRoundTrips reports the round trips of each case before its answer and after it,
// for make bench's table.
func BenchmarkRoundTrips(b *testing.B) {
	rec := &awscount.Recorder{Latency: tripLatency}
	hs := newHarness(b, withRecorder(emulator.Get(b), rec), withHeld())
	most, after := map[string]int{}, map[string]int{}
	for b.Loop() {
		for _, tc := range tripCases {
			before, later := countTrips(hs, rec, tc)
			most[tc.name] = max(most[tc.name], awscount.Sequential(before))
			after[tc.name] = max(after[tc.name], awscount.Sequential(later))
		}
	}
	for _, tc := range tripCases {
		b.ReportMetric(float64(most[tc.name]), tc.name+"-trips")
		b.ReportMetric(float64(after[tc.name]), tc.name+"-after-trips")
	}
}

// overhead times the handler and the bare calls it makes (the same inputs, replayed through
// clients of their own, in the same rounds) one after the other in every iteration, so drift
// in the emulators affects both alike, and reports both and their ratio.
type overhead struct {
	b             *testing.B
	hs            *harness
	rec           *awscount.Recorder
	db            *dynamodb.Client
	mail          *ses.Client
	handler, bare time.Duration
	n, hits       int
}

// newOverhead builds a handler whose calls are recorded, and clients of its own for the same
// calls made bare.
func newOverhead(b *testing.B) *overhead {
	env := emulator.Get(b)
	o := &overhead{b: b, rec: &awscount.Recorder{}}
	// Every iteration files a new request: past the day's ceiling on unconfirmed requests
	// (200 by default) a submission would be held, and its bare replay refused by the
	// ceiling's counter, so the benchmark measures filing under a ceiling it never reaches.
	noCeiling := func(vars map[string]string, _ *harnessClients) { vars["UNCONFIRMED_PER_DAY"] = "100000" }
	o.hs = newHarness(b, withRecorder(env, o.rec), noCeiling)
	o.db, o.mail = bareClients(env)
	return o
}

// time runs req through the handler, then the calls it made, bare, and adds each one's time;
// it returns the handler's answer.
func (o *overhead) time(ctx context.Context, req web.Request) web.Response {
	o.rec.Take()
	start := time.Now()
	resp, _ := o.hs.h.Handle(ctx, req)
	o.handler += time.Since(start)
	calls := o.rec.Take()
	o.hits = len(calls)
	start = time.Now()
	if err := awscount.Replay(ctx, calls, o.db, o.mail, bareKey); err != nil {
		o.b.Fatal(err)
	}
	o.bare += time.Since(start)
	o.n++
	return resp
}

func (o *overhead) report() {
	n := float64(o.n)
	o.b.ReportMetric(float64(o.handler.Microseconds())/n/1000, "handler-ms")
	o.b.ReportMetric(float64(o.bare.Microseconds())/n/1000, "bare-ms")
	o.b.ReportMetric(float64(o.handler)/float64(o.bare), "ratio")
	o.b.ReportMetric(float64(o.hits), "calls")
}

// bareClients are emulator clients without a recorder, for the baseline.
func bareClients(env *emulator.Env) (*dynamodb.Client, *ses.Client) {
	db := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) { o.BaseEndpoint = aws.String(env.DynamoDBEndpoint) })
	mail := ses.NewFromConfig(env.AWSConfig(), func(o *ses.Options) { o.BaseEndpoint = aws.String(env.SESEndpoint) })
	return db, mail
}

func bareKey(pk string) string { return pk + "#bare" }

// BenchmarkSubmit is a form post against the bare calls it makes: both rate-limit counters,
// the request's put, the verification mail and the record of its sending.
func BenchmarkSubmit(b *testing.B) {
	o := newOverhead(b)
	hs := o.hs
	ev := event(b, "intake-form-post")
	tag := strings.TrimSuffix(address("bench"), "@example.dk")
	ctx := context.Background()
	for i := 0; b.Loop(); i++ {
		// Every post from a new address and IP: the counters must not reach their limits.
		req := withIP(withForm(ev, hs.form(fmt.Sprintf("%s-%d@example.dk", tag, i), i18n.DA)), fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255))
		if resp := o.time(ctx, req); resp.StatusCode != http.StatusSeeOther {
			b.Fatalf("form post: %s", fmtStatus(resp))
		}
	}
	o.report()
}

// BenchmarkConfirm is a press of the confirm button against the bare calls it makes: the
// conditional write, the receipt and the DPO's notice, and the record of their sending.
func BenchmarkConfirm(b *testing.B) {
	o := newOverhead(b)
	hs := o.hs
	ev := event(b, "intake-verify-post")
	ctx := context.Background()
	now := hs.clock.Now()
	due := hs.cfg.Calendar.Due(now)
	for b.Loop() {
		// A request awaiting confirmation for the handler, and its twin for the bare calls.
		ref := dsr.NewReference()
		tok, hash := token.ForRequest(ref)
		sub := dsr.Submission{Type: "access", Name: "Mette Sørensen", Email: address("bench-confirm"), Details: "Jeg vil gerne have en kopi.", Lang: "da"}
		for _, r := range []string{ref, strings.TrimPrefix(bareKey("REQ#"+ref), "REQ#")} {
			if err := hs.st.CreateRequest(ctx, dsr.New(r, sub, now, due, hash)); err != nil {
				b.Fatal(err)
			}
		}
		req := withForm(ev, map[string][]string{"token": {tok}, "lang": {"da"}})
		if resp := o.time(ctx, req); resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.DA, "intake.confirmed.title"))) {
			b.Fatalf("confirm: %s\n%s", fmtStatus(resp), resp.Body)
		}
	}
	o.report()
}
