package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
)

// hold rebuilds e's handler with its work after the answer held until the test runs it
// (e.held.Run), as on Lambda, where the mail goes out after the page is drawn.
func (e *tenv) hold() {
	e.t.Helper()
	e.held = &later.Held{}
	e.after = e.held
	h, err := newHandler(e.cfg, e.db, e.env.SES(), e.after, e.clock.Now, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if err != nil {
		e.t.Fatal(err)
	}
	h.signinFloor = 0
	e.h = h
}

// The preview shows the very mail the requester then gets, in the requester's language, and
// sends nothing; going back keeps the text; only the confirmation commits and sends.
func TestPreviewIsTheMailThatGoes(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			e.t = t
			ref := dsr.NewReference()
			requester := "preview." + uniq() + "@example.dk"
			before := e.seed(ref, submission(string(lang), requester), received0, verify)
			answer := url.Values{"category": {"excessive"}, "reason": {"Fjortende gang i dag,\nså vi svarer ikke <igen>."}, "justification": {"K1–K13 i dag."}}

			form := clone(answer)
			form.Set("step", stepPreview)
			body := page(t, d.act(ref, "reject", form), http.StatusOK)
			if len(e.env.Mails(t, requester)) != 0 || e.request(ref).Version != before.Version {
				t.Fatal("the preview sent or changed something")
			}
			preview := between(t, body, `<div class="mail">`, `</pre>`)
			for _, w := range []string{requester, i18n.T(lang, "admin.mail.rejection.subject", ref), "Fjortende gang i dag,", "så vi svarer ikke &lt;igen&gt;.",
				i18n.T(lang, "admin.mail.rejection.court"), i18n.T(i18n.DA, "admin.preview.lead", i18n.T(i18n.DA, "admin.langname."+string(lang)))} {
				if !strings.Contains(preview+body, w) {
					t.Errorf("the preview lacks %q:\n%s", w, preview)
				}
			}
			// The preview carries what was typed on to the confirmation, and back to the form.
			for _, w := range []string{`name="step" value="confirm"`, `name="step" value="edit"`, `name="category" value="excessive"`, "name=\"reason\" value=\"Fjortende gang i dag,\nså vi svarer ikke &lt;igen&gt;.\""} {
				if !strings.Contains(body, w) {
					t.Errorf("the confirmation form lacks %s:\n%s", w, body)
				}
			}
			form.Set("step", stepEdit)
			body = page(t, d.act(ref, "reject", form), http.StatusOK)
			if !strings.Contains(body, ">Fjortende gang i dag,\nså vi svarer ikke &lt;igen&gt;.</textarea>") || !strings.Contains(body, `<option value="excessive" selected>`) {
				t.Errorf("back from the preview, the text is lost:\n%s", body)
			}

			form.Set("step", stepConfirm)
			redirect(t, d.act(ref, "reject", form))
			mails := e.env.Mails(t, requester)
			if len(mails) != 1 {
				t.Fatalf("%d mails after the confirmation", len(mails))
			}
			// What was shown is what went, line for line, but for the secret of the status page
			// link, issued only as the mail went.
			link := regexp.MustCompile(`\S+/status\?token=\S+`).FindString(mails[0].Text)
			if link == "" {
				t.Fatalf("no status page link in the mail:\n%s", mails[0].Text)
			}
			sent := strings.TrimSpace(strings.ReplaceAll(mails[0].Text, link, notice.RedactLink(link)))
			want := unescape(between(t, preview, "<pre>", ""))
			if sent != strings.TrimSpace(want) {
				t.Errorf("sent:\n%s\npreviewed:\n%s", mails[0].Text, want)
			}
			// And what went is kept, word for word (the secret cut out), in the request's history.
			body = page(t, d.get(requestPath(ref)), http.StatusOK)
			if kept := unescape(between(t, between(t, body, `<ol class="history"`, "</ol>"), "<pre>", "</pre>")); strings.TrimSpace(kept) != sent {
				t.Errorf("kept:\n%s\nsent:\n%s", kept, mails[0].Text)
			}
		})
	}
}

// between returns what s holds after the first from and before the next to ("" for the end).
func between(t testing.TB, s, from, to string) string {
	t.Helper()
	_, rest, ok := strings.Cut(s, from)
	if !ok {
		t.Fatalf("no %q in:\n%s", from, s)
	}
	if to == "" {
		return rest
	}
	in, _, ok := strings.Cut(rest, to)
	if !ok {
		t.Fatalf("no %q after %q", to, from)
	}
	return in
}

// unescape reads HTML text back: the entities html/template writes.
func unescape(s string) string {
	s, _, _ = strings.Cut(s, "</pre>")
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&", "&#43;", "+").Replace(s)
}

// The page tells the truth about the mail: drawn before the mail has gone, it says the mail is
// being sent and reloads itself; reloaded after, it says when it went. Never a failure that
// has not happened.
func TestMailStateIsTheTruth(t *testing.T) {
	e := setup(t)
	e.hold()
	d := e.session(e.cfg.DPOAddresses[0])
	for _, action := range []string{"extend", "complete", "reject"} {
		t.Run(action, func(t *testing.T) {
			e.t = t
			ref := dsr.NewReference()
			requester := "state." + uniq() + "@example.dk"
			e.seed(ref, submission("da", requester), received0, verify)
			form := url.Values{"reason": {"Mange systemer."}, "message": {"Her er dine data."}, "category": {"other"}, "confirm": {"no_delivery"}, "step": {stepConfirm}}
			done := redirect(t, d.act(ref, action, form))

			// Drawn before the mail went: being sent, and the page reloads to show it sent.
			resp := d.get(done)
			body := page(t, resp, http.StatusOK)
			if !strings.Contains(body, i18n.T(i18n.DA, "admin.done.mail_sending")) || resp.Headers["Refresh"] == "" {
				t.Errorf("before the mail went: no 'being sent' or no refresh:\n%s", body)
			}
			for _, lie := range []string{i18n.T(i18n.DA, "admin.mail.failed.one"), "kunne ikke", "retried", "prøver igen"} {
				if strings.Contains(strings.ToLower(body), strings.ToLower(lie)) {
					t.Errorf("the page claims a failure that has not happened (%q)", lie)
				}
			}
			// The mail goes after the answer; the reload shows it sent, and stops reloading.
			e.held.Run()
			if n := len(e.env.Mails(t, requester)); n != 1 {
				t.Fatalf("%d mails", n)
			}
			resp = d.get(done)
			body = page(t, resp, http.StatusOK)
			if !strings.Contains(body, i18n.T(i18n.DA, "admin.done.mail_sent", i18n.DateTime(i18n.DA, now0.In(e.h.cal.Location())))) || resp.Headers["Refresh"] != "" {
				t.Errorf("after the mail went: not shown as sent, or still refreshing:\n%s", body)
			}
		})
	}

	// A mail that failed, or was left queued past its lease, says exactly that, and when it is
	// tried again; one out of attempts says it is not.
	ref := dsr.NewReference()
	r := e.seed(ref, submission("da", "f."+uniq()+"@example.dk"), received0, verify)
	ch, _ := r.Complete(d.email, "Svar.", now0)
	if err := e.st.Commit(context.Background(), r, ch); err != nil {
		t.Fatal(err)
	}
	states := []struct {
		state dsr.MailState
		want  string
	}{
		{dsr.MailState{State: dsr.MailFailed, At: now0, Attempts: 1}, i18n.T(i18n.DA, "admin.mail.failed.one", 1)},
		{dsr.MailState{State: dsr.MailQueued, At: now0.Add(-time.Hour), Attempts: 1}, i18n.T(i18n.DA, "admin.mail.later")},
		{dsr.MailState{State: dsr.MailFailed, At: now0, Attempts: dsr.MaxMailAttempts}, i18n.T(i18n.DA, "admin.mail.given_up.other", dsr.MaxMailAttempts)},
	}
	for _, s := range states {
		if err := e.st.RecordMails(context.Background(), r, map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: s.state}); err != nil {
			t.Fatal(err)
		}
		resp := d.get(requestPath(ref) + "?done=complete")
		if body := page(t, resp, http.StatusOK); !strings.Contains(body, s.want) || resp.Headers["Refresh"] != "" {
			t.Errorf("mail %s after %d attempts: page lacks %q, or refreshes", s.state.State, s.state.Attempts, s.want)
		}
	}
}
