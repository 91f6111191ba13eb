package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// An unconfirmed withdrawal of consent never lapses without the DPO having seen it: past its
// expiry, a run whose digest cannot be sent keeps it, and the next run shows it to the DPO
// and only then expires it. An unconfirmed access request, which does not escalate, expires
// either way.
func TestUnconfirmedWithdrawalIsShownBeforeItExpires(t *testing.T) {
	h := newHarness(t, "DK", "da")
	received := h.local(2026, 3, 2, 10, 0)
	withdrawal, _ := h.add(seed{received: received, typ: dsr.WithdrawConsent, noName: true, remindAt: received.Add(dsr.ReminderAfter)})
	access, _ := h.add(seed{received: received, remindAt: received.Add(dsr.ReminderAfter)})
	after := received.Add(dsr.ExpireAfter + time.Hour)

	// The first run the sweep makes of it, with SES down: no digest, so no expiry.
	h.clock.Set(after)
	if err := h.sweeper(deadSES(t)).Handle(context.Background(), scheduledEvent(t)); err == nil {
		t.Fatal("a run whose digest failed reported no error")
	}
	if got := h.get(withdrawal.Ref); got.Status != dsr.PendingVerification || got.Email == "" {
		t.Fatalf("the unseen withdrawal lapsed: %s", got.Status)
	}
	if got := h.get(access.Ref); got.Status != dsr.Expired {
		t.Errorf("the unconfirmed access request: %s, want expired", got.Status)
	}

	// The next run shows it, unconfirmed and overdue, then expires it.
	h.run(after.Add(time.Minute))
	digests := h.newMails(h.dpo)
	if len(digests) != 1 {
		t.Fatalf("%d digests", len(digests))
	}
	_, lines := h.digestLines(digests[0])
	if refs := lines[levelOverdue]; len(refs) != 1 || refs[0] != withdrawal.Ref {
		t.Fatalf("overdue lines %v, want the withdrawal", refs)
	}
	if !strings.Contains(digests[0].Text, i18n.T(i18n.DA, "sweep.digest.unconfirmed")) {
		t.Error("the digest does not explain the unconfirmed line")
	}
	block := lineBlocks(digests[0].Text)[withdrawal.Ref]
	for _, want := range []string{i18n.T(i18n.DA, "status.pending_verification"), i18n.T(i18n.DA, "type.withdraw_consent.name")} {
		if !strings.Contains(block, want) {
			t.Errorf("the line lacks %q:\n%s", want, block)
		}
	}
	if got := h.get(withdrawal.Ref); got.Status != dsr.Expired || got.Email != "" {
		t.Errorf("after the digest: %s", got.Status)
	}
	if _, ok := h.marks(withdrawal.Ref)[levelOverdue]; !ok {
		t.Error("no mark says the DPO was told")
	}
}

// The short clock applies from receipt: the intake fixes a withdrawal's deadline two working
// days out (PromptWorkingDays), and the sweep reports it the same day, unconfirmed, while a
// confirmed request on the month's clock is not reported.
func TestShortClockFromReceipt(t *testing.T) {
	h := newHarness(t, "NO", "nb")
	received := h.local(2026, 4, 1, 9, 0) // Wednesday before Easter: 2, 3 and 6 April are holidays
	marketing, _ := h.add(seed{received: received, typ: dsr.ObjectionMarketing, lang: "en"})
	if got, want := h.cal.LocalDate(marketing.Due), "2026-04-08"; got != want {
		t.Fatalf("due %s, want %s (two working days past Easter)", got, want)
	}
	h.add(seed{received: received, verified: true, typ: dsr.Objection})
	h.run(received.Add(3 * time.Hour))
	digests := h.newMails(h.dpo)
	if len(digests) != 1 {
		t.Fatalf("%d digests", len(digests))
	}
	order, lines := h.digestLines(digests[0])
	if len(order) != 1 || order[0] != "wd2" || len(lines["wd2"]) != 1 || lines["wd2"][0] != marketing.Ref {
		t.Errorf("digest groups %v, lines %v; want the objection to marketing alone at wd2", order, lines)
	}
}
