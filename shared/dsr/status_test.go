package dsr

import (
	"errors"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

func TestTransitionTable(t *testing.T) {
	allowed := map[[2]Status]Action{
		{Quarantined, PendingVerification}: ActionAdmitted,
		{Quarantined, Expired}:             ActionDismissed,
		{PendingVerification, Open}:        ActionVerified,
		{PendingVerification, Expired}:     ActionExpired,
		{Open, InProgress}:                 ActionStarted,
		{Open, Completed}:                  ActionCompleted,
		{Open, Rejected}:                   ActionRejected,
		{InProgress, Completed}:            ActionCompleted,
		{InProgress, Rejected}:             ActionRejected,
	}
	// Every pair of statuses, so a new status or a stray table entry cannot slip through.
	for _, from := range Statuses {
		for _, to := range Statuses {
			t.Run(string(from)+"→"+string(to), func(t *testing.T) {
				action, err := Transition(from, to)
				want, ok := allowed[[2]Status{from, to}]
				if ok {
					if err != nil || action != want {
						t.Fatalf("Transition = %q, %v; want %q", action, err, want)
					}
					return
				}
				var te *TransitionError
				if !errors.As(err, &te) || !errors.Is(err, fault.Refused) {
					t.Fatalf("Transition = %q, %v; want a *TransitionError", action, err)
				}
				if te.From != from || te.To != to || te.Reason != "not_allowed" {
					t.Fatalf("error = %+v", te)
				}
			})
		}
	}
}

func TestStatusPredicates(t *testing.T) {
	tests := []struct {
		s              Status
		closed, active bool
	}{
		{Quarantined, false, false},
		{PendingVerification, false, false},
		{Open, false, true},
		{InProgress, false, true},
		{Completed, true, false},
		{Rejected, true, false},
		{Expired, true, false},
	}
	for _, tt := range tests {
		if tt.s.Closed() != tt.closed || tt.s.Active() != tt.active || !tt.s.Valid() {
			t.Errorf("%s: closed=%v active=%v valid=%v", tt.s, tt.s.Closed(), tt.s.Active(), tt.s.Valid())
		}
	}
	if Status("archived").Valid() {
		t.Error("unknown status reported valid")
	}
}

func TestTypesAndArticles(t *testing.T) {
	want := map[Type]Provision{
		Access: {Article: 15}, Rectification: {Article: 16}, Erasure: {Article: 17}, Restriction: {Article: 18},
		Portability: {Article: 20}, Objection: {Article: 21, Paragraph: 1}, ObjectionMarketing: {Article: 21, Paragraph: 2},
		WithdrawConsent: {Article: 7, Paragraph: 3},
	}
	if len(Types) != len(want) {
		t.Fatalf("%d types, want %d", len(Types), len(want))
	}
	for _, ty := range Types {
		if !ty.Valid() || ty.Article() != want[ty] {
			t.Errorf("%s: valid=%v article=%+v want %+v", ty, ty.Valid(), ty.Article(), want[ty])
		}
	}
	if Type("complaint").Valid() {
		t.Error("unknown type reported valid")
	}
	// Stored codes never change: a request filed before the split is an Art. 21(1) objection.
	if Objection != "objection" || ObjectionMarketing != "objection_marketing" || WithdrawConsent != "withdraw_consent" {
		t.Error("a stored type code changed")
	}
}
