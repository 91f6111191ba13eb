package main

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/infra/sesevent"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// rejected stores a confirmed request refused at t0, its refusal mail sent.
func (hs *harness) rejected(email string) *dsr.Request {
	hs.t.Helper()
	ctx := context.Background()
	r := hs.seedOpen(email)
	ch, err := r.Refuse("dpo@example.dk", dsr.Refusal{Ground: dsr.GroundOther, Reason: "No."}, t0)
	if err != nil {
		hs.t.Fatal(err)
	}
	if err := hs.st.Commit(ctx, r, ch); err != nil {
		hs.t.Fatal(err)
	}
	states := map[dsr.MailKind]dsr.MailState{}
	for k := range r.Mails {
		states[k] = dsr.MailState{State: dsr.MailSent, At: t0, Attempts: 1}
	}
	if err := hs.st.RecordMails(ctx, r, states); err != nil {
		hs.t.Fatal(err)
	}
	return r
}

func snsFeedback(t *testing.T, kind, ref, mail string, at time.Time) events.SNSEvent {
	t.Helper()
	ev, err := sesevent.SNS(sesevent.Feedback{Kind: kind, MessageID: messageID(), To: "x@example.dk", At: at,
		Tags: map[string]string{"ref": ref, "kind": mail}, TopicARN: "arn:aws:sns:eu-west-1:123456789012:feedback"})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// A bounce of the refusal marks that mail on its request, once, and the request is on the
// sweep's queue for the next digest; a complaint is marked as one.
func TestFeedbackMarksTheMail(t *testing.T) {
	hs := newHarness(t, withoutInbound())
	r := hs.rejected(address("bounced"))
	at := t0.Add(time.Minute)
	for range 2 { // SNS delivers at least once
		if err := hs.invoke(snsFeedback(t, "Bounce", r.Ref, "rejection", at)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := hs.st.GetRequest(context.Background(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	f := got.Mails[dsr.MailRejection].Feedback
	if f == nil || f.Kind != dsr.FeedbackBounce || !f.At.Equal(at) || f.Detail != "Permanent/General" || got.Mails[dsr.MailRejection].State != dsr.MailSent {
		t.Fatalf("rejection mail %+v, feedback %+v", got.Mails[dsr.MailRejection], f)
	}
	bounces := 0
	for _, e := range got.Audit {
		if e.Action == dsr.ActionBounced {
			bounces++
		}
	}
	if bounces != 1 {
		t.Fatalf("%d bounce events in the trail", bounces)
	}
	if q, _ := got.SweepQueue(); q != dsr.QueueRetry {
		t.Fatalf("on queue %q", q)
	}
	if err := hs.invoke(snsFeedback(t, "Complaint", r.Ref, "receipt", at)); err != nil {
		t.Fatal(err)
	}
	got, _ = hs.st.GetRequest(context.Background(), r.Ref)
	if f := got.Mails[dsr.MailReceipt].Feedback; f == nil || f.Kind != dsr.FeedbackComplaint || f.Detail != "abuse" {
		t.Fatalf("receipt feedback %+v", f)
	}
}

// Feedback the desk can do nothing with is dropped without an error (a retry would not help).
func TestFeedbackDropped(t *testing.T) {
	hs := newHarness(t, withoutInbound())
	r := hs.rejected(address("dropped"))
	tests := []struct {
		name string
		ev   events.SNSEvent
	}{
		{"no such request", snsFeedback(t, "Bounce", "ZZZZ-ZZZZ", "rejection", t0)},
		{"a mail about no request (a digest)", snsFeedback(t, "Bounce", "", "", t0)},
		{"a mail the request never sent", snsFeedback(t, "Bounce", r.Ref, "extension", t0)},
		{"not feedback", func() events.SNSEvent {
			ev := snsFeedback(t, "Bounce", r.Ref, "rejection", t0)
			ev.Records[0].SNS.Message = `{"eventType":"Delivery","mail":{}}`
			return ev
		}()},
		{"not JSON", func() events.SNSEvent {
			ev := snsFeedback(t, "Bounce", r.Ref, "rejection", t0)
			ev.Records[0].SNS.Message = "hello"
			return ev
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := hs.invoke(tt.ev); err != nil {
				t.Fatal(err)
			}
		})
	}
	got, _ := hs.st.GetRequest(context.Background(), r.Ref)
	if got.Version != r.Version {
		t.Fatalf("the request changed: version %d, was %d", got.Version, r.Version)
	}
}

// The sample SNS event in events/ is what a configuration set's destination publishes.
func TestSampleFeedbackEvent(t *testing.T) {
	hs := newHarness(t, withoutInbound())
	raw, err := os.ReadFile("../../events/inbound-sns-bounce.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SNSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	if err := hs.h.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(hs.logs.String(), `"outcome":"gone"`) {
		t.Fatalf("logs: %s", hs.logs)
	}
}
