package web

import (
	"crypto/subtle"
	"fmt"
	"net/url"
	"strings"

	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// Media types the functions read.
const (
	MediaForm = "application/x-www-form-urlencoded"
	MediaJSON = "application/json"
)

// Site is what the request layer knows of a deployment, set up once at cold start from the
// function's configuration.
type Site struct {
	// BasePath is BASE_URL's path ("" at the root of a domain): the routes sit under it.
	BasePath string
	// Origins are where a POST may come from: the site's own origin (BASE_URL) first, then any
	// other allowed.
	Origins []string
	// Lang says how a request's language is chosen.
	Lang LangPolicy
	// EdgeSecret, when set, is the value of EdgeHeader that the deployment's CloudFront
	// distribution adds to every request it forwards (template.yaml, EdgeWebAclArn): a WAF web
	// ACL can only sit before CloudFront, not before an HTTP API, so a call that did not come
	// through it skipped the web ACL.
	EdgeSecret string
}

// EdgeHeader is the header CloudFront adds with the edge secret.
const EdgeHeader = "x-dsr-edge"

// LangPolicy says how a request's language is chosen. An explicit choice (?lang=, or a lang
// field in a posted body) always comes first and the deployment's default last.
type LangPolicy struct {
	Default i18n.Lang
	// Cookie, if set, names a cookie (for CookiePath) that remembers a language chosen with
	// ?lang=, for the requests after it; a remembered choice comes next.
	Cookie, CookiePath string
	// Browser lets the browser's Accept-Language choose when nothing above has.
	Browser bool
}

// langSource ranks where a call's language came from, weakest first.
type langSource int

const (
	fromDefault langSource = iota
	fromBrowser
	fromHint
	fromCookie
	fromChoice
)

// Call is one HTTP API request as a handler reads it, parsed once: its route, its query, its
// language. Everything a handler needs of the raw event is read through it.
type Call struct {
	// Req is the event as API Gateway sent it.
	Req Request
	// Method is upper case.
	Method string
	// Path is the route: without a named stage, without the base path and without a trailing
	// slash; "/" at the least.
	Path string
	// Query is the query string as sent; a repeated key keeps every value.
	Query url.Values
	// Lang is the language of the answer (see LangPolicy, Choose and Suggest).
	Lang i18n.Lang

	site    *Site
	langBy  langSource
	cookies []string
}

// Call reads req.
func (s *Site) Call(req Request) *Call {
	c := &Call{Req: req, Method: strings.ToUpper(req.RequestContext.HTTP.Method), site: s}
	c.Path = route(req, s.BasePath)
	c.Query = query(req)
	c.Lang, c.langBy = s.Lang.Default, fromDefault
	if s.Lang.Browser {
		if l, ok := i18n.Accepted(Header(req, "accept-language")); ok {
			c.Lang, c.langBy = l, fromBrowser
		}
	}
	if s.Lang.Cookie != "" {
		if l, ok := i18n.Parse(Cookie(req, s.Lang.Cookie)); ok {
			c.Lang, c.langBy = l, fromCookie
		}
	}
	if l, ok := i18n.Parse(c.Query.Get("lang")); ok {
		c.Lang, c.langBy = l, fromChoice
		if s.Lang.Cookie != "" {
			c.SetCookie(s.Lang.Cookie + "=" + string(l) + "; Path=" + s.Lang.CookiePath +
				"; Max-Age=31536000; HttpOnly; Secure; SameSite=Lax")
		}
	}
	return c
}

// route is the request's path relative to the site. API Gateway puts a named stage and a
// custom domain's base path mapping in rawPath; neither is part of a route, nor is a trailing
// slash.
func route(req Request, basePath string) string {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		p = cutPrefix(p, "/"+st)
	}
	if basePath != "" {
		p = cutPrefix(p, basePath)
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	if p == "" {
		p = "/"
	}
	return p
}

// cutPrefix removes prefix from p if it is a whole leading segment of it.
func cutPrefix(p, prefix string) string {
	if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '/') {
		return rest
	}
	return p
}

// query parses rawQueryString: API Gateway's queryStringParameters joins repeated keys with
// commas, which would turn "?lang=da&lang=en" into "da,en". Events written by hand (sam local,
// tests) may carry only the parsed parameters.
func query(req Request) url.Values {
	if req.RawQueryString == "" {
		v := url.Values{}
		for k, s := range req.QueryStringParameters {
			v.Set(k, s)
		}
		return v
	}
	v, _ := url.ParseQuery(req.RawQueryString) // keeps what parsed; a broken pair is ignored
	return v
}

// Choose makes an explicit choice of language found in a posted body (a form's lang field) the
// call's language, if tag names one; it outranks everything else.
func (c *Call) Choose(tag string) {
	if l, ok := i18n.Parse(tag); ok {
		c.Lang, c.langBy = l, fromChoice
	}
}

// Suggest makes tag (the language a request was filed in) the call's language unless one was
// chosen or remembered: it outranks only the browser's and the default.
func (c *Call) Suggest(tag string) {
	if l, ok := i18n.Parse(tag); ok && c.langBy < fromHint {
		c.Lang, c.langBy = l, fromHint
	}
}

// Header returns a request header (see Header).
func (c *Call) Header(name string) string { return Header(c.Req, name) }

// Cookie returns a request cookie's value (see Cookie).
func (c *Call) Cookie(name string) string { return Cookie(c.Req, name) }

// SetCookie sets a cookie (a whole Set-Cookie value) on the answer Finish completes.
func (c *Call) SetCookie(cookie string) { c.cookies = append(c.cookies, cookie) }

// Finish completes the answer to the call: the cookies it set.
func (c *Call) Finish(resp Response) Response {
	resp.Cookies = append(resp.Cookies, c.cookies...)
	return resp
}

// FromEdge reports whether the call came the way the site is served: through its CloudFront
// distribution when it has one (Site.EdgeSecret, compared in constant time), else any way.
func (c *Call) FromEdge() bool {
	if c.site.EdgeSecret == "" {
		return true
	}
	got := c.Header(EdgeHeader)
	return subtle.ConstantTimeCompare([]byte(got), []byte(c.site.EdgeSecret)) == 1
}

// ClientIP is the address the call came from: API Gateway's source IP, or behind CloudFront
// the viewer's, which CloudFront puts in CloudFront-Viewer-Address ("ip:port") and which a
// viewer cannot set, CloudFront setting it itself.
func (c *Call) ClientIP() string {
	if c.site.EdgeSecret != "" && c.FromEdge() {
		if v := c.Header("cloudfront-viewer-address"); v != "" {
			if i := strings.LastIndexByte(v, ':'); i > 0 {
				return strings.Trim(v[:i], "[]")
			}
			return v
		}
	}
	return c.Req.RequestContext.HTTP.SourceIP
}

// SameOrigin reports whether the call comes from one of the site's origins (see SameOrigin).
func (c *Call) SameOrigin() bool { return SameOrigin(c.Req, c.site.Origins...) }

// WantsData reports whether the client wants data rather than a page: it posted JSON, or it
// accepts JSON or CSV and not HTML. A page, or a redirect to one, is no answer for a script.
func (c *Call) WantsData() bool {
	if MediaType(c.Req) == MediaJSON {
		return true
	}
	a := strings.ToLower(c.Header("accept"))
	return !strings.Contains(a, "text/html") && (strings.Contains(a, MediaJSON) || strings.Contains(a, "text/csv"))
}

// Body reads a posted body of at most max bytes, in one of the media types given, after
// checking that it comes from one of the site's origins. It returns the body's media type. The
// errors are a fault.Forbidden (cross-site), fault.Unsupported (another media type),
// fault.TooLarge or fault.BadRequest.
func (c *Call) Body(max int, media ...string) (string, []byte, error) {
	if !c.SameOrigin() {
		return "", nil, fmt.Errorf("web: cross-site post: %w", fault.Forbidden)
	}
	mt := MediaType(c.Req)
	if !contains(media, mt) {
		return mt, nil, fmt.Errorf("web: post of %q: %w", mt, fault.Unsupported)
	}
	b, err := Body(c.Req, max)
	if err != nil {
		return mt, nil, fmt.Errorf("web: read body: %w", err)
	}
	return mt, b, nil
}

// Form reads a posted form of at most max bytes, as Body does; a lang field in it is an
// explicit choice of the call's language (Choose).
func (c *Call) Form(max int) (url.Values, error) {
	_, b, err := c.Body(max, MediaForm)
	if err != nil {
		return nil, err
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		// The parser's message quotes the body, which may hold personal data: it is not kept.
		return nil, fmt.Errorf("web: parse form: %w", fault.BadRequest)
	}
	c.Choose(v.Get("lang"))
	return v, nil
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
