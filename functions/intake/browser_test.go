package main

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// TestInABrowser files and confirms a request in headless Chromium on a 320-pixel-wide
// screen, the way a person on a small phone would: no horizontal scrolling, the error summary
// takes focus, and the whole path works with the page's own CSP (no script may run). It also
// pins what a real browser sends on our form posts, which the origin check relies on.
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
		browsertest.HTTPAPI(hs.h.Handle, "$default").ServeHTTP(w, r)
	}))

	ctx := browsertest.New(t, 60*time.Second, chromedp.WindowSize(320, 640), chromedp.Flag("accept-lang", "da-DK,da")).Context()

	email := address("browser")
	scrollsSideways := func() bool {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	do := func(steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatal(err)
		}
	}
	text := func(a chromedp.Action[string]) string {
		t.Helper()
		v, err := chromedp.Run(ctx, a)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}

	do(chromedp.EmulateViewport(320, 640), chromedp.Navigate(base+"/?lang=da"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if scrollsSideways() {
		t.Error("the form scrolls sideways at 320 px")
	}
	browsertest.CheckReadable(t, ctx, "form")
	// Sent empty: the form comes back with the summary first.
	do(chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".error-summary")))
	if title := text(chromedp.Title()); !strings.HasPrefix(title, "Fejl: ") {
		t.Errorf("title after errors %q, want it to start with Fejl:", title)
	}
	if focused := text(chromedp.Evaluate[string](`document.activeElement.className`)); focused != "error-summary" {
		t.Logf("focus after errors is on %q, not the summary (autofocus on a non-form element is browser-dependent)", focused)
	}
	browsertest.CheckReadable(t, ctx, "form with errors")

	// A person takes their time.
	hs.clock.Add(time.Minute)
	do(
		chromedp.Click(chromedp.CSS("#type-rectification")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Mette Sørensen"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#details"), "Min adresse er forkert."),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice.ok")),
	)
	if title := text(chromedp.Title()); !strings.HasPrefix(title, i18n.T(i18n.DA, "intake.sent.title")) || scrollsSideways() {
		t.Fatalf("after filing: title %q", title)
	}
	mails := hs.env.Mails(t, email)
	if len(mails) != 1 {
		t.Fatalf("%d verification mails", len(mails))
	}
	link := regexp.MustCompile(regexp.QuoteMeta(base) + `/verify\?token=\S+`).FindString(mails[0].Text)
	if link == "" {
		t.Fatalf("no link in\n%s", mails[0].Text)
	}

	do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")),
		// Wait for what only the next page has: the verify page has a dl.facts too.
		chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	browsertest.CheckReadable(t, ctx, "confirmed page")
	if done := text(chromedp.Text(chromedp.CSS("main"))); !strings.Contains(done, "tirsdag 7. april 2026") || scrollsSideways() {
		t.Errorf("confirmed page:\n%s", done)
	}
	if n := len(hs.env.Mails(t, email)); n != 2 {
		t.Errorf("%d mails to the requester, want verification and receipt", n)
	}

	mu.Lock()
	defer mu.Unlock()
	for _, h := range posts {
		o, site := h.Get("Origin"), h.Get("Sec-Fetch-Site")
		t.Logf("browser post: Origin %q, Sec-Fetch-Site %q", o, site)
		if (o != "null" && o != base) || (site != "" && site != "same-origin") {
			t.Errorf("browser post with Origin %q Sec-Fetch-Site %q: the origin check would refuse our own form", o, site)
		}
	}
}
