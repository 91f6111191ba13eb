package e2e

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// answers are what each requester writes back, in their language.
var answers = map[i18n.Lang]string{
	i18n.DA: "Mit kundenummer er K-4711.",
	i18n.NB: "Kundenummeret mitt er K-4711.",
	i18n.EN: "My customer number is K-4711.",
}

// TestConversationInABrowser is the conversation with the requester in headless Chromium on
// the runner, for a requester in each language: the DPO asks them to confirm who they are,
// stopping the clock with a reason, from the request page (the form opens with the question
// in the requester's language; the exact mail is shown before it goes); the requester opens
// their status page from the question's mail in webmail (another site), sees the question and
// why the deadline stands still, and answers; the DPO sees the answer on the request page and
// in the worklist. Every page is saved under artifacts/e2e/, the requester's at 1280 and
// 390 px.
func TestConversationInABrowser(t *testing.T) {
	browsertest.Require(t)
	d := desk(t)
	shots := browsertest.ArtifactDir(t, "e2e")

	type filed struct {
		f     filing
		ref   string
		email string
	}
	var requests []filed
	for _, f := range filings {
		email := address("conversation-" + string(f.lang))
		requests = append(requests, filed{f, fileAndConfirm(t, d, newVisitor(t, d, f.acceptLanguage), f, email), email})
	}

	// "Webmail": another site showing a mail's link. localhost and 127.0.0.1 are different
	// sites to the browser.
	var inbox string
	webmail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Mail</title><a id="open" href="%s">Open</a>`, inbox)
	}))
	t.Cleanup(webmail.Close)
	webmailURL := strings.Replace(webmail.URL, "127.0.0.1", "localhost", 1)

	dpo := browsertest.New(t, 400*time.Second, chromedp.WindowSize(1280, 900))
	heading := func(b *browsertest.Browser) string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("h1"))) }
	mainText := func(b *browsertest.Browser) string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("main"))) }
	dpoShot := func(name string) {
		t.Helper()
		browsertest.CheckReadable(t, dpo.Context(), "dpo "+name)
		dpo.Screenshot(shots, "conversation-dpo-"+name)
	}

	// The DPO signs in, from the first request's page.
	first := requests[0].ref
	dpo.Do(chromedp.Navigate(d.base+"/admin/requests/"+first), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), dpoConversation), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	dpo.Do(chromedp.Navigate(link(t, d, mails(t, d, dpoConversation, 1, nil)[0], "/admin/signin/confirm?token=")),
		chromedp.WaitVisible(chromedp.CSS("main button[type=submit]")),
		chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(`a[href*="action=ask_identity"]`)))

	for _, req := range requests {
		lang, ref := req.f.lang, req.ref
		t.Run(string(lang), func(t *testing.T) {
			reason := "To kunder har samme navn som dig; vi kan ikke se, hvem af dem der har skrevet."

			// The DPO asks: the identity question's form opens with the question in the
			// requester's language.
			text := chromedp.CSS(`[id="ask_identity.text"]`)
			dpo.Do(chromedp.Navigate(d.base+"/admin/requests/"+ref), chromedp.WaitVisible(chromedp.CSS(`a[href*="action=ask_identity"]`)),
				chromedp.Click(chromedp.CSS(`a[href*="action=ask_identity"]`)), chromedp.WaitVisible(text))
			question := i18n.T(lang, "admin.ask.template.identity")
			if got := browsertest.Get(dpo, chromedp.Value(text)); got != question {
				t.Fatalf("the question opens with %q, want the %s template", got, lang)
			}
			dpoShot(string(lang) + "-1-ask")
			dpo.Do(chromedp.SendKeys(chromedp.CSS(`[id="ask_identity.pause_reason"]`), reason),
				chromedp.Click(chromedp.CSS(`button[name=step][value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".panel .mail pre")))
			preview := browsertest.Get(dpo, chromedp.Text(chromedp.CSS(".panel .mail pre")))
			if !strings.Contains(preview, question) || !strings.Contains(preview, reason) || !strings.Contains(preview, "/status?token="+ref+".…") {
				t.Errorf("the preview:\n%s", preview)
			}
			dpoShot(string(lang) + "-2-preview")
			dpo.Do(chromedp.Click(chromedp.CSS(`button[name=step][value=confirm]`)), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
			if got := browsertest.Get(dpo, chromedp.Text(chromedp.CSS(".notice.ok h2"))); got != i18n.T(dpoLang, "admin.done.ask_identity") {
				t.Errorf("after asking: %q", got)
			}

			// The requester: the question's mail, its link opened from webmail.
			mail := mails(t, d, req.email, 1, func(m emulator.Mail) bool {
				return m.Subject == i18n.T(lang, "portal.mail.question.subject", ref)
			})[0]
			inbox = link(t, d, mail, "/status?token=")
			b := browsertest.New(t, 90*time.Second, chromedp.WindowSize(1280, 900), chromedp.Flag("accept-lang", req.f.acceptLanguage))
			shot := func(name string) {
				t.Helper()
				browsertest.CheckReadable(t, b.Context(), string(lang)+" "+name)
				b.Screenshot(shots, "conversation-"+string(lang)+"-"+name+"-1280")
				b.Do(chromedp.EmulateViewport(390, 844))
				if browsertest.Get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`)) {
					t.Errorf("%s scrolls sideways at 390 px", name)
				}
				b.Screenshot(shots, "conversation-"+string(lang)+"-"+name+"-390")
				b.Do(chromedp.EmulateViewport(1280, 900))
			}
			b.Do(chromedp.Navigate(webmailURL), chromedp.Click(chromedp.CSS("#open")), chromedp.WaitVisible(chromedp.CSS("#text")))
			if h := heading(b); h != i18n.T(lang, "portal.status.heading", ref) {
				t.Fatalf("the question's link shows %q", h)
			}
			page := mainText(b)
			for _, w := range []string{question, reason, i18n.T(lang, "portal.waiting.heading")} {
				if !strings.Contains(page, w) {
					t.Errorf("the status page lacks %q:\n%s", w, page)
				}
			}
			shot("1-question")
			b.Do(chromedp.SendKeys(chromedp.CSS("#text"), answers[lang]), chromedp.Click(chromedp.CSS("main form button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
			thread := browsertest.Get(b, chromedp.Text(chromedp.CSS("ol.thread")))
			if i, j := strings.Index(thread, question), strings.Index(thread, answers[lang]); i < 0 || j < i {
				t.Errorf("the requester does not see both messages in order:\n%s", thread)
			}
			shot("2-replied")

			// The DPO: told by mail, and the answer on the request page, after the question.
			mails(t, d, dpoNotified, 1, func(m emulator.Mail) bool {
				return m.Subject == i18n.T(dpoLang, "portal.mail.dpo_reply.subject", ref)
			})
			dpo.Do(chromedp.Navigate(d.base+"/admin/requests/"+ref), chromedp.WaitVisible(chromedp.CSS("ol.history")))
			history := browsertest.Get(dpo, chromedp.Text(chromedp.CSS("ol.history")))
			if i, j := strings.Index(history, question), strings.Index(history, answers[lang]); i < 0 || j < i ||
				!strings.Contains(history, i18n.T(dpoLang, "action.replied")) || !strings.Contains(history, i18n.T(dpoLang, "action.clock_resumed")) {
				t.Errorf("the DPO does not see the exchange in order:\n%s", history)
			}
			dpoShot(string(lang) + "-3-replied")
			r, err := d.store.GetRequest(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			// The clock ran again at the reply: moved on by the days it stood still (none, here).
			if r.Waiting != nil || len(r.Pauses) != 1 || r.Pauses[0].Until.IsZero() || r.Pauses[0].Reason != reason || r.Deadline().Before(r.Due) {
				t.Errorf("after the reply: waiting %+v, pauses %+v, deadline %v (due %v)", r.Waiting, r.Pauses, r.Deadline(), r.Due)
			}
			if st, _ := r.Conversation(); st != dsr.ConversationReplied {
				t.Errorf("conversation %s", st)
			}
		})
	}
	dpo.Do(chromedp.Navigate(d.base+"/admin"), chromedp.WaitVisible(chromedp.CSS("main h1")))
	dpoShot("4-worklist")
	if w := mainText(dpo); !strings.Contains(w, strings.Split(i18n.T(dpoLang, "admin.conversation.replied", "x"), " x")[0]) {
		t.Errorf("the worklist does not show the replies:\n%s", w)
	}
}
