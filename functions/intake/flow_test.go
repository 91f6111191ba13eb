package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// TestFileConfirmReceipt walks the whole path a person takes, in each language: the form,
// the post, the verification mail, the link, the button, the receipt and the DPO's mail.
func TestFileConfirmReceipt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		lang     i18n.Lang
		country  string
		deadline string // the one-month deadline as the receipt writes it
		received string
	}{
		{i18n.DA, "DK", "tirsdag 7. april 2026", "2. marts 2026"},
		{i18n.NB, "NO", "tirsdag 7. april 2026", "2. mars 2026"},
		{i18n.EN, "DK", "Tuesday 7 April 2026", "2 March 2026"},
	} {
		t.Run(string(tc.lang), func(t *testing.T) {
			t.Parallel()
			hs := newHarness(t, withEnv("COUNTRY", tc.country))
			l := tc.lang
			email := address("requester")

			// The form, in the language asked for.
			page := hs.do(withQuery(event(t, "intake-form-get"), "lang="+string(l)))
			if page.StatusCode != http.StatusOK {
				t.Fatalf("GET /: %s", fmtStatus(page))
			}
			mustContain(t, "form", page.Body, `<html lang="`+string(l)+`">`, i18n.T(l, "intake.form.title"),
				i18n.T(l, "authority."+tc.country+".url"), `name="website"`, `name="ts"`, `action="/requests"`)

			// The post answers 303 to the check-your-inbox page in that language.
			resp := hs.postForm(hs.form(email, l))
			if resp.StatusCode != http.StatusSeeOther || header(resp, "Location") != baseURL+"/sent?lang="+string(l) {
				t.Fatalf("POST /requests: %s, Location %q", fmtStatus(resp), header(resp, "Location"))
			}
			sent := hs.do(withQuery(event(t, "intake-sent-get"), "lang="+string(l)))
			mustContain(t, "sent page", sent.Body, i18n.T(l, "intake.sent.title"))

			// The verification mail: their language, the link, the reference, no text of theirs.
			mails := hs.env.Mails(t, email)
			if len(mails) != 1 {
				t.Fatalf("%d mails to the requester, want 1", len(mails))
			}
			v := mails[0]
			tok := tokenFrom(t, v.Text)
			ref := refOf(tok)
			if want := i18n.T(l, "intake.mail.verification.subject", controller); v.Subject != want {
				t.Errorf("verification subject %q, want %q", v.Subject, want)
			}
			if v.From != senderAddress || len(v.ReplyTo) != 1 || v.ReplyTo[0] != hs.dpo {
				t.Errorf("verification From %q Reply-To %v, want %s and %s", v.From, v.ReplyTo, senderAddress, hs.dpo)
			}
			mustContain(t, "verification text", v.Text, ref, i18n.T(l, "type.access.name"), i18n.T(l, "intake.mail.notme"))
			mustContain(t, "verification html", v.HTML, `href="`+baseURL+"/verify?token="+url.QueryEscape(tok)+`"`, ref)
			mustNotContain(t, "verification mail", v.Text+v.HTML, "Mette", "K-10442", "kopi af mine")
			checkNoMissingKeys(t, "verification mail", v.Subject+v.Text+v.HTML)

			// Stored as pending, with the receipt time, the language and the deadline.
			r := hs.request(ref)
			due, _ := deadline.Due(tc.country, t0)
			if r.Status != dsr.PendingVerification || !r.ReceivedAt.Equal(t0) || !r.Due.Equal(due) ||
				r.Lang != string(l) || r.Email != email || r.Type != dsr.Access {
				t.Errorf("stored %+v", r)
			}
			if r.Mails[dsr.MailVerification].State != dsr.MailSent {
				t.Errorf("verification mail state %+v", r.Mails[dsr.MailVerification])
			}
			if _, hash, _ := token.ParseRequest(tok); r.TokenHash != hash || strings.Contains(r.TokenHash, strings.SplitN(tok, ".", 2)[1]) {
				t.Error("the stored token hash is not the hash of the mailed secret")
			}

			// The link shows what is being confirmed and changes nothing.
			hs.clock.Add(2 * time.Hour)
			before := hs.item(ref)
			show := hs.verifyGet(tok)
			if show.StatusCode != http.StatusOK {
				t.Fatalf("GET /verify: %s\n%s", fmtStatus(show), show.Body)
			}
			mustContain(t, "verify page", show.Body, `<html lang="`+string(l)+`">`, ref, i18n.T(l, "type.access.name"),
				maskEmail(email), `name="token" value="`+tok+`"`, `method="post"`, i18n.T(l, "intake.verify.button"))
			mustNotContain(t, "verify page", show.Body, email, "<script")
			if show.Headers["Referrer-Policy"] != "same-origin" || show.Headers["X-Frame-Options"] != "DENY" || show.Headers["Cache-Control"] != "no-store" {
				t.Errorf("verify page headers %v", show.Headers)
			}
			if after := hs.item(ref); !sameItem(before, after) {
				t.Error("GET /verify changed the stored request")
			}

			// The button confirms: the deadline as a date, in their language.
			done := hs.verifyPost(tok, l)
			if done.StatusCode != http.StatusOK {
				t.Fatalf("POST /verify: %s\n%s", fmtStatus(done), done.Body)
			}
			mustContain(t, "confirmed page", done.Body, i18n.T(l, "intake.confirmed.title"), ref, tc.deadline, hs.dpo)

			r = hs.request(ref)
			if r.Status != dsr.Open || !r.VerifiedAt.Equal(t0.Add(2*time.Hour)) || r.TokenHash != "" || r.SpentTokenHash == "" || !r.Due.Equal(due) {
				t.Errorf("after confirm: %+v", r)
			}
			for _, k := range []dsr.MailKind{dsr.MailReceipt, dsr.MailDPONew} {
				if r.Mails[k].State != dsr.MailSent {
					t.Errorf("%s mail state %+v", k, r.Mails[k])
				}
			}

			// The receipt.
			mails = hs.env.Mails(t, email)
			if len(mails) != 2 {
				t.Fatalf("%d mails to the requester, want verification and receipt", len(mails))
			}
			rc := mails[1]
			if want := i18n.T(l, "intake.mail.receipt.subject", ref); rc.Subject != want {
				t.Errorf("receipt subject %q, want %q", rc.Subject, want)
			}
			if rc.From != senderAddress || len(rc.ReplyTo) != 1 || rc.ReplyTo[0] != hs.dpo {
				t.Errorf("receipt From %q Reply-To %v", rc.From, rc.ReplyTo)
			}
			for _, part := range []string{rc.Text, rc.HTML} {
				mustContain(t, "receipt", part, ref, tc.deadline, tc.received, i18n.T(l, "type.access.name"),
					i18n.T(l, "authority."+tc.country+".url"), hs.dpo)
			}
			mustContain(t, "receipt text", rc.Text, i18n.T(l, "authority."+tc.country+".name"), "Mette Sørensen")
			checkNoMissingKeys(t, "receipt", rc.Subject+rc.Text+rc.HTML)

			// The DPO's mail, in the deployment's language (da), with everything to act on.
			dm := hs.env.Mails(t, hs.dpo)
			if len(dm) != 1 {
				t.Fatalf("%d mails to the DPO, want 1", len(dm))
			}
			d := dm[0]
			dpoDeadline := i18n.LongDate(i18n.DA, due.In(hs.cfg.Calendar.Location()))
			if want := i18n.T(i18n.DA, "intake.mail.dpo_new.subject", ref, i18n.T(i18n.DA, "type.access.name"), dpoDeadline); d.Subject != want {
				t.Errorf("DPO subject %q, want %q", d.Subject, want)
			}
			// aws-ses-v2-local keeps only the first ToAddresses member, so the deputy cannot
			// be seen here; notice's own tests cover the recipient list.
			if len(d.To) == 0 || d.To[0] != hs.dpo || len(d.ReplyTo) != 0 {
				t.Errorf("DPO mail To %v Reply-To %v: want the DPO addresses and no Reply-To", d.To, d.ReplyTo)
			}
			for _, part := range []string{d.Text, d.HTML} {
				mustContain(t, "DPO mail", part, ref, dpoDeadline, email, "K-10442", "kopi af mine oplysninger",
					baseURL+"/admin/requests/"+ref, i18n.T(i18n.DA, "lang."+string(l)))
			}
			mustContain(t, "DPO mail", d.Text, "Mette Sørensen", "> Jeg vil gerne have en kopi af mine oplysninger.\n> Tak.")
			checkNoMissingKeys(t, "DPO mail", d.Subject+d.Text+d.HTML)
		})
	}
}

// TestJSONSubmission: a company's own site posts JSON through CORS and gets the same generic
// answer; the mail follows the language in the body.
func TestJSONSubmission(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	email := address("json")
	resp := hs.do(withJSON(event(t, "intake-json-post"), map[string]any{
		"type": "erasure", "name": "Ola Nordmann", "email": email, "lang": "nb",
		"details": "Slett kontoen min.", "unknown_field": 42, "customer_ref": nil,
	}))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("%s: %s", fmtStatus(resp), resp.Body)
	}
	body := jsonBody(t, resp)
	if body["status"] != "received" || body["message"] != i18n.T(i18n.NB, "intake.json.received") {
		t.Errorf("body %v", body)
	}
	if resp.Headers["Access-Control-Allow-Origin"] != companySite || resp.Headers["Vary"] != "Origin" {
		t.Errorf("CORS headers %v", resp.Headers)
	}
	mails := hs.env.Mails(t, email)
	if len(mails) != 1 || mails[0].Subject != i18n.T(i18n.NB, "intake.mail.verification.subject", controller) {
		t.Fatalf("mails %+v", mails)
	}
	r := hs.request(refOf(tokenFrom(t, mails[0].Text)))
	if r.Type != dsr.Erasure || r.Lang != "nb" || r.CustomerRef != "" {
		t.Errorf("stored %+v", r)
	}
}
