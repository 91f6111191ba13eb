package main

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The events/ fixtures are what a developer passes to `sam local invoke -e`: each is a
// valid payload 2.0 event and does what its name says, as is and with a real link put in. A
// new fixture must be listed here.
func TestEventFixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "portal-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	hs := newHarness(t)
	checks := map[string]func(t *testing.T){
		"portal-status-get": func(t *testing.T) {
			req := event(t, "portal-status-get")
			if resp := hs.do(req); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("placeholder token: %d", resp.StatusCode)
			}
			r := hs.seed(i18n.DA, address("fixture"))
			req.RawQueryString = "token=" + url.QueryEscape(hs.link(r))
			resp := hs.do(req)
			if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, r.Ref) || len(resp.Cookies) != 1 {
				t.Fatalf("real token: %d", resp.StatusCode)
			}
		},
		"portal-reply-post": func(t *testing.T) {
			req := event(t, "portal-reply-post")
			if resp := hs.do(req); resp.StatusCode != http.StatusNotFound {
				t.Fatalf("placeholder session: %d", resp.StatusCode)
			}
			r := hs.seed(i18n.DA, address("fixture"))
			hs.ask(r, dsr.PurposeIdentity, "Dit kundenummer?", "")
			tok := hs.link(r)
			req.Cookies = []string{cookieName + "=" + tok}
			if resp := hs.do(req); resp.StatusCode != http.StatusForbidden {
				t.Fatalf("placeholder form token: %d", resp.StatusCode)
			}
			form := formOf(t, req)
			form.Set("form", formToken(tok))
			req.Body = base64.StdEncoding.EncodeToString([]byte(form.Encode()))
			req.Headers["content-length"] = ""
			if resp := hs.do(req); resp.StatusCode != http.StatusSeeOther {
				t.Fatalf("real session: %d\n%s", resp.StatusCode, resp.Body)
			}
			if _, msgs := hs.request(r.Ref); len(msgs) != 2 || msgs[1].Text != "Mit kundenummer er K-10442.\nJeg bor stadig på Vestergade 12." {
				t.Fatalf("messages %+v", msgs)
			}
		},
		"portal-lost-get": func(t *testing.T) {
			resp := hs.do(event(t, "portal-lost-get"))
			if resp.StatusCode != http.StatusOK || !strings.Contains(resp.Body, `name="email"`) {
				t.Fatalf("%d", resp.StatusCode)
			}
		},
		"portal-lost-post": func(t *testing.T) {
			resp := hs.do(event(t, "portal-lost-post"))
			if resp.StatusCode != http.StatusSeeOther || resp.Headers["Location"] != "/status/lost/sent?lang=da" {
				t.Fatalf("%d %s", resp.StatusCode, resp.Headers["Location"])
			}
		},
		"portal-lost-sent-get": func(t *testing.T) {
			resp := hs.do(event(t, "portal-lost-sent-get"))
			mustContain(t, "sent", resp.Body, i18n.T(i18n.DA, "portal.lost.sent.title"))
		},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			hs.t = t
			check, ok := checks[name]
			if !ok {
				t.Fatalf("fixture %s has no check in this test", name)
			}
			checkShape(t, f)
			check(t)
		})
	}
}

func formOf(t *testing.T, req web.Request) url.Values {
	t.Helper()
	b, err := web.Body(req, maxBody)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// checkShape holds a fixture to what an HTTP API payload 2.0 event of these routes looks like.
func checkShape(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var req web.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("not an event: %v", err)
	}
	rc := req.RequestContext
	if req.Version != "2.0" || rc.HTTP.Path != req.RawPath || rc.RouteKey != req.RouteKey || rc.Stage != "$default" ||
		rc.HTTP.SourceIP == "" || rc.TimeEpoch == 0 || rc.RequestID == "" {
		t.Errorf("requestContext %+v does not match the event", rc)
	}
	wantRoute := "ANY /status/{proxy+}"
	if req.RawPath == "/status" {
		wantRoute = "ANY /status"
	} else if req.PathParameters["proxy"] != strings.TrimPrefix(req.RawPath, "/status/") {
		t.Errorf("proxy parameter %q for %s", req.PathParameters["proxy"], req.RawPath)
	}
	if req.RouteKey != wantRoute {
		t.Errorf("route %q, want %q (template.yaml's)", req.RouteKey, wantRoute)
	}
	if req.Headers["content-type"] == web.MediaForm {
		b, err := web.Body(req, maxBody)
		if !req.IsBase64Encoded || err != nil || req.Headers["content-length"] != itoa(len(b)) {
			t.Errorf("form body: base64 %v, %v, content-length %s for %d bytes", req.IsBase64Encoded, err, req.Headers["content-length"], len(b))
		}
	}
	if req.RawQueryString != "" && len(req.QueryStringParameters) == 0 {
		t.Error("rawQueryString without queryStringParameters")
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
