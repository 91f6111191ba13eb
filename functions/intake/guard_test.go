package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// TestRefusedBeforeParsing: oversize bodies, unreadable bodies and content types we do not
// read get a clear answer in the right language and format, and nothing is stored.
func TestRefusedBeforeParsing(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	form := event(t, "intake-form-post")
	js := event(t, "intake-json-post")
	big := strings.Repeat("a", maxBody+1)
	for _, tc := range []struct {
		name   string
		req    web.Request
		status int
		json   bool
		key    string
		lang   i18n.Lang
	}{
		{"oversize form", withBody(form, []byte("type=access&details="+big)), http.StatusRequestEntityTooLarge, false, "intake.toolarge", i18n.DA},
		{"oversize form, base64 length alone", func() web.Request {
			r := withBody(form, nil)
			r.Body = strings.Repeat("QUFB", maxBody/3+8)
			return r
		}(), http.StatusRequestEntityTooLarge, false, "intake.toolarge", i18n.DA},
		{"oversize JSON", withRawJSON(js, []byte(`{"details":"`+big+`"}`)), http.StatusRequestEntityTooLarge, true, "intake.toolarge", i18n.NB},
		{"broken base64", func() web.Request { r := withBody(form, nil); r.Body = "%%%not base64"; return r }(), http.StatusBadRequest, false, "intake.badrequest", i18n.DA},
		{"broken percent-encoding", withBody(form, []byte("type=access&name=%zz")), http.StatusBadRequest, false, "intake.badrequest", i18n.DA},
		{"plain text", withHeader(withBody(form, []byte("hello")), "content-type", "text/plain"), http.StatusUnsupportedMediaType, false, "intake.unsupported", i18n.DA},
		{"multipart", withHeader(withBody(form, []byte("--x--")), "content-type", "multipart/form-data; boundary=x"), http.StatusUnsupportedMediaType, false, "intake.unsupported", i18n.DA},
		{"no content type", withHeader(withBody(form, []byte("type=access")), "content-type", ""), http.StatusUnsupportedMediaType, false, "intake.unsupported", i18n.DA},
		{"XML from an API client", withHeader(withRawJSON(js, []byte("<r/>")), "content-type", "application/xml"), http.StatusUnsupportedMediaType, true, "intake.unsupported", i18n.NB},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := hs.do(tc.req)
			if resp.StatusCode != tc.status {
				t.Fatalf("%s, want %d\n%s", fmtStatus(resp), tc.status, resp.Body)
			}
			want := i18n.T(tc.lang, tc.key+".text")
			if tc.json {
				if got := jsonBody(t, resp)["message"]; got != want {
					t.Errorf("message %q, want %q", got, want)
				}
				return
			}
			mustContain(t, "page", resp.Body, `<html lang="`+string(tc.lang)+`">`, htmlEscape(i18n.T(tc.lang, tc.key+".title")), htmlEscape(want), `href="/?lang=`+string(tc.lang)+`"`)
			if resp.Headers["Content-Security-Policy"] == "" {
				t.Error("error page without security headers")
			}
			checkNoMissingKeys(t, "page", resp.Body)
		})
	}
	if n := hs.requests(); n != 0 {
		t.Errorf("%d requests stored", n)
	}
}

// TestOrigin: a post from another site is refused with a 403 page, and so is one with
// "Origin: null" (a sandboxed frame, a data: URL, a page under no-referrer), whatever it
// claims; our own pages (which send their origin under Referrer-Policy: same-origin) and
// configured company sites pass.
func TestOrigin(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, tc := range []struct {
		name    string
		origin  string
		site    string
		allowed bool
	}{
		{"Origin: null claiming same-origin", "null", "same-origin", false},
		{"Origin: null without Sec-Fetch-Site", "null", "", false},
		{"our origin", baseURL, "same-origin", true},
		{"a configured company site", companySite, "cross-site", true},
		{"another site", "https://evil.example", "cross-site", false},
		{"another site hiding its origin", "null", "cross-site", false},
		{"another site, no Origin", "", "cross-site", false},
		{"a subdomain of ours", "http://evil.localhost:3000", "same-site", false},
		{"no browser headers (curl)", "", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			email := address("origin")
			req := withHeader(withHeader(withForm(event(t, "intake-form-post"), hs.form(email, i18n.DA)), "origin", tc.origin), "sec-fetch-site", tc.site)
			resp := hs.do(req)
			if tc.allowed {
				if resp.StatusCode != http.StatusSeeOther || len(hs.env.Mails(t, email)) != 1 {
					t.Errorf("%s: not filed", fmtStatus(resp))
				}
				return
			}
			if resp.StatusCode != http.StatusForbidden {
				t.Fatalf("%s, want 403", fmtStatus(resp))
			}
			mustContain(t, "page", resp.Body, htmlEscape(i18n.T(i18n.DA, "intake.forbidden.text")))
			if resp.Headers["Access-Control-Allow-Origin"] != "" {
				t.Error("refused post carries CORS headers")
			}
			if len(hs.env.Mails(t, email)) != 0 {
				t.Error("refused post was mailed")
			}
		})
	}
	t.Run("fixture", func(t *testing.T) {
		resp := hs.do(event(t, "intake-form-post-cross-site"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s, want 403", fmtStatus(resp))
		}
	})
	t.Run("JSON from another site", func(t *testing.T) {
		resp := hs.do(withHeader(event(t, "intake-json-post"), "origin", "https://evil.example"))
		if resp.StatusCode != http.StatusForbidden || jsonBody(t, resp)["message"] != i18n.T(i18n.NB, "intake.forbidden.text") {
			t.Errorf("%s %s", fmtStatus(resp), resp.Body)
		}
	})
	t.Run("confirm from another site", func(t *testing.T) {
		resp := hs.do(withHeader(event(t, "intake-verify-post"), "origin", "https://evil.example"))
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s, want 403", fmtStatus(resp))
		}
	})
	t.Run("JSON and confirm with Origin: null", func(t *testing.T) {
		email := address("nulljson")
		resp := hs.do(withHeader(withJSON(event(t, "intake-json-post"), map[string]any{"type": "access", "name": "A", "email": email}), "origin", "null"))
		if resp.StatusCode != http.StatusForbidden || len(hs.env.Mails(t, email)) != 0 {
			t.Errorf("JSON: %s, want 403 and no mail", fmtStatus(resp))
		}
		tok := hs.file(address("nullconfirm"), i18n.DA)
		resp = hs.do(withHeader(withHeader(withForm(event(t, "intake-verify-post"), url.Values{"token": {tok}}), "origin", "null"), "sec-fetch-site", "same-origin"))
		if resp.StatusCode != http.StatusForbidden || hs.request(refOf(tok)).Status != dsr.PendingVerification {
			t.Errorf("confirm: %s, want 403 and the request unconfirmed", fmtStatus(resp))
		}
	})
}

// TestCORS: the preflight is answered for configured origins only, with the exact origin
// echoed and Vary: Origin.
func TestCORS(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	pre := event(t, "intake-json-preflight")
	ok := hs.do(pre)
	if ok.StatusCode != http.StatusNoContent || ok.Headers["Access-Control-Allow-Origin"] != companySite ||
		ok.Headers["Vary"] != "Origin" || !strings.Contains(ok.Headers["Access-Control-Allow-Methods"], "POST") ||
		!strings.Contains(strings.ToLower(ok.Headers["Access-Control-Allow-Headers"]), "content-type") {
		t.Errorf("allowed preflight: %d %v", ok.StatusCode, ok.Headers)
	}
	for _, o := range []string{"https://evil.example", "https://www.example.com.evil.example", "null", ""} {
		resp := hs.do(withHeader(pre, "origin", o))
		if resp.StatusCode != http.StatusForbidden || resp.Headers["Access-Control-Allow-Origin"] != "" || resp.Headers["Vary"] != "Origin" {
			t.Errorf("preflight from %q: %d %v", o, resp.StatusCode, resp.Headers)
		}
	}
	// A form post from our own page gets no CORS grant: it needs none.
	resp := hs.postForm(hs.form(address("cors"), i18n.DA))
	if resp.Headers["Access-Control-Allow-Origin"] != "" || resp.Headers["Vary"] != "Origin" {
		t.Errorf("form post headers %v", resp.Headers)
	}
}

// TestLanguage: ?lang= beats Accept-Language, which beats the default; the form's lang field
// decides on a post.
func TestLanguage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	get := event(t, "intake-form-get")
	for _, tc := range []struct {
		query, accept string
		want          i18n.Lang
	}{
		{"", "da-DK,da;q=0.9,en;q=0.7", i18n.DA},
		{"", "nb-NO,nb;q=0.9", i18n.NB},
		{"", "no", i18n.NB},
		{"", "fr-FR,en-GB;q=0.5", i18n.EN},
		{"", "fr-FR", i18n.DA},
		{"", "", i18n.DA},
		{"lang=en", "da", i18n.EN},
		{"lang=nb&lang=en", "da", i18n.NB},
		{"lang=xx", "nb", i18n.NB},
	} {
		resp := hs.do(withHeader(withQuery(get, tc.query), "accept-language", tc.accept))
		if !strings.Contains(resp.Body, `<html lang="`+string(tc.want)+`">`) {
			t.Errorf("?%s Accept-Language %q: want %s", tc.query, tc.accept, tc.want)
		}
		for _, l := range i18n.Langs {
			if !strings.Contains(resp.Body, `href="/?lang=`+string(l)+`"`) {
				t.Errorf("no switch to %s", l)
			}
		}
	}
	// The post's lang field wins over the browser.
	email := address("lang")
	hs.do(withHeader(withForm(event(t, "intake-form-post"), hs.form(email, i18n.EN)), "accept-language", "da"))
	if m := hs.env.Mails(t, email); len(m) != 1 || m[0].Subject != i18n.T(i18n.EN, "intake.mail.verification.subject", controller) {
		t.Errorf("mail not in English: %+v", m)
	}
}

// TestNotFound: any other route is a localized 404.
func TestNotFound(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/wp-login.php"}, {"GET", "/requests"}, {"PUT", "/requests"}, {"DELETE", "/verify"},
		{"POST", "/"}, {"GET", "/admin"}, {"GET", "/verify/x"},
	} {
		req := event(t, "intake-form-get")
		req.RequestContext.HTTP.Method, req.RawPath = tc.method, tc.path
		resp := hs.do(withQuery(req, "lang=en"))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, i18n.T(i18n.EN, "intake.notfound.title")) {
			t.Errorf("%s %s: %s", tc.method, tc.path, fmtStatus(resp))
		}
	}
	resp := hs.do(event(t, "intake-not-found"))
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, `<html lang="en">`) {
		t.Errorf("fixture: %s", fmtStatus(resp))
	}
}

// TestBasePath: with BASE_URL under a path, pages link and post under it and mails link to it.
func TestBasePath(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withEnv("BASE_URL", "https://privacy.example.dk/dsr"))
	req := event(t, "intake-form-get")
	req.RawPath = "/dsr/"
	resp := hs.do(req)
	mustContain(t, "form", resp.Body, `action="/dsr/requests"`, `href="/dsr/?lang=nb"`)
	email := address("base")
	post := withForm(event(t, "intake-form-post"), hs.form(email, i18n.DA))
	post.RawPath = "/dsr/requests"
	resp = hs.do(post)
	if header(resp, "Location") != "https://privacy.example.dk/dsr/sent?lang=da" {
		t.Errorf("Location %q", header(resp, "Location"))
	}
	m := hs.env.Mails(t, email)
	if len(m) != 1 || !strings.Contains(m[0].Text, "\nhttps://privacy.example.dk/dsr/verify?token=") {
		t.Errorf("mail link: %+v", m)
	}
}

// TestEdge: served through CloudFront (EDGE_SECRET set, a WAF web ACL in front), the intake
// answers only calls CloudFront forwarded: the API's own URL would go around the web ACL. The
// per-IP limit counts the viewer CloudFront names, not CloudFront's own addresses, which
// every viewer shares.
func TestEdge(t *testing.T) {
	t.Parallel()
	const secret = "edge-secret-edge-secret-edge-secret"
	hs := newHarness(t, withEnv("EDGE_SECRET", secret), withEnv("RATE_LIMIT_PER_IP", "1"))
	viaEdge := func(req web.Request, viewer string) web.Request {
		return withHeader(withHeader(withIP(req, "130.176.0.9"), web.EdgeHeader, secret), "cloudfront-viewer-address", viewer+":51000")
	}
	for _, req := range []web.Request{event(t, "intake-form-get"), withForm(event(t, "intake-form-post"), hs.form(address("direct"), i18n.DA))} {
		if resp := hs.do(req); resp.StatusCode != http.StatusForbidden {
			t.Errorf("%s around the edge: %s, want 403", req.RequestContext.HTTP.Method, fmtStatus(resp))
		}
	}
	if resp := hs.do(viaEdge(event(t, "intake-form-get"), "192.0.2.1")); resp.StatusCode != http.StatusOK {
		t.Fatalf("the form through the edge: %s", fmtStatus(resp))
	}
	a, b := address("viewer-a"), address("viewer-b")
	hs.do(viaEdge(withForm(event(t, "intake-form-post"), hs.form(a, i18n.DA)), "192.0.2.1"))
	hs.do(viaEdge(withForm(event(t, "intake-form-post"), hs.form(b, i18n.DA)), "192.0.2.2"))
	if len(hs.env.Mails(t, a)) != 1 || len(hs.env.Mails(t, b)) != 1 {
		t.Error("two viewers behind one CloudFront address were limited as one")
	}
	c := address("viewer-a-again")
	hs.do(viaEdge(withForm(event(t, "intake-form-post"), hs.form(c, i18n.DA)), "192.0.2.1"))
	if len(hs.env.Mails(t, c)) != 0 {
		t.Error("a viewer over its limit was mailed")
	}
}
