package main

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requests is what the workspace reads and changes of requests.
type requests interface {
	GetRequest(ctx context.Context, ref string) (*dsr.Request, error)
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
	ActiveRequests(ctx context.Context) ([]*dsr.Request, error)
	UnverifiedRequests(ctx context.Context) ([]*dsr.Request, error)
	RequestsByEmail(ctx context.Context, email string) ([]*dsr.Request, error)
	EachRequest(ctx context.Context, fn func(*dsr.Request) error) error
}

// sessions is what sign-in needs: rate limits, one-time links and sessions.
type sessions interface {
	Allow(ctx context.Context, scope, key string, limit int, window time.Duration) error
	CreateLogin(ctx context.Context, tok string, l store.Login) error
	ConsumeLogin(ctx context.Context, tok string) (store.Login, error)
	CreateSession(ctx context.Context, id string, s store.Session) error
	GetSession(ctx context.Context, id string) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error
}

// deliverer sends the mails a committed change queued and records how they went.
type deliverer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
}

// afterResponse runs work once the response has gone (postresponse.Queue does).
type afterResponse interface {
	Later(ctx context.Context, fn func(context.Context))
}

// renderer renders a mail that is not about a request (the sign-in link).
type renderer interface {
	Render(name string, data any) (subject, text, html string, err error)
}

//go:embed pages
var pageFiles embed.FS

// handler serves every /admin route.
type handler struct {
	cfg     config.Admin
	reqs    requests
	auth    sessions
	outbox  deliverer
	after   afterResponse
	notices renderer
	sender  notice.Sender
	cal     *deadline.Calendar
	now     func() time.Time
	log     *slog.Logger
	pages   *web.Pages
	// signinFloor is the least time a sign-in request takes, whether or not a mail goes out,
	// so the answer's timing does not tell which addresses may sign in.
	signinFloor time.Duration
}

// newHandler builds the handler over a DynamoDB and an SES client and the queue of work after
// the response; main passes real ones, tests the emulators', postresponse.Inline and a fixed
// clock.
func newHandler(cfg config.Admin, db store.DynamoDB, ses notice.SES, after afterResponse, now func() time.Time, log *slog.Logger) (*handler, error) {
	notices, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("admin: pages: %w", err)
	}
	st := store.New(db, cfg.Table, store.WithClock(now), store.WithRetention(cfg.Retention))
	mailer := notice.NewMailer(ses, cfg.Sender)
	return &handler{
		cfg:         cfg,
		reqs:        st,
		auth:        st,
		outbox:      &notice.Outbox{Notices: notices, Sender: mailer, Recorder: st, Now: now},
		after:       after,
		notices:     notices,
		sender:      mailer,
		cal:         cfg.Calendar,
		now:         now,
		log:         log,
		pages:       pages,
		signinFloor: 600 * time.Millisecond,
	}, nil
}

// parsePages finds every page, to be parsed with the shared layout and the workspace's
// partials when first rendered.
func parsePages() (*web.Pages, error) {
	return web.NewPages(pageFiles, "pages/*.html", template.FuncMap{}, "pages/partials/*.html")
}

// call is one HTTP request as the handlers see it.
type call struct {
	ctx    context.Context
	req    web.Request
	method string
	path   string
	query  url.Values
	lang   i18n.Lang
	// sess and sid are set once the session is checked; sid is the cookie's secret.
	sess *store.Session
	sid  string
	// cookies are set on whatever response the call ends with.
	cookies []string
	// early is the request the route names, read while the session is checked.
	early *early
}

// Handle answers one API Gateway HTTP API request. It never returns an error: API Gateway
// would turn one into a bare 500.
func (h *handler) Handle(ctx context.Context, req web.Request) (resp web.Response, _ error) {
	c := h.newCall(ctx, req)
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = h.fail(c, fmt.Errorf("admin: panic"))
		}
		resp.Cookies = append(resp.Cookies, c.cookies...)
	}()
	return h.route(c), nil
}

func (h *handler) newCall(ctx context.Context, req web.Request) *call {
	p := req.RawPath
	if p == "" {
		p = req.RequestContext.HTTP.Path
	}
	if len(p) > 1 {
		p = strings.TrimSuffix(p, "/")
	}
	q, err := url.ParseQuery(req.RawQueryString)
	if err != nil || (req.RawQueryString == "" && len(req.QueryStringParameters) > 0) {
		// sam local and hand-written events may carry only the parsed parameters.
		q = url.Values{}
		for k, v := range req.QueryStringParameters {
			q.Set(k, v)
		}
	}
	c := &call{ctx: ctx, req: req, method: strings.ToUpper(req.RequestContext.HTTP.Method), path: p, query: q}
	c.lang = h.negotiate(c)
	return c
}

// negotiate picks the page language: ?lang= (remembered in a cookie), then the remembered
// choice, then the deployment's language. A DPO works in one language; the browser's
// Accept-Language is not consulted so every DPO of a company sees the same words.
func (h *handler) negotiate(c *call) i18n.Lang {
	if l, ok := i18n.Parse(c.query.Get("lang")); ok {
		c.cookies = append(c.cookies, langCookie(l))
		return l
	}
	if l, ok := i18n.Parse(web.Cookie(c.req, langCookieName)); ok {
		return l
	}
	return h.cfg.DefaultLang
}

// route dispatches on method and path. The sign-in pages are public; every other route needs
// a valid session, and every POST among them a valid CSRF token.
func (h *handler) route(c *call) web.Response {
	switch c.path {
	case "/admin/signin":
		switch c.method {
		case "GET", "HEAD":
			return h.signinForm(c)
		case "POST":
			return h.signinRequest(c)
		}
		return h.notFound(c)
	case "/admin/signin/confirm":
		switch c.method {
		case "GET", "HEAD":
			return h.confirmPage(c)
		case "POST":
			return h.confirm(c)
		}
		return h.notFound(c)
	}

	var serve func(*call) web.Response
	get := c.method == "GET" || c.method == "HEAD"
	switch {
	case c.path == "/admin" && get:
		serve = h.worklist
	case c.path == "/admin/search" && get:
		serve = h.search
	case c.path == "/admin/report" && get:
		serve = h.report
	case c.path == "/admin/export.csv" && get:
		serve = h.export
	case c.path == "/admin/signout" && c.method == "POST":
		serve = h.signout
	case strings.HasPrefix(c.path, "/admin/requests/"):
		ref, action, _ := strings.Cut(strings.TrimPrefix(c.path, "/admin/requests/"), "/")
		switch {
		case action == "" && get:
			serve = func(c *call) web.Response { return h.detail(c, ref) }
			h.readEarly(c, ref)
		case actions[action] && c.method == "POST":
			serve = func(c *call) web.Response { return h.act(c, ref, action) }
			h.readEarly(c, ref)
		case actions[action] && get:
			// A reload or a bookmark of where a form posted: show the request instead.
			serve = func(*call) web.Response { return web.Redirect(requestPath(ref)) }
		}
	}
	if serve == nil {
		return h.notFound(c)
	}
	if err := h.authenticate(c); err != nil {
		c.dropEarly()
		return h.refuse(c, err)
	}
	defer c.dropEarly()
	return serve(c)
}

func requestPath(ref string) string { return "/admin/requests/" + url.PathEscape(ref) }
