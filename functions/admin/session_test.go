package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

const ref0 = "K7MQ-4XTZ"

// protected lists every route behind the session, with a form that would change something.
var protected = []struct {
	method, target string
	form           url.Values
}{
	{"GET", "/admin", nil},
	{"GET", "/admin?status=open&type=access", nil},
	{"GET", "/admin/search?q=" + url.QueryEscape("karen@example.dk"), nil},
	{"GET", "/admin/report", nil},
	{"GET", "/admin/export.csv", nil},
	{"GET", "/admin/audit.csv", nil},
	{"GET", "/admin/digest", nil},
	{"POST", "/admin/digest", url.Values{}},
	{"GET", "/admin/requests/" + ref0, nil},
	{"POST", "/admin/signout", url.Values{}},
	{"POST", "/admin/requests/" + ref0 + "/start", url.Values{}},
	{"POST", "/admin/requests/" + ref0 + "/extend", url.Values{"reason": {"Many systems."}}},
	{"POST", "/admin/requests/" + ref0 + "/complete", url.Values{"message": {"Sent."}}},
	{"POST", "/admin/requests/" + ref0 + "/reject", url.Values{"category": {"other"}, "reason": {"No."}}},
	{"POST", "/admin/requests/" + ref0 + "/note", url.Values{"note": {"A note."}}},
}

// unchanged checks that the request and the requester's mailbox are as seeded.
func (e *tenv) unchanged(before *dsr.Request, requester string) {
	e.t.Helper()
	after := e.request(before.Ref)
	if after.Version != before.Version || after.Status != before.Status || len(after.Audit) != len(before.Audit) {
		e.t.Fatalf("request changed: version %d→%d, status %s→%s", before.Version, after.Version, before.Status, after.Status)
	}
	if n := len(e.env.Mails(e.t, requester)); n != 0 {
		e.t.Fatalf("%d mails to the requester", n)
	}
}

// Every workspace route refuses a browser without a valid session: no cookie, junk, an
// expired session, a signed-out one, one whose address left the DPO list.
func TestEveryRouteNeedsASession(t *testing.T) {
	e := setup(t)
	requester := "karen." + uniq() + "@example.dk"
	before := e.seed(ref0, submission("da", requester), received0, verify)

	expired := e.session(e.cfg.DPOAddresses[0])
	signedOut := e.session(e.cfg.DPOAddresses[0])
	if err := e.st.DeleteSession(context.Background(), signedOut.sid); err != nil {
		t.Fatal(err)
	}
	removed := e.session("former." + uniq() + "@fjordlys.dk")
	later := now0.Add(e.cfg.SessionTTL)
	cases := []struct {
		name   string
		cookie string
		at     time.Time
	}{
		{"no cookie", "", now0},
		{"junk cookie", sessionCookieName + "=<script>", now0},
		{"unknown session", sessionCookieName + "=" + token.New(), now0},
		{"expired session", expired.cookie(), later},
		{"signed-out session", signedOut.cookie(), now0},
		{"address no longer a DPO", removed.cookie(), now0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e.t = t
			e.clock.Set(tc.at)
			defer e.clock.Set(now0)
			var cookies []string
			if tc.cookie != "" {
				cookies = []string{tc.cookie}
			}
			for _, r := range protected {
				var req web.Request
				if r.method == "GET" {
					req = e.get(r.target, cookies...)
				} else {
					form := url.Values{"csrf": {expired.csrf}, "version": {"2"}}
					for k, v := range r.form {
						form[k] = v
					}
					req = e.post(r.target, form, cookies...)
				}
				loc := redirect(t, e.do(req))
				want := "/admin/signin?next=" + url.QueryEscape(r.target)
				if r.method == "POST" {
					want = "/admin/signin?next=" + url.QueryEscape("/admin")
					if strings.HasPrefix(r.target, "/admin/requests/") {
						want = "/admin/signin?next=" + url.QueryEscape("/admin/requests/"+ref0)
					}
				}
				if r.target == "/admin?status=open&type=access" {
					want = "/admin/signin?next=" + url.QueryEscape("/admin?status=open&type=access")
				}
				if loc != want {
					t.Errorf("%s %s: to %q, want %q", r.method, r.target, loc, want)
				}

				// A script asking for data gets 401, not a sign-in page.
				req.Headers["accept"] = "application/json"
				resp := e.do(req)
				var body map[string]string
				if resp.StatusCode != http.StatusUnauthorized || json.Unmarshal([]byte(resp.Body), &body) != nil || body["error"] != "unauthorized" {
					t.Errorf("%s %s as JSON: %d %s", r.method, r.target, resp.StatusCode, resp.Body)
				}
			}
			e.unchanged(before, requester)
		})
	}
}

// A link in a mail opened from webmail arrives without the SameSite=Strict cookie; the page
// reloads itself from our own origin, which sends it.
func TestCrossSiteNavigationReloads(t *testing.T) {
	e := setup(t)
	req := e.get("/admin/requests/" + ref0)
	req.Headers["sec-fetch-site"] = "cross-site"
	resp := e.do(req)
	body := page(t, resp, http.StatusOK)
	if resp.Headers["Refresh"] != "0; url=/admin/requests/"+ref0 || !strings.Contains(body, `href="/admin/requests/`+ref0+`"`) {
		t.Fatalf("no same-origin reload: %v\n%s", resp.Headers, body)
	}
	// The reload is same-origin: without a session it lands on sign-in, no loop.
	req.Headers["sec-fetch-site"] = "same-origin"
	if loc := redirect(t, e.do(req)); !strings.HasPrefix(loc, "/admin/signin?next=") {
		t.Fatalf("to %q", loc)
	}
}

// Every state-changing post of a signed-in DPO needs the session's CSRF token and our origin;
// without them nothing changes.
func TestEveryPostNeedsTheCSRFToken(t *testing.T) {
	e := setup(t)
	requester := "karen." + uniq() + "@example.dk"
	before := e.seed(ref0, submission("da", requester), received0, verify)
	d := e.session(e.cfg.DPOAddresses[0])
	other := e.session(e.cfg.DPOAddresses[1])
	cases := []struct {
		name         string
		csrf         []string
		origin, site string
	}{
		{"no token", nil, baseURL, "same-origin"},
		{"empty token", []string{""}, baseURL, "same-origin"},
		{"wrong token", []string{token.New()}, baseURL, "same-origin"},
		{"another session's token", []string{other.csrf}, baseURL, "same-origin"},
		{"right token, cross-site origin", []string{d.csrf}, "https://evil.example", "cross-site"},
		{"right token, null origin from another site", []string{d.csrf}, "null", "cross-site"},
		// Our pages send their origin (Referrer-Policy: same-origin); "null" comes from a
		// sandboxed frame or a data: URL, whatever Sec-Fetch-Site says.
		{"right token, null origin claiming same-origin", []string{d.csrf}, "null", "same-origin"},
		{"right token, null origin alone", []string{d.csrf}, "null", ""},
		// A client that sends neither header (not a browser) still needs the token.
		{"no token, no Origin, no Sec-Fetch-Site", nil, "", ""},
		{"wrong token, no Origin, no Sec-Fetch-Site", []string{token.New()}, "", ""},
		{"no token, no Origin, same-origin", nil, "", "same-origin"},
		{"wrong token, no Origin, same-origin", []string{token.New()}, "", "same-origin"},
	}
	for _, tc := range cases {
		for _, r := range protected {
			if r.method != "POST" {
				continue
			}
			form := url.Values{"version": {"2"}}
			for k, v := range r.form {
				form[k] = v
			}
			if tc.csrf != nil {
				form["csrf"] = tc.csrf
			}
			req := e.post(r.target, form, d.cookie())
			for k, v := range map[string]string{"origin": tc.origin, "sec-fetch-site": tc.site} {
				if v == "" {
					delete(req.Headers, k)
				} else {
					req.Headers[k] = v
				}
			}
			body := page(t, e.do(req), http.StatusForbidden)
			if !strings.Contains(body, "Formularen kunne ikke modtages") {
				t.Errorf("%s, %s: refusal not explained", tc.name, r.target)
			}
		}
	}
	e.unchanged(before, requester)
	// Sign-out was refused too: the session still works.
	page(t, d.get("/admin"), http.StatusOK)
}

// The public posts (asking for a sign-in link, pressing its button) refuse "Origin: null" as
// they refuse another site: no mail goes out, no session starts.
func TestSigninPostsRefuseNullOrigin(t *testing.T) {
	e := setup(t)
	addr := e.cfg.DPOAddresses[0]
	ask := fixture(t, "admin-signin-post")
	form := formOf(t, ask)
	form.Set("email", addr)
	for _, site := range []string{"same-origin", "cross-site", ""} {
		req := withForm(ask, form)
		req.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded", "origin": "null"}
		if site != "" {
			req.Headers["sec-fetch-site"] = site
		}
		page(t, e.do(req), http.StatusForbidden)
	}
	if n := len(e.env.Mails(t, addr)); n != 0 {
		t.Fatalf("%d sign-in mails after posts with Origin: null", n)
	}
	page(t, e.requestLink(addr, ""), http.StatusOK)
	tok, _ := e.linkFrom(addr)
	req := withForm(at(fixture(t, "admin-signin-post"), "POST", "/admin/signin/confirm"), url.Values{"token": {tok}})
	req.Headers = map[string]string{"content-type": "application/x-www-form-urlencoded", "origin": "null", "sec-fetch-site": "same-origin"}
	resp := e.do(req)
	page(t, resp, http.StatusForbidden)
	if _, _, ok := cookieValue(resp, sessionCookieName); ok {
		t.Fatal("a post with Origin: null started a session")
	}
}

func TestNotFound(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	for _, target := range []string{"/admin/nope", "/admin/requests/ABCD-EFGH", "/admin/requests/not-a-ref", "/admin/requests/" + ref0 + "/delete"} {
		body := page(t, d.get(target), http.StatusNotFound)
		if !strings.Contains(body, "Siden findes ikke") {
			t.Errorf("%s: 404 page not localized", target)
		}
	}
	// Unknown paths are 404 without a session too; there is nothing behind them to protect.
	page(t, e.do(e.get("/admin/nope?lang=en")), http.StatusNotFound)
	// A GET where a form posts (a reload after an error) shows the request instead.
	if loc := redirect(t, d.get("/admin/requests/"+ref0+"/complete")); loc != "/admin/requests/"+ref0 {
		t.Fatalf("to %q", loc)
	}
}

func TestLanguageSwitch(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	resp := d.get("/admin?lang=en&view=closed")
	body := page(t, resp, http.StatusOK)
	if !strings.Contains(body, `<html lang="en">`) || !strings.Contains(body, i18n.T(i18n.EN, "admin.view.closed.heading")) {
		t.Fatal("?lang=en did not switch to English")
	}
	lang, raw, ok := cookieValue(resp, langCookieName)
	if !ok || lang != "en" || !strings.Contains(raw, "Path=/admin") {
		t.Fatalf("language not remembered: %v", resp.Cookies)
	}
	// The switch keeps the page's filters.
	if !strings.Contains(body, `href="/admin?lang=nb&amp;view=closed"`) {
		t.Fatalf("language links lose the query:\n%s", body)
	}
	body = page(t, e.do(e.get("/admin", d.cookie(), langCookieName+"=nb")), http.StatusOK)
	if !strings.Contains(body, `<html lang="nb">`) || !strings.Contains(body, i18n.T(i18n.NB, "admin.worklist.heading")) {
		t.Fatal("remembered language not used")
	}
	body = page(t, d.get("/admin"), http.StatusOK)
	if !strings.Contains(body, `<html lang="da">`) {
		t.Fatal("deployment language not the default")
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"":                           "/admin",
		"/admin":                     "/admin",
		"/admin/requests/K7MQ-4XTZ":  "/admin/requests/K7MQ-4XTZ",
		"/admin?status=open":         "/admin?status=open",
		"/admin/report":              "/admin/report",
		"https://evil.example/admin": "/admin",
		"//evil.example/admin":       "/admin",
		"/\\evil.example":            "/admin",
		"/adminx":                    "/admin",
		"/admin/../etc":              "/admin",
		"/admin/signin?next=/admin":  "/admin",
		"/public":                    "/admin",
		"/admin\r\nSet-Cookie: x=1":  "/admin",
		"javascript:alert(1)":        "/admin",
		"/admin#frag":                "/admin",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}

// Served through CloudFront (EdgeSecret set), the workspace answers only calls CloudFront
// forwarded: the API's own URL would go around the WAF web ACL in front of it.
func TestOnlyThroughTheEdge(t *testing.T) {
	const secret = "edge-secret-edge-secret-edge-secret"
	e := setup(t, func(c *config.Admin) { c.EdgeSecret = secret })
	d := e.session(e.cfg.DPOAddresses[0])
	req := e.get("/admin", d.cookie())
	page(t, e.do(req), http.StatusForbidden)
	req.Headers["x-dsr-edge"] = secret
	page(t, e.do(req), http.StatusOK)
	signin := e.get("/admin/signin")
	page(t, e.do(signin), http.StatusForbidden)
}
