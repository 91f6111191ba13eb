package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requestLink posts the sign-in form (the fixture, with email and next replaced) from the
// test's own browser, which keeps the cookies the answers set (e.browser).
func (e *tenv) requestLink(email, next string) web.Response {
	e.t.Helper()
	return e.browser().requestLink(email, next)
}

// browser is one browser asking for sign-in links: it keeps the cookie the sign-in page sets
// and sends it back, from its source IP.
type browser struct {
	e       *tenv
	ip      string
	cookies map[string]string
}

// newBrowser is a browser of its own at ip, with no cookies yet.
func (e *tenv) newBrowser(ip string) *browser {
	return &browser{e: e, ip: ip, cookies: map[string]string{}}
}

// browser is the test's default browser.
func (e *tenv) browser() *browser {
	if e.own == nil {
		e.own = e.newBrowser("198.51.100.23")
	}
	return e.own
}

func (b *browser) list() []string {
	var out []string
	for k, v := range b.cookies {
		out = append(out, k+"="+v)
	}
	return out
}

func (b *browser) keep(resp web.Response) web.Response {
	for _, c := range resp.Cookies {
		kv, attrs, _ := strings.Cut(c, ";")
		k, v, _ := strings.Cut(kv, "=")
		if v == "" || strings.Contains(attrs, "Max-Age=0") {
			delete(b.cookies, k)
		} else {
			b.cookies[k] = v
		}
	}
	return resp
}

func (b *browser) requestLink(email, next string) web.Response {
	b.e.t.Helper()
	req := fixture(b.e.t, "admin-signin-post")
	form := formOf(b.e.t, req)
	form.Set("email", email)
	form.Set("next", next)
	req = withForm(req, form)
	req.Cookies = b.list()
	req.RequestContext.HTTP.SourceIP = b.ip
	return b.keep(b.e.do(req))
}

func (b *browser) confirm(tok string) web.Response {
	b.e.t.Helper()
	req := withForm(at(fixture(b.e.t, "admin-signin-post"), "POST", "/admin/signin/confirm"), url.Values{"token": {tok}})
	req.Cookies = b.list()
	req.RequestContext.HTTP.SourceIP = b.ip
	return b.keep(b.e.do(req))
}

// linkFrom returns the token of the last sign-in mail to addr.
func (e *tenv) linkFrom(addr string) (string, emulator.Mail) {
	e.t.Helper()
	mails := e.env.Mails(e.t, addr)
	if len(mails) == 0 {
		e.t.Fatalf("no mail to %s", addr)
	}
	m := mails[len(mails)-1]
	linkRE := regexp.MustCompile(regexp.QuoteMeta(e.cfg.BaseURL) + `/admin/signin/confirm\?token=([A-Za-z0-9_-]{43})`)
	match := linkRE.FindStringSubmatch(m.Text)
	if match == nil || !strings.Contains(m.HTML, match[0]) {
		e.t.Fatalf("no sign-in link in both parts of the mail:\n%s", m.Text)
	}
	return match[1], m
}

// confirm presses a sign-in link's button in the test's default browser, with cookies added.
func (e *tenv) confirm(tok string, cookies ...string) web.Response {
	e.t.Helper()
	req := withForm(at(fixture(e.t, "admin-signin-post"), "POST", "/admin/signin/confirm"), url.Values{"token": {tok}})
	req.Cookies = append(e.browser().list(), cookies...)
	return e.do(req)
}

// The whole sign-in: the allowed address gets a mail, the link's page changes nothing, the
// button signs in once, to where the DPO was going, with a cookie only our pages get.
func TestSigninFlow(t *testing.T) {
	e := setup(t)
	dpoAddr := e.cfg.DPOAddresses[1]
	// The address is matched without regard to case; the mail goes to the configured spelling.
	page(t, e.requestLink(strings.ToUpper(dpoAddr), "/admin/requests/K7MQ-4XTZ"), http.StatusOK)
	tok, m := e.linkFrom(dpoAddr)
	if len(m.To) != 1 || !strings.EqualFold(m.To[0], dpoAddr) || !strings.Contains(m.Subject, "Fjordlys ApS") {
		t.Fatalf("mail %+v", m)
	}
	if !strings.Contains(m.Text, "15") {
		t.Errorf("mail does not say how long the link works:\n%s", m.Text)
	}

	// Opening the link (or a scanner fetching it) shows a button and changes nothing.
	for range 2 {
		body := page(t, e.do(at(fixture(t, "admin-signin-get"), "GET", "/admin/signin/confirm?token="+tok)), http.StatusOK)
		if !strings.Contains(body, `action="/admin/signin/confirm"`) || !strings.Contains(body, tok) {
			t.Fatalf("confirm page has no form with the token:\n%s", body)
		}
	}

	resp := e.confirm(tok)
	if loc := redirect(t, resp); loc != "/admin/requests/K7MQ-4XTZ" {
		t.Fatalf("after sign-in to %q, want where the DPO was going", loc)
	}
	sid, raw, ok := cookieValue(resp, sessionCookieName)
	if !ok {
		t.Fatalf("no session cookie in %v", resp.Cookies)
	}
	// __Host-: the browser keeps it only if it is Secure, for the whole host (Path=/) and
	// for no other host (no Domain), so no sibling subdomain can set or shadow it.
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/", "Max-Age=28800"} {
		if !strings.Contains(raw+";", "; "+attr+";") {
			t.Errorf("session cookie %q lacks %s", raw, attr)
		}
	}
	if !strings.HasPrefix(raw, "__Host-") || strings.Contains(raw, "Domain=") {
		t.Errorf("session cookie %q: want the __Host- prefix and no Domain", raw)
	}
	body := page(t, e.do(e.get("/admin", sessionCookieName+"="+sid)), http.StatusOK)
	if !strings.Contains(body, dpoAddr) || !strings.Contains(body, `action="/admin/signout"`) {
		t.Fatalf("worklist does not show who is signed in:\n%s", body)
	}

	// Signed in, the sign-in page just goes on.
	if loc := redirect(t, e.do(e.get("/admin/signin?next=%2Fadmin%2Freport", sessionCookieName+"="+sid))); loc != "/admin/report" {
		t.Fatalf("sign-in page while signed in: to %q", loc)
	}

	// The same link again: refused, from a browser without the session.
	body = page(t, e.confirm(tok), http.StatusNotFound)
	if !strings.Contains(body, "Login-linket virker ikke længere") {
		t.Fatalf("second use not explained:\n%s", body)
	}
	// A double click from the browser it signed in just goes on.
	if loc := redirect(t, e.confirm(tok, sessionCookieName+"="+sid)); loc != "/admin" {
		t.Fatalf("second click with the session: to %q", loc)
	}
}

func TestSigninLinkExpiresAfter15Minutes(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[0]
	page(t, e.requestLink(addr, ""), http.StatusOK)
	tok, _ := e.linkFrom(addr)
	e.clock.Set(now0.Add(loginTTL))
	page(t, e.confirm(tok), http.StatusNotFound)
	if _, _, ok := cookieValue(e.confirm(tok), sessionCookieName); ok {
		t.Fatal("an expired link started a session")
	}

	// A fresh link a minute before expiry still works, and an unsafe next goes to /admin.
	e.clock.Set(now0)
	page(t, e.requestLink(addr, "https://evil.example/admin"), http.StatusOK)
	tok, _ = e.linkFrom(addr)
	e.clock.Set(now0.Add(loginTTL - time.Minute))
	if loc := redirect(t, e.confirm(tok)); loc != "/admin" {
		t.Fatalf("redirect to %q", loc)
	}
}

// An address that may not sign in gets exactly the same answer, and no mail.
func TestSigninUnknownAddressSameAnswer(t *testing.T) {
	e := setup(t)
	e.h.signinFloor = 40 * time.Millisecond
	allowed, unknown := e.cfg.DPOAddresses[0], "someone."+uniq()+"@example.dk"
	type answer struct {
		status  int
		body    string
		cookies int
		took    time.Duration
	}
	ask := func(email string) answer {
		began := time.Now()
		resp := e.requestLink(email, "/admin")
		return answer{resp.StatusCode, resp.Body, len(resp.Cookies), time.Since(began)}
	}
	a, u := ask(allowed), ask(unknown)
	if a.status != http.StatusOK || a.status != u.status || a.body != u.body || a.cookies != u.cookies {
		t.Fatalf("answers differ:\nallowed %d %q\nunknown %d %q", a.status, a.body, u.status, u.body)
	}
	if a.took < e.h.signinFloor || u.took < e.h.signinFloor {
		t.Errorf("answers faster than the floor: %v, %v", a.took, u.took)
	}
	if n := len(e.env.Mails(t, allowed)); n != 1 {
		t.Errorf("%d mails to the DPO, want 1", n)
	}
	if n := len(e.env.Mails(t, unknown)); n != 0 {
		t.Errorf("%d mails to an unknown address, want 0", n)
	}
}

// However often a DPO's address is asked for, it gets at most signinMails links a window: the
// answer stays the same, and no flood reaches the DPO.
func TestSigninRateLimited(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[0]
	var first string
	for i := range 3 * signinMails {
		body := page(t, e.newBrowser("203.0.113."+strconv.Itoa(i+1)).requestLink(addr, ""), http.StatusOK)
		if i == 0 {
			first = body
		} else if body != first {
			t.Fatalf("answer %d differs from the first", i+1)
		}
	}
	if n := len(e.env.Mails(t, addr)); n != signinMails {
		t.Fatalf("%d mails, want %d", n, signinMails)
	}
	e.clock.Set(now0.Add(signinMailWindow))
	page(t, e.requestLink(addr, ""), http.StatusOK)
	if n := len(e.env.Mails(t, addr)); n != signinMails+1 {
		t.Fatalf("a window later: %d mails, want %d", n, signinMails+1)
	}
}

// The attack of issue 19, item 2: strangers ask for the DPO's address (which every requester
// sees), again and again. The DPO, asking from their own browser, still signs in from the
// newest mail, and no flood of mails reaches them; a browser that did not ask cannot use it.
func TestSigninCannotBeDeniedByStrangers(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[0]
	stranger := e.newBrowser("203.0.113.66")
	for range 8 {
		page(t, stranger.requestLink(addr, ""), http.StatusOK)
	}
	// Twenty minutes later every link the strangers caused has expired; they go on asking.
	e.clock.Set(now0.Add(20 * time.Minute))
	for range 8 {
		page(t, stranger.requestLink(addr, ""), http.StatusOK)
	}
	dpo := e.newBrowser("192.0.2.10")
	page(t, dpo.requestLink(addr, "/admin/report"), http.StatusOK)
	mails := e.env.Mails(t, addr)
	if len(mails) > 2*signinMails {
		t.Errorf("%d mails to the DPO: a flood", len(mails))
	}
	tok, _ := e.linkFrom(addr)
	if resp := e.newBrowser("203.0.113.67").confirm(tok); resp.StatusCode == http.StatusSeeOther {
		t.Fatal("the newest link signed in a browser that never asked")
	}
	resp := dpo.confirm(tok)
	if loc := redirect(t, resp); loc != "/admin" && loc != "/admin/report" {
		t.Fatalf("the DPO's sign-in went to %q", loc)
	}
	if _, _, ok := cookieValue(resp, sessionCookieName); !ok {
		t.Fatal("the DPO could not sign in")
	}
}

// A sign-in link works only in the browser that asked for it (item 15): another browser, or
// one without the cookie, is told so, and the link still works where it belongs.
func TestSigninLinkBoundToTheBrowserThatAsked(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[1]
	asked := e.newBrowser("192.0.2.10")
	page(t, asked.requestLink(addr, ""), http.StatusOK)
	raw := ""
	for k := range asked.cookies {
		raw = k
	}
	if raw != signinCookieName {
		t.Fatalf("the sign-in request set %v, want %s", asked.cookies, signinCookieName)
	}
	tok, _ := e.linkFrom(addr)
	for name, b := range map[string]*browser{
		"another browser":   func() *browser { o := e.newBrowser("192.0.2.10"); o.cookies[signinCookieName] = token.New(); return o }(),
		"a browser without": e.newBrowser("192.0.2.10"),
		"a junk cookie":     func() *browser { o := e.newBrowser("192.0.2.10"); o.cookies[signinCookieName] = "<x>"; return o }(),
	} {
		resp := b.confirm(tok)
		body := page(t, resp, http.StatusForbidden)
		if !strings.Contains(body, i18n.T(i18n.DA, "admin.link.browser.title")) {
			t.Errorf("%s: not told to use the browser that asked:\n%s", name, body)
		}
		if _, _, ok := cookieValue(resp, sessionCookieName); ok {
			t.Errorf("%s: signed in", name)
		}
	}
	resp2 := asked.confirm(tok)
	redirect(t, resp2)
	if _, _, ok := cookieValue(resp2, sessionCookieName); !ok {
		t.Fatal("the browser that asked could not sign in")
	}
	if _, raw, ok := cookieValue(resp2, signinCookieName); !ok || !strings.Contains(raw, "Max-Age=0") {
		t.Errorf("the sign-in cookie outlives the sign-in: %v", resp2.Cookies)
	}
}

func TestSigninFormErrorsAndOrigin(t *testing.T) {
	e := setup(t)
	body := page(t, e.requestLink("not an address", "/admin"), http.StatusBadRequest)
	if !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, "Skriv en gyldig e-mailadresse") {
		t.Fatalf("no field error:\n%s", body)
	}
	req := fixture(t, "admin-signin-post")
	req.Headers["origin"] = "https://evil.example"
	form := formOf(t, req)
	form.Set("email", e.cfg.DPOAddresses[0])
	page(t, e.do(withForm(req, form)), http.StatusForbidden)
	if n := len(e.env.Mails(t, e.cfg.DPOAddresses[0])); n != 0 {
		t.Fatalf("a cross-site post sent %d mails", n)
	}
	page(t, e.do(at(fixture(t, "admin-signin-get"), "GET", "/admin/signin/confirm?token=short")), http.StatusBadRequest)
}

func TestSignout(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	resp := d.post("/admin/signout", nil)
	if loc := redirect(t, resp); loc != "/admin/signin?out=1" {
		t.Fatalf("to %q", loc)
	}
	if _, raw, ok := cookieValue(resp, sessionCookieName); !ok || !strings.Contains(raw, "Max-Age=0") {
		t.Fatalf("cookie not cleared: %v", resp.Cookies)
	}
	// The server forgot the session: the old cookie no longer works.
	if loc := redirect(t, d.get("/admin")); !strings.HasPrefix(loc, "/admin/signin?next=") {
		t.Fatalf("old cookie after sign-out: to %q", loc)
	}
	body := page(t, e.do(e.get("/admin/signin?out=1")), http.StatusOK)
	if !strings.Contains(body, "Du er logget ud.") {
		t.Fatal("sign-in page does not confirm the sign-out")
	}
}
