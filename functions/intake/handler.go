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
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requestStore is the part of store.Store the intake uses.
type requestStore interface {
	Allow(ctx context.Context, scope, key string, limit int, window time.Duration) (store.Counted, error)
	Uncount(ctx context.Context, c store.Counted) error
	CountUnconfirmed(ctx context.Context, perDay int) (store.Counted, error)
	keyed.Source
	CreateRequest(ctx context.Context, r *dsr.Request) error
	GetRequest(ctx context.Context, ref string) (*dsr.Request, error)
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
}

// mailer sends the mails a write queued and records how they went (notice.Outbox does).
type mailer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
}

// afterResponse runs work once the response has gone (postresponse.Queue does).
type afterResponse interface {
	Later(ctx context.Context, fn func(context.Context))
}

//go:embed pages/*.html
var pageFiles embed.FS

// Handler serves the public routes: the form, submissions, and the confirmation link.
type Handler struct {
	cfg    config.Intake
	store  requestStore
	outbox mailer
	after  afterResponse
	now    func() time.Time
	log    *slog.Logger
	pages  *web.Pages
	// site reads each request: routes under BASE_URL's path, posts from our own origin and the
	// configured company sites, the language from ?lang=, the browser, or the default.
	site *web.Site
	pace *pacer
	// keys is the deployment's secret key, read when first needed: the rate counters are
	// keyed hashes, and the form's render time is signed.
	keys *keyed.Keys
}

// NewHandler builds the handler. Everything it talks to is passed in, so tests run it against
// the emulators with a fixed clock.
func NewHandler(cfg config.Intake, st requestStore, outbox mailer, after afterResponse, now func() time.Time, log *slog.Logger) (*Handler, error) {
	pages, err := web.NewPages(pageFiles, "pages/*.html", nil)
	if err != nil {
		return nil, fmt.Errorf("intake: pages: %w", err)
	}
	return &Handler{
		cfg:    cfg,
		store:  st,
		outbox: outbox,
		after:  after,
		now:    now,
		log:    log,
		pages:  pages,
		site: &web.Site{
			BasePath:   cfg.BasePath,
			Origins:    append([]string{cfg.BaseURL}, cfg.AllowedOrigins...),
			Lang:       web.LangPolicy{Default: cfg.DefaultLang, Browser: true},
			EdgeSecret: cfg.EdgeSecret,
		},
		pace: newPacer(),
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
			resp = h.problem(c.Lang, false, errors.New("internal error"), "intake.unavailable")
		}
		h.log.InfoContext(ctx, "http", "route", name, "status", resp.StatusCode,
			"ms", time.Since(start).Milliseconds())
	}()
	if !c.FromEdge() {
		// Behind CloudFront and its WAF web ACL, a call to the API's own URL went around them.
		name = "not_from_edge"
		return h.problem(c.Lang, c.WantsData(), fault.Forbidden, "intake.forbidden"), nil
	}
	get := c.Method == http.MethodGet || c.Method == http.MethodHead
	switch {
	case c.Path == "/" && get:
		return h.form(ctx, c), nil
	case c.Path == "/requests" && c.Method == http.MethodPost:
		return h.cors(c, h.submit(ctx, c)), nil
	case c.Path == "/requests" && c.Method == http.MethodOptions:
		return h.preflight(c), nil
	case c.Path == "/sent" && get:
		return h.sent(c), nil
	case c.Path == "/verify" && get:
		return h.verifyPage(ctx, c), nil
	case c.Path == "/verify" && c.Method == http.MethodPost:
		return h.confirm(ctx, c), nil
	}
	name = "not_found" // the path itself may hold anything; do not log it
	return h.problem(c.Lang, c.WantsData(), fault.NotFound, "intake.notfound"), nil
}

// home is the form's address in lang, the way back from every page. Page links are built from
// BASE_URL's path so the browser stays on the origin it used, which is what CSP form-action
// 'self' wants.
func (h *Handler) home(lang i18n.Lang) string { return h.cfg.BasePath + "/?lang=" + string(lang) }

// render executes a page with the layout and the security headers.
func (h *Handler) render(name string, status int, lang i18n.Lang, title string, sw []web.LangLink, main any) web.Response {
	t, err := h.pages.Page(name)
	if err != nil {
		// A page that does not parse is a bug the tests catch; show nothing of it to the user.
		h.log.Error("page", "page", name, errlog.Attr(err))
		return web.Response{StatusCode: http.StatusInternalServerError, Headers: web.HTMLHeaders(), Body: "Internal error"}
	}
	return web.Render(t, status, web.Page{
		Lang:       lang,
		Title:      title,
		Controller: h.cfg.ControllerName,
		Owner:      web.Owner{Address: h.cfg.ControllerAddress, Contact: h.cfg.DPOContact(), Policy: h.cfg.PrivacyPolicyURL},
		Switch:     sw,
		Main:       main,
	})
}

// errorView is the data of the page for every answer that is not the form's own.
type errorView struct {
	Heading string
	Text    string
	Home    string
}

// problem answers an error: the status comes from err through web.Status, the words from
// key's .title and .text, in the request's language. Nothing of err reaches the user.
func (h *Handler) problem(lang i18n.Lang, asJSON bool, err error, key string) web.Response {
	status := web.Status(err)
	text := i18n.T(lang, key+".text")
	if asJSON {
		return web.ProblemJSON(status, text, nil)
	}
	title := i18n.T(lang, key+".title")
	return h.render("error", status, lang, title, web.Switch(lang, h.cfg.BasePath+"/"),
		errorView{Heading: title, Text: text, Home: h.home(lang)})
}

// unreadable answers a post whose body the call would not read (web.Call.Body, Form), logged
// under msg: one from another site, one in another media type, or one that cannot be read,
// which key words.
func (h *Handler) unreadable(ctx context.Context, log *slog.Logger, msg string, lang i18n.Lang, asJSON bool, err error, key string) web.Response {
	switch {
	case errors.Is(err, fault.Forbidden):
		log.WarnContext(ctx, msg, "outcome", "cross_site")
		return h.problem(lang, asJSON, err, "intake.forbidden")
	case errors.Is(err, fault.Unsupported):
		log.InfoContext(ctx, msg, "outcome", "unsupported_media")
		return h.problem(lang, asJSON, err, "intake.unsupported")
	}
	log.InfoContext(ctx, msg, "outcome", "unreadable", "status", web.Status(err))
	return h.problem(lang, asJSON, err, key)
}

// sentView is the data of the page every accepted submission lands on.
type sentView struct {
	Home string
	// Contact is where to write if no mail comes: the answer is the same whether the
	// submission was stored or held back by a limit, so this is the way through for a person
	// who was limited.
	Contact string
}

// sent is the page a form post lands on whatever happened to it.
func (h *Handler) sent(c *web.Call) web.Response {
	return h.render("sent", http.StatusOK, c.Lang, i18n.T(c.Lang, "intake.sent.title"),
		web.Switch(c.Lang, h.cfg.BasePath+"/sent"), sentView{Home: h.home(c.Lang), Contact: h.cfg.DPOContact()})
}
