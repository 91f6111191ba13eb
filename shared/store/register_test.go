package store_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
)

var (
	invoicing = dsr.Recipient{ID: "r1", Name: "Fakturaservice ApS", Email: "gdpr@faktura.example", Lang: "da", Receives: "Navn, adresse, fakturaer"}
	leasing   = dsr.Recipient{ID: "r2", Name: "Leasing Nord AS", Email: "personvern@leasing.example", Lang: "nb", Receives: "Kjøpskontrakter"}
)

// The parts the law added to a request (a partial answer, a fee and its acceptance, the
// Art. 19 checklist, the notice before a restriction is lifted) are written by Commit and read
// back as they were, with the lateness of the answer.
func TestLawPartsRoundTrip(t *testing.T) {
	type op func(r *dsr.Request, now time.Time) (dsr.Change, error)
	paths := []struct {
		name string
		typ  dsr.Type
		ops  []op
	}{
		{"erasure: fee, recipients, partial answer", dsr.Erasure, []op{
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.AnnounceFee("dpo@x.dk", dsr.FeeTerms{Ground: dsr.GroundExcessive, Amount: "300", Reason: "Third copy.", Justification: "Sent 1 and 8 March."}, now)
			},
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.AcceptFee("dpo@x.dk", "Paid 10 March.", now)
			},
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.TellRecipients("dpo@x.dk", []dsr.Recipient{invoicing}, "Slet kunde C-1.", now)
			},
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.RecordRecipient("dpo@x.dk", leasing, dsr.NotDisclosed, "Never leased.", now)
			},
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.Answer("dpo@x.dk", dsr.Answer{Result: dsr.ResultPartial, Message: "Konto slettet.", Kept: "Fakturaer 2025.",
					Basis: dsr.BasisLegalObligation, Reason: "Bogføringsloven: 5 år."}, now)
			},
		}},
		{"restriction: lift notice", dsr.Restriction, []op{
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.Complete("dpo@x.dk", "Begrænset.", now)
			},
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.NoticeLift("dpo@x.dk", "Kontrollen er færdig.", now.Add(96*time.Hour), now)
			},
		}},
		{"objection refused late", dsr.Objection, []op{
			func(r *dsr.Request, now time.Time) (dsr.Change, error) {
				return r.Refuse("dpo@x.dk", dsr.Refusal{Ground: dsr.GroundCompelling, Reason: "Fraud prevention."}, due.Add(time.Hour))
			},
		}},
	}
	for i, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			c := newClock(received)
			s, _, _ := newStore(t, c)
			ctx := context.Background()
			sub := dsr.Submission{Type: string(p.typ), Name: "Jens", Email: "jens@example.dk", Lang: "da"}
			r := dsr.New("CCCC-33"+string(rune('A'+i))+"3", sub, received, due, "tokhash")
			if err := s.CreateRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			ops := append([]op{func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Verify(r.TokenHash, now) }}, p.ops...)
			for n, o := range ops {
				c.set(c.now().Add(time.Hour))
				ch, err := o(r, c.now())
				if err != nil {
					t.Fatalf("step %d: %v", n, err)
				}
				if err := s.Commit(ctx, r, ch); err != nil {
					t.Fatalf("step %d: commit: %v", n, err)
				}
			}
			got, err := s.GetRequest(ctx, r.Ref)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range []struct {
				name      string
				got, want any
			}{
				{"outcome", got.Outcome, r.Outcome},
				{"fee", got.Fee, r.Fee},
				{"recipients", got.Recipients, r.Recipients},
				{"lift", got.Lift, r.Lift},
				{"mails", got.Mails, r.Mails},
			} {
				if !reflect.DeepEqual(f.got, f.want) {
					t.Errorf("%s read back as %+v, written %+v", f.name, f.got, f.want)
				}
			}
			if got.Lateness() != r.Lateness() {
				t.Errorf("lateness %q, want %q", got.Lateness(), r.Lateness())
			}
		})
	}
}

// The register is one item, saved only from the version it was read at.
func TestRecipientsRegister(t *testing.T) {
	s, _, _ := newStore(t, newClock(received))
	ctx := context.Background()
	g, err := s.Recipients(ctx)
	if err != nil || g.Version != 0 || len(g.Recipients) != 0 {
		t.Fatalf("empty register: %+v, %v", g, err)
	}
	g.Recipients = []dsr.Recipient{invoicing, leasing}
	if err := s.SaveRecipients(ctx, &g); err != nil || g.Version != 1 {
		t.Fatalf("first save: %v, version %d", err, g.Version)
	}
	stale := dsr.Register{Recipients: []dsr.Recipient{invoicing}}
	if err := s.SaveRecipients(ctx, &stale); !errors.Is(err, fault.Conflict) {
		t.Errorf("a second first save: %v", err)
	}
	read, err := s.Recipients(ctx)
	if err != nil || !reflect.DeepEqual(read, g) {
		t.Fatalf("read %+v, %v; saved %+v", read, err, g)
	}
	read.Recipients = read.Recipients[:1]
	if err := s.SaveRecipients(ctx, &read); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveRecipients(ctx, &g); !errors.Is(err, fault.Conflict) {
		t.Errorf("saving from a stale version: %v", err)
	}
	if now, _ := s.Recipients(ctx); len(now.Recipients) != 1 || now.Version != 2 {
		t.Errorf("register now %+v", now)
	}
	// The register is not a request: the workspace's reads of a period do not see it.
	if p, err := s.PeriodPage(ctx, time.Time{}, time.Now().AddDate(1, 0, 0), "", 100); err != nil || len(p.Requests) != 0 {
		t.Errorf("PeriodPage found %d requests, %v", len(p.Requests), err)
	}
}
