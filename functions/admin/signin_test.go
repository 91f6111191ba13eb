package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requestLink posts the sign-in form (the fixture, with email and next replaced).
func (e *tenv) requestLink(email, next string) web.Response {
	e.t.Helper()
	req := fixture(e.t, "admin-signin-post")
	form := formOf(e.t, req)
	form.Set("email", email)
	form.Set("next", next)
	return e.do(withForm(req, form))
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

func (e *tenv) confirm(tok string, cookies ...string) web.Response {
	e.t.Helper()
	req := withForm(at(fixture(e.t, "admin-signin-post"), "POST", "/admin/signin/confirm"), url.Values{"token": {tok}})
	req.Cookies = cookies
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
	for _, attr := range []string{"HttpOnly", "Secure", "SameSite=Strict", "Path=/admin", "Max-Age=28800"} {
		if !strings.Contains(raw, "; "+attr) {
			t.Errorf("session cookie %q lacks %s", raw, attr)
		}
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

// Past the limit per address the answer stays the same and no more mails go out.
func TestSigninRateLimited(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[0]
	var first string
	for i := range signinPerAddress + 2 {
		body := page(t, e.requestLink(addr, ""), http.StatusOK)
		if i == 0 {
			first = body
		} else if body != first {
			t.Fatalf("answer %d differs from the first", i+1)
		}
	}
	if n := len(e.env.Mails(t, addr)); n != signinPerAddress {
		t.Fatalf("%d mails, want %d", n, signinPerAddress)
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
