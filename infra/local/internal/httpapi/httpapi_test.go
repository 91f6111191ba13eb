package httpapi

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/infra/local/internal/lambdart"
)

func TestRouterMatch(t *testing.T) {
	rt, err := NewRouter([]Route{
		{Key: "GET /", Function: "Form"},
		{Key: "POST /requests", Function: "Submit"},
		{Key: "GET /admin/requests/{ref}", Function: "AdminRef"},
		{Key: "GET /admin/requests/new", Function: "AdminNew"},
		{Key: "ANY /admin/requests/{ref}", Function: "AdminAny"},
		{Key: "ANY /admin/{proxy+}", Function: "AdminProxy"},
		{Key: "ANY /{proxy+}", Function: "Proxy"},
		{Key: "$default", Function: "Default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		method, path, fn string
		params           map[string]string
	}{
		{"GET", "/", "Form", nil},
		{"POST", "/", "Default", nil}, // {proxy+} needs at least one segment
		{"POST", "/requests", "Submit", nil},
		{"GET", "/requests", "Proxy", map[string]string{"proxy": "requests"}},
		{"GET", "/admin/requests/ABCD-EFGH", "AdminRef", map[string]string{"ref": "ABCD-EFGH"}},
		{"GET", "/admin/requests/new", "AdminNew", nil},
		{"POST", "/admin/requests/AB%20CD", "AdminAny", map[string]string{"ref": "AB CD"}},
		{"GET", "/admin/requests/a/b", "AdminProxy", map[string]string{"proxy": "requests/a/b"}},
		{"GET", "/admin", "Proxy", map[string]string{"proxy": "admin"}},
		{"GET", "/x/y", "Proxy", map[string]string{"proxy": "x/y"}},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			m, ok := rt.Match(tc.method, tc.path)
			if !ok || m.Function != tc.fn || !reflect.DeepEqual(m.PathParameters, tc.params) {
				t.Errorf("Match = %v %+v, want %s %v", ok, m, tc.fn, tc.params)
			}
		})
	}
	small, _ := NewRouter([]Route{{Key: "GET /", Function: "Form"}})
	if _, ok := small.Match("GET", "/nope"); ok {
		t.Error("matched a path without a route")
	}
	if _, err := NewRouter([]Route{{Key: "GET /", Function: "A"}, {Key: "GET /", Function: "B"}}); err == nil {
		t.Error("duplicate route accepted")
	}
	if _, err := NewRouter([]Route{{Key: "GET /{proxy+}/x", Function: "A"}}); err == nil {
		t.Error("greedy variable in the middle accepted")
	}
}

func TestBuildEvent(t *testing.T) {
	now := time.Date(2025, 3, 10, 9, 30, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, contentType, body string
		wantBody                string
		wantB64                 bool
	}{
		{"form", "application/x-www-form-urlencoded", "name=%C3%86se&x=1", base64.StdEncoding.EncodeToString([]byte("name=%C3%86se&x=1")), true},
		{"json", "application/json; charset=utf-8", `{"a":1}`, `{"a":1}`, false},
		{"text", "text/plain", "hej", "hej", false},
		{"problem json", "application/problem+json", `{}`, `{}`, false},
		{"binary", "application/octet-stream", "\x00\xff", base64.StdEncoding.EncodeToString([]byte("\x00\xff")), true},
		{"no type", "", "x", base64.StdEncoding.EncodeToString([]byte("x")), true},
		{"empty", "application/json", "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "http://127.0.0.1:3000/admin/requests/AB%2FCD?b=2&a=1&a=2&flag", strings.NewReader(tc.body))
			r.Header.Set("Content-Type", tc.contentType)
			r.Header.Add("X-Multi", "one")
			r.Header.Add("X-Multi", "two")
			r.Header.Add("Cookie", "sid=abc; lang=da")
			r.Header.Add("Cookie", "extra=1")
			r.Header.Set("User-Agent", "test-agent")
			r.RemoteAddr = "127.0.0.1:54321"
			m := Match{Route: Route{Key: "ANY /admin/requests/{ref}", Function: "Admin", APIID: "HttpApi"}, PathParameters: map[string]string{"ref": "AB/CD"}}
			ev := BuildEvent(r, []byte(tc.body), m, Context{AccountID: "123456789012"}, now)
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.wantB64 {
				t.Errorf("body = %q (base64 %v), want %q (%v)", ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.wantB64)
			}
			if ev.Version != "2.0" || ev.RouteKey != m.Key || ev.RawPath != "/admin/requests/AB%2FCD" ||
				ev.RawQueryString != "b=2&a=1&a=2&flag" {
				t.Errorf("event = %+v", ev)
			}
			if want := []string{"sid=abc", "lang=da", "extra=1"}; !reflect.DeepEqual(ev.Cookies, want) {
				t.Errorf("cookies = %v", ev.Cookies)
			}
			if _, ok := ev.Headers["cookie"]; ok {
				t.Error("cookie header kept in headers")
			}
			for k, v := range map[string]string{"x-multi": "one,two", "user-agent": "test-agent", "host": "127.0.0.1:3000",
				"x-forwarded-for": "127.0.0.1", "x-forwarded-proto": "http"} {
				if ev.Headers[k] != v {
					t.Errorf("header %s = %q, want %q", k, ev.Headers[k], v)
				}
			}
			for k := range ev.Headers {
				if k != strings.ToLower(k) {
					t.Errorf("header %s not lower-cased", k)
				}
			}
			if want := map[string]string{"a": "1,2", "b": "2", "flag": ""}; !reflect.DeepEqual(ev.QueryStringParameters, want) {
				t.Errorf("query = %v", ev.QueryStringParameters)
			}
			rc := ev.RequestContext
			if rc.AccountID != "123456789012" || rc.APIID != "httpapi" || rc.DomainName != "127.0.0.1" || rc.DomainPrefix != "127" ||
				rc.Stage != "$default" || rc.RouteKey != m.Key || rc.Time != "10/Mar/2025:09:30:00 +0000" ||
				rc.TimeEpoch != now.UnixMilli() || len(rc.RequestID) != 16 ||
				rc.HTTP != (events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "POST", Path: "/admin/requests/AB%2FCD",
					Protocol: "HTTP/1.1", SourceIP: "127.0.0.1", UserAgent: "test-agent"}) {
				t.Errorf("requestContext = %+v", rc)
			}
			raw, _ := json.Marshal(ev)
			if strings.Contains(string(raw), "stageVariables") {
				t.Error("stageVariables present")
			}
		})
	}
}

func TestParseResponse(t *testing.T) {
	for _, tc := range []struct {
		name, payload string
		status        int
		header        http.Header
		body          string
		err           bool
	}{
		{name: "structured", payload: `{"statusCode":303,"headers":{"location":"/sent","x-a":"1"},"multiValueHeaders":{"x-m":["a","b"]},"cookies":["a=1; Path=/","b=2"],"body":"see"}`,
			status: 303, header: http.Header{"Location": {"/sent"}, "X-A": {"1"}, "X-M": {"a", "b"}, "Set-Cookie": {"a=1; Path=/", "b=2"}}, body: "see"},
		{name: "base64", payload: `{"statusCode":200,"isBase64Encoded":true,"body":"AP8="}`, status: 200, header: http.Header{}, body: "\x00\xff"},
		{name: "string", payload: `"plain string"`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: "plain string"},
		{name: "object without statusCode", payload: `{"no":"statusCode"}`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `{"no":"statusCode"}`},
		{name: "number", payload: `42`, status: 200, header: http.Header{"Content-Type": {"application/json"}}, body: `42`},
		{name: "not json", payload: `oops`, err: true},
		{name: "bad base64", payload: `{"statusCode":200,"isBase64Encoded":true,"body":"!!"}`, err: true},
		{name: "bad status", payload: `{"statusCode":"200"}`, err: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := ParseResponse([]byte(tc.payload))
			if tc.err {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("err = %v, want ErrMalformed", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != tc.status || !reflect.DeepEqual(res.Header, tc.header) || string(res.Body) != tc.body {
				t.Errorf("got %d %v %q", res.Status, res.Header, res.Body)
			}
		})
	}
}

func TestHandlerStatuses(t *testing.T) {
	rt, _ := NewRouter([]Route{{Key: "ANY /{proxy+}", Function: "Fn"}})
	var lastEvent events.APIGatewayV2HTTPRequest
	h := &Handler{Router: rt, Logger: slog.New(slog.DiscardHandler), Invoke: func(_ context.Context, fn string, payload []byte) ([]byte, error) {
		_ = json.Unmarshal(payload, &lastEvent)
		switch lastEvent.PathParameters["proxy"] {
		case "ok":
			return []byte(`{"statusCode":200,"body":"ok"}`), nil
		case "fnerror":
			return nil, &lambdart.FunctionError{Type: "errorString", Message: "boom"}
		case "timeout":
			return nil, fmt.Errorf("%w after 1s", lambdart.ErrTimeout)
		case "crash":
			return nil, fmt.Errorf("%w (exit status 2)", lambdart.ErrCrashed)
		}
		return []byte(`not json`), nil
	}}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for path, want := range map[string]struct {
		status int
		body   string
	}{
		"/":         {404, `{"message":"Not Found"}`},
		"/ok":       {200, "ok"},
		"/fnerror":  {500, `{"message":"Internal Server Error"}`},
		"/timeout":  {504, `{"message":"Gateway Timeout"}`},
		"/crash":    {502, `{"message":"Bad Gateway"}`},
		"/badreply": {500, `{"message":"Internal Server Error"}`},
	} {
		res, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != want.status || string(b) != want.body || res.Header.Get("Apigw-Requestid") == "" {
			t.Errorf("%s: %d %s, want %d %s", path, res.StatusCode, b, want.status, want.body)
		}
	}
	if got := lastEvent.RequestContext.RequestID; len(got) != 16 {
		t.Errorf("requestId %q", got)
	}
}
