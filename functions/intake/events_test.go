package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// TestEvents runs every events/intake-*.json fixture, as `sam local invoke -e` would, and
// checks it is shaped like what API Gateway sends. A new fixture must be listed here.
func TestEvents(t *testing.T) {
	t.Parallel()
	want := map[string]int{
		"intake-form-get":             http.StatusOK,
		"intake-form-post":            http.StatusSeeOther,
		"intake-form-post-invalid":    http.StatusBadRequest,
		"intake-form-post-cross-site": http.StatusForbidden,
		"intake-json-post":            http.StatusAccepted,
		"intake-json-preflight":       http.StatusNoContent,
		"intake-sent-get":             http.StatusOK,
		// The fixtures' token is well formed but unknown; the flow tests put real ones in.
		"intake-verify-get":  http.StatusNotFound,
		"intake-verify-post": http.StatusNotFound,
		"intake-not-found":   http.StatusNotFound,
	}
	files, err := filepath.Glob(filepath.Join("..", "..", "events", "intake-*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	hs := newHarness(t)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".json")
		t.Run(name, func(t *testing.T) {
			status, ok := want[name]
			if !ok {
				t.Fatalf("fixture %s has no expected status in this test", name)
			}
			checkShape(t, f)
			req := event(t, name)
			if name == "intake-form-post" {
				// The form's render time is signed with the deployment's own key, which no
				// fixture can know; sam local invoke of it gets the bots' answer, the same 303.
				req = withRenderTime(t, hs, req)
			}
			resp := hs.do(req)
			if resp.StatusCode != status {
				t.Fatalf("%s, want %d\n%s", fmtStatus(resp), status, resp.Body)
			}
			if strings.HasPrefix(resp.Headers["Content-Type"], "text/html") {
				checkNoMissingKeys(t, name, resp.Body)
			}
		})
	}
	// The form post fixture files a real request.
	refs := scanRequests(t, hs)
	if len(refs) != 2 {
		t.Fatalf("%d requests from the fixtures, want the form's and the JSON's", len(refs))
	}
	for _, ref := range refs {
		r := hs.request(ref)
		if r.Status != dsr.PendingVerification || r.Mails[dsr.MailVerification].State != dsr.MailSent {
			t.Errorf("%s: %s, verification %+v", ref, r.Status, r.Mails[dsr.MailVerification])
		}
		switch r.Email {
		case "mette.sorensen@example.dk":
			if r.Lang != "da" || r.Type != dsr.Access || r.Details != "Jeg vil gerne have en kopi af de oplysninger, I har om mig,\nherunder min ordrehistorik." {
				t.Errorf("form fixture stored %+v", r)
			}
		case "ola.nordmann@example.no":
			if r.Lang != "nb" || r.Type != dsr.Erasure {
				t.Errorf("JSON fixture stored %+v", r)
			}
		default:
			t.Errorf("unexpected request from %s", r.Email)
		}
	}
}

// withRenderTime replaces a form post's render time with one the harness's key signed, a
// minute before the fixture's own time.
func withRenderTime(t *testing.T, hs *harness, req web.Request) web.Request {
	t.Helper()
	body, err := web.Body(req, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(body))
	if err != nil {
		t.Fatal(err)
	}
	v.Set("ts", hs.stamp(hs.clock.Now().Add(-time.Minute)))
	return withForm(req, v)
}

// checkShape holds a fixture to what an HTTP API payload 2.0 event looks like.
func checkShape(t *testing.T, file string) {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	for _, k := range []string{"version", "routeKey", "rawPath", "rawQueryString", "headers", "requestContext", "isBase64Encoded"} {
		if _, ok := generic[k]; !ok {
			t.Errorf("no %q", k)
		}
	}
	var req web.Request
	_ = json.Unmarshal(raw, &req)
	rc := req.RequestContext
	if req.Version != "2.0" || rc.HTTP.Method == "" || rc.HTTP.Path != req.RawPath || rc.HTTP.SourceIP == "" ||
		rc.TimeEpoch == 0 || rc.Time == "" || rc.RequestID == "" || rc.Stage == "" || rc.RouteKey != req.RouteKey {
		t.Errorf("requestContext %+v does not match the event", rc)
	}
	for k := range req.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q is not lower-case, as HTTP API sends it", k)
		}
	}
	if req.Headers["content-type"] == web.MediaForm && !req.IsBase64Encoded {
		t.Error("a form body must be base64-encoded, as HTTP API delivers it")
	}
	if req.RawQueryString != "" && len(req.QueryStringParameters) == 0 {
		t.Error("rawQueryString without queryStringParameters")
	}
	if req.Body != "" {
		body, err := web.Body(req, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		if cl := req.Headers["content-length"]; cl != "" && cl != itoa(len(body)) {
			t.Errorf("content-length %s, body %d bytes", cl, len(body))
		}
	}
}

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }
