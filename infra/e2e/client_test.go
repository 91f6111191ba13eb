package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// visitor is a person's browser reduced to what the desk relies on: the headers a browser
// sends on navigations and form posts, and the cookies it keeps. It does not follow
// redirects by itself, so that every hop is checked.
//
// Cookies are kept by hand: net/http/cookiejar never sends a Secure cookie over http, but
// browsers treat loopback as a secure origin and do, and the workspace's session cookie is
// Secure.
type visitor struct {
	t       *testing.T
	d       *stack
	lang    string // Accept-Language
	cookies map[string]string
	client  *http.Client
}

func newVisitor(t *testing.T, d *stack, acceptLanguage string) *visitor {
	return &visitor{t: t, d: d, lang: acceptLanguage, cookies: map[string]string{},
		client: &http.Client{
			Timeout:       30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
}

// page is one answer.
type page struct {
	status int
	header http.Header
	body   string
}

// location is the redirect target, resolved against BASE_URL as a browser would.
func (p page) location(t *testing.T, base string) string {
	t.Helper()
	loc := p.header.Get("Location")
	if p.status != http.StatusSeeOther || loc == "" {
		t.Fatalf("want a 303 redirect, got %d (Location %q):\n%s", p.status, loc, p.body)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	ref, err := url.Parse(loc)
	if err != nil {
		t.Fatalf("Location %q: %v", loc, err)
	}
	return u.ResolveReference(ref).String()
}

// open navigates to u. site is the Sec-Fetch-Site a browser sends: "none" for a link
// opened from a mail program or typed, "same-origin" for a link on our own pages.
func (v *visitor) open(u, site string) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		v.t.Fatal(err)
	}
	v.navigation(req, site)
	return v.do(req)
}

// submit posts a form from one of our pages, with the page's origin as a browser sends it
// under our Referrer-Policy (same-origin); the desk refuses "Origin: null".
func (v *visitor) submit(u string, form url.Values) page {
	v.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		v.t.Fatal(err)
	}
	v.navigation(req, "same-origin")
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", req.URL.Scheme+"://"+req.URL.Host)
	return v.do(req)
}

func (v *visitor) navigation(req *http.Request, site string) {
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	req.Header.Set("Accept-Language", v.lang)
	req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) dsrdesk-e2e")
	req.Header.Set("Sec-Fetch-Site", site)
	req.Header.Set("Sec-Fetch-Mode", "navigate")
	req.Header.Set("Sec-Fetch-Dest", "document")
	for name, value := range v.cookies {
		req.AddCookie(&http.Cookie{Name: name, Value: value})
	}
}

func (v *visitor) do(req *http.Request) page {
	v.t.Helper()
	res, err := v.client.Do(req)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		v.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 || c.Value == "" {
			delete(v.cookies, c.Name)
		} else {
			v.cookies[c.Name] = c.Value
		}
	}
	if res.StatusCode >= 500 {
		v.t.Fatalf("%s %s: %d\n%s", req.Method, req.URL, res.StatusCode, body)
	}
	return page{status: res.StatusCode, header: res.Header, body: string(body)}
}

// expectPage fails unless p is a 200 HTML page in lang whose text has every one of want.
func expectPage(t *testing.T, p page, lang i18n.Lang, want ...string) {
	t.Helper()
	if p.status != http.StatusOK {
		t.Fatalf("status %d, want 200:\n%s", p.status, p.body)
	}
	if !strings.Contains(p.body, `<html lang="`+string(lang)+`"`) {
		t.Errorf("page is not in %s:\n%s", lang, p.body)
	}
	text := html.UnescapeString(p.body)
	for _, w := range want {
		if !strings.Contains(text, w) {
			t.Errorf("page lacks %q:\n%s", w, p.body)
		}
	}
}

// hidden returns the value of the hidden input name in a page of ours.
func hidden(t *testing.T, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`<input type="hidden" name="` + regexp.QuoteMeta(name) + `" value="([^"]*)">`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no hidden %s in:\n%s", name, body)
	}
	return html.UnescapeString(m[1])
}

// mails waits until the SES emulator holds n mails to addr that match, and returns them.
// The functions send right after they answer, so the wait is short; it also covers a sweep
// another test started.
func mails(t *testing.T, d *stack, addr string, n int, match func(emulator.Mail) bool) []emulator.Mail {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got []emulator.Mail
		for _, m := range d.aws.Mails(t, addr) {
			if match == nil || match(m) {
				got = append(got, m)
			}
		}
		if len(got) >= n || time.Now().After(deadline) {
			if len(got) != n {
				t.Fatalf("%d matching mails to %s, want %d: %+v", len(got), addr, n, got)
			}
			return got
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// about matches mails that mention ref.
func about(ref string) func(emulator.Mail) bool {
	return func(m emulator.Mail) bool { return strings.Contains(m.Subject+m.Text, ref) }
}

// link returns the one link to BASE_URL+path in a mail's text part.
func link(t *testing.T, d *stack, m emulator.Mail, path string) string {
	t.Helper()
	l := regexp.MustCompile(regexp.QuoteMeta(d.base+path) + `\S*`).FindString(m.Text)
	if l == "" {
		t.Fatalf("no link to %s%s in %q:\n%s", d.base, path, m.Subject, m.Text)
	}
	return l
}

// address returns an address no other test or run uses: the SES emulator is shared by
// every test of the package.
func address(label string) string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return label + "." + hex.EncodeToString(b[:]) + "@example.net"
}
