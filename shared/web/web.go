// Package web is what every HTML page and JSON answer shares: the layout and its styles, the
// security headers, decoding of API Gateway HTTP API (payload 2.0) requests, and the single
// place where errors become HTTP statuses.
package web

import (
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// Request and Response are the HTTP API payload 2.0 types.
type (
	Request  = events.APIGatewayV2HTTPRequest
	Response = events.APIGatewayV2HTTPResponse
)

//go:embed assets/style.css
var styleCSS string

//go:embed assets/layout.html
var layoutHTML string

// styleHash lets the CSP allow exactly our inline stylesheet and nothing else, without a
// separate route for a CSS file. It is taken on the first page, not at every cold start: the
// sweep, the inbound function and JSON answers never need it.
var styleHash = sync.OnceValue(func() string {
	sum := sha256.Sum256([]byte(styleCSS))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
})

// HTMLHeaders are sent with every page.
func HTMLHeaders() map[string]string {
	return map[string]string{
		"Content-Type": "text/html; charset=utf-8",
		"Content-Security-Policy": "default-src 'none'; style-src " + styleHash() +
			"; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
		// For browsers that do not read CSP's frame-ancestors: no page of ours is framed, so
		// nobody can dress a button of ours in theirs.
		"X-Frame-Options":        "DENY",
		"X-Content-Type-Options": "nosniff",
		// same-origin, not no-referrer: under no-referrer a browser sends "Origin: null" on
		// our own form posts, which would make null an origin we accept, and a sandboxed
		// frame or a data: URL elsewhere sends null too. Other sites get no referrer at all;
		// our own routes get the page's URL, which the access logs do not record.
		"Referrer-Policy":              "same-origin",
		"Strict-Transport-Security":    "max-age=63072000; includeSubDomains",
		"Cross-Origin-Opener-Policy":   "same-origin",
		"Cross-Origin-Resource-Policy": "same-origin",
		"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), interest-cohort=()",
		// Pages show personal data or carry tokens; nothing is cached anywhere.
		"Cache-Control": "no-store",
	}
}

// AllowFormAction lets the forms of the page resp answers post to origin as well as to our own
// (CSP form-action), which a browser also holds a form's redirects to: a form that uploads to,
// or is redirected to, the files' bucket needs it. Every other rule stays as it is.
func AllowFormAction(resp *Response, origin string) {
	if origin == "" || strings.ContainsAny(origin, " ;,'") {
		return // not an origin a policy can name: the page keeps the stricter rule
	}
	if csp, ok := resp.Headers["Content-Security-Policy"]; ok {
		resp.Headers["Content-Security-Policy"] = strings.Replace(csp, "form-action 'self'", "form-action 'self' "+origin, 1)
	}
}

// Page is the data the layout needs; Main is the page's own data.
type Page struct {
	Lang       i18n.Lang
	Title      string
	Controller string
	// Owner is who answers for the page, as its footer names them (Art. 13(1)(a)): the
	// controller's address, the contact address and the privacy policy. Empty leaves the
	// footer at the controller's name.
	Owner Owner
	// Switch links to this page in the other languages; empty hides the switch.
	Switch []LangLink
	// Nav is optional navigation (the DPO workspace's menu).
	Nav []NavLink
	// Tool marks a page of the DPO workspace: a working tool's header (its name, the menu, who
	// is signed in) instead of the public form's, and the language choice in the footer, out
	// of the way.
	Tool bool
	// Account is who is signed in, shown with a sign-out button in a tool's header.
	Account *Account
	Main    any
}

// Account is the signed-in person a tool's header names, and its sign-out form: where it
// posts and the CSRF token it carries.
type Account struct {
	Email, SignOut, CSRF string
}

// Owner is the controller as every page's footer names them.
type Owner struct {
	Address, Contact, Policy string
}

// LangLink is one entry of the language switch.
type LangLink struct {
	Lang    i18n.Lang
	Href    string
	Current bool
}

// NavLink is one entry of a navigation menu.
type NavLink struct {
	Href, Label string
	Current     bool
}

// Switch builds language links to path with ?lang=… (path must not carry a query).
func Switch(current i18n.Lang, path string) []LangLink {
	out := make([]LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, LangLink{Lang: l, Href: path + "?lang=" + string(l), Current: l == current})
	}
	return out
}

// Render executes a page (Pages.Page) into a response with the security headers.
func Render(t *template.Template, status int, p Page) Response {
	var b strings.Builder
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		// A template error is a bug; show nothing of it to the user.
		return Response{StatusCode: http.StatusInternalServerError, Headers: HTMLHeaders(), Body: "Internal error"}
	}
	return Response{StatusCode: status, Headers: HTMLHeaders(), Body: b.String()}
}

// Redirect answers 303 See Other, so a POST is followed by a GET.
func Redirect(location string) Response {
	h := HTMLHeaders()
	h["Location"] = location
	return Response{StatusCode: http.StatusSeeOther, Headers: h}
}

// Problem is the one JSON body of an error answer, whichever function gives it: a stable code
// for the status ("bad_request", "not_found", …), a message in the request's language, and for
// fields that failed validation a message each.
type Problem struct {
	Error   string            `json:"error"`
	Message string            `json:"message"`
	Errors  map[string]string `json:"errors,omitempty"`
}

// ProblemJSON answers status with a Problem.
func ProblemJSON(status int, message string, fields map[string]string) Response {
	return JSON(status, Problem{Error: statusCode(status), Message: message, Errors: fields})
}

// statusCode is the status's text as a code: 404 → "not_found".
func statusCode(status int) string {
	t := http.StatusText(status)
	if t == "" {
		t = http.StatusText(http.StatusInternalServerError)
	}
	return strings.ToLower(strings.ReplaceAll(t, " ", "_"))
}

// JSON answers with v encoded as JSON.
func JSON(status int, v any) Response {
	b, _ := json.Marshal(v) // our own response types always encode
	return Response{
		StatusCode: status,
		Headers: map[string]string{
			"Content-Type":           "application/json; charset=utf-8",
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
		},
		Body: string(b),
	}
}

// statuses is the one map from a kind of failure to an HTTP status. Whatever the error, the
// user only ever sees a translated message chosen from the status, never the error's text.
var statuses = map[fault.Kind]int{
	fault.BadRequest:   http.StatusBadRequest,
	fault.Invalid:      http.StatusBadRequest,
	fault.TooLarge:     http.StatusRequestEntityTooLarge,
	fault.Unauthorized: http.StatusUnauthorized,
	fault.Forbidden:    http.StatusForbidden,
	fault.Unsupported:  http.StatusUnsupportedMediaType,
	fault.NotFound:     http.StatusNotFound,
	fault.Conflict:     http.StatusConflict,
	fault.Refused:      http.StatusConflict,
	fault.Limited:      http.StatusTooManyRequests,
	fault.Unavailable:  http.StatusServiceUnavailable,
}

// Status is the HTTP status for err, by its kind (fault.Of): 200 for nil, 500 for an error of
// no kind the map knows.
func Status(err error) int {
	if err == nil {
		return http.StatusOK
	}
	return StatusOf(fault.Of(err))
}

// StatusOf is the HTTP status for a kind of failure, for a page that states its kind rather
// than holding an error.
func StatusOf(k fault.Kind) int {
	if s, ok := statuses[k]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// Body returns the request body, decoded if API Gateway base64-encoded it (it does for form
// posts), refusing anything over max bytes before decoding it.
func Body(req Request, max int) ([]byte, error) {
	raw := req.Body
	if req.IsBase64Encoded {
		if base64.StdEncoding.DecodedLen(len(raw)) > max+3 {
			return nil, fault.TooLarge
		}
		b, err := base64.StdEncoding.DecodeString(raw)
		if err != nil {
			return nil, errors.Join(fault.BadRequest, err)
		}
		if len(b) > max {
			return nil, fault.TooLarge
		}
		return b, nil
	}
	if len(raw) > max {
		return nil, fault.TooLarge
	}
	return []byte(raw), nil
}

// Header returns a request header; HTTP API lower-cases names, tests and sam local may not.
func Header(req Request, name string) string {
	if v, ok := req.Headers[strings.ToLower(name)]; ok {
		return v
	}
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// MediaType is the request's content type without parameters, lower-cased.
func MediaType(req Request) string {
	ct := Header(req, "content-type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.ToLower(strings.TrimSpace(ct))
}

// Cookie returns a cookie's value from the payload 2.0 cookies list.
func Cookie(req Request, name string) string {
	for _, c := range req.Cookies {
		for _, part := range strings.Split(c, ";") {
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if ok && k == name {
				return v
			}
		}
	}
	return ""
}

// SameOrigin reports whether a state-changing request comes from one of our own pages or an
// allowed origin: Origin when the browser sends it, else Sec-Fetch-Site. "Origin: null" is
// refused whatever else the request says: our pages send their origin (HTMLHeaders), and null
// is what a sandboxed frame, a data: URL or another site's no-referrer page sends. Requests
// with neither header (curl, server-to-server JSON clients) are not cross-site browser posts
// and pass; the workspace's CSRF token does not depend on either.
func SameOrigin(req Request, allowed ...string) bool {
	if o := Header(req, "origin"); o != "" {
		for _, a := range allowed {
			if strings.EqualFold(strings.TrimSuffix(o, "/"), originOf(a)) {
				return true
			}
		}
		return false
	}
	switch Header(req, "sec-fetch-site") {
	case "", "same-origin", "none":
		return true
	}
	return false
}

// originOf reduces a base URL (which may carry a path) to its origin.
func originOf(u string) string {
	u = strings.TrimSuffix(u, "/")
	if i := strings.Index(u, "://"); i >= 0 {
		if j := strings.IndexByte(u[i+3:], '/'); j >= 0 {
			return u[:i+3+j]
		}
	}
	return u
}
