package main

import (
	"context"
	"embed"
	"fmt"
	"html/template"
	"iter"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/keyed"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requests is what the workspace reads and changes of requests.
type requests interface {
	GetRequest(ctx context.Context, ref string) (*dsr.Request, error)
	RegisterRequest(ctx context.Context, r *dsr.Request) (*dsr.Request, error)
	RequestsFrom(ctx context.Context, email string) ([]*dsr.Request, error)
	OpenConversation(ctx context.Context, ref string) (*dsr.Request, []dsr.SentMail, []dsr.Message, error)
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
	OpenPage(ctx context.Context, typ dsr.Type, cursor string, n int) (store.Page, error)
	GroupPage(ctx context.Context, groups []dsr.Group, typ dsr.Type, cursor string, n int) (store.Page, error)
	SearchPage(ctx context.Context, q dsr.Query, cursor string, n int) (store.Page, error)
	CountQueue(ctx context.Context, q dsr.Queue, upTo int) (int, bool, error)
	Overdue(ctx context.Context, now time.Time, upTo int) (int, bool, error)
	Settings(ctx context.Context, section string) (map[string]store.Setting, error)
	Setting(ctx context.Context, section, key string) (store.Setting, error)
	PutSetting(ctx context.Context, section string, v *store.Setting) error
	SweepDue(ctx context.Context, q dsr.Queue, until time.Time, pageSize int) iter.Seq2[store.SweepItem, error]
	EachReceived(ctx context.Context, from, to time.Time, cursor string, n int, fn func([]*dsr.Request) (bool, error)) error
	PageHistory(ctx context.Context, rs []*dsr.Request, mails bool) (store.History, error)
	Recipients(ctx context.Context) (dsr.Register, error)
	Downloads(ctx context.Context, ref string) ([]dsr.Download, error)
	SaveRecipients(ctx context.Context, g *dsr.Register) error
}

// sessions is what sign-in needs: rate limits, one-time links and sessions.
type sessions interface {
	Allow(ctx context.Context, scope, key string, limit int, window time.Duration) (store.Counted, error)
	CreateLogin(ctx context.Context, tok string, l store.Login) error
	AttachBrowser(ctx context.Context, forKey, browser string) error
	ConsumeLogin(ctx context.Context, tok, browser string) (store.Login, error)
	keyed.Source
	CreateSession(ctx context.Context, id string, s store.Session) error
	GetSession(ctx context.Context, id string) (store.Session, error)
	DeleteSession(ctx context.Context, id string) error
}

// deliverer sends the mails a committed change queued and records how they went, and keeps
// the text of the letters it decided.
type deliverer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
	DeliverNew(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
	Keep(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind) error
}

// afterResponse runs work once the response has gone (postresponse.Queue does).
type afterResponse interface {
	Later(ctx context.Context, fn func(context.Context))
}

//go:embed pages
var pageFiles embed.FS

// handler serves every /admin route.
type handler struct {
	// previewRead bounds the digest preview's reads (previewRead; a test lowers it).
	previewRead int
	cfg         config.Admin
	reqs        requests
	auth        sessions
	outbox      deliverer
	after       afterResponse
	notices     *notice.Notices
	sender      notice.Sender
	// files is the deliveries bucket: upload forms, listings, removals (delivery.go).
	files files
	// rawMails is the inbound bucket, nil when the desk receives no mail (rawmail.go).
	rawMails rawMails
	cal      *deadline.Calendar
	now      func() time.Time
	log      *slog.Logger
	pages    *web.Pages
	// exportBudget bounds an export file (export.go).
	exportBudget int
	// site reads each request. A DPO works in one language, so the language is ?lang=,
	// remembered in a cookie, or the deployment's: the browser's Accept-Language is not
	// consulted, and every DPO of a company sees the same words.
	site *web.Site
	// signinFloor is the least time a sign-in request takes, whether or not a mail goes out,
	// so the answer's timing does not tell which addresses may sign in.
	signinFloor time.Duration
	// keys is the deployment's secret key, read when sign-in first needs it: the sign-in
	// mail limit is counted under a keyed hash of the address.
	keys *keyed.Keys
}

// newHandler builds the handler over a DynamoDB and an SES client and the queue of work after
// the response; main passes real ones, tests the emulators', a later.Now or later.Held queue
// (shared/testkit/later) and a fixed clock.
func newHandler(cfg config.Admin, db store.DynamoDB, ses notice.SES, after afterResponse, now func() time.Time, log *slog.Logger, opts ...handlerOption) (*handler, error) {
	notices, err := notice.ForDeployment(cfg.Common)
	if err != nil {
		return nil, fmt.Errorf("admin: %w", err)
	}
	pages, err := parsePages()
	if err != nil {
		return nil, fmt.Errorf("admin: pages: %w", err)
	}
	st := store.New(db, cfg.Table, store.WithClock(now), store.WithRetention(cfg.Retention))
	mailer := notice.DeploymentMailer(ses, cfg.Common)
	h := &handler{
		cfg:          cfg,
		reqs:         st,
		auth:         st,
		outbox:       &notice.Outbox{Notices: notices, Sender: mailer, Recorder: st, Links: st, Now: now},
		previewRead:  previewRead,
		after:        after,
		notices:      notices,
		sender:       mailer,
		cal:          cfg.Calendar,
		now:          now,
		log:          log,
		pages:        pages,
		exportBudget: exportBudget,
		site: &web.Site{
			BasePath:   cfg.BasePath,
			Origins:    []string{cfg.BaseURL},
			Lang:       web.LangPolicy{Default: cfg.DefaultLang, Cookie: langCookieName, CookiePath: cfg.BasePath + "/admin"},
			EdgeSecret: cfg.EdgeSecret,
		},
		signinFloor: 600 * time.Millisecond,
		keys:        keyed.New(st),
	}
	for _, o := range opts {
		o(h)
	}
	return h, nil
}

// parsePages finds every page, to be parsed with the shared layout and the workspace's
// partials when first rendered.
func parsePages() (*web.Pages, error) {
	return web.NewPages(pageFiles, "pages/*.html", template.FuncMap{
		"mailbox": func(l i18n.Lang, m mailPreview) mailBox { return mailBox{Lang: l, Mail: m} },
	}, "pages/partials/*.html")
}

// call is one HTTP request as the handlers see it: the request layer's reading of it, and
// what the workspace learns on the way.
type call struct {
	*web.Call
	ctx context.Context
	// sess and sid are set once the session is checked; sid is the cookie's secret.
	sess *store.Session
	sid  string
	// early is the request the route names, read while the session is checked.
	early *early
	// recipients is the recipients register once this call has read it (handler.register).
	recipients *dsr.Register
	// answers are the Art. 15 answer's parts the settings keep, once this call has read them
	// (answerDefault).
	answers map[string]store.Setting
	// msgs are the messages of the conversation with the requester of the request the call
	// read last (load), for its page.
	msgs []dsr.Message
	// link is the confirmation link an action's change issued (admit), which its mail
	// carries: only the hash of its secret is stored.
	link string
}

// Handle answers one API Gateway HTTP API request. It never returns an error: API Gateway
// would turn one into a bare 500.
func (h *handler) Handle(ctx context.Context, req web.Request) (resp web.Response, _ error) {
	c := &call{Call: h.site.Call(req), ctx: ctx}
	defer func() {
		if p := recover(); p != nil {
			h.log.Error("panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
			resp = h.fail(c, fmt.Errorf("admin: panic"))
		}
		resp = c.Finish(resp)
	}()
	return h.route(c), nil
}

// route dispatches on method and path. The sign-in pages are public; every other route needs
// a valid session, and every POST among them a valid CSRF token.
func (h *handler) route(c *call) web.Response {
	if !c.FromEdge() {
		// Behind CloudFront and its WAF web ACL, a call to the API's own URL went around them.
		return h.fail(c, fmt.Errorf("admin: not through the edge: %w", fault.Forbidden))
	}
	switch c.Path {
	case "/admin/signin":
		switch c.Method {
		case "GET", "HEAD":
			return h.signinForm(c)
		case "POST":
			return h.signinRequest(c)
		}
		return h.notFound(c)
	case "/admin/signin/confirm":
		switch c.Method {
		case "GET", "HEAD":
			return h.confirmPage(c)
		case "POST":
			return h.confirm(c)
		}
		return h.notFound(c)
	}

	var serve func(*call) web.Response
	get := c.Method == "GET" || c.Method == "HEAD"
	switch {
	case c.Path == "/admin" && get:
		serve = h.worklist
	case c.Path == "/admin/search" && get:
		serve = h.search
	case c.Path == registerPath && (get || c.Method == "POST"):
		serve = h.registerPage
	case c.Path == "/admin/report" && get:
		serve = h.report
	case c.Path == "/admin/export.csv" && get:
		serve = h.export
	case c.Path == "/admin/audit.csv" && get:
		serve = h.audit
	case c.Path == "/admin/digest" && get:
		serve = h.digestPreview
	case c.Path == "/admin/digest" && c.Method == "POST":
		serve = h.sendDigest
	case c.Path == "/admin/signout" && c.Method == "POST":
		serve = h.signout
	case c.Path == "/admin/settings" && get:
		serve = h.settings
	case strings.HasPrefix(c.Path, "/admin/settings/"):
		if s := settingsPartNamed(strings.TrimPrefix(c.Path, "/admin/settings/")); s != nil && (get || c.Method == "POST") {
			serve = func(c *call) web.Response { return h.settingsSection(c, s) }
		}
	case strings.HasPrefix(c.Path, "/admin/requests/"):
		ref, action, _ := strings.Cut(strings.TrimPrefix(c.Path, "/admin/requests/"), "/")
		a := actionNamed(action)
		switch {
		case action == "" && get:
			serve = func(c *call) web.Response { return h.detail(c, ref) }
			h.readEarly(c, ref)
		case action == rawMailPage && c.Method == "POST" && h.rawMails != nil:
			serve = func(c *call) web.Response { return h.openMail(c, ref) }
			h.readEarly(c, ref)
		case action == letterPage && get:
			serve = func(c *call) web.Response { return h.letter(c, ref) }
			h.readEarly(c, ref)
		case action == removeFile && c.Method == "POST":
			serve = func(c *call) web.Response { return h.remove(c, ref) }
		case a != nil && c.Method == "POST":
			serve = func(c *call) web.Response { return h.act(c, ref, a) }
			h.readEarly(c, ref)
		case a != nil && get:
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
