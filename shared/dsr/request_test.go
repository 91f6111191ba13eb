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

func newRequest() *Request { return newOf(Erasure) }

// newOf is an unconfirmed request of type ty.
func newOf(ty Type) *Request {
	s := Submission{Type: string(ty), Name: "Jens", Email: "jens@example.dk", Details: "d", CustomerRef: "c", Lang: "da"}
	return New("K7MQ-4XTZ", s, received, due, "hash")
}

// Two recipients of the register.
var (
	recipientA = Recipient{ID: "a", Name: "Fakturaservice ApS", Email: "gdpr@faktura.example", Lang: "da", Receives: "Name, address, invoices"}
	recipientB = Recipient{ID: "b", Name: "Leasing Nord AS", Email: "personvern@leasing.example", Lang: "nb", Receives: "Purchase contracts"}
)

// completedRestriction is a restriction carried out.
func completedRestriction(t *testing.T) *Request {
	t.Helper()
	r := newOf(Restriction)
	if _, err := r.Verify(r.TokenHash, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Complete("dpo", "Restricted while we check.", received.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
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
			return r.Refuse("dpo@x.dk", Refusal{Ground: GroundManifestlyUnfounded, Reason: "Tenth identical request this month.",
				Justification: "Requests K7MQ-4XTZ … filed daily since 1 March, each answered."}, now)
		}, Rejected, ActionRejected, []MailKind{MailRejection}, func(t *testing.T, r *Request) {
			if r.Outcome == nil || r.Outcome.Category != GroundManifestlyUnfounded || r.Outcome.Justification == "" || r.Outcome.Late != OnTime {
				t.Errorf("outcome = %+v", r.Outcome)
			}
		}},
		{"complete partly", openRequest, func(r *Request) (Change, error) {
			return r.Answer("dpo@x.dk", Answer{Result: ResultPartial, Message: "Account deleted.", Kept: "Invoices 2024-2025.",
				Basis: BasisLegalObligation, Reason: "Bookkeeping rules: 5 years."}, now)
		}, Completed, ActionCompleted, []MailKind{MailCompletion}, func(t *testing.T, r *Request) {
			if o := r.Outcome; o == nil || o.Result != ResultPartial || o.Kept == "" || o.Basis != BasisLegalObligation || o.Reason == "" {
				t.Errorf("outcome = %+v", r.Outcome)
			}
		}},
		{"complete, no data", openRequest, func(r *Request) (Change, error) {
			return r.Answer("dpo@x.dk", Answer{Result: ResultNoData, Message: "We hold nothing about you."}, now)
		}, Completed, ActionCompleted, []MailKind{MailCompletion}, func(t *testing.T, r *Request) {
			if o := r.Outcome; o == nil || o.Result != ResultNoData || o.Category != "" || o.Refuses() {
				t.Errorf("outcome = %+v", r.Outcome)
			}
		}},
		{"announce fee", openRequest, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo@x.dk", FeeTerms{Ground: GroundExcessive, Amount: "250", Reason: "Fourth copy this month.", Justification: "Copies sent 1, 8 and 15 March."}, now)
		}, Open, ActionFeeAnnounced, []MailKind{MailFee}, func(t *testing.T, r *Request) {
			if f := r.Fee; f == nil || f.Amount != 250 || !r.AwaitingFee() {
				t.Errorf("fee = %+v", r.Fee)
			}
		}},
		{"accept fee", func(t *testing.T) *Request {
			r := openRequest(t)
			if _, err := r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "250", Reason: "r", Justification: "j"}, now); err != nil {
				t.Fatal(err)
			}
			return r
		}, func(r *Request) (Change, error) { return r.AcceptFee("dpo@x.dk", "Accepted by mail 3 March.", now) },
			Open, ActionFeeAccepted, nil, func(t *testing.T, r *Request) {
				if r.AwaitingFee() || r.Fee.AcceptedBy != "dpo@x.dk" {
					t.Errorf("fee = %+v", r.Fee)
				}
			}},
		{"tell recipients", openRequest, func(r *Request) (Change, error) {
			return r.TellRecipients("dpo@x.dk", []Recipient{recipientA, recipientB}, "Erase customer 4711.", now)
		}, Open, ActionRecipientsTold, []MailKind{RecipientMail("a"), RecipientMail("b")}, func(t *testing.T, r *Request) {
			if len(r.Told()) != 2 || r.Recipients[0].Means != ToldByDesk || r.Recipients[1].Note != "Erase customer 4711." {
				t.Errorf("recipients = %+v", r.Recipients)
			}
		}},
		{"record recipient", openRequest, func(r *Request) (Change, error) {
			return r.RecordRecipient("dpo@x.dk", recipientA, ToldOtherwise, "Phoned their support, ticket 88.", now)
		}, Open, ActionRecipientRecorded, nil, func(t *testing.T, r *Request) {
			if n, ok := r.Notice("a"); !ok || !n.Told() || n.Means != ToldOtherwise {
				t.Errorf("recipients = %+v", r.Recipients)
			}
		}},
		{"notice lift", completedRestriction, func(r *Request) (Change, error) {
			return r.NoticeLift("dpo@x.dk", "The accuracy check is done: the data are correct.", now.Add(72*time.Hour), now)
		}, Completed, ActionLiftNoticed, []MailKind{MailLift}, func(t *testing.T, r *Request) {
			if r.Lift == nil || !r.Lift.From.Equal(now.Add(72*time.Hour)) {
				t.Errorf("lift = %+v", r.Lift)
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
		{"reject as excessive without justification", openRequest, func(r *Request) (Change, error) { return r.Reject("dpo", "excessive", "x", now) }, "", "justification"},
		{"no data is no ground", openRequest, func(r *Request) (Change, error) { return r.Reject("dpo", "no_data", "x", now) }, "", "category"},
		{"partial without basis", openRequest, func(r *Request) (Change, error) {
			return r.Answer("dpo", Answer{Result: ResultPartial, Message: "m", Kept: "k", Reason: "r"}, now)
		}, "", "basis"},
		{"partial without what was kept", openRequest, func(r *Request) (Change, error) {
			return r.Answer("dpo", Answer{Result: ResultPartial, Message: "m", Basis: BasisLegalClaims, Reason: "r"}, now)
		}, "", "kept"},
		{"fee twice", func(t *testing.T) *Request {
			r := openRequest(t)
			if _, err := r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "1", Reason: "r", Justification: "j"}, now); err != nil {
				t.Fatal(err)
			}
			return r
		}, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "1", Reason: "r", Justification: "j"}, now)
		}, "fee_announced", ""},
		{"fee on another ground", openRequest, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo", FeeTerms{Ground: GroundOther, Amount: "1", Reason: "r", Justification: "j"}, now)
		}, "", "ground"},
		{"fee too high", openRequest, func(r *Request) (Change, error) {
			return r.AnnounceFee("dpo", FeeTerms{Ground: GroundExcessive, Amount: "250000", Reason: "r", Justification: "j"}, now)
		}, "", "amount"},
		{"accept a fee never announced", openRequest, func(r *Request) (Change, error) { return r.AcceptFee("dpo", "n", now) }, "no_fee", ""},
		{"tell a recipient twice", func(t *testing.T) *Request {
			r := openRequest(t)
			if _, err := r.TellRecipients("dpo", []Recipient{recipientA}, "i", now); err != nil {
				t.Fatal(err)
			}
			return r
		}, func(r *Request) (Change, error) {
			return r.TellRecipients("dpo", []Recipient{recipientA}, "again", now)
		}, "", "recipients"},
		{"tell no one", openRequest, func(r *Request) (Change, error) { return r.TellRecipients("dpo", nil, "i", now) }, "", "recipients"},
		{"record without a note", openRequest, func(r *Request) (Change, error) { return r.RecordRecipient("dpo", recipientA, NotDisclosed, "", now) }, "", "note"},
		{"record as told by the desk", openRequest, func(r *Request) (Change, error) { return r.RecordRecipient("dpo", recipientA, ToldByDesk, "n", now) }, "", "means"},
		{"lift an open restriction", openRequest, func(r *Request) (Change, error) { return r.NoticeLift("dpo", "r", now.Add(72*time.Hour), now) }, "not_allowed", ""},
		{"lift today", completedRestriction, func(r *Request) (Change, error) { return r.NoticeLift("dpo", "r", now, now) }, "", "from"},
		{"lift twice", func(t *testing.T) *Request {
			r := completedRestriction(t)
			if _, err := r.NoticeLift("dpo", "r", now.Add(72*time.Hour), now); err != nil {
				t.Fatal(err)
			}
			return r
		}, func(r *Request) (Change, error) { return r.NoticeLift("dpo", "r", now.Add(96*time.Hour), now) }, "lift_noticed", ""},
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
