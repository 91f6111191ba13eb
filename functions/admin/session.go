package main

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

const (
	// The __Host- prefix makes a browser keep a cookie only if it is Secure, has Path=/ and
	// no Domain: no sibling subdomain (or a plain-http page of ours) can set, replace or
	// shadow it. Path=/ sends it to the public routes too, which never read it; a deployment
	// under a BASE_URL path shares its host with nothing else.
	sessionCookieName = "__Host-dsr_session"
	// signinCookieName holds the secret of the browser that asked for a sign-in link.
	signinCookieName = "__Host-dsr_signin"
	langCookieName   = "dsr_lang"
	// maxForm caps a posted form: a 5,000-character message in four-byte characters,
	// percent-encoded, plus the small fields.
	maxForm = 64 << 10
)

// sessionCookie carries the session id. Strict keeps it off every cross-site request,
// HttpOnly from any script.
func sessionCookie(id string, ttl time.Duration) string {
	return hostCookie(sessionCookieName, id, ttl)
}

func clearSessionCookie() string { return hostCookie(sessionCookieName, "", 0) }

// signinCookie carries the asking browser's secret for as long as a link it asked for works.
func signinCookie(secret string) string { return hostCookie(signinCookieName, secret, loginTTL) }

func clearSigninCookie() string { return hostCookie(signinCookieName, "", 0) }

func hostCookie(name, value string, ttl time.Duration) string {
	return name + "=" + value + "; Path=/; Max-Age=" + strconv.Itoa(int(ttl.Seconds())) + "; HttpOnly; Secure; SameSite=Strict"
}

// authenticate loads the session named by the cookie. A missing, unknown, signed-out or
// expired session, or one of an address no longer on the DPO list, is fault.Unauthorized.
func (h *handler) authenticate(c *call) error {
	id := c.Cookie(sessionCookieName)
	if !wellFormed(id) {
		return fmt.Errorf("admin: no session cookie: %w", fault.Unauthorized)
	}
	s, err := h.auth.GetSession(c.ctx, id)
	switch {
	case errors.Is(err, fault.NotFound):
		return fmt.Errorf("admin: %w: %w", fault.Unauthorized, err)
	case err != nil:
		return err
	}
	if _, ok := h.dpo(s.Email); !ok {
		return fmt.Errorf("admin: session of an address no longer allowed: %w", fault.Unauthorized)
	}
	c.sess, c.sid = &s, id
	return nil
}

// wellFormed reports whether s looks like a secret from token.New, so junk never reaches the
// table.
func wellFormed(s string) bool {
	if len(s) != 43 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

// dpo returns the configured spelling of email if it is on the DPO list.
func (h *handler) dpo(email string) (string, bool) {
	email = strings.TrimSpace(email)
	for _, a := range h.cfg.DPOAddresses {
		if strings.EqualFold(a, email) {
			return a, true
		}
	}
	return "", false
}

// refuse answers a request that failed authentication: pages go to sign-in and come back
// afterwards, data clients get 401. Anything else (the table unreachable) is an error page.
func (h *handler) refuse(c *call, err error) web.Response {
	if !errors.Is(err, fault.Unauthorized) {
		return h.fail(c, err)
	}
	if c.Cookie(sessionCookieName) != "" {
		// The browser holds a dead session; drop it so it stops sending it.
		c.SetCookie(clearSessionCookie())
	}
	if c.WantsData() {
		return web.ProblemJSON(web.Status(err), i18n.T(c.Lang, "admin.unauthorized"), nil)
	}
	if c.Method == "GET" && c.Cookie(sessionCookieName) == "" && c.Header("sec-fetch-site") == "cross-site" {
		// A link in a mail opened from webmail is a cross-site navigation, on which the
		// browser withholds a SameSite=Strict cookie the DPO may well have. A same-origin
		// reload of the page sends it; without one, the reload lands on sign-in below.
		href := c.Path + rawQuery(c)
		if strings.ContainsAny(href, "\r\n\x00") {
			href = "/admin"
		}
		resp := h.render(c, http.StatusOK, "bounce", "admin.bounce.title", bounceView{Href: href})
		resp.Headers["Refresh"] = "0; url=" + href
		return resp
	}
	return web.Redirect("/admin/signin?next=" + url.QueryEscape(nextFor(c)))
}

// nextFor is where to return after signing in: the page itself for a GET, the request's page
// for a refused action (a form is not resubmitted behind the DPO's back).
func nextFor(c *call) string {
	if c.Method == "GET" || c.Method == "HEAD" {
		return c.Path + rawQuery(c)
	}
	if ref, _, ok := strings.Cut(strings.TrimPrefix(c.Path, "/admin/requests/"), "/"); ok && strings.HasPrefix(c.Path, "/admin/requests/") {
		return requestPath(ref)
	}
	return "/admin"
}

func rawQuery(c *call) string {
	q := url.Values{}
	for k, v := range c.Query {
		if k != "lang" {
			q[k] = v
		}
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// safeNext returns p if it is a workspace page to send a signed-in DPO to, else "/admin". Only
// local /admin paths pass: no scheme, no host, no // or \ that a browser might read as a host.
func safeNext(p string) string {
	if p == "" || len(p) > 512 || strings.ContainsAny(p, "\\\r\n\t") || strings.HasPrefix(p, "//") {
		return "/admin"
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Fragment != "" {
		return "/admin"
	}
	if u.Path != "/admin" && !strings.HasPrefix(u.Path, "/admin/") {
		return "/admin"
	}
	if strings.Contains(u.Path, "//") || strings.Contains(u.Path, "/.") || strings.HasPrefix(u.Path, "/admin/signin") {
		return "/admin"
	}
	return p
}

// form reads a posted form from our own pages (web.Call.Form). For a signed-in DPO it also
// checks the CSRF token, in constant time, before anything else happens.
func (h *handler) form(c *call) (url.Values, error) {
	v, err := c.Form(maxForm)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	if c.sess != nil {
		// Hashing first makes both sides the same length, so the comparison time says
		// nothing about the token either.
		if !token.Equal(token.Hash(v.Get("csrf")), token.Hash(c.sess.CSRF)) {
			return nil, fmt.Errorf("admin: csrf token: %w", fault.Forbidden)
		}
	}
	return v, nil
}

// formText normalizes free text from a form as dsr.Submission does: what is validated is
// what is stored.
func formText(v url.Values, field string) string {
	return strings.TrimSpace(strings.ReplaceAll(v.Get(field), "\r\n", "\n"))
}
