package web

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

func request(method, rawPath, rawQuery string, headers map[string]string) Request {
	var req Request
	req.RequestContext.HTTP.Method = method
	req.RequestContext.Stage = "$default"
	req.RawPath, req.RawQueryString, req.Headers = rawPath, rawQuery, headers
	return req
}

// API Gateway's named stages, BASE_URL's path and a trailing slash are not part of a route.
func TestRoute(t *testing.T) {
	for _, tc := range []struct {
		base, stage, raw, want string
	}{
		{"", "$default", "/verify", "/verify"},
		{"", "$default", "", "/"},
		{"", "$default", "/", "/"},
		{"", "$default", "/admin/", "/admin"},
		{"", "$default", "/admin/requests/K7MQ-4XTZ/", "/admin/requests/K7MQ-4XTZ"},
		{"", "prod", "/prod/verify", "/verify"},
		{"", "prod", "/production", "/production"},
		{"/privacy", "$default", "/privacy/requests", "/requests"},
		{"/privacy", "$default", "/privacy", "/"},
		{"/privacy", "$default", "/privacy/", "/"},
		{"/privacy", "$default", "/privacyx", "/privacyx"},
		{"/privacy", "v1", "/v1/privacy/sent", "/sent"},
	} {
		req := request("get", tc.raw, "", nil)
		req.RequestContext.Stage = tc.stage
		c := (&Site{BasePath: tc.base}).Call(req)
		if c.Method != "GET" || c.Path != tc.want {
			t.Errorf("base %q stage %q path %q: %s %s, want GET %s", tc.base, tc.stage, tc.raw, c.Method, c.Path, tc.want)
		}
	}
	req := request("POST", "", "", nil)
	req.RequestContext.HTTP.Path = "/requests" // an event without rawPath (sam local)
	if c := (&Site{}).Call(req); c.Path != "/requests" {
		t.Errorf("path from requestContext: %q", c.Path)
	}
}

// The query is read from rawQueryString, where a repeated key keeps its values apart; the
// parsed parameters serve only an event without it.
func TestQuery(t *testing.T) {
	c := (&Site{}).Call(request("GET", "/", "lang=da&lang=en&token=a%2Bb&broken=%zz", nil))
	if got := c.Query["lang"]; !slices.Equal(got, []string{"da", "en"}) || c.Query.Get("token") != "a+b" {
		t.Errorf("query %v", c.Query)
	}
	req := request("GET", "/", "", nil)
	req.QueryStringParameters = map[string]string{"q": "x"}
	if c := (&Site{}).Call(req); c.Query.Get("q") != "x" {
		t.Errorf("parameters: %v", c.Query)
	}
}

// The language is chosen once per call, by the site's policy; a body's explicit choice and the
// request's own language refine it in their places.
func TestLang(t *testing.T) {
	public := &Site{Lang: LangPolicy{Default: i18n.DA, Browser: true}}
	workspace := &Site{Lang: LangPolicy{Default: i18n.NB, Cookie: "dsr_lang", CookiePath: "/admin"}}
	browser := map[string]string{"accept-language": "en-GB,en;q=0.9"}
	tests := []struct {
		name    string
		site    *Site
		query   string
		headers map[string]string
		cookies []string
		refine  func(*Call)
		want    i18n.Lang
	}{
		{"default", public, "", nil, nil, nil, i18n.DA},
		{"the browser's", public, "", browser, nil, nil, i18n.EN},
		{"?lang= over the browser's", public, "lang=nb", browser, nil, nil, i18n.NB},
		{"an unknown ?lang=", public, "lang=sv", browser, nil, nil, i18n.EN},
		{"a posted choice over ?lang=", public, "lang=nb", nil, nil, func(c *Call) { c.Choose("en") }, i18n.EN},
		{"an unknown posted choice", public, "lang=nb", nil, nil, func(c *Call) { c.Choose("x") }, i18n.NB},
		{"the request's over the browser's", public, "", browser, nil, func(c *Call) { c.Suggest("da") }, i18n.DA},
		{"?lang= over the request's", public, "lang=nb", browser, nil, func(c *Call) { c.Suggest("da") }, i18n.NB},
		{"workspace: the default, not the browser's", workspace, "", browser, nil, nil, i18n.NB},
		{"workspace: remembered", workspace, "", nil, []string{"dsr_lang=en"}, nil, i18n.EN},
		{"workspace: ?lang= over remembered", workspace, "lang=da", nil, []string{"dsr_lang=en"}, nil, i18n.DA},
	}
	for _, tt := range tests {
		req := request("GET", "/", tt.query, tt.headers)
		req.Cookies = tt.cookies
		c := tt.site.Call(req)
		if tt.refine != nil {
			tt.refine(c)
		}
		if c.Lang != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, c.Lang, tt.want)
		}
	}
	c := workspace.Call(request("GET", "/admin", "lang=da", nil))
	resp := c.Finish(Response{StatusCode: http.StatusOK})
	if !slices.Equal(resp.Cookies, []string{"dsr_lang=da; Path=/admin; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax"}) {
		t.Errorf("remembered as %v", resp.Cookies)
	}
	if resp := public.Call(request("GET", "/", "lang=da", nil)).Finish(Response{}); len(resp.Cookies) != 0 {
		t.Errorf("a site without a cookie set %v", resp.Cookies)
	}
}

// A post is read only from the site's origins, in the media types the route reads, up to its
// cap; each refusal is its kind of failure.
func TestBodyAndForm(t *testing.T) {
	site := &Site{Origins: []string{"https://privacy.example.dk/dsr", "https://www.example.dk"}}
	post := func(origin, media, body string, b64 bool) *Call {
		h := map[string]string{"content-type": media}
		if origin != "" {
			h["origin"] = origin
		}
		req := request("POST", "/verify", "", h)
		req.Body, req.IsBase64Encoded = body, b64
		if b64 {
			req.Body = base64.StdEncoding.EncodeToString([]byte(body))
		}
		return site.Call(req)
	}
	form := MediaForm + "; charset=UTF-8"
	tests := []struct {
		name string
		call *Call
		want fault.Kind
	}{
		{"our own page", post("https://privacy.example.dk", form, "token=t&lang=en", true), fault.Other},
		{"another allowed site", post("https://www.example.dk", form, "token=t", false), fault.Other},
		{"no Origin (curl)", post("", form, "token=t", false), fault.Other},
		{"another site", post("https://evil.example", form, "token=t", false), fault.Forbidden},
		// A sandboxed frame, a data: URL or a page under no-referrer sends "null": none of them
		// is one of our pages (ours send their origin: Referrer-Policy same-origin).
		{"Origin: null", post("null", form, "token=t", false), fault.Forbidden},
		{"Origin: null, claiming same-origin", func() *Call {
			c := post("null", form, "token=t", false)
			c.Req.Headers["sec-fetch-site"] = "same-origin"
			return c
		}(), fault.Forbidden},
		{"JSON where a form is read", post("", MediaJSON, `{}`, false), fault.Unsupported},
		{"too large", post("", form, "token="+strings.Repeat("x", 100), true), fault.TooLarge},
		{"empty", post("", form, "", false), fault.Other},
		{"not a form", post("", form, "a=%zz", false), fault.BadRequest},
	}
	for _, tt := range tests {
		v, err := tt.call.Form(64)
		if got := fault.Of(err); got != tt.want || (err == nil && v == nil) {
			t.Errorf("%s: %v (%v), want %v", tt.name, got, err, tt.want)
		}
	}
	c := post("https://privacy.example.dk", form, "token=t&lang=en", true)
	if v, err := c.Form(64); err != nil || v.Get("token") != "t" || c.Lang != i18n.EN {
		t.Errorf("form %v, %v, language %s", v, err, c.Lang)
	}
	c = post("", MediaJSON+"; charset=utf-8", `{"a":1}`, false)
	if mt, b, err := c.Body(64, MediaForm, MediaJSON); err != nil || mt != MediaJSON || string(b) != `{"a":1}` {
		t.Errorf("body %q %q %v", mt, b, err)
	}
	broken := post("", form, "", false)
	broken.Req.Body, broken.Req.IsBase64Encoded = "!!", true
	if _, err := broken.Form(64); fault.Of(err) != fault.BadRequest {
		t.Errorf("broken base64: %v", err)
	}
}

func TestWantsData(t *testing.T) {
	for _, tt := range []struct {
		headers map[string]string
		want    bool
	}{
		{map[string]string{"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}, false},
		{map[string]string{"accept": "application/json"}, true},
		{map[string]string{"accept": "text/csv"}, true},
		{map[string]string{"accept": "application/json, text/html"}, false},
		{map[string]string{"content-type": "application/json"}, true},
		{map[string]string{"Content-Type": "application/json; charset=utf-8", "accept": "text/html"}, true},
		{nil, false},
	} {
		if got := (&Site{}).Call(request("GET", "/", "", tt.headers)).WantsData(); got != tt.want {
			t.Errorf("%v: %v, want %v", tt.headers, got, tt.want)
		}
	}
}

// One error shape for every function: a code for the status, a message, the fields' messages.
func TestProblemJSON(t *testing.T) {
	resp := ProblemJSON(http.StatusBadRequest, "Ret felterne.", map[string]string{"email": "Skriv din e-mailadresse."})
	var p map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &p); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 400 || p["error"] != "bad_request" || p["message"] != "Ret felterne." ||
		p["errors"].(map[string]any)["email"] != "Skriv din e-mailadresse." || resp.Headers["Content-Type"] != "application/json; charset=utf-8" {
		t.Errorf("%d %s %v", resp.StatusCode, resp.Body, resp.Headers)
	}
	for status, code := range map[int]string{401: "unauthorized", 404: "not_found", 413: "request_entity_too_large",
		503: "service_unavailable", 500: "internal_server_error", 599: "internal_server_error"} {
		if body := ProblemJSON(status, "m", nil).Body; !strings.Contains(body, `"error":"`+code+`"`) || strings.Contains(body, `"errors"`) {
			t.Errorf("%d: %s", status, body)
		}
	}
}

// Status maps by kind, whatever wraps it.
func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 200},
		{errors.New("boom"), 500},
		{dsr.FieldErrors{"email": dsr.CodeInvalidEmail}, 400},
		{fmt.Errorf("web: parse form: %w", fault.BadRequest), 400},
		{fault.TooLarge, 413},
		{fmt.Errorf("admin: %w: %w", fault.Unauthorized, fault.NotFound), 401},
		{fault.Forbidden, 403},
		{fault.Unsupported, 415},
		{fmt.Errorf("store: request X: %w", fault.NotFound), 404},
		{fault.Conflict, 409},
		{&dsr.TransitionError{From: dsr.Open, To: dsr.Expired, Reason: "not_allowed"}, 409},
		{fault.Limited, 429},
		{fmt.Errorf("store: get: %w: %w", fault.Unavailable, errors.New("throttled")), 503},
	}
	for _, tt := range tests {
		if got := Status(tt.err); got != tt.want {
			t.Errorf("Status(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	if StatusOf(fault.NotFound) != 404 || StatusOf(fault.Other) != 500 {
		t.Error("StatusOf")
	}
}

// Every page refuses to be framed twice over (CSP frame-ancestors for browsers that read it,
// X-Frame-Options for those that do not), and tells the browser to send our origin on our own
// posts (Referrer-Policy same-origin: under no-referrer a same-origin form post says
// "Origin: null", which the request layer refuses) and nothing to other sites.
func TestHTMLHeaders(t *testing.T) {
	h := HTMLHeaders()
	for k, want := range map[string]string{
		"X-Frame-Options":        "DENY",
		"Referrer-Policy":        "same-origin",
		"X-Content-Type-Options": "nosniff",
		"Cache-Control":          "no-store",
	} {
		if h[k] != want {
			t.Errorf("%s: %q, want %q", k, h[k], want)
		}
	}
	if !strings.Contains(h["Content-Security-Policy"], "frame-ancestors 'none'") {
		t.Errorf("CSP %q", h["Content-Security-Policy"])
	}
}

// Format characters a requester's text may hold (a right-to-left override that reverses what
// follows, zero-width spaces) are shown as what they are, named by their code point, so the
// DPO reads the text as stored; everything else is escaped as html/template would.
func TestVisible(t *testing.T) {
	for in, want := range map[string]string{
		"plain":                    "plain",
		"Invoice \u202efdp.exe":    `Invoice <span class="cf">U+202E</span>fdp.exe`,
		"a\u200bb\ufeff":           `a<span class="cf">U+200B</span>b<span class="cf">U+FEFF</span>`,
		"<b>&\"'":                  "&lt;b&gt;&amp;&#34;&#39;",
		"\u0645\u06cc\u200c\u062e": "\u0645\u06cc<span class=\"cf\">U+200C</span>\u062e",
		"":                         "",
	} {
		if got := string(Visible(in)); got != want {
			t.Errorf("Visible(%+q) = %q, want %q", in, got, want)
		}
	}
}

// Behind the optional CloudFront distribution (a WAF web ACL's only way in front of an HTTP
// API), a call counts only if CloudFront sent it (the origin header with the deployment's edge
// secret): the API's own URL would skip the web ACL. The client is then the viewer CloudFront
// names, not CloudFront's own address. Without an edge secret, the source IP is the client.
func TestEdge(t *testing.T) {
	direct := &Site{}
	req := request("POST", "/requests", "", map[string]string{"cloudfront-viewer-address": "192.0.2.9:4711"})
	req.RequestContext.HTTP.SourceIP = "203.0.113.5"
	if c := direct.Call(req); !c.FromEdge() || c.ClientIP() != "203.0.113.5" {
		t.Errorf("without an edge: from the edge %v, client %q", c.FromEdge(), c.ClientIP())
	}
	edge := &Site{EdgeSecret: "s3cret-s3cret-s3cret-s3cret-s3cret"}
	for _, tc := range []struct {
		name, secret, viewer string
		from                 bool
		ip                   string
	}{
		{"from CloudFront", "s3cret-s3cret-s3cret-s3cret-s3cret", "192.0.2.9:4711", true, "192.0.2.9"},
		{"from CloudFront, IPv6", "s3cret-s3cret-s3cret-s3cret-s3cret", "2001:db8::7:44310", true, "2001:db8::7"},
		{"the API's own URL", "", "192.0.2.9:4711", false, ""},
		{"a wrong secret", "s3cret", "192.0.2.9:4711", false, ""},
		{"no viewer address: the source, as a last resort", "s3cret-s3cret-s3cret-s3cret-s3cret", "", true, "130.176.0.1"},
	} {
		h := map[string]string{}
		if tc.secret != "" {
			h[EdgeHeader] = tc.secret
		}
		if tc.viewer != "" {
			h["cloudfront-viewer-address"] = tc.viewer
		}
		req := request("POST", "/requests", "", h)
		req.RequestContext.HTTP.SourceIP = "130.176.0.1"
		c := edge.Call(req)
		if c.FromEdge() != tc.from || (tc.from && c.ClientIP() != tc.ip) {
			t.Errorf("%s: from the edge %v, client %q; want %v, %q", tc.name, c.FromEdge(), c.ClientIP(), tc.from, tc.ip)
		}
	}
}
