package dsr

import (
	"errors"
	"reflect"
	"slices"
	"testing"
	"time"
)

// registered is an access request a DPO registered and confirmed by other means, from a
// requester who gave an address (email) or none.
func registered(email string) *Request {
	g := registration()
	g.Email, g.Identity, g.IdentityNote = email, IdentityOtherMeans, "Underskrevet brev"
	return Registered("L3TT-ER22", g, received.AddDate(0, 1, 0), "", "dpo", received)
}

// Every change that mails the requester makes a letter of it when the desk cannot mail them:
// the same audit event, the same state of the request, but the mail is a letter (MailLetter,
// Change.Letters), which nothing sends or retries. With an address, the same change queues
// the mail.
func TestAnsweredByLetter(t *testing.T) {
	now := received.Add(72 * time.Hour)
	cases := []struct {
		name   string
		kind   MailKind
		action Action
		change func(r *Request) (Change, error)
	}{
		{"extension (Art. 12(3))", MailExtension, ActionExtended, func(r *Request) (Change, error) {
			return r.Extend("dpo", "Fem systemer.", r.Due.AddDate(0, 2, 0), now)
		}},
		{"refusal (Art. 12(4))", MailRejection, ActionRejected, func(r *Request) (Change, error) {
			return r.Refuse("dpo", Refusal{Ground: GroundLegalExemption, Reason: "Retsplejeloven."}, now)
		}},
		{"completion", MailCompletion, ActionCompleted, func(r *Request) (Change, error) {
			return r.Answer("dpo", Answer{Result: ResultDone, Message: "Kopien ligger i brevet.", NoDelivery: true}, now)
		}},
		{"no data", MailCompletion, ActionCompleted, func(r *Request) (Change, error) {
			return r.Answer("dpo", Answer{Result: ResultNoData, Message: "Vi har intet."}, now)
		}},
		{"question", MailQuestion, ActionAsked, func(r *Request) (Change, error) {
			return r.Ask("dpo", PurposeIdentity, "Send en kopi af dit pas.", "Identitet", now)
		}},
		{"fee", MailFee, ActionFeeAnnounced, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "250", Reason: "Tiende gang.", Justification: "Log."}, now)
		}},
	}
	for _, tc := range cases {
		for _, email := range []string{"karen@example.dk", ""} {
			t.Run(tc.name+"/"+map[bool]string{true: "by mail", false: "by letter"}[email != ""], func(t *testing.T) {
				r := registered(email)
				if r.ByMail() != (email != "") {
					t.Fatalf("ByMail %v with address %q", r.ByMail(), email)
				}
				c, err := tc.change(r)
				if err != nil {
					t.Fatal(err)
				}
				if c.Event.Action != tc.action || !slices.ContainsFunc(r.Audit, func(e AuditEvent) bool { return e == c.Event }) {
					t.Errorf("event %s, want %s", c.Event.Action, tc.action)
				}
				mails, letters, state := []MailKind{tc.kind}, []MailKind(nil), MailQueued
				if email == "" {
					mails, letters, state = nil, []MailKind{tc.kind}, MailLetter
				}
				if !reflect.DeepEqual(c.Mails, mails) || !reflect.DeepEqual(c.Letters, letters) || r.Mails[tc.kind].State != state {
					t.Fatalf("mails %v, letters %v, state %+v", c.Mails, c.Letters, r.Mails[tc.kind])
				}
				// A letter is never due for a send: not now, not after the lease, not ever.
				if _, ok := r.MailRetry(tc.kind); ok == (email == "") {
					t.Errorf("retried: %v", ok)
				}
				if due := r.MailsDue(now.Add(30 * 24 * time.Hour)); slices.Contains(due, tc.kind) == (email == "") {
					t.Errorf("due %v", due)
				}
				if got := r.Letters(); !reflect.DeepEqual(got, letters) {
					t.Errorf("Letters %v", got)
				}
			})
		}
	}
}

// A DPO records the day a letter was posted: not before it was written, not in the future,
// only a letter not yet posted. The state is then posted on that day, and nothing sends it.
func TestRecordPosted(t *testing.T) {
	now := received.Add(72 * time.Hour)
	letter := func() *Request {
		r := registered("")
		if _, err := r.Extend("dpo", "Fem systemer.", r.Due.AddDate(0, 2, 0), now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	later := now.Add(48 * time.Hour)
	day := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC) }
	cases := []struct {
		name string
		kind MailKind
		day  time.Time
		want error
	}{
		{"the day it was written", MailExtension, day(now), nil},
		{"two days later", MailExtension, day(later), nil},
		{"no letter chosen", "", day(now), FieldErrors{"letter": CodeRequired}},
		{"no day", MailExtension, time.Time{}, FieldErrors{"posted_on": CodeRequired}},
		{"the day before", MailExtension, day(now).AddDate(0, 0, -1), FieldErrors{"posted_on": CodeBeforeLetter}},
		{"tomorrow", MailExtension, day(later).AddDate(0, 0, 1), FieldErrors{"posted_on": CodeInFuture}},
		{"a letter there is not", MailRejection, day(now), &TransitionError{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := letter()
			c, err := r.RecordPosted("dpo", tc.kind, tc.day, later)
			var te *TransitionError
			switch want := tc.want.(type) {
			case nil:
				if err != nil {
					t.Fatal(err)
				}
				if m := r.Mails[tc.kind]; m.State != MailPosted || !m.At.Equal(tc.day) || len(c.Mails) != 0 ||
					!reflect.DeepEqual(c.Letters, []MailKind{tc.kind}) || c.Event.Action != ActionPosted || c.Event.Note != string(tc.kind) {
					t.Fatalf("state %+v, change %+v", m, c)
				}
				if _, ok := r.MailRetry(tc.kind); ok || len(r.Letters()) != 0 {
					t.Error("a posted letter is still to send")
				}
				if _, err := r.RecordPosted("dpo", tc.kind, tc.day, later); !errors.As(err, &te) {
					t.Errorf("posted twice: %v", err)
				}
			case FieldErrors:
				if !reflect.DeepEqual(err, want) {
					t.Fatalf("got %v, want %v", err, want)
				}
			default:
				if !errors.As(err, &te) {
					t.Fatalf("got %v, want a transition error", err)
				}
			}
		})
	}
}

// A requester the desk cannot mail cannot download files from their status page: a delivery
// is not offered, the completion is. The answer they wrote by letter is recorded by the DPO,
// which runs a stopped clock again and notifies nobody.
func TestNoDeliveryByLetterAndRepliesWrittenDown(t *testing.T) {
	now := received.Add(72 * time.Hour)
	r := registered("")
	var te *TransitionError
	if err := r.CanDeliver(); !errors.As(err, &te) || te.Reason != "no_address" {
		t.Fatalf("CanDeliver: %v", err)
	}
	if err := registered("karen@example.dk").CanDeliver(); err != nil {
		t.Fatalf("with an address: %v", err)
	}
	if _, err := r.Ask("dpo", PurposeIdentity, "Send en kopi af dit pas.", "Identitet", now); err != nil {
		t.Fatal(err)
	}
	c, err := r.RecordReply("dpo2", "Kopien er vedlagt.", now.Add(24*time.Hour), days(1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Waiting != nil || r.Paused() != nil || len(c.Mails)+len(c.Letters) != 0 || c.Message == nil || c.Message.From != ActorRequester ||
		c.Event.Actor != "dpo2" || c.Event.Action != ActionReplied || c.Event.Note != NoteRecorded || len(c.Also) != 1 {
		t.Fatalf("recorded %+v, request waiting %v", c, r.Waiting)
	}
}

// The mail a request came in may be opened while the request keeps its sender's data: each
// opening is an audit event and changes nothing else; a request that did not come by mail,
// or whose data is gone, has nothing to open.
func TestOpenMail(t *testing.T) {
	now := received.Add(time.Hour)
	expired := mailRequest()
	if _, err := expired.Expire(received.Add(ExpireAfter)); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		r    *Request
		ok   bool
	}{
		{"a mail", mailRequest(), true},
		{"a held mail", quarantinedRequest("spam"), true},
		{"a letter", registered(""), false},
		{"expired", expired, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := tc.r.Clone()
			c, err := tc.r.OpenMail("dpo", now)
			if !tc.ok {
				var te *TransitionError
				if !errors.As(err, &te) {
					t.Fatalf("opened: %v", err)
				}
				return
			}
			if err != nil || c.Event.Action != ActionMailOpened || c.Fields != 0 || len(c.Mails)+len(c.Letters) != 0 ||
				tc.r.Status != before.Status || len(tc.r.Audit) != len(before.Audit)+1 {
				t.Fatalf("%+v, %v", c, err)
			}
		})
	}
}
