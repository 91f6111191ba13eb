package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// TestInABrowser walks a DPO through the workspace in headless Chromium, as the product is
// used: a digest link that needs sign-in, the mailed link, an answer to a request, then a
// link opened from another site (webmail) while signed in, and sign-out. A real browser is
// what decides whether a SameSite=Strict cookie is sent and what Origin a form post carries,
// which the session and CSRF checks rely on.
func TestInABrowser(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()

	ln, base := browsertest.Listen(t)
	e := setup(t, func(c *config.Admin) { c.BaseURL = base })
	requester := "browser." + uniq() + "@example.dk"
	e.seed(ref0, submission("da", requester), received0, verify)
	// The worklist in every colour it has: overdue, due in two days, just in, and unconfirmed.
	e.seed(dsr.NewReference(), submission("da", "late."+uniq()+"@example.dk"), time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), verify)
	e.seed(dsr.NewReference(), submission("nb", "soon."+uniq()+"@example.dk"), time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC), verify)
	e.seed(dsr.NewReference(), submission("en", "new."+uniq()+"@example.dk"), now0.Add(-time.Hour), verify)
	e.seed(dsr.NewReference(), submission("en", "pending."+uniq()+"@example.dk"), now0.Add(-time.Hour))

	var mu sync.Mutex
	var posts []http.Header
	var visits []string // "<sec-fetch-site> <with|without session cookie>" of each GET of the request page
	browsertest.Serve(t, ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		switch {
		case r.Method == http.MethodPost:
			posts = append(posts, r.Header.Clone())
		case r.URL.Path == "/admin/requests/"+ref0:
			_, err := r.Cookie(sessionCookieName)
			visits = append(visits, r.Header.Get("Sec-Fetch-Site")+map[bool]string{true: " with", false: " without"}[err == nil])
		}
		mu.Unlock()
		browsertest.HTTPAPI(e.h.Handle, "ANY /admin/{proxy+}").ServeHTTP(w, r)
	}))
	// "Webmail": another site holding a link into the workspace. localhost and 127.0.0.1 are
	// different sites to the browser.
	mail := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `<!doctype html><title>Mail</title><a id="open" href="%s/admin/requests/%s">Open</a>`, base, ref0)
	}))
	t.Cleanup(mail.Close)
	mailURL := strings.Replace(mail.URL, "127.0.0.1", "localhost", 1)

	ctx := browsertest.New(t, 60*time.Second, chromedp.WindowSize(1024, 800)).Context()
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
	heading := func() string { return text(chromedp.Text(chromedp.CSS("h1"))) }

	// A digest link, not signed in: sign-in, and back to the request afterwards.
	dpoAddr := e.cfg.DPOAddresses[0]
	do(chromedp.Navigate(base+"/admin/requests/"+ref0), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), dpoAddr), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	tok, _ := e.linkFrom(dpoAddr)
	do(chromedp.Navigate(base+"/admin/signin/confirm?token="+tok), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(`ol.history`)))
	if h := heading(); h != i18n.T(i18n.DA, "admin.detail.heading", ref0) {
		t.Fatalf("after sign-in on %q, want the request", h)
	}
	browsertest.CheckReadable(t, ctx, "request page")

	// Answer it: choose the action, write, see the mail, send it.
	do(chromedp.Click(chromedp.CSS(`a[href*="action=complete"]`)), chromedp.WaitVisible(chromedp.CSS(`[id="complete.message"]`)),
		chromedp.SendKeys(chromedp.CSS(`[id="complete.message"]`), "Vi har sendt dig dine oplysninger."),
		// An access request answered without the desk's delivery: the DPO confirms it.
		chromedp.Click(chromedp.CSS(`[id="complete.confirm-0"]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/complete"] button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".mail pre")))
	if got := text(chromedp.Text(chromedp.CSS(".panel .mail pre"))); !strings.Contains(got, "Vi har sendt dig dine oplysninger.") {
		t.Fatalf("the preview does not show the answer:\n%s", got)
	}
	if n := len(e.env.Mails(t, requester)); n != 0 {
		t.Fatalf("the preview sent %d mails", n)
	}
	do(chromedp.Click(chromedp.CSS(`form[action$="/complete"] button[value=confirm]`)), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	browsertest.CheckReadable(t, ctx, "answered request")
	if r := e.request(ref0); r.Status != dsr.Completed || r.Audit[len(r.Audit)-1].Actor != dpoAddr {
		t.Fatalf("after the answer: %s by %s", r.Status, r.Audit[len(r.Audit)-1].Actor)
	}
	if n := len(e.env.Mails(t, requester)); n != 1 {
		t.Fatalf("%d mails to the requester", n)
	}

	for _, page := range []string{"/admin", "/admin/report"} {
		do(chromedp.Navigate(base+page), chromedp.WaitVisible(chromedp.CSS("main h1")))
		browsertest.CheckReadable(t, ctx, page)
		if got := text(chromedp.Text(chromedp.CSS("main"))); page == "/admin" && !strings.Contains(got, "Overskredet med") {
			t.Errorf("the worklist shows no overdue request:\n%s", got)
		}
	}

	// From webmail, signed in: the Strict cookie is withheld on the cross-site click, the page
	// reloads itself from our origin, and the request opens without a new sign-in.
	mu.Lock()
	visits = nil
	mu.Unlock()
	do(chromedp.Navigate(mailURL), chromedp.Click(chromedp.CSS("#open")), chromedp.WaitVisible(chromedp.CSS("header form.who")))
	if h := heading(); h != i18n.T(i18n.DA, "admin.detail.heading", ref0) {
		t.Fatalf("from webmail on %q, want the request", h)
	}
	mu.Lock()
	if got := strings.Join(visits, ", "); got != "cross-site without, same-origin with" {
		t.Errorf("visits from webmail: %s", got)
	}
	mu.Unlock()

	// Sign out, on the server too.
	do(chromedp.Click(chromedp.CSS("header form.who button")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	do(chromedp.Navigate(base+"/admin"), chromedp.WaitVisible(chromedp.CSS("#email")))

	// What the origin check sees from a real browser: under Referrer-Policy same-origin our
	// form posts carry our origin (under no-referrer they would say null, which is refused).
	mu.Lock()
	defer mu.Unlock()
	if len(posts) < 4 {
		t.Fatalf("%d posts seen", len(posts))
	}
	for _, h := range posts {
		if o, s := h.Get("Origin"), h.Get("Sec-Fetch-Site"); o != base || s != "same-origin" {
			t.Errorf("a post from our own page came with Origin %q, Sec-Fetch-Site %q", o, s)
		}
	}
}
