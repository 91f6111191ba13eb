package dsr

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

var (
	received = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due      = time.Date(2026, 4, 7, 21, 59, 59, 0, time.UTC)
	extended = time.Date(2026, 6, 2, 21, 59, 59, 0, time.UTC)
)

func newRequest() *Request {
	s := Submission{Type: "erasure", Name: "Jens", Email: "jens@example.dk", Details: "d", CustomerRef: "c", Lang: "da"}
	return New("K7MQ-4XTZ", s, received, due, "hash")
}

func openRequest(t *testing.T) *Request {
	t.Helper()
	r := newRequest()
	if _, err := r.Verify(r.TokenHash, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestNew(t *testing.T) {
	r := newRequest()
	if r.Status != PendingVerification || r.Version != 1 || len(r.Audit) != 1 || r.Audit[0].Action != ActionSubmitted {
		t.Fatalf("new request = %+v", r)
	}
	if !r.TokenExpires.Equal(received.Add(ExpireAfter)) {
		t.Fatalf("token expires %v", r.TokenExpires)
	}
	if r.Mails[MailVerification].State != MailQueued {
		t.Fatalf("verification mail not queued: %+v", r.Mails)
	}
	if !r.Deadline().Equal(due) {
		t.Fatalf("deadline %v", r.Deadline())
	}
}

// Each operation is checked for the change it reports, the audit event it appends, the mails
// it queues and the version bump, because the store commits exactly that.
func TestOperations(t *testing.T) {
	now := received.Add(48 * time.Hour)
	tests := []struct {
		name       string
		setup      func(*testing.T) *Request
		op         func(*Request) (Change, error)
		wantStatus Status
		wantAction Action
		wantMails  []MailKind
		check      func(*testing.T, *Request)
	}{
		{"verify", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Verify(r.TokenHash, now) },
			Open, ActionVerified, []MailKind{MailReceipt, MailDPONew}, func(t *testing.T, r *Request) {
				if r.TokenHash != "" || r.SpentTokenHash != "hash" || !r.VerifiedAt.Equal(now) {
					t.Errorf("token not spent: %+v", r)
				}
			}},
		{"remind", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Remind("new", now) },
			PendingVerification, ActionReminded, []MailKind{MailReminder}, func(t *testing.T, r *Request) {
				if r.TokenHash != "new" || !r.RemindedAt.Equal(now) {
					t.Errorf("token not replaced: %+v", r)
				}
			}},
		{"reissue", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.ReissueToken("new", now) },
			PendingVerification, ActionReissued, []MailKind{MailVerification}, nil},
		{"expire", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Expire(now) },
			Expired, ActionExpired, nil, func(t *testing.T, r *Request) {
				if r.Name != "" || r.Email != "" || r.Details != "" || r.CustomerRef != "" || r.TokenHash != "" {
					t.Errorf("personal data kept: %+v", r)
				}
				if r.Ref == "" || len(r.Audit) != 2 || !r.ClosedAt.Equal(now) {
					t.Errorf("reference or audit lost: %+v", r)
				}
			}},
		{"start", openRequest, func(r *Request) (Change, error) { return r.Start("dpo@x.dk", now) },
			InProgress, ActionStarted, nil, nil},
		{"extend", openRequest, func(r *Request) (Change, error) { return r.Extend("dpo@x.dk", "many systems", extended, now) },
			Open, ActionExtended, []MailKind{MailExtension}, func(t *testing.T, r *Request) {
				if r.Extension == nil || !r.Deadline().Equal(extended) || r.Extension.Reason != "many systems" {
					t.Errorf("extension = %+v", r.Extension)
				}
			}},
		{"complete", openRequest, func(r *Request) (Change, error) { return r.Complete("dpo@x.dk", "Data erased.", now) },
			Completed, ActionCompleted, []MailKind{MailCompletion}, func(t *testing.T, r *Request) {
				if r.Outcome == nil || r.Outcome.Message != "Data erased." || !r.ClosedAt.Equal(now) {
					t.Errorf("outcome = %+v", r.Outcome)
				}
			}},
		{"reject", openRequest, func(r *Request) (Change, error) {
			return r.Reject("dpo@x.dk", "manifestly_unfounded", "Tenth identical request this month.", now)
		}, Rejected, ActionRejected, []MailKind{MailRejection}, func(t *testing.T, r *Request) {
			if r.Outcome == nil || r.Outcome.Category != "manifestly_unfounded" {
				t.Errorf("outcome = %+v", r.Outcome)
			}
		}},
		{"note", openRequest, func(r *Request) (Change, error) { return r.AddNote("dpo@x.dk", "called them", now) },
			Open, ActionNoted, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup(t)
			from, version, audits := r.Status, r.Version, len(r.Audit)
			c, err := tt.op(r)
			if err != nil {
				t.Fatal(err)
			}
			if c.From != from || c.Version != version || r.Version != version+1 {
				t.Errorf("change %+v from %s v%d, request now v%d", c, from, version, r.Version)
			}
			if r.Status != tt.wantStatus || c.Event.Action != tt.wantAction || len(r.Audit) != audits+1 || r.Audit[audits] != c.Event {
				t.Errorf("status %s action %s audit %d", r.Status, c.Event.Action, len(r.Audit))
			}
			if len(c.Mails) != len(tt.wantMails) {
				t.Fatalf("mails %v, want %v", c.Mails, tt.wantMails)
			}
			for i, k := range tt.wantMails {
				if c.Mails[i] != k || r.Mails[k].State != MailQueued {
					t.Errorf("mail %s not queued: %v %+v", k, c.Mails, r.Mails)
				}
			}
			if tt.check != nil {
				tt.check(t, r)
			}
		})
	}
}

func TestRefusals(t *testing.T) {
	now := received.Add(24 * time.Hour)
	closed := func(t *testing.T) *Request {
		r := openRequest(t)
		if _, err := r.Complete("dpo", "done", now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	extendedReq := func(t *testing.T) *Request {
		r := openRequest(t)
		if _, err := r.Extend("dpo", "why", extended, now); err != nil {
			t.Fatal(err)
		}
		return r
	}
	reminded := func(*testing.T) *Request {
		r := newRequest()
		_, _ = r.Remind("h2", now)
		return r
	}
	tests := []struct {
		name   string
		setup  func(*testing.T) *Request
		op     func(*Request) (Change, error)
		reason string // TransitionError reason, or "" for a FieldErrors
		field  string
	}{
		{"verify twice", openRequest, func(r *Request) (Change, error) { return r.Verify(r.TokenHash, now) }, "not_allowed", ""},
		{"start unverified", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Start("dpo", now) }, "not_allowed", ""},
		{"complete unverified", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Complete("dpo", "x", now) }, "not_allowed", ""},
		{"expire open", openRequest, func(r *Request) (Change, error) { return r.Expire(now) }, "not_allowed", ""},
		{"reopen closed", closed, func(r *Request) (Change, error) { return r.Start("dpo", now) }, "not_allowed", ""},
		{"reject completed", closed, func(r *Request) (Change, error) { return r.Reject("dpo", "other", "x", now) }, "not_allowed", ""},
		{"extend twice", extendedReq, func(r *Request) (Change, error) { return r.Extend("dpo", "again", extended, now) }, "already_extended", ""},
		{"extend after deadline", openRequest, func(r *Request) (Change, error) {
			return r.Extend("dpo", "late", extended, due.Add(time.Second))
		}, "deadline_passed", ""},
		{"extend closed", closed, func(r *Request) (Change, error) { return r.Extend("dpo", "x", extended, now) }, "not_allowed", ""},
		{"extend unverified", func(*testing.T) *Request { return newRequest() }, func(r *Request) (Change, error) { return r.Extend("dpo", "x", extended, now) }, "not_allowed", ""},
		{"remind twice", reminded, func(r *Request) (Change, error) { return r.Remind("h3", now) }, "not_allowed", ""},
		{"remind open", openRequest, func(r *Request) (Change, error) { return r.Remind("h3", now) }, "not_allowed", ""},
		{"reissue open", openRequest, func(r *Request) (Change, error) { return r.ReissueToken("h3", now) }, "not_allowed", ""},
		{"extend without reason", openRequest, func(r *Request) (Change, error) { return r.Extend("dpo", " ", extended, now) }, "", "reason"},
		{"complete without message", openRequest, func(r *Request) (Change, error) { return r.Complete("dpo", "", now) }, "", "message"},
		{"reject without reason", openRequest, func(r *Request) (Change, error) { return r.Reject("dpo", "other", "", now) }, "", "reason"},
		{"reject unknown category", openRequest, func(r *Request) (Change, error) { return r.Reject("dpo", "because", "x", now) }, "", "category"},
		{"empty note", openRequest, func(r *Request) (Change, error) { return r.AddNote("dpo", "", now) }, "", "note"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup(t)
			before := *r
			audits := len(r.Audit)
			_, err := tt.op(r)
			if tt.reason != "" {
				var te *TransitionError
				if !errors.As(err, &te) || te.Reason != tt.reason || !errors.Is(err, fault.Refused) {
					t.Fatalf("err = %v, want reason %s", err, tt.reason)
				}
			} else {
				var fe FieldErrors
				if !errors.As(err, &fe) || fe[tt.field] == "" {
					t.Fatalf("err = %v, want a field error on %s", err, tt.field)
				}
			}
			// A refused operation leaves the request exactly as it was.
			if r.Status != before.Status || r.Version != before.Version || len(r.Audit) != audits || r.Extension != before.Extension {
				t.Fatalf("refused operation changed the request: %+v", r)
			}
		})
	}
}

// CanExtend is the rule the request page shows and Extend applies: the same answer, the same
// reason.
func TestCanExtend(t *testing.T) {
	now := received.Add(24 * time.Hour)
	tests := []struct {
		name   string
		setup  func(*testing.T) *Request
		at     time.Time
		reason string
	}{
		{"open", openRequest, now, ""},
		{"on the deadline's last instant", openRequest, due, ""},
		{"after the deadline", openRequest, due.Add(time.Nanosecond), "deadline_passed"},
		{"in progress", func(t *testing.T) *Request { r := openRequest(t); _, _ = r.Start("dpo", now); return r }, now, ""},
		{"extended", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Extend("dpo", "why", extended, now)
			return r
		}, now, "already_extended"},
		{"unconfirmed", func(*testing.T) *Request { return newRequest() }, now, "not_allowed"},
		{"closed", func(t *testing.T) *Request { r := openRequest(t); _, _ = r.Complete("dpo", "done", now); return r }, now, "not_allowed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup(t)
			var got string
			if err := r.CanExtend(tt.at); err != nil {
				var te *TransitionError
				if !errors.As(err, &te) {
					t.Fatalf("CanExtend: %v", err)
				}
				got = te.Reason
			}
			if got != tt.reason {
				t.Fatalf("CanExtend says %q, want %q", got, tt.reason)
			}
			_, err := r.Extend("dpo", "why", extended, tt.at)
			var te *TransitionError
			if (err == nil) != (tt.reason == "") || (err != nil && (!errors.As(err, &te) || te.Reason != tt.reason)) {
				t.Fatalf("Extend: %v, want reason %q", err, tt.reason)
			}
		})
	}
}

// Can asks the transition table, which is what the operations that move a request apply.
func TestCan(t *testing.T) {
	now := received.Add(24 * time.Hour)
	for _, from := range []func(*testing.T) *Request{func(*testing.T) *Request { return newRequest() }, openRequest} {
		for to, op := range map[Status]func(*Request) error{
			InProgress: func(r *Request) error { _, err := r.Start("dpo", now); return err },
			Completed:  func(r *Request) error { _, err := r.Complete("dpo", "done", now); return err },
			Rejected:   func(r *Request) error { _, err := r.Reject("dpo", "other", "no", now); return err },
			Expired:    func(r *Request) error { _, err := r.Expire(now); return err },
		} {
			r := from(t)
			can := r.Can(to)
			if err := op(r); (err == nil) != can {
				t.Errorf("%s → %s: Can %v, operation %v", r.Status, to, can, err)
			}
		}
	}
}

func TestByDeadline(t *testing.T) {
	a, b, c := newRequest(), newRequest(), newRequest()
	b.Due = due.Add(-time.Hour)
	c.Ref = "K7MQ-4XTA"
	a.Extension = &Extension{Deadline: extended} // the deadline in force counts, not Due
	rs := []*Request{a, b, newRequest(), c}
	slices.SortStableFunc(rs, ByDeadline)
	if rs[0] != b || rs[1] != c || rs[3] != a {
		t.Fatalf("order %s %s %s %s", rs[0].Ref, rs[1].Ref, rs[2].Ref, rs[3].Ref)
	}
}
