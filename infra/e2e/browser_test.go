package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// TestInABrowser walks the desk in headless Chromium against the runner: a person files and
// confirms a request in each language, their browser's language choosing the form's; then the
// DPO signs in from the link in the notice and starts work on one. What only a browser
// decides is exercised for real: the redirects, the cookies (SameSite=Strict, Secure on
// loopback), the Origin and Sec-Fetch-Site of form posts, and the pages' CSP. Every page is
// saved under artifacts/e2e/.
func TestInABrowser(t *testing.T) {
	browsertest.Require(t)
	d := desk(t)
	shots := browsertest.ArtifactDir(t, "e2e")
	refs := map[i18n.Lang]string{}
	for _, f := range filings {
		t.Run(string(f.lang), func(t *testing.T) {
			refs[f.lang] = fileInBrowser(t, d, shots, f)
		})
	}
	t.Run("dpo", func(t *testing.T) {
		ref := refs[i18n.DA]
		if ref == "" {
			t.Skip("the da request was not filed")
		}
		startInBrowser(t, d, shots, ref)
	})
}

func fileInBrowser(t *testing.T, d *stack, shots string, f filing) string {
	// The browser's languages pick the form's: no ?lang= in the address. (Headless Chromium
	// takes Accept-Language from --accept-lang, not from --lang.)
	b := browsertest.New(t, 60*time.Second, chromedp.WindowSize(1024, 900), chromedp.Flag("accept-lang", f.acceptLanguage))
	shot := func(name string) {
		b.Screenshot(shots, "browser-"+string(f.lang)+"-"+name)
		browsertest.CheckReadable(t, b.Context(), string(f.lang)+" "+name)
	}
	heading := func() string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("h1"))) }
	mainText := func() string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("main"))) }
	email := address("browser-" + string(f.lang))

	b.Do(chromedp.Navigate(d.base+"/"), chromedp.WaitVisible(chromedp.CSS("#name")))
	if lang := browsertest.Get(b, chromedp.Evaluate[string](`document.documentElement.lang`)); lang != string(f.lang) {
		t.Fatalf("a browser asking for %s got the form in %q", f.acceptLanguage, lang)
	}
	if h := heading(); h != i18n.T(f.lang, "intake.form.title") {
		t.Errorf("form heading %q", h)
	}
	shot("1-form")
	b.Do(
		chromedp.Click(chromedp.CSS("#type-"+string(f.typ))),
		chromedp.SendKeys(chromedp.CSS("#name"), f.name),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#details"), f.details),
	)
	shot("2-filled")
	b.Do(chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if h := heading(); h != i18n.T(f.lang, "intake.sent.title") {
		t.Fatalf("after filing: %q\n%s", h, mainText())
	}
	shot("3-sent")

	verify := link(t, d, mails(t, d, email, 1, nil)[0], "/verify?token=")
	b.Do(chromedp.Navigate(verify), chromedp.WaitVisible(chromedp.CSS("form button[type=submit]")))
	if h := heading(); h != i18n.T(f.lang, "intake.verify.title") {
		t.Fatalf("the mailed link shows %q\n%s", h, mainText())
	}
	shot("4-verify")
	// The confirmed page is the only one with .notice.ok here: the verify page has a
	// dl.facts too, so waiting for that would not wait for the next page.
	b.Do(chromedp.Click(chromedp.CSS("form button[type=submit]")), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	shot("5-confirmed")
	if h := heading(); h != i18n.T(f.lang, "intake.confirmed.title") {
		t.Fatalf("after confirming: %q\n%s", h, mainText())
	}
	ref, _, _ := strings.Cut(strings.TrimPrefix(verify, d.base+"/verify?token="), ".")
	r, err := d.store.GetRequest(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != dsr.Open || r.Name != f.name || r.Lang != string(f.lang) {
		t.Errorf("stored: %s, name %q, lang %s", r.Status, r.Name, r.Lang)
	}
	text := mainText()
	for _, want := range []string{ref, i18n.LongDate(f.lang, r.Due.In(d.cal.Location())), dpoNotified} {
		if !strings.Contains(text, want) {
			t.Errorf("the confirmed page lacks %q:\n%s", want, text)
		}
	}
	mails(t, d, email, 2, nil)              // and the receipt
	mails(t, d, dpoNotified, 1, about(ref)) // and the DPO's notice
	return ref
}

func startInBrowser(t *testing.T, d *stack, shots, ref string) {
	b := browsertest.New(t, 60*time.Second, chromedp.WindowSize(1024, 900))
	shot := func(name string) {
		b.Screenshot(shots, "browser-dpo-"+name)
		browsertest.CheckReadable(t, b.Context(), "dpo "+name)
	}
	heading := func() string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("h1"))) }

	// The link in the notice, not signed in: the sign-in page, which returns to the request.
	notice := mails(t, d, dpoNotified, 1, about(ref))[0]
	b.Do(chromedp.Navigate(link(t, d, notice, "/admin/requests/"+ref)), chromedp.WaitVisible(chromedp.CSS("#email")))
	if h := heading(); h != i18n.T(dpoLang, "admin.signin.heading") {
		t.Fatalf("the notice's link shows %q", h)
	}
	shot("1-signin")
	b.Do(chromedp.SendKeys(chromedp.CSS("#email"), dpoBrowser), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	if h := heading(); h != i18n.T(dpoLang, "admin.sent.heading") {
		t.Fatalf("after asking for a link: %q", h)
	}
	shot("2-sent")

	b.Do(chromedp.Navigate(link(t, d, mails(t, d, dpoBrowser, 1, nil)[0], "/admin/signin/confirm?token=")),
		chromedp.WaitVisible(chromedp.CSS("main button[type=submit]")))
	if h := heading(); h != i18n.T(dpoLang, "admin.confirm.heading") {
		t.Fatalf("the sign-in link shows %q", h)
	}
	shot("3-confirm")
	choice := chromedp.CSS(`a[href*="action=start"]`)
	b.Do(chromedp.Click(chromedp.CSS("main button[type=submit]")), chromedp.WaitVisible(choice))
	if h := heading(); h != i18n.T(dpoLang, "admin.detail.heading", ref) {
		t.Fatalf("after signing in: %q, want the request", h)
	}
	shot("4-request")

	// One choice at a time: starting work opens its own small form.
	start := chromedp.CSS(`form[action$="/start"] button`)
	b.Do(chromedp.Click(choice), chromedp.WaitVisible(start))
	b.Do(chromedp.Click(start), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
	if got := browsertest.Get(b, chromedp.Text(chromedp.CSS(".notice.ok h2"))); got != i18n.T(dpoLang, "admin.done.start") {
		t.Errorf("after starting: %q", got)
	}
	shot("5-started")
	r, err := d.store.GetRequest(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	if last := r.Audit[len(r.Audit)-1]; r.Status != dsr.InProgress || last.Actor != dpoBrowser || last.Action != dsr.ActionStarted {
		t.Errorf("stored: %s, last event %s by %s", r.Status, last.Action, last.Actor)
	}
}
