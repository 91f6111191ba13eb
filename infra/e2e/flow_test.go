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
)

// filing is one person's request, in their language.
type filing struct {
	lang           i18n.Lang
	acceptLanguage string
	typ            dsr.Type
	name, details  string
}

var filings = []filing{
	{i18n.DA, "da-DK,da;q=0.9,en-US;q=0.8,en;q=0.7", dsr.Access, "Mette Sørensen", "Jeg vil gerne vide, hvilke oplysninger I har om mig."},
	{i18n.NB, "nb-NO,nb;q=0.9,no;q=0.8,en;q=0.7", dsr.Erasure, "Kari Nordmann", "Slett kontoen min og alt dere har lagret om meg."},
	{i18n.EN, "en-GB,en;q=0.9", dsr.Portability, "Alex Smith", "Please send me my order history in a machine-readable format."},
}

// TestFileConfirmAndAnswer is the desk's main path over HTTP, as a person's browser walks it:
// the form in the browser's language, the post, the mailed link, the confirmation, the
// receipt and the DPO's notice with the right deadline; then, for one request, the DPO
// signing in from the notice's link and answering, and the answer reaching the requester.
func TestFileConfirmAndAnswer(t *testing.T) {
	d := desk(t)
	for i, f := range filings {
		t.Run(string(f.lang), func(t *testing.T) {
			t.Parallel()
			person := newVisitor(t, d, f.acceptLanguage)
			email := address("requester-" + string(f.lang))
			ref := fileAndConfirm(t, d, person, f, email)
			if i == 1 { // one language is enough for the workspace; its mail goes out in nb
				answer(t, d, ref, f, email)
			}
		})
	}
}

// fileAndConfirm files f from the form and confirms it from the mailed link, checking each
// page and mail, and returns the request's reference.
func fileAndConfirm(t *testing.T, d *stack, person *visitor, f filing, email string) string {
	t.Helper()
	// The form, in the language the browser asks for.
	form := person.open(d.base+"/", "none")
	expectPage(t, form, f.lang, i18n.T(f.lang, "intake.form.title"), i18n.T(f.lang, "intake.form.controller", controller))
	if !strings.Contains(form.body, `action="/requests"`) {
		t.Fatalf("the form does not post to /requests:\n%s", form.body)
	}
	sent := person.submit(d.base+"/requests", url.Values{
		"lang":         {hidden(t, form.body, "lang")},
		"ts":           {hidden(t, form.body, "ts")},
		"type":         {string(f.typ)},
		"name":         {f.name},
		"email":        {email},
		"details":      {f.details},
		"customer_ref": {"K-" + string(f.lang)},
		"website":      {""},
	})
	next := sent.location(t, d.base)
	if next != d.base+"/sent?lang="+string(f.lang) {
		t.Errorf("after filing: redirect to %s", next)
	}
	expectPage(t, person.open(next, "same-origin"), f.lang, i18n.T(f.lang, "intake.sent.title"))

	// The mail with the link.
	verification := mails(t, d, email, 1, nil)[0]
	if want := i18n.T(f.lang, "intake.mail.verification.subject", controller); verification.Subject != want {
		t.Errorf("verification subject %q, want %q", verification.Subject, want)
	}
	verify := link(t, d, verification, "/verify?token=")
	tok, err := url.Parse(verify)
	if err != nil {
		t.Fatal(err)
	}
	ref, _, _ := strings.Cut(tok.Query().Get("token"), ".")
	shown := person.open(verify, "none")
	expectPage(t, shown, f.lang, i18n.T(f.lang, "intake.verify.title"), ref, i18n.T(f.lang, "type."+string(f.typ)+".name"))
	mails(t, d, email, 1, nil) // opening the link (mail scanners do) confirms and sends nothing

	// The button.
	done := person.submit(d.base+"/verify", url.Values{"token": {hidden(t, shown.body, "token")}, "lang": {hidden(t, shown.body, "lang")}})
	r, err := d.store.GetRequest(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline is computed here from the receipt time alone, not read from what the
	// functions wrote: one month from receipt, rolled past weekends and holidays.
	due := d.cal.Due(r.ReceivedAt)
	if r.Status != dsr.Open || !r.Due.Equal(due) || r.Type != f.typ || r.Lang != string(f.lang) {
		t.Fatalf("stored: status %s, due %s (want %s), type %s, lang %s", r.Status, r.Due, due, r.Type, r.Lang)
	}
	loc := d.cal.Location()
	expectPage(t, done, f.lang, i18n.T(f.lang, "intake.confirmed.title"), ref, i18n.LongDate(f.lang, due.In(loc)), dpoNotified)

	// The receipt, in the requester's language, and the DPO's notice, in the DPO's.
	receipt := mails(t, d, email, 2, nil)[1]
	if want := i18n.T(f.lang, "intake.mail.receipt.subject", ref); receipt.Subject != want {
		t.Errorf("receipt subject %q, want %q", receipt.Subject, want)
	}
	if !strings.Contains(receipt.Text, i18n.LongDate(f.lang, due.In(loc))) {
		t.Errorf("the receipt does not give the deadline %s:\n%s", i18n.LongDate(f.lang, due.In(loc)), receipt.Text)
	}
	notice := mails(t, d, dpoNotified, 1, about(ref))[0]
	want := i18n.T(dpoLang, "intake.mail.dpo_new.subject", ref, i18n.T(dpoLang, "type."+string(f.typ)+".name"), i18n.LongDate(dpoLang, due.In(loc)))
	if notice.Subject != want {
		t.Errorf("DPO notice subject %q, want %q", notice.Subject, want)
	}
	if !strings.Contains(notice.Text, f.name) || !strings.Contains(notice.Text, email) {
		t.Errorf("the DPO notice lacks who asked:\n%s", notice.Text)
	}
	return ref
}

// answer signs the DPO in from the notice's link and completes the request.
func answer(t *testing.T, d *stack, ref string, f filing, email string) {
	t.Helper()
	dpo := newVisitor(t, d, "da-DK,da;q=0.9")
	notice := mails(t, d, dpoNotified, 1, about(ref))[0]

	// The link from the mail program: not signed in, so to sign-in, and back afterwards.
	signin := dpo.open(link(t, d, notice, "/admin/requests/"+ref), "none").location(t, d.base)
	if want := d.base + "/admin/signin?next=" + url.QueryEscape("/admin/requests/"+ref); signin != want {
		t.Errorf("not signed in: redirect to %s, want %s", signin, want)
	}
	form := dpo.open(signin, "none")
	expectPage(t, form, dpoLang, i18n.T(dpoLang, "admin.signin.heading"))
	sent := dpo.submit(d.base+"/admin/signin", url.Values{"email": {dpoHTTP}, "next": {hidden(t, form.body, "next")}})
	expectPage(t, sent, dpoLang, i18n.T(dpoLang, "admin.sent.heading"))

	signinMail := mails(t, d, dpoHTTP, 1, nil)[0]
	if want := i18n.T(dpoLang, "admin.mail.signin.subject", controller); signinMail.Subject != want {
		t.Errorf("sign-in subject %q, want %q", signinMail.Subject, want)
	}
	// Asking set the cookie that binds the link to this browser, and only that.
	if len(dpo.cookies) != 1 || dpo.cookies["__Host-dsr_signin"] == "" {
		t.Fatalf("asking for a link set cookies %v, want only the sign-in cookie", dpo.cookies)
	}
	confirm := dpo.open(link(t, d, signinMail, "/admin/signin/confirm?token="), "none")
	expectPage(t, confirm, dpoLang, i18n.T(dpoLang, "admin.confirm.heading"))
	if len(dpo.cookies) != 1 {
		t.Fatalf("the confirmation page set cookies %v; only the button may sign in", dpo.cookies)
	}
	// The link works only in the browser that asked for it.
	elsewhere := newVisitor(t, d, "da-DK")
	if p := elsewhere.submit(d.base+"/admin/signin/confirm", url.Values{"token": {hidden(t, confirm.body, "token")}}); p.status != http.StatusForbidden {
		t.Errorf("the link in another browser: %d, want 403", p.status)
	}
	back := dpo.submit(d.base+"/admin/signin/confirm", url.Values{"token": {hidden(t, confirm.body, "token")}}).location(t, d.base)
	if back != d.base+"/admin/requests/"+ref {
		t.Errorf("after sign-in: redirect to %s", back)
	}
	if dpo.cookies["__Host-dsr_session"] == "" || dpo.cookies["__Host-dsr_signin"] != "" {
		t.Fatalf("after sign-in the browser holds %v, want the session cookie alone", dpo.cookies)
	}

	// The request; the answer's own form, chosen; the mail it would send, shown; then sent.
	detail := dpo.open(back, "same-origin")
	expectPage(t, detail, dpoLang, i18n.T(dpoLang, "admin.detail.heading", ref), f.name, email, f.details)
	form = dpo.open(back+"?action=complete", "same-origin")
	message := "Vi har slettet kontoen din og alle opplysninger om deg."
	answer := url.Values{
		"csrf":    {hidden(t, form.body, "csrf")},
		"version": {hidden(t, form.body, "version")},
		"message": {message},
		"step":    {"preview"},
	}
	if f.typ.Rules().Delivers {
		// Answered without the desk's delivery (functions/admin/delivery_test.go delivers files): the DPO
		// confirms the requester got their data another way.
		answer.Set("confirm", "no_delivery")
	}
	preview := dpo.submit(d.base+"/admin/requests/"+ref+"/complete", answer)
	expectPage(t, preview, dpoLang, i18n.T(f.lang, "admin.mail.completion.subject", ref), message)
	answer.Set("step", "confirm")
	doneURL := dpo.submit(d.base+"/admin/requests/"+ref+"/complete", answer).location(t, d.base)
	if doneURL != d.base+"/admin/requests/"+ref+"?done=complete" {
		t.Errorf("after completing: redirect to %s", doneURL)
	}
	// The mail goes after the answer: the page says it is being sent until it has gone, and
	// then when it went. It never says it failed.
	for deadline := time.Now().Add(10 * time.Second); ; {
		done := dpo.open(doneURL, "same-origin")
		expectPage(t, done, dpoLang, i18n.T(dpoLang, "admin.done.complete"))
		text := html.UnescapeString(done.body)
		if strings.Contains(text, strings.TrimSuffix(i18n.T(dpoLang, "admin.done.mail_sent", ""), ".")) {
			break
		}
		if !strings.Contains(text, i18n.T(dpoLang, "admin.done.mail_sending")) || done.header.Get("Refresh") == "" {
			t.Fatalf("the done page says neither sent nor being sent (with a refresh):\n%s", done.body)
		}
		if time.Now().After(deadline) {
			t.Fatal("the mail was still being sent after 10 s")
		}
		time.Sleep(200 * time.Millisecond)
	}

	r, err := d.store.GetRequest(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if last := r.Audit[len(r.Audit)-1]; r.Status != dsr.Completed || last.Actor != dpoHTTP || last.Action != dsr.ActionCompleted {
		t.Errorf("stored: %s, last event %s by %s", r.Status, last.Action, last.Actor)
	}

	// The requester's answer, in their language, with the DPO's words.
	completion := mails(t, d, email, 3, nil)[2]
	if want := i18n.T(f.lang, "admin.mail.completion.subject", ref); completion.Subject != want {
		t.Errorf("completion subject %q, want %q", completion.Subject, want)
	}
	if !strings.Contains(completion.Text, message) {
		t.Errorf("the completion mail lacks the answer:\n%s", completion.Text)
	}

	// Without the cookie the same action is refused: the session is what authorises it.
	outsider := newVisitor(t, d, "da")
	if p := outsider.submit(d.base+"/admin/requests/"+ref+"/note", url.Values{"note": {"x"}}); p.status != http.StatusSeeOther ||
		!strings.HasPrefix(p.header.Get("Location"), "/admin/signin") {
		t.Errorf("a post without a session: %d %s", p.status, p.header.Get("Location"))
	}
}
