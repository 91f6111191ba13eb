package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// plainDays is a calendar of plain days: a month is 30 days, every day a working day.
type plainDays struct{}

func (plainDays) Due(received time.Time) time.Time { return received.AddDate(0, 0, 30) }
func (plainDays) AddWorkingDays(d time.Time, n int) time.Time {
	return d.AddDate(0, 0, n)
}

func mailRequest(ref string) *dsr.Request {
	return dsr.FromMail(ref, dsr.IncomingMail{
		From: "ola@example.no", Name: "Ola Nordmann", Text: "Hva har dere om meg?", Lang: "nb", ReceivedAt: received,
		Mail: dsr.InboundMail{Key: "mail/" + ref, Subject: "Innsyn", DMARCFail: true,
			Attachments: []dsr.Attachment{{Name: "legitimasjon.pdf", Size: 48213, Type: "application/pdf"}}},
	}, received.AddDate(0, 0, 2), "tok-"+ref)
}

// What a mail's request and a registered one hold beyond a form's comes back as it was stored.
func TestChannelsRoundTrip(t *testing.T) {
	s, _, _ := newStore(t, newClock(received))
	ctx := context.Background()
	m := mailRequest("MA1L-2222")
	reg := dsr.Registered("LETT-2222", dsr.Registration{
		Channel: dsr.ChannelLetter, ReceivedAt: received.Add(-96 * time.Hour), Type: dsr.Erasure, Name: "Karen Hansen",
		PostalAddress: "Vestergade 2\n8000 Aarhus C", Lang: "da", Identity: dsr.IdentityOtherMeans, IdentityNote: "Signed letter",
	}, due, "", "dpo@example.dk", received)
	for _, r := range []*dsr.Request{m, reg} {
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetRequest(ctx, r.Ref)
		if err != nil {
			t.Fatal(err)
		}
		if got.Via() != r.Via() || got.PostalAddress != r.PostalAddress || !got.Entered().Equal(r.Entered()) || got.Status != r.Status {
			t.Fatalf("stored %+v, want %+v", got, r)
		}
		if (got.Inbound == nil) != (r.Inbound == nil) || (got.Inbound != nil && (got.Inbound.Key != r.Inbound.Key ||
			!got.Inbound.DMARCFail || len(got.Inbound.Attachments) != 1 || got.Inbound.Attachments[0] != r.Inbound.Attachments[0])) {
			t.Fatalf("inbound %+v, want %+v", got.Inbound, r.Inbound)
		}
	}
}

// A classification changes the type and the deadline in one write, and moves the request
// within its list (ordered by type).
func TestClassifyMovesTheRequest(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := mailRequest("CLAS-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Verify(r.TokenHash, received.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if ch, err = r.Classify("dpo", dsr.Access, plainDays{}, 2, received.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Type != dsr.Access || !got.Due.Equal(received.AddDate(0, 0, 30)) || got.Audit[len(got.Audit)-1].Action != dsr.ActionClassified {
		t.Fatalf("classified %+v", got)
	}
	raw := rawItem(t, db, table, r.Ref)
	if sk := raw["ws_sk"].(*ddbtypes.AttributeValueMemberS).Value; sk[:len("access#")] != "access#" {
		t.Fatalf("ws_sk = %s", sk)
	}
}

// A bounce is recorded on its mail without touching the mail's delivery state, keeps a closed
// request on the sweep's queue until a digest reported it, and a stale report is refused.
func TestFeedbackUntilReported(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("B0NC-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	steps := []func(*dsr.Request, time.Time) (dsr.Change, error){
		func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Verify(r.TokenHash, now) },
		func(r *dsr.Request, now time.Time) (dsr.Change, error) {
			return r.Reject("dpo", string(dsr.GroundOther), "no", now)
		},
	}
	for _, step := range steps {
		c.set(c.now().Add(time.Hour))
		ch, err := step(r, c.now())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Commit(ctx, r, ch); err != nil {
			t.Fatal(err)
		}
		states := map[dsr.MailKind]dsr.MailState{}
		for _, k := range ch.Mails {
			states[k] = dsr.MailState{State: dsr.MailSent, At: c.now(), Attempts: 1}
		}
		if err := s.RecordMails(ctx, r, states); err != nil {
			t.Fatal(err)
		}
	}
	if pk := rawItem(t, db, table, r.Ref)["sweep_pk"]; pk != nil {
		t.Fatalf("answered request on the sweep index: %v", pk)
	}
	bounced := c.now().Add(time.Minute)
	ch, err := r.RecordFeedback(dsr.MailRejection, dsr.Feedback{Kind: dsr.FeedbackBounce, At: bounced, Detail: "Permanent/NoEmail"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	m := got.Mails[dsr.MailRejection]
	if m.State != dsr.MailSent || m.Attempts != 1 || m.Feedback == nil || !m.Feedback.At.Equal(bounced) || m.Feedback.Detail != "Permanent/NoEmail" {
		t.Fatalf("rejection mail %+v, feedback %+v", m, m.Feedback)
	}
	raw := rawItem(t, db, table, r.Ref)
	if pk, _ := raw["sweep_pk"].(*ddbtypes.AttributeValueMemberS); pk == nil || pk.Value != string(dsr.QueueRetry) {
		t.Fatalf("bounced refusal not on the retry queue: %v", raw["sweep_pk"])
	}

	// A DPO's note on the request (how the requester was reached) ends the listing, and the
	// closed request leaves the sweep's index with the same write.
	ch, err = got.AddNote("dpo@example.dk", "Sendt med posten.", c.now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, got, ch); err != nil {
		t.Fatal(err)
	}
	if pk := rawItem(t, db, table, r.Ref)["sweep_pk"]; pk != nil {
		t.Fatalf("acted on, still on the sweep index: %v", pk)
	}
	again, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if kinds, _ := again.Undelivered(); len(kinds) != 0 || again.Mails[dsr.MailRejection].Feedback == nil {
		t.Fatalf("after the note: %+v", again.Mails[dsr.MailRejection].Feedback)
	}
}

// The requests filed from an address are found through its search entry and one batch read.
func TestRequestsFrom(t *testing.T) {
	s, _, _ := newStore(t, newClock(received))
	ctx := context.Background()
	for _, r := range []*dsr.Request{mailRequest("FR0M-2222"), mailRequest("FR0M-3333"), sample("FR0M-4444")} {
		if err := s.CreateRequest(ctx, r); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncSiblings(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.RequestsFrom(ctx, "OLA@example.no")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("found %d", len(got))
	}
	if none, err := s.RequestsFrom(ctx, "nobody@example.no"); err != nil || len(none) != 0 {
		t.Fatalf("found %v, %v", none, err)
	}
}

// The workspace registers a request with an UpdateItem (it may not PutItem in a request's
// partition): the request reads back as CreateRequest would have stored it; a reference in
// use is a Conflict, except for the request an earlier post of the same registration form
// stored (a resubmission, a retry after a lost answer), which comes back as it is.
func TestRegisterRequest(t *testing.T) {
	s, _, _ := newStore(t, newClock(received))
	ctx := context.Background()
	g := dsr.Registration{
		Channel: dsr.ChannelPhone, ReceivedAt: received.Add(-48 * time.Hour), Type: dsr.Access, Name: "Jens Hansen",
		Email: "jens@example.dk", Lang: "da", Identity: dsr.IdentityLink, Form: "form-1",
	}
	r := dsr.Registered("PH0N-2222", g, due, "hash-1", "dpo@example.dk", received)
	if got, err := s.RegisterRequest(ctx, r); err != nil || got != r {
		t.Fatal(got, err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Via() != dsr.ChannelPhone || got.Email != g.Email || !got.ReceivedAt.Equal(g.ReceivedAt) || !got.Entered().Equal(received) ||
		got.TokenHash != "hash-1" || got.Status != dsr.PendingVerification || got.Version != 1 || len(got.Audit) != 1 ||
		got.Mails[dsr.MailVerification].State != dsr.MailQueued || got.FormKey == "" || got.FormKey == "form-1" {
		t.Fatalf("stored %+v", got)
	}
	// The same form posted again, a minute later, with its own link and its identity now
	// confirmed by other means: the first post's request comes back, unchanged.
	again := g
	again.Identity, again.IdentityNote = dsr.IdentityOtherMeans, "Called back"
	back, err := s.RegisterRequest(ctx, dsr.Registered("PH0N-2222", again, due, "", "dpo@example.dk", received.Add(time.Minute)))
	if err != nil || back.TokenHash != "hash-1" || back.Status != dsr.PendingVerification || !back.Entered().Equal(received) {
		t.Fatalf("again: %+v, %v", back, err)
	}
	// Another form's request under the same reference is a Conflict, and so is one of no
	// form at all.
	other := g
	other.Form = "form-2"
	if _, err := s.RegisterRequest(ctx, dsr.Registered("PH0N-2222", other, due, "hash-2", "dpo@example.dk", received)); !errors.Is(err, fault.Conflict) {
		t.Fatalf("a second request under the reference: %v", err)
	}
	other.Form = ""
	if _, err := s.RegisterRequest(ctx, dsr.Registered("PH0N-2222", other, due, "hash-2", "dpo@example.dk", received)); !errors.Is(err, fault.Conflict) {
		t.Fatalf("a request of no form under the reference: %v", err)
	}
	if got, _ := s.GetRequest(ctx, r.Ref); got.TokenHash != "hash-1" || got.Version != 1 {
		t.Fatalf("overwritten: %+v", got)
	}
}
