package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// questions are what the DPO asks in each language, as the workspace's templates would.
var questions = map[i18n.Lang]string{
	i18n.DA: "For at være sikre på, at det er dig, beder vi om dit kundenummer.\nDet står på dine fakturaer.",
	i18n.NB: "For å være sikre på at det er deg, ber vi om kundenummeret ditt.\nDet står på fakturaene dine.",
	i18n.EN: "To be sure it is you, please give us your customer number.\nIt is on your invoices.",
}

// TestInABrowser is the requester's side in headless Chromium, in each language: the
// question's mail is opened from webmail (another site), the status page shows the question
// and why the deadline stands still, the requester answers, and the page shows the answer.
// What only a browser decides is exercised for real: the SameSite=Strict cookie set on a
// cross-site navigation and sent with the same-origin post, the Origin and Sec-Fetch-Site of
// that post, the page's CSP. Pages are saved at 1280 and 390 px, and must not scroll
// sideways at 390.
func TestInABrowser(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()
	ln, base := browsertest.Listen(t)
	hs := newHarness(t, withEnv("BASE_URL", base))
	var mu sync.Mutex
	var posts []http.Header
	browsertest.Serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			posts = append(posts, r.Header.Clone())
			mu.Unlock()
		}
		browsertest.HTTPAPI(hs.h.Handle, "ANY /status/{proxy+}").ServeHTTP(w, r)
	}))
	// "Webmail": another site showing the mail's link. localhost and 127.0.0.1 are different
	// sites to the browser.
	var inbox sync.Map
	mail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l, _ := inbox.Load(r.URL.Query().Get("lang"))
		fmt.Fprintf(w, `<!doctype html><title>Mail</title><a id="open" href="%s">Open</a>`, l)
	}))
	t.Cleanup(mail.Close)
	mailURL := strings.Replace(mail.URL, "127.0.0.1", "localhost", 1)
	shots := browsertest.ArtifactDir(t, "e2e")

	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			hs.t = t
			email := address("browser")
			r := hs.seed(lang, email)
			hs.clock.Set(t0.Add(24 * time.Hour))
			hs.ask(r, dsr.PurposeIdentity, questions[lang], map[i18n.Lang]string{
				i18n.DA: "Der er to kunder med dit navn.", i18n.NB: "Det er to kunder med navnet ditt.", i18n.EN: "Two customers share your name.",
			}[lang])
			hs.clock.Set(now0)
			// The question's mail, sent as the workspace sends it, with its link.
			if err := hs.h.outbox.Deliver(context.Background(), r, []dsr.MailKind{dsr.MailQuestion}, ""); err != nil {
				t.Fatal(err)
			}
			mails := hs.env.Mails(t, email)
			if len(mails) != 1 {
				t.Fatalf("%d mails", len(mails))
			}
			inbox.Store(string(lang), regexp.MustCompile(regexp.QuoteMeta(base)+`/status\?token=\S+`).FindString(mails[0].Text))

			b := browsertest.New(t, 90*time.Second, chromedp.WindowSize(1280, 900))
			heading := func() string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("h1"))) }
			sideways := func() bool {
				return browsertest.Get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
			}
			// shot saves the page at 1280 and at 390 px, and checks it is readable and does not
			// scroll sideways on the phone.
			shot := func(name string) {
				t.Helper()
				browsertest.CheckReadable(t, b.Context(), string(lang)+" "+name)
				b.Screenshot(shots, "portal-"+string(lang)+"-"+name+"-1280")
				b.Do(chromedp.EmulateViewport(390, 844))
				if sideways() {
					t.Errorf("%s scrolls sideways at 390 px", name)
				}
				b.Screenshot(shots, "portal-"+string(lang)+"-"+name+"-390")
				b.Do(chromedp.EmulateViewport(1280, 900))
			}

			b.Do(chromedp.Navigate(mailURL+"/?lang="+string(lang)), chromedp.Click(chromedp.CSS("#open")), chromedp.WaitVisible(chromedp.CSS("#text")))
			if h := heading(); h != i18n.T(lang, "portal.status.heading", r.Ref) {
				t.Fatalf("the mail's link shows %q", h)
			}
			main := browsertest.Get(b, chromedp.Text(chromedp.CSS("main")))
			for _, want := range []string{strings.Split(questions[lang], "\n")[0], i18n.T(lang, "portal.waiting.heading"), i18n.T(lang, "portal.label.deadline")} {
				if !strings.Contains(main, want) {
					t.Errorf("the page lacks %q:\n%s", want, main)
				}
			}
			shot("1-question")

			answer := map[i18n.Lang]string{i18n.DA: "Mit kundenummer er 4711.", i18n.NB: "Kundenummeret mitt er 4711.", i18n.EN: "My customer number is 4711."}[lang]
			b.Do(chromedp.SendKeys(chromedp.CSS("#text"), answer), chromedp.Click(chromedp.CSS("main form button[type=submit]")),
				chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
			if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(".notice.ok h2"))); got != i18n.T(lang, "portal.done.heading") {
				t.Errorf("after the reply: %q", got)
			}
			msgs := browsertest.Get(b, chromedp.Text(chromedp.CSS("ol.thread")))
			if !strings.Contains(msgs, answer) || strings.Index(msgs, answer) < strings.Index(msgs, strings.Split(questions[lang], "\n")[0]) {
				t.Errorf("the messages are not both there in order:\n%s", msgs)
			}
			shot("2-replied")
			got, stored := hs.request(r.Ref)
			if len(stored) != 2 || stored[1].Text != answer || got.Waiting != nil || got.Paused() != nil {
				t.Fatalf("stored: %d messages, waiting %v, paused %v", len(stored), got.Waiting, got.Paused())
			}

			// A link that was never issued, and the way to new ones.
			b.Do(chromedp.Navigate(base+"/status?token="+r.Ref+".AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8&lang="+string(lang)),
				chromedp.WaitVisible(chromedp.CSS("main .button")))
			if h := heading(); h != i18n.T(lang, "portal.invalid.title") {
				t.Errorf("a forged link shows %q", h)
			}
			shot("3-invalid")
			b.Do(chromedp.Click(chromedp.CSS("main .button")), chromedp.WaitVisible(chromedp.CSS("#email")))
			shot("4-lost")
			b.Do(chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.Click(chromedp.CSS("main form button[type=submit]")),
				chromedp.WaitNotPresent(chromedp.CSS("#email")), chromedp.WaitVisible(chromedp.CSS("main h1")))
			if h := heading(); h != i18n.T(lang, "portal.lost.sent.title") {
				t.Errorf("after asking for links: %q", h)
			}
			shot("5-lost-sent")
		})
	}

	// What the checks see from a real browser: our pages send no referrer, so form posts carry
	// Origin: null and rely on Sec-Fetch-Site; the cookie set on the cross-site navigation
	// came along.
	mu.Lock()
	defer mu.Unlock()
	if len(posts) < 6 {
		t.Fatalf("%d posts seen", len(posts))
	}
	for _, h := range posts {
		if o, s := h.Get("Origin"), h.Get("Sec-Fetch-Site"); (o != "null" && o != base) || s != "same-origin" {
			t.Errorf("a post from our own page came with Origin %q, Sec-Fetch-Site %q", o, s)
		}
	}
}
