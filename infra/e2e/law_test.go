package e2e

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
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

// TestTheLawInTheWorkspace drives the workspace over HTTP as a DPO does, through each action's
// form, its preview and its confirmation: a marketing objection cannot be refused; the
// recipients of an erasure's data are told by the desk (Art. 19) and the erasure is answered
// as partly carried out (Art. 12(4)); a refusal after the month is warned about, recorded as
// late and counted late in the report.
func TestTheLawInTheWorkspace(t *testing.T) {
	d := desk(t)
	ctx := context.Background()
	now := time.Now()
	invoicing := dsr.Recipient{ID: "e2e-fak", Name: "Fakturaservice ApS", Email: address("recipient-invoicing"), Lang: "da", Receives: "Fakturaer"}
	leasing := dsr.Recipient{ID: "e2e-lea", Name: "Leasing Nord AS", Email: address("recipient-leasing"), Lang: "nb", Receives: "Kjøpskontrakter"}
	g, err := d.store.Recipients(ctx)
	if err != nil {
		t.Fatal(err)
	}
	g.Recipients = append(g.Recipients, invoicing, leasing)
	if err := d.store.SaveRecipients(ctx, &g); err != nil {
		t.Fatal(err)
	}
	marketing := seedConfirmed(t, d, dsr.ObjectionMarketing, "marketing", now.Add(-time.Hour))
	erasure := seedConfirmed(t, d, dsr.Erasure, "erasure", now.Add(-2*time.Hour))
	// An Art. 21(1) objection, never extended, whose month has run out: received a little over
	// a month ago (found, since weekends and holidays move the deadline), and less than the
	// 37 days an unconfirmed request is kept, so it can still be confirmed as of then.
	var lateAt time.Time
	for n := 32; n <= 36 && lateAt.IsZero(); n++ {
		if at := now.Add(-time.Duration(n) * 24 * time.Hour); now.After(d.cal.Due(at)) {
			lateAt = at
		}
	}
	if lateAt.IsZero() {
		t.Fatalf("no receipt time 32-36 days before %s is past its month", now)
	}
	late := seedConfirmed(t, d, dsr.Objection, "late", lateAt)

	dpo := signIn(t, d, dpoLaw)
	requestPage := func(ref string) string { return d.base + "/admin/requests/" + ref }
	// act posts an action's form: with step "preview" it expects the preview, with "confirm"
	// the redirect to the request.
	act := func(ref, action string, fields url.Values, step string) page {
		t.Helper()
		form := dpo.open(requestPage(ref)+"?action="+action, "same-origin")
		fields = cloneValues(fields)
		fields.Set("csrf", hidden(t, form.body, "csrf"))
		fields.Set("version", hidden(t, form.body, "version"))
		fields.Set("step", step)
		return dpo.submit(requestPage(ref)+"/"+action, fields)
	}

	// A marketing objection: only an unconfirmed identity is offered as a ground, and any
	// other is refused with nothing changed or sent.
	form := dpo.open(requestPage(marketing.Ref)+"?action=reject", "same-origin")
	if !strings.Contains(form.body, `<option value="identity_not_confirmed">`) || strings.Contains(form.body, `<option value="other">`) {
		t.Errorf("the refusal form of a marketing objection offers other grounds:\n%s", form.body)
	}
	if p := act(marketing.Ref, "reject", url.Values{"category": {"other"}, "reason": {"We like sending newsletters."}}, "confirm"); p.status != http.StatusBadRequest {
		t.Errorf("refusing a marketing objection on another ground: %d", p.status)
	}
	if r, _ := d.store.GetRequest(ctx, marketing.Ref); r.Status != dsr.Open {
		t.Errorf("the marketing objection is %s", r.Status)
	}
	if n := len(d.aws.Mails(t, marketing.Email)); n != 0 {
		t.Errorf("%d mails to the objector", n)
	}

	// The erasure's recipients, told by the desk after a preview of both mails.
	tell := url.Values{"recipients": {invoicing.ID, leasing.ID}, "instruction": {"Slet alt om kunden " + erasure.Email + "."}}
	preview := act(erasure.Ref, "recipients", tell, "preview")
	expectPage(t, preview, dpoLang, invoicing.Email, leasing.Email)
	act(erasure.Ref, "recipients", tell, "confirm").location(t, d.base)
	for _, x := range []dsr.Recipient{invoicing, leasing} {
		m := mails(t, d, x.Email, 1, nil)[0]
		lang := i18n.Lang(x.Lang)
		if want := i18n.T(lang, "admin.mail.recipient.subject", i18n.T(lang, "recipient.action.erasure"), controller); m.Subject != want {
			t.Errorf("%s: subject %q, want %q", x.Name, m.Subject, want)
		}
		if !strings.Contains(m.Text, erasure.Email) {
			t.Errorf("%s is not told whose data:\n%s", x.Name, m.Text)
		}
	}
	// Then answered as partly carried out.
	partial := url.Values{"message": {"Vi har slettet din konto."}, "kept": {"Fakturaer fra de sidste fem regnskabsår."},
		"basis": {string(dsr.BasisLegalObligation)}, "reason": {"Bogføringsloven kræver, at vi gemmer dem i 5 år."}}
	expectPage(t, act(erasure.Ref, "partial", partial, "preview"), dpoLang, i18n.T(i18n.NB, "admin.mail.partial.subject", erasure.Ref))
	act(erasure.Ref, "partial", partial, "confirm").location(t, d.base)
	answer := mails(t, d, erasure.Email, 1, nil)[0]
	for _, want := range []string{"Fakturaer fra de sidste fem regnskabsår.", i18n.T(i18n.NB, "basis.art17_3_b"), i18n.T(i18n.NB, "rights.elsewhere"),
		i18n.T(i18n.NB, "rights.court"), i18n.T(i18n.NB, "admin.mail.recipients.told.other", 2, i18n.T(i18n.NB, "recipient.action.erasure"))} {
		if !strings.Contains(answer.Text, want) {
			t.Errorf("the partial answer lacks %q:\n%s", want, answer.Text)
		}
	}

	// A refusal after the month: warned, allowed, recorded late, counted late.
	warning := i18n.T(dpoLang, "admin.late.past_due", i18n.LongDate(dpoLang, late.Due.In(d.cal.Location())))
	if form := dpo.open(requestPage(late.Ref)+"?action=reject", "same-origin"); !strings.Contains(html.UnescapeString(form.body), warning) {
		t.Errorf("the late refusal is not warned about")
	}
	act(late.Ref, "reject", url.Values{"category": {"compelling_grounds"}, "reason": {"Vi skal bruge oplysningerne til at forebygge svindel."}}, "confirm").location(t, d.base)
	if r, _ := d.store.GetRequest(ctx, late.Ref); r.Status != dsr.Rejected || r.Outcome.Late != dsr.LatePastDue {
		t.Errorf("stored %s, late %q", r.Status, r.Outcome.Late)
	}
	report := dpo.open(d.base+"/admin/report", "same-origin")
	expectPage(t, report, dpoLang, i18n.T(dpoLang, "late.past_due"))
}

// seedConfirmed stores a confirmed request of type ty received at received, as the intake
// would have left it with its mails gone out.
func seedConfirmed(t *testing.T, d *stack, ty dsr.Type, label string, received time.Time) *dsr.Request {
	t.Helper()
	ctx := context.Background()
	ref := dsr.NewReference()
	_, hash := token.ForRequest(ref)
	sub := dsr.Submission{Type: string(ty), Name: "Kari " + label, Email: address("law-" + label), Details: "Se vedlagt.", Lang: "nb"}
	r := dsr.New(ref, sub, received, ty.Due(d.cal, received, dsr.DefaultPromptWorkingDays), hash)
	if err := d.store.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Verify(r.TokenHash, received.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if err := d.store.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	sent := dsr.MailState{State: dsr.MailSent, At: received.Add(time.Minute), Attempts: 1}
	if err := d.store.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{dsr.MailVerification: sent, dsr.MailReceipt: sent, dsr.MailDPONew: sent}); err != nil {
		t.Fatal(err)
	}
	return r
}

// signIn signs email in to the workspace from the sign-in form and its mailed link, in the
// browser that asked, and returns that browser.
func signIn(t *testing.T, d *stack, email string) *visitor {
	t.Helper()
	dpo := newVisitor(t, d, "da-DK,da;q=0.9")
	form := dpo.open(d.base+"/admin/signin", "none")
	dpo.submit(d.base+"/admin/signin", url.Values{"email": {email}, "next": {hidden(t, form.body, "next")}})
	confirm := dpo.open(link(t, d, mails(t, d, email, 1, nil)[0], "/admin/signin/confirm?token="), "none")
	dpo.submit(d.base+"/admin/signin/confirm", url.Values{"token": {hidden(t, confirm.body, "token")}}).location(t, d.base)
	if dpo.cookies["__Host-dsr_session"] == "" {
		t.Fatalf("not signed in: cookies %v", dpo.cookies)
	}
	return dpo
}

func cloneValues(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}
