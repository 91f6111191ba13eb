package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/keyed"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requestStore is the part of store.Store the portal uses.
type requestStore interface {
	keyed.Source
	Conversation(ctx context.Context, ref string) (*dsr.Request, []dsr.Message, error)
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
	Allow(ctx context.Context, scope, key string, limit int, window time.Duration) (store.Counted, error)
	Uncount(ctx context.Context, c store.Counted) error
	RequestRefsByEmail(ctx context.Context, email string) ([]string, error)
	AddPageLink(ctx context.Context, ref, emailHash, key string) (*dsr.Request, error)
	// The files of an answer (files.go).
	FilesPage(ctx context.Context, ref, key string) (*dsr.Request, dsr.Proof, error)
	PutProof(ctx context.Context, ref string, p dsr.Proof) error
	UseProof(ctx context.Context, ref string, p dsr.Proof) error
	RecordDownload(ctx context.Context, r *dsr.Request, d dsr.Download) error
}

// mailer sends the mails a write queued and records how they went (notice.Outbox does).
type mailer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
}

// renderer renders a mail that is about no single request (the lost-link mail).
type renderer interface {
	Render(name string, data any) (subject, text, html string, err error)
}

// afterResponse runs work once the response has gone (postresponse.Queue does).
type afterResponse interface {
	Later(ctx context.Context, fn func(context.Context))
}

//go:embed pages/*.html
var pageFiles embed.FS

// maxBody caps a posted form: a 5,000-character reply in four-byte characters,
// percent-encoded, and the small fields.
const maxBody = 64 << 10

// Handler serves the routes under /status.
type Handler struct {
	cfg     config.Portal
	store   requestStore
	outbox  mailer
	notices renderer
	sender  notice.Sender
	// files signs the download URLs of the deliveries bucket.
	files presigner
	after afterResponse
	now   func() time.Time
	log   *slog.Logger
	pages *web.Pages
	// site reads each request: routes under BASE_URL's path, posts from our own origin only,
	// the language from ?lang= (or a posted lang), the request's own, the browser's, or the
	// deployment's.
	site *web.Site
	// pace holds the lost-link form's answers to one time whatever the address (pace.go).
	pace *pacer
	// keys is the deployment's key, read when the lost-link form first needs it: its rate
	// counters are keyed hashes, as the intake's are.
	keys *keyed.Keys
}

// NewHandler builds the handler. Everything it talks to is passed in, so tests run it against
// the emulators with a fixed clock.
func NewHandler(cfg config.Portal, st requestStore, outbox mailer, notices renderer, sender notice.Sender, files presigner, after afterResponse, now func() time.Time, log *slog.Logger) (*Handler, error) {
	pages, err := web.NewPages(pageFiles, "pages/*.html", nil)
	if err != nil {
		return nil, fmt.Errorf("portal: pages: %w", err)
	}
	return &Handler{
		cfg:     cfg,
		store:   st,
		outbox:  outbox,
		notices: notices,
		sender:  sender,
		files:   files,
		after:   after,
		now:     now,
		log:     log,
		pages:   pages,
		site: &web.Site{
			BasePath:   cfg.BasePath,
			Origins:    []string{cfg.BaseURL},
			Lang:       web.LangPolicy{Default: cfg.DefaultLang, Browser: true},
			EdgeSecret: cfg.EdgeSecret,
		},
		pace: newPacer(400 * time.Millisecond),
		keys: keyed.New(st),
	}, nil
}

// Handle answers one API Gateway HTTP API request. It always returns a response and never an
// error: an error would make API Gateway answer a bare 500.
func (h *Handler) Handle(ctx context.Context, req web.Request) (resp web.Response, _ error) {
	start := time.Now()
	c := h.site.Call(req)
	name := c.Method + " " + c.Path
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "panic", "route", name, "panic", fmt.Sprint(p))
			resp = h.problem(c, errors.New("internal error"), "portal.unavailable")
		}
		resp = c.Finish(resp)
		h.log.InfoContext(ctx, "http", "route", name, "status", resp.StatusCode, "ms", time.Since(start).Milliseconds())
	}()
	if !c.FromEdge() {
		// Behind CloudFront and its WAF web ACL, a call to the API's own URL went around them.
		name = "not_from_edge"
		return h.problem(c, fault.Forbidden, "portal.forbidden"), nil
	}
	get := c.Method == http.MethodGet || c.Method == http.MethodHead
	switch {
	case c.Path == "/status" && get:
		return h.status(ctx, c), nil
	case c.Path == "/status/reply" && c.Method == http.MethodPost:
		return h.reply(ctx, c), nil
	case c.Path == "/status/reply" && get:
		// A reload or bookmark of where the form posted: the page itself.
		return web.Redirect(h.cfg.BasePath + "/status"), nil
	case c.Path == "/status/lost" && get:
		return h.lostForm(c), nil
	case c.Path == "/status/lost" && c.Method == http.MethodPost:
		return h.lost(ctx, c), nil
	case c.Path == "/status/lost/sent" && get:
		return h.lostSent(c), nil
	case c.Path == "/status/files/link" && c.Method == http.MethodPost:
		return h.filesLink(ctx, c), nil
	case c.Path == "/status/files" && get:
		return h.filesGet(ctx, c), nil
	case c.Path == "/status/files" && c.Method == http.MethodPost:
		return h.filesOpen(ctx, c), nil
	case c.Path == "/status/files/download" && c.Method == http.MethodPost:
		return h.download(ctx, c), nil
	case (c.Path == "/status/files/link" || c.Path == "/status/files/download") && get:
		// A reload or bookmark of where a form posted.
		return web.Redirect(h.cfg.BasePath + "/status/files"), nil
	}
	name = "not_found" // the path itself may hold anything; do not log it
	return h.problem(c, fault.NotFound, "portal.notfound"), nil
}

// render executes a page with the layout and the security headers.
func (h *Handler) render(c *web.Call, name string, status int, title string, sw []web.LangLink, main any) web.Response {
	t, err := h.pages.Page(name)
	if err != nil {
		// A page that does not parse is a bug the tests catch; show nothing of it to the user.
		h.log.Error("page", "page", name, errlog.Attr(err))
		return web.Response{StatusCode: http.StatusInternalServerError, Headers: web.HTMLHeaders(), Body: "Internal error"}
	}
	resp := web.Render(t, status, web.Page{
		Lang: c.Lang, Title: title, Controller: h.cfg.ControllerName,
		Owner:  web.Owner{Address: h.cfg.ControllerAddress, Contact: h.cfg.DPOContact(), Policy: h.cfg.PrivacyPolicyURL},
		Switch: sw, Main: main,
	})
	if c.Method == http.MethodHead {
		resp.Body = ""
	}
	return resp
}

// messageView is the data of a page that only says something.
type messageView struct {
	Heading, Text string
	// Href and Action link onwards; Contact is the address to write to.
	Href, Action string
	Contact      string
}

// problem answers an error: the status from err through web.Status, the words from key's
// .title and .text, in the call's language. Nothing of err reaches the user.
func (h *Handler) problem(c *web.Call, err error, key string) web.Response {
	title := i18n.T(c.Lang, key+".title")
	return h.render(c, "message", web.Status(err), title, web.Switch(c.Lang, h.cfg.BasePath+"/status/lost"), messageView{
		Heading: title, Text: i18n.T(c.Lang, key+".text"), Contact: h.cfg.DPOContact(),
		Href: h.cfg.BasePath + "/status/lost?lang=" + string(c.Lang), Action: i18n.T(c.Lang, "portal.lost.link"),
	})
}

// invalid is the one answer to every link that does not open a page: unknown, forged, revoked
// or expired, or no link at all. It says the same for each, with the same status, so a link
// cannot be probed; a dead session cookie is dropped.
func (h *Handler) invalid(c *web.Call) web.Response {
	if c.Cookie(cookieName) != "" {
		c.SetCookie(h.clearCookie())
	}
	return h.invalidPage(c)
}

// invalidPage is the "not valid" page itself.
func (h *Handler) invalidPage(c *web.Call) web.Response {
	title := i18n.T(c.Lang, "portal.invalid.title")
	return h.render(c, "message", web.StatusOf(fault.NotFound), title, web.Switch(c.Lang, h.cfg.BasePath+"/status"), messageView{
		Heading: title, Text: i18n.T(c.Lang, "portal.invalid.text"), Contact: h.cfg.DPOContact(),
		Href: h.cfg.BasePath + "/status/lost?lang=" + string(c.Lang), Action: i18n.T(c.Lang, "portal.invalid.again"),
	})
}

// unreadable answers a post whose body the call would not read (web.Call.Form): one from
// another site, one in another media type, or one that cannot be read.
func (h *Handler) unreadable(ctx context.Context, c *web.Call, msg string, err error) web.Response {
	switch {
	case errors.Is(err, fault.Forbidden):
		h.log.WarnContext(ctx, msg, "outcome", "cross_site")
		return h.problem(c, err, "portal.forbidden")
	case errors.Is(err, fault.TooLarge):
		h.log.InfoContext(ctx, msg, "outcome", "too_large")
		return h.problem(c, err, "portal.toolarge")
	}
	h.log.InfoContext(ctx, msg, "outcome", "unreadable", "status", web.Status(err))
	return h.problem(c, err, "portal.badrequest")
}
