package main

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The form tells the requester how their request itself is handled (Art. 13): who the
// controller is with an address to write to, the legal basis, how long it is kept, the
// processor and where, the privacy policy, and that a letter or a mail does as well; and
// that a newsletter's own unsubscribe link still works. Every page's footer names the
// controller's address and the policy too.
func TestFormTellsHowTheRequestIsHandled(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	policy := html.EscapeString(privacyPolicy)
	for _, l := range i18n.Langs {
		body := hs.do(withQuery(event(t, "intake-form-get"), "lang="+string(l))).Body
		mustContain(t, string(l)+" form", body,
			html.EscapeString(i18n.T(l, "intake.info.controller", controller, controllerAddress, hs.dpo)),
			html.EscapeString(i18n.T(l, "intake.info.purpose")),
			html.EscapeString(i18n.T(l, "intake.info.retention", i18n.T(l, "intake.info.retention.years", 3))),
			html.EscapeString(i18n.T(l, "intake.info.processor", "eu-north-1 (Stockholm)")),
			`<a href="`+policy+`">`+html.EscapeString(i18n.T(l, "intake.info.policy"))+`</a>`,
			html.EscapeString(i18n.T(l, "intake.form.bymail"))+` <a href="mailto:`+hs.dpo+`">`+hs.dpo+`</a>`+
				html.EscapeString(i18n.T(l, "intake.info.letter", controller, controllerAddress)),
			html.EscapeString(i18n.T(l, "intake.form.type.newsletter")),
			html.EscapeString(i18n.T(l, "intake.form.next.prompt")),
			html.EscapeString(i18n.T(l, "rights.elsewhere")),
			// The footer, on this page as on every other.
			html.EscapeString(i18n.T(l, "layout.footer.contact", controller, controllerAddress, hs.dpo)),
		)
		for _, art := range []string{"art. 6, stk. 1, litra c", "art. 6 nr. 1 bokstav c", "Art. 6(1)(c)"} {
			if strings.Contains(body, art) != strings.Contains(art, map[i18n.Lang]string{i18n.DA: "stk", i18n.NB: "bokstav", i18n.EN: "(1)"}[l]) {
				t.Errorf("%s form: citation %q is not in its language's form", l, art)
			}
		}
		sent := hs.do(withQuery(event(t, "intake-sent-get"), "lang="+string(l))).Body
		mustContain(t, string(l)+" sent page", sent, `<a href="`+policy+`">`+i18n.T(l, "layout.footer.policy")+`</a>`)
	}
}

// A withdrawal of consent is filed with an address alone and is on the short clock from
// receipt: two working days, and every text the requester gets says "without undue delay"
// and nothing of a month or an extension. Any other request still needs a name.
func TestWithdrawalWithoutAName(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("withdraw")
	v := hs.form(email, i18n.NB)
	v.Set("type", string(dsr.WithdrawConsent))
	v.Del("name")
	v.Set("details", "")
	if resp := hs.postForm(v); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("a withdrawal without a name: %s\n%s", fmtStatus(resp), resp.Body)
	}
	hs.runAfter()
	tok := tokenFrom(t, hs.env.Mails(t, email)[0].Text)
	r := hs.request(refOf(tok))
	// Received Monday 2 March 2026: due at the end of Wednesday 4 March.
	if want := hs.cfg.Calendar.AddWorkingDays(t0, 2); r.Name != "" || r.Type != dsr.WithdrawConsent || !r.Due.Equal(want) {
		t.Fatalf("stored name %q type %s due %s, want due %s", r.Name, r.Type, r.Due, want)
	}

	hs.clock.Add(time.Hour)
	done := hs.verifyPost(tok, i18n.NB)
	mustContain(t, "confirmed page", done.Body, html.EscapeString(i18n.T(i18n.NB, "intake.mail.receipt.prompt.withdraw_consent")))
	mustNotContain(t, "confirmed page", done.Body, i18n.T(i18n.NB, "intake.label.deadline"), html.EscapeString(i18n.T(i18n.NB, "intake.confirmed.extension")))
	hs.runAfter()

	receipt := hs.env.Mails(t, email)[1]
	mustContain(t, "receipt", receipt.Text, i18n.T(i18n.NB, "admin.mail.hello")+",", i18n.T(i18n.NB, "intake.mail.receipt.prompt.withdraw_consent"))
	mustNotContain(t, "receipt", receipt.Text, i18n.T(i18n.NB, "intake.label.deadline"), i18n.T(i18n.NB, "intake.mail.receipt.extension"))
	dpo := hs.env.Mails(t, hs.dpo)[0]
	due := i18n.LongDate(i18n.DA, r.Due.In(hs.cfg.Calendar.Location()))
	mustContain(t, "DPO mail", dpo.Text, i18n.T(i18n.DA, "intake.mail.dpo_new.prompt", due),
		i18n.T(i18n.DA, "intake.label.name")+": "+i18n.T(i18n.DA, "intake.label.none"))

	// An access request still needs a name.
	v = hs.form(address("access"), i18n.NB)
	v.Del("name")
	resp := hs.postForm(v)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(resp.Body, html.EscapeString(i18n.T(i18n.NB, "intake.error.name.required"))) {
		t.Errorf("an access request without a name: %s", fmtStatus(resp))
	}
}
