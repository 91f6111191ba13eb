package e2e

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// TestWithdrawalWithoutANameOnItsShortClock files a withdrawal of consent from the form with
// an address alone, leaves it unconfirmed, and fires the sweep: the withdrawal is due two
// working days after receipt (PromptWorkingDays), so the DPO's digest lists it at once, as
// awaiting confirmation. Confirmed, its receipt says it is acted on without undue delay and
// names no month.
func TestWithdrawalWithoutANameOnItsShortClock(t *testing.T) {
	d := desk(t)
	ctx := context.Background()
	person := newVisitor(t, d, "nb-NO,nb;q=0.9")
	email := address("withdrawal")
	form := person.open(d.base+"/", "none")
	expectPage(t, form, i18n.NB, i18n.T(i18n.NB, "intake.form.type.newsletter"))
	person.submit(d.base+"/requests", url.Values{
		"lang": {hidden(t, form.body, "lang")}, "ts": {hidden(t, form.body, "ts")},
		"type": {string(dsr.WithdrawConsent)}, "name": {""}, "email": {email}, "details": {""}, "website": {""},
	}).location(t, d.base)

	verify := link(t, d, mails(t, d, email, 1, nil)[0], "/verify?token=")
	tok, err := url.Parse(verify)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, _ := strings.Cut(tok.Query().Get("token"), ".")
	r, err := d.store.GetRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if due := d.cal.AddWorkingDays(r.ReceivedAt, dsr.DefaultPromptWorkingDays); r.Name != "" || !r.Due.Equal(due) || r.Status != dsr.PendingVerification {
		t.Fatalf("stored: name %q, due %s (want %s), %s", r.Name, r.Due, due, r.Status)
	}

	// Unconfirmed, it reaches the DPO on its short clock.
	sweep(t, d)
	digest := mails(t, d, dpoNotified, 1, about(ref))[0]
	loc := d.cal.Location()
	for _, want := range []string{
		i18n.T(dpoLang, "sweep.level.working_days", 2),
		ref + " · " + i18n.T(dpoLang, "type.withdraw_consent.name"),
		i18n.LongDate(dpoLang, r.Due.In(loc)),
		i18n.T(dpoLang, "status.pending_verification"),
		i18n.T(dpoLang, "sweep.digest.unconfirmed"),
	} {
		if !strings.Contains(digest.Text, want) {
			t.Errorf("the digest lacks %q:\n%s", want, digest.Text)
		}
	}
	if strings.Contains(digest.Text+digest.HTML, email) {
		t.Error("the digest names the requester's address")
	}

	// Confirmed: the receipt promises action without undue delay, and no month.
	shown := person.open(verify, "none")
	person.submit(d.base+"/verify", url.Values{"token": {hidden(t, shown.body, "token")}, "lang": {hidden(t, shown.body, "lang")}})
	receipt := mails(t, d, email, 2, nil)[1]
	if !strings.Contains(receipt.Text, i18n.T(i18n.NB, "intake.mail.receipt.prompt.withdraw_consent")) ||
		strings.Contains(receipt.Text, i18n.T(i18n.NB, "intake.mail.receipt.extension")) ||
		strings.Contains(receipt.Text, i18n.T(i18n.NB, "intake.label.deadline")) {
		t.Errorf("the receipt of a withdrawal:\n%s", receipt.Text)
	}
}
