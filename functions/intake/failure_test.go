package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// TestDynamoDBDown: with the database unreachable the person is told to try again (503, in
// their language), never shown an error's text, and the form itself still works.
func TestDynamoDBDown(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withDynamoDBDown(emulator.Get(t)))
	email := address("nodb")

	if resp := hs.do(event(t, "intake-form-get")); resp.StatusCode != http.StatusOK {
		t.Errorf("the form needs no database: %s", fmtStatus(resp))
	}
	resp := hs.postForm(hs.form(email, i18n.NB))
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("form post: %s, want 503", fmtStatus(resp))
	}
	mustContain(t, "page", resp.Body, `<html lang="nb">`, htmlEscape(i18n.T(i18n.NB, "intake.unavailable.text")))
	mustNotContain(t, "page", resp.Body, "127.0.0.1", "dial", "DynamoDB", "connect")

	resp = hs.do(withJSON(event(t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": email}))
	if resp.StatusCode != http.StatusServiceUnavailable || jsonBody(t, resp)["message"] != i18n.T(i18n.NB, "intake.unavailable.text") {
		t.Errorf("json post: %s %s", fmtStatus(resp), resp.Body)
	}

	tok := "ABCD-EFGH." + strings.Repeat("A", 43)
	for name, r := range map[string]int{
		"verify page": hs.do(withQuery(event(t, "intake-verify-get"), "token="+url.QueryEscape(tok))).StatusCode,
		"confirm":     hs.verifyPost(tok, i18n.DA).StatusCode,
	} {
		if r != http.StatusServiceUnavailable {
			t.Errorf("%s: status %d, want 503", name, r)
		}
	}
	if len(hs.env.Mails(t, email)) != 0 {
		t.Error("mail sent without a stored request")
	}
	if !strings.Contains(hs.logs.String(), `"kind":"store_unavailable"`) {
		t.Errorf("the outage is not in the log:\n%s", hs.logs.String())
	}
}

// TestSESDown: a mail that cannot be sent never loses the request: it is stored, its mail
// recorded as failed for the sweep to retry, and the person gets the usual answer.
func TestSESDown(t *testing.T) {
	t.Parallel()
	ok := newHarness(t)
	down := newHarness(t, withSESDown(ok.env), withTable(ok.cfg.Table))

	// Filing: 303 as always; stored pending with the verification mail failed.
	resp := down.postForm(down.form(address("noses"), i18n.DA))
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("form post: %s, want 303", fmtStatus(resp))
	}
	resp = down.do(withJSON(event(t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": address("noses-json")}))
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("json post: %s, want 202", fmtStatus(resp))
	}
	if n := ok.requests(); n != 2 {
		t.Fatalf("%d requests stored, want 2", n)
	}

	// Confirming: the confirmation page as always; receipt and DPO mail recorded failed.
	email := address("confirm-noses")
	tok := ok.file(email, i18n.EN)
	resp = down.verifyPost(tok, i18n.EN)
	if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, i18n.T(i18n.EN, "intake.confirmed.title")) {
		t.Fatalf("confirm: %s\n%s", fmtStatus(resp), resp.Body)
	}
	r := ok.request(refOf(tok))
	if r.Status != dsr.Open {
		t.Errorf("status %s, want open", r.Status)
	}
	for _, k := range []dsr.MailKind{dsr.MailReceipt, dsr.MailDPONew} {
		if m := r.Mails[k]; m.State != dsr.MailFailed || m.Attempts != 1 {
			t.Errorf("%s mail %+v, want failed after 1 attempt", k, m)
		}
	}
	if q, at := r.SweepQueue(); q != dsr.QueueOpen || !at.Equal(ok.clock.Now()) {
		t.Errorf("sweep queue %s %s: the failed mails must be due for a retry now", q, at)
	}
	if len(ok.env.Mails(t, email)) != 1 {
		t.Error("a receipt was sent through a dead SES")
	}
	logs := down.logs.String()
	if !strings.Contains(logs, `"msg":"mail"`) || !strings.Contains(logs, `"outcome":"failed"`) {
		t.Errorf("mail failure not logged:\n%s", logs)
	}
}

// TestSESDownVerificationState checks the stored state of a request whose verification mail
// failed: kept, pending, failed mail, in the sweep's index for a new link.
func TestSESDownVerificationState(t *testing.T) {
	t.Parallel()
	ok := newHarness(t)
	down := newHarness(t, withSESDown(ok.env), withTable(ok.cfg.Table))
	down.postForm(down.form(address("state"), i18n.DA))
	out := scanRequests(t, ok)
	if len(out) != 1 {
		t.Fatalf("%d requests, want 1", len(out))
	}
	r := ok.request(out[0])
	if r.Status != dsr.PendingVerification || r.Mails[dsr.MailVerification].State != dsr.MailFailed {
		t.Errorf("stored %s with verification mail %+v", r.Status, r.Mails[dsr.MailVerification])
	}
	if q, at := r.SweepQueue(); q != dsr.QueueUnverified || !at.Equal(ok.clock.Now()) {
		t.Errorf("sweep queue %s %s, want UNVERIFIED now", q, at)
	}
}
