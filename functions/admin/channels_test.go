package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// An unconfirmed request is confirmed by other means from its page: the DPO says how (it is
// required), previews the receipt the requester gets in their language, and confirms; the
// request opens, the link stops working, and the audit trail names the DPO and the note.
func TestConfirmByOtherMeans(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	for li, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			e.t = t
			ref := "C" + string("234"[li]) + "MQ-TEST"
			requester := "req." + uniq() + "@example.dk"
			before := e.seed(ref, submission(string(lang), requester), received0)
			if before.Status != dsr.PendingVerification {
				t.Fatalf("seeded %s", before.Status)
			}
			if body := page(t, d.get(requestPath(ref)), http.StatusOK); !strings.Contains(body, "?action=confirm_other") {
				t.Fatal("an unconfirmed request's page does not offer confirming by other means")
			}

			// Without saying how, nothing happens.
			resp := d.act(ref, "confirm_other", url.Values{"note": {"  "}, "step": {stepPreview}})
			if body := page(t, resp, http.StatusBadRequest); !strings.Contains(body, i18n.T(e.cfg.DefaultLang, "error.required")) {
				t.Fatalf("no field error:\n%s", body)
			}
			if r := e.request(ref); r.Version != before.Version {
				t.Fatal("an empty note changed the request")
			}

			note := "Ringede kunden op på nummeret fra kundekortet."
			body := page(t, d.act(ref, "confirm_other", url.Values{"note": {note}, "step": {stepPreview}}), http.StatusOK)
			if !strings.Contains(body, i18n.T(lang, "intake.mail.receipt.subject", ref)) || !strings.Contains(body, requester) {
				t.Fatalf("the preview does not show the receipt to %s:\n%s", requester, body)
			}
			if n := len(e.env.Mails(t, requester)); n != 0 {
				t.Fatalf("the preview sent %d mails", n)
			}
			if loc := redirect(t, d.act(ref, "confirm_other", url.Values{"note": {note}, "step": {stepConfirm}})); loc != requestPath(ref)+"?done=confirm_other" {
				t.Fatalf("to %q", loc)
			}
			r := e.request(ref)
			last := r.Audit[len(r.Audit)-1]
			if r.Status != dsr.Open || r.TokenHash != "" || !r.VerifiedAt.Equal(now0) ||
				last.Action != dsr.ActionConfirmedOther || last.Actor != d.email || last.Note != note {
				t.Fatalf("status %s token %q verified %v, audit %+v", r.Status, r.TokenHash, r.VerifiedAt, last)
			}
			mails := e.env.Mails(t, requester)
			if len(mails) != 1 || mails[0].Subject != i18n.T(lang, "intake.mail.receipt.subject", ref) || r.Mails[dsr.MailReceipt].State != dsr.MailSent {
				t.Fatalf("mails %d, state %+v", len(mails), r.Mails[dsr.MailReceipt])
			}

			// Once open, it is not offered, and a post is refused.
			if body := page(t, d.get(requestPath(ref)), http.StatusOK); strings.Contains(body, "?action=confirm_other") {
				t.Error("an open request still offers confirming by other means")
			}
			if resp := d.act(ref, "confirm_other", url.Values{"note": {note}, "step": {stepConfirm}}); resp.StatusCode != http.StatusConflict {
				t.Errorf("confirming an open request: %d", resp.StatusCode)
			}
		})
	}
}

// An unclassified request is given its type from its page: the deadline becomes that type's
// from the receipt (a month for access, the short clock for a withdrawal), the audit trail
// names the type and the DPO, and nothing is sent.
func TestClassify(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	cases := []struct {
		typ  dsr.Type
		want string // the local date of the deadline from received0
	}{
		{dsr.Access, "2026-04-07"},
		{dsr.WithdrawConsent, ""},
	}
	for i, tc := range cases {
		t.Run(string(tc.typ), func(t *testing.T) {
			e.t = t
			ref := "K" + string("23"[i]) + "MQ-TEST"
			requester := "req." + uniq() + "@example.dk"
			e.seedUnclassified(ref, requester)
			// Until it is classified it cannot be answered: its type decides how.
			body := page(t, d.get(requestPath(ref)), http.StatusOK)
			if strings.Contains(body, "?action=complete") || strings.Contains(body, "?action=reject") {
				t.Error("an unclassified request offers an answer")
			}
			body = page(t, d.get(requestPath(ref)+"?action=classify"), http.StatusOK)
			if !strings.Contains(body, `name="type"`) || !strings.Contains(body, i18n.T(i18n.DA, "type.withdraw_consent.name")) {
				t.Fatalf("no type to choose:\n%s", body)
			}
			if resp := d.act(ref, "classify", url.Values{"type": {"unclassified"}}); resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("classified as unclassified: %d", resp.StatusCode)
			}
			if loc := redirect(t, d.act(ref, "classify", url.Values{"type": {string(tc.typ)}})); loc != requestPath(ref)+"?done=classify" {
				t.Fatalf("to %q", loc)
			}
			r := e.request(ref)
			last := r.Audit[len(r.Audit)-1]
			if r.Type != tc.typ || last.Action != dsr.ActionClassified || last.Note != string(tc.typ) || last.Actor != d.email {
				t.Fatalf("type %s, audit %+v", r.Type, last)
			}
			want := tc.typ.Due(e.cfg.Calendar, received0, e.cfg.PromptWorkingDays)
			if !r.Due.Equal(want) || (tc.want != "" && r.Due.In(e.h.cal.Location()).Format("2006-01-02") != tc.want) {
				t.Fatalf("due %v, want %v (%s)", r.Due, want, tc.want)
			}
			if n := len(e.env.Mails(t, requester)); n != 0 {
				t.Fatalf("classifying sent %d mails", n)
			}
			body = page(t, d.get(requestPath(ref)), http.StatusOK)
			if strings.Contains(body, "?action=classify") || !strings.Contains(body, "?action=complete") || !strings.Contains(body, i18n.T(i18n.DA, "action.classified")) {
				t.Error("the page still offers classifying, or its history does not say it was classified")
			}
		})
	}
}

// seedUnclassified stores an open unclassified request received at received0, as a DPO
// registers a letter whose right is not clear yet.
func (e *tenv) seedUnclassified(ref, email string) *dsr.Request {
	e.t.Helper()
	g := dsr.Registration{Channel: dsr.ChannelLetter, ReceivedAt: received0, Type: dsr.Unclassified, Name: "Karen Blixen",
		Email: email, Lang: "da", Details: "Brev om mine oplysninger.", Identity: dsr.IdentityOtherMeans, IdentityNote: "Underskrevet brev."}
	r := dsr.Registered(ref, g, dsr.Unclassified.Due(e.cfg.Calendar, received0, e.cfg.PromptWorkingDays), "", "seed@fjordlys.dk", received0)
	delete(r.Mails, dsr.MailReceipt)
	if err := e.st.CreateRequest(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return e.request(ref)
}

// A mail the desk held back is admitted from its page (its sender gets the confirmation
// link, whose secret only they hold) or dismissed (nothing sent, the sender's details gone).
func TestQuarantinedMail(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	held := func(ref, from string) *dsr.Request {
		r := dsr.QuarantineMail(ref, dsr.IncomingMail{From: from, Name: "Ole Olsen", Text: "Hva har dere om meg?", Lang: "nb",
			ReceivedAt: received0, Mail: dsr.InboundMail{Key: "mail/" + ref, Subject: "Innsyn"}}, dsr.QuarantineUnreadable,
			dsr.Unclassified.Due(e.cfg.Calendar, received0, e.cfg.PromptWorkingDays))
		if err := e.st.CreateRequest(context.Background(), r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	sender := "ole." + uniq() + "@example.no"
	held("Q2MQ-TEST", sender)
	body := page(t, d.get(requestPath("Q2MQ-TEST")), http.StatusOK)
	for _, want := range []string{"?action=admit", "?action=dismiss", i18n.T(i18n.DA, "quarantine.unreadable"), "Innsyn"} {
		if !strings.Contains(body, want) {
			t.Errorf("the held mail's page lacks %q", want)
		}
	}
	body = page(t, d.act("Q2MQ-TEST", "admit", url.Values{"step": {stepPreview}}), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.NB, "intake.mail.verification.subject", e.cfg.ControllerName)) || !strings.Contains(body, "/verify?token=Q2MQ-TEST.") {
		t.Fatalf("the preview does not show the link's mail:\n%s", body)
	}
	redirect(t, d.act("Q2MQ-TEST", "admit", url.Values{"step": {stepConfirm}}))
	r := e.request("Q2MQ-TEST")
	mails := e.env.Mails(t, sender)
	if r.Status != dsr.PendingVerification || r.TokenHash == "" || len(mails) != 1 || r.Mails[dsr.MailVerification].State != dsr.MailSent {
		t.Fatalf("status %s, %d mails, %+v", r.Status, len(mails), r.Mails)
	}
	_, tok, ok := strings.Cut(mails[0].Text, "/verify?token=")
	tok, _, _ = strings.Cut(tok, "\n")
	u, err := url.QueryUnescape(strings.TrimSpace(tok))
	if ref, hash, parsed := token.ParseRequest(u); !ok || err != nil || !parsed || ref != "Q2MQ-TEST" || hash != r.TokenHash {
		t.Fatalf("the mailed link %q is not the request's", tok)
	}

	other := "spam." + uniq() + "@example.no"
	held("Q3MQ-TEST", other)
	redirect(t, d.act("Q3MQ-TEST", "dismiss", url.Values{"note": {"Reklame."}}))
	r = e.request("Q3MQ-TEST")
	if r.Status != dsr.Expired || r.Email != "" || r.Name != "" || len(e.env.Mails(t, other)) != 0 {
		t.Fatalf("dismissed: %+v", r)
	}
	if body := page(t, d.get(requestPath("Q3MQ-TEST")), http.StatusOK); strings.Contains(body, "?action=admit") {
		t.Error("a dismissed mail can still be admitted")
	}
}
