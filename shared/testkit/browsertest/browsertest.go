// Package browsertest starts the headless Chromium that the browser tests drive with chromedp,
// and saves what it shows. It is imported by tests only.
//
// A developer without Chromium gets a skip that says how to install it; CI sets
// DSR_REQUIRE_BROWSER=1 (.ci/run), which turns that skip into a failure, so a CI machine
// that lost its browser cannot pass by skipping every browser test.
package browsertest

import (
	"context"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/web"
)

// EnvRequire set to 1 makes a missing browser fail the test instead of skipping it.
const EnvRequire = "DSR_REQUIRE_BROWSER"

// names are the executables tried, in order: Debian's package, Ubuntu's, Google's, and the
// headless shell of the chromedp/headless-shell image.
var names = []string{"chromium", "chromium-browser", "google-chrome", "headless-shell"}

// Require skips the test in -short mode or when there is no Chromium on PATH (failing it
// instead when DSR_REQUIRE_BROWSER=1), and returns the browser's path. Call it before any
// expensive setup; New calls it too.
func Require(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	for _, name := range names {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	const how = "no Chromium on PATH (looked for chromium, chromium-browser, google-chrome, headless-shell): " +
		"install it with `apt-get install chromium` (Debian/Ubuntu) or your system's package manager"
	if os.Getenv(EnvRequire) == "1" {
		t.Fatal(how + "; " + EnvRequire + "=1 makes this a failure")
	}
	t.Skip(how + " to run this test")
	return ""
}

// Browser is one headless Chromium with one tab, stopped when the test ends.
type Browser struct {
	t   testing.TB
	ctx context.Context
}

// New starts a headless Chromium (no sandbox: CI and containers run as root) with the given
// extra options, e.g. chromedp.WindowSize or chromedp.Flag("accept-lang", "da-DK,da")
// (headless Chromium takes Accept-Language from --accept-lang, not --lang). Every action
// must finish within timeout from now.
func New(t testing.TB, timeout time.Duration, opts ...chromedp.ExecAllocatorOption) *Browser {
	t.Helper()
	path := Require(t)
	all := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), append(all, opts...)...)
	ctx, cancel := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	})
	return &Browser{t: t, ctx: ctx}
}

// Context is the tab's context, for chromedp.Do and chromedp.Run.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs steps in the tab and fails the test on the first error.
func (b *Browser) Do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// Get runs an action that returns a value (chromedp.Text, chromedp.Title,
// chromedp.Evaluate[T], …) and fails the test on error.
func Get[T any](b *Browser, a chromedp.Action[T]) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, a)
	if err != nil {
		b.t.Fatal(err)
	}
	return v
}

// ArtifactDir returns <module root>/artifacts/<sub>, created if missing. The folder is
// git-ignored; CI keeps it as the run's artifacts.
func ArtifactDir(t testing.TB, sub string) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("browsertest: no go.mod above the test's folder")
		}
		dir = parent
	}
	dir = filepath.Join(dir, "artifacts", sub)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

var unsafeName = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// Screenshot saves the whole page as it is now, as <dir>/<name>.png, and logs where. A
// failed capture is logged, not fatal: the picture documents the test, it is not what is
// tested.
func (b *Browser) Screenshot(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, unsafeName.ReplaceAllString(name, "_")+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Logf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", path)
}

// Listen reserves a loopback port for the server a browser test serves its handler on (Serve),
// and returns it with its base URL, which goes into the handler's configuration before the
// server can start.
func Listen(t testing.TB) (net.Listener, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	return ln, "http://" + ln.Addr().String()
}

// Serve serves h on ln until the test ends.
func Serve(t testing.TB, ln net.Listener, h http.Handler) {
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
}

// HTTPAPI serves a Lambda handler to the browser the way API Gateway's HTTP API would:
// payload 2.0 events with lower-cased headers, cookies in their own list, bodies base64-encoded,
// and the response's cookies as Set-Cookie headers. It lets a browser test run a handler
// without the local runner.
func HTTPAPI(handle func(context.Context, web.Request) (web.Response, error), routeKey string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		req := web.Request{
			Version:        "2.0",
			RouteKey:       routeKey,
			RawPath:        r.URL.EscapedPath(),
			RawQueryString: r.URL.RawQuery,
			Headers:        map[string]string{},
		}
		for k, v := range r.Header {
			if strings.EqualFold(k, "Cookie") {
				for _, c := range v {
					for _, part := range strings.Split(c, ";") {
						req.Cookies = append(req.Cookies, strings.TrimSpace(part))
					}
				}
				continue
			}
			req.Headers[strings.ToLower(k)] = strings.Join(v, ",")
		}
		req.RequestContext.Stage = "$default"
		req.RequestContext.HTTP.Method = r.Method
		req.RequestContext.HTTP.Path = r.URL.Path
		req.RequestContext.HTTP.SourceIP = "127.0.0.1"
		req.RequestContext.TimeEpoch = time.Now().UnixMilli()
		if len(body) > 0 {
			// HTTP API base64-encodes bodies that are not text (form posts included).
			req.Body = base64.StdEncoding.EncodeToString(body)
			req.IsBase64Encoded = true
		}
		resp, _ := handle(r.Context(), req)
		for k, v := range resp.Headers {
			w.Header().Set(k, v)
		}
		for _, c := range resp.Cookies {
			w.Header().Add("Set-Cookie", c)
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = io.WriteString(w, resp.Body)
	})
}
