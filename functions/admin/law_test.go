package main

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
)

// of is a request of type ty from a requester writing in lang.
func of(ty dsr.Type, lang, email string) dsr.Submission {
	s := submission(lang, email)
	s.Type = string(ty)
	return s
}

// choices are the action links a request page offers.
func choices(body string) map[string]bool {
	out := map[string]bool{}
	for _, a := range registry {
		if strings.Contains(body, `?action=`+a.Name+`#act"`) {
			out[a.Name] = true
		}
	}
	return out
}

// Each page offers exactly what the request's type allows, and a post cannot do more: a
// marketing objection cannot be extended, refused on the merits or charged for; an Art. 21(1)
// objection is refused only for compelling grounds or legal claims; a partial answer is an
// erasure's; the Art. 19 actions are for rectification, erasure and restriction.
func TestActionsPerType(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	g := dsr.Register{Recipients: []dsr.Recipient{{ID: "fak1", Name: "Fakturaservice ApS", Email: "gdpr." + uniq() + "@faktura.example", Lang: "da", Receives: "Fakturaer"}}}
	if err := e.st.SaveRecipients(context.Background(), &g); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		typ        dsr.Type
		offered    []string
		notOffered []string
	}{
		{dsr.Access, []string{"extend", "complete", "reject", "no_data", "fee", "note"}, []string{"partial", "recipients", "recipient_recorded", "lift"}},
		{dsr.Erasure, []string{"extend", "complete", "partial", "no_data", "fee", "recipients", "recipient_recorded"}, []string{"lift"}},
		{dsr.ObjectionMarketing, []string{"complete", "reject", "no_data", "note"}, []string{"extend", "fee", "partial", "recipients"}},
		{dsr.WithdrawConsent, []string{"complete", "reject", "no_data"}, []string{"extend", "fee", "partial", "recipients"}},
	} {
		t.Run(string(tc.typ), func(t *testing.T) {
			e.t = t
			ref := dsr.NewReference()
			e.seed(ref, of(tc.typ, "da", "pt."+uniq()+"@example.dk"), received0, verify)
			got := choices(page(t, d.get(requestPath(ref)), http.StatusOK))
			for _, a := range tc.offered {
				if !got[a] {
					t.Errorf("%s not offered", a)
				}
			}
			for _, a := range tc.notOffered {
				if got[a] {
					t.Errorf("%s offered", a)
				}
			}
		})
	}
}

// A marketing objection cannot be refused: the form offers no ground but an identity that
// could not be confirmed, a post of any other ground is refused with the field marked, and
// the request stays open with nothing sent.
func TestMarketingObjectionCannotBeRefused(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref, email := dsr.NewReference(), "mk."+uniq()+"@example.dk"
	before := e.seed(ref, of(dsr.ObjectionMarketing, "nb", email), received0, verify)
	form := page(t, d.get(requestPath(ref)+"?action=reject"), http.StatusOK)
	if !strings.Contains(form, `<option value="identity_not_confirmed">`) {
		t.Error("the form does not offer the one ground")
	}
	for _, g := range []string{"other", "legal_exemption", "manifestly_unfounded", "compelling_grounds"} {
		if strings.Contains(form, `<option value="`+g+`"`) {
			t.Errorf("the form offers %s", g)
		}
		body := page(t, d.act(ref, "reject", url.Values{"category": {g}, "reason": {"Vi vil fortsatt sende nyhetsbrev."}, "justification": {"j"}}), http.StatusBadRequest)
		if !strings.Contains(body, `id="reject.category-error"`) {
			t.Errorf("%s: the ground is not marked", g)
		}
	}
	if r := e.request(ref); r.Status != dsr.Open || r.Version != before.Version || len(e.env.Mails(t, email)) != 0 {
		t.Errorf("after the refused posts: %s v%d, %d mails", r.Status, r.Version, len(e.env.Mails(t, email)))
	}
	// Nor extended: the page says why.
	body := page(t, d.get(requestPath(ref)), http.StatusOK)
	if !strings.Contains(body, html.EscapeString(i18n.T(i18n.DA, "admin.refused.not_extendable"))) {
		t.Error("the page does not say why there is no extension")
	}
	if !strings.Contains(body, html.EscapeString(i18n.T(i18n.DA, "admin.why.prompt", "2. marts 2026"))) {
		t.Error("the page does not say the deadline is the short clock")
	}
}

// A partial erasure is previewed as the Art. 12(4) answer it is, and sent so: what was erased,
// what is kept, on which point of Art. 17(3), why, and every remedy.
func TestPartialErasure(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref, email := dsr.NewReference(), "pe."+uniq()+"@example.dk"
	e.seed(ref, of(dsr.Erasure, "da", email), received0, verify)
	form := url.Values{"message": {"Din konto og ordrehistorik er slettet."}, "kept": {"Fakturaer fra 2025."},
		"basis": {string(dsr.BasisLegalObligation)}, "reason": {"Bogføringsloven: 5 år fra regnskabsårets udgang."}}

	preview := clone(form)
	preview.Set("step", stepPreview)
	body := html.UnescapeString(page(t, d.act(ref, "partial", preview), http.StatusOK))
	for _, w := range []string{i18n.T(i18n.DA, "admin.mail.partial.subject", ref), "Fakturaer fra 2025.", i18n.T(i18n.DA, "basis.art17_3_b"),
		i18n.T(i18n.DA, "rights.elsewhere"), i18n.T(i18n.DA, "rights.court")} {
		if !strings.Contains(body, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	if len(e.env.Mails(t, email)) != 0 {
		t.Fatal("the preview sent a mail")
	}

	form.Set("step", stepConfirm)
	redirect(t, d.act(ref, "partial", form))
	r := e.request(ref)
	if r.Status != dsr.Completed || r.Outcome.Result != dsr.ResultPartial || r.Outcome.Basis != dsr.BasisLegalObligation || r.Outcome.Kept != "Fakturaer fra 2025." {
		t.Fatalf("stored %s %+v", r.Status, r.Outcome)
	}
	mails := e.env.Mails(t, email)
	if len(mails) != 1 || mails[0].Subject != i18n.T(i18n.DA, "admin.mail.partial.subject", ref) || !strings.Contains(mails[0].Text, "Bogføringsloven: 5 år") {
		t.Fatalf("mails %+v", mails)
	}
	// Incomplete: no basis chosen.
	ref2 := dsr.NewReference()
	e.seed(ref2, of(dsr.Erasure, "da", "pe2."+uniq()+"@example.dk"), received0, verify)
	form.Del("basis")
	if body := page(t, d.act(ref2, "partial", form), http.StatusBadRequest); !strings.Contains(body, `id="partial.basis-error"`) {
		t.Error("a partial answer without a basis is not marked")
	}
}

// "We hold no data" answers an access request: completed, not refused, and said so.
func TestNoDataIsAnAnswer(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref, email := dsr.NewReference(), "nd."+uniq()+"@example.dk"
	e.seed(ref, of(dsr.Access, "en", email), received0, verify)
	redirect(t, d.act(ref, "no_data", url.Values{"message": {"We searched the CRM and the accounts for your address."}, "step": {stepConfirm}}))
	r := e.request(ref)
	if r.Status != dsr.Completed || r.Outcome.Result != dsr.ResultNoData || r.Outcome.Category != "" {
		t.Fatalf("stored %s %+v", r.Status, r.Outcome)
	}
	m := e.env.Mails(t, email)
	if len(m) != 1 || m[0].Subject != i18n.T(i18n.EN, "admin.mail.no_data.subject", ref) || !strings.Contains(m[0].Text, i18n.T(i18n.EN, "admin.mail.no_data.access")) {
		t.Fatalf("mail %+v", m)
	}
}

// A fee instead of a refusal (Art. 12(5)(a)): announced by mail, the request waits for the
// requester's acceptance, which the DPO records; the report shows it waiting.
func TestFeeAndItsAcceptance(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref, email := dsr.NewReference(), "fee."+uniq()+"@example.dk"
	e.seed(ref, of(dsr.Access, "da", email), received0, verify)
	bad := url.Values{"ground": {"excessive"}, "amount": {"mange"}, "reason": {"Fjerde kopi."}, "justification": {"Kopier 1. og 8. marts."}}
	if body := page(t, d.act(ref, "fee", bad), http.StatusBadRequest); !strings.Contains(body, `id="fee.amount-error"`) {
		t.Error("a fee that is not a whole amount is not marked")
	}
	ok := clone(bad)
	ok.Set("amount", "250")
	ok.Set("step", stepConfirm)
	redirect(t, d.act(ref, "fee", ok))
	if r := e.request(ref); !r.AwaitingFee() || r.Fee.Amount != 250 || r.Fee.Justification == "" {
		t.Fatalf("stored fee %+v", r.Fee)
	}
	m := e.env.Mails(t, email)
	if len(m) != 1 || !strings.Contains(m[0].Text, i18n.T(i18n.DA, "fee.amount.DK", 250)) || strings.Contains(m[0].Text, "Kopier 1. og 8. marts.") {
		t.Fatalf("fee mail %+v", m)
	}
	report := page(t, d.get("/admin/report"), http.StatusOK)
	if !strings.Contains(report, html.EscapeString(i18n.T(i18n.DA, "admin.report.fee"))+"</dt><dd>1</dd>") {
		t.Error("the report does not show the request waiting for the fee")
	}
	if got := choices(page(t, d.get(requestPath(ref)), http.StatusOK)); got["fee"] || !got["fee_accepted"] {
		t.Errorf("after the fee: choices %v", got)
	}
	redirect(t, d.act(ref, "fee_accepted", url.Values{"note": {"Svarede ja på e-mail 12. marts."}}))
	if r := e.request(ref); r.AwaitingFee() || r.Fee.AcceptNote != "Svarede ja på e-mail 12. marts." || r.Audit[len(r.Audit)-1].Action != dsr.ActionFeeAccepted {
		t.Fatalf("acceptance %+v", r.Fee)
	}
}

// Art. 19 for an erasure: the register's recipients are offered, each chosen one gets the
// desk's notice in their own language at the register's address (previewed first), one is
// recorded as told by other means, the checklist shows both, and the completion mail tells
// the requester the recipients were informed.
func TestRecipientsToldForAnErasure(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ctx := context.Background()
	invoicing := dsr.Recipient{ID: "fak1", Name: "Fakturaservice ApS", Email: "gdpr." + uniq() + "@faktura.example", Lang: "da", Receives: "Fakturaer"}
	leasing := dsr.Recipient{ID: "lea2", Name: "Leasing Nord AS", Email: "pv." + uniq() + "@leasing.example", Lang: "nb", Receives: "Kjøpskontrakter"}
	phone := dsr.Recipient{ID: "tel3", Name: "Telefonservice A/S", Email: "t." + uniq() + "@tel.example", Lang: "da", Receives: "Telefonnumre"}
	g := dsr.Register{Recipients: []dsr.Recipient{invoicing, leasing, phone}}
	if err := e.st.SaveRecipients(ctx, &g); err != nil {
		t.Fatal(err)
	}
	ref, email := dsr.NewReference(), "er."+uniq()+"@example.dk"
	e.seed(ref, of(dsr.Erasure, "da", email), received0, verify)

	form := url.Values{"recipients": {"fak1", "lea2"}, "instruction": {"Slet alt om kunde C-1042."}, "step": {stepPreview}}
	body := html.UnescapeString(page(t, d.act(ref, "recipients", form), http.StatusOK))
	for _, w := range []string{invoicing.Email, leasing.Email, i18n.T(i18n.NB, "admin.mail.recipient.subject", i18n.T(i18n.NB, "recipient.action.erasure"), "Fjordlys ApS"),
		i18n.T(i18n.DA, "admin.mail.recipient.subject", i18n.T(i18n.DA, "recipient.action.erasure"), "Fjordlys ApS"), "Slet alt om kunde C-1042."} {
		if !strings.Contains(body, w) {
			t.Errorf("the preview lacks %q", w)
		}
	}
	if strings.Count(body, `name="recipients" value=`) != 2 {
		t.Error("the confirmation does not carry both choices")
	}
	form.Set("step", stepConfirm)
	redirect(t, d.act(ref, "recipients", form))
	for _, x := range []dsr.Recipient{invoicing, leasing} {
		m := e.env.Mails(t, x.Email)
		if len(m) != 1 || !strings.Contains(m[0].Text, email) || !strings.Contains(m[0].Text, "Slet alt om kunde C-1042.") {
			t.Fatalf("%s got %+v", x.Name, m)
		}
	}
	redirect(t, d.act(ref, "recipient_recorded", url.Values{"recipient": {"tel3"}, "means": {"other"}, "note": {"Ringede 11. marts, sag 88."}}))
	r := e.request(ref)
	if len(r.Told()) != 3 || len(r.Open(g)) != 0 {
		t.Fatalf("checklist %+v", r.Recipients)
	}
	page := page(t, d.get(requestPath(ref)), http.StatusOK)
	for _, w := range []string{i18n.T(i18n.DA, "admin.checklist.heading"), "Fakturaservice ApS", "Ringede 11. marts, sag 88.", html.EscapeString(i18n.T(i18n.DA, "admin.recipients.all_done"))} {
		if !strings.Contains(page, w) {
			t.Errorf("the request page lacks %q", w)
		}
	}
	redirect(t, d.act(ref, "complete", url.Values{"message": {"Alt er slettet."}, "step": {stepConfirm}}))
	m := e.env.Mails(t, email)
	if len(m) != 1 || !strings.Contains(m[0].Text, i18n.T(i18n.DA, "admin.mail.recipients.told.other", 3, i18n.T(i18n.DA, "recipient.action.erasure"))) {
		t.Fatalf("completion %+v", m)
	}
}

// Before a restriction is lifted the requester is told, on a day after the notice.
func TestLiftRestriction(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref, email := dsr.NewReference(), "lf."+uniq()+"@example.dk"
	e.seed(ref, of(dsr.Restriction, "en", email), received0, verify, complete)
	today := e.clock.Now().In(e.cfg.Calendar.Location()).Format(time.DateOnly)
	if body := page(t, d.act(ref, "lift", url.Values{"from": {today}, "reason": {"Checked."}}), http.StatusBadRequest); !strings.Contains(body, `id="lift.from-error"`) {
		t.Error("a lift from today is not marked")
	}
	later := e.clock.Now().In(e.cfg.Calendar.Location()).AddDate(0, 0, 7).Format(time.DateOnly)
	redirect(t, d.act(ref, "lift", url.Values{"from": {later}, "reason": {"The address is checked and correct."}, "step": {stepConfirm}}))
	r := e.request(ref)
	if r.Lift == nil || r.Lift.From.In(e.cfg.Calendar.Location()).Format(time.DateOnly) != later {
		t.Fatalf("lift %+v", r.Lift)
	}
	m := e.env.Mails(t, email)
	if len(m) != 1 || m[0].Subject != i18n.T(i18n.EN, "admin.mail.lift.subject", ref) {
		t.Fatalf("mails %+v", m)
	}
	if choices(page(t, d.get(requestPath(ref)), http.StatusOK))["lift"] {
		t.Error("the lift is offered twice")
	}
}

// A refusal after the one-month date of an extended request is warned about, allowed,
// recorded as late and counted late by the report.
func TestLateRefusalCountedLate(t *testing.T) {
	e := setup(t)
	// Received 2 March, extended on 10 March; now is 9 April, past the month (7 April).
	ref := dsr.NewReference()
	e.seed(ref, of(dsr.Objection, "da", "lr."+uniq()+"@example.dk"), received0, verify, func(r *dsr.Request, at time.Time) (dsr.Change, error) {
		return r.Extend("seed@fjordlys.dk", "Mange systemer.", e.cfg.Calendar.Extended(r.ReceivedAt), at)
	})
	e.clock.Set(time.Date(2026, 4, 9, 9, 0, 0, 0, time.UTC))
	d := e.session(e.cfg.DPOAddresses[0])
	warning := i18n.T(i18n.DA, "admin.late.refusal_past_month", "tirsdag 7. april 2026")
	if body := page(t, d.get(requestPath(ref)+"?action=reject"), http.StatusOK); !strings.Contains(body, html.EscapeString(warning)) {
		t.Error("the refusal form does not warn that it is late")
	}
	// Completing instead would be on time: no warning there.
	if body := page(t, d.get(requestPath(ref)+"?action=complete"), http.StatusOK); strings.Contains(body, `class="notice warn"`) {
		t.Error("the completion form warns though the extension covers it")
	}
	redirect(t, d.act(ref, "reject", url.Values{"category": {"legal_claims"}, "reason": {"Sagen er for retten."}, "step": {stepConfirm}}))
	if r := e.request(ref); r.Outcome.Late != dsr.LateRefusalPastMonth || !strings.HasPrefix(r.Audit[len(r.Audit)-1].Note, "[late: refusal_past_month]") {
		t.Fatalf("outcome %+v", r.Outcome)
	}
	report := page(t, d.get("/admin/report"), http.StatusOK)
	for _, w := range []string{i18n.T(i18n.DA, "admin.report.of", 0, 1), html.EscapeString(i18n.T(i18n.DA, "late.refusal_past_month"))} {
		if !strings.Contains(report, w) {
			t.Errorf("the report lacks %q", w)
		}
	}
}
