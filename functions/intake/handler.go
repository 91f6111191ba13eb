package main

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// requestStore is the part of store.Store the intake uses.
type requestStore interface {
	Allow(ctx context.Context, scope, key string, limit int, window time.Duration) error
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
	cfg      config.Intake
	store    requestStore
	outbox   mailer
	after    afterResponse
	calendar *deadline.Calendar
	now      func() time.Time
	log      *slog.Logger
	pages    *web.Pages
	defLang  i18n.Lang
	// basePath is BASE_URL's path ("" at the root of a domain): page links are built from it
	// so the browser stays on the origin it used, which is what CSP form-action 'self' wants.
	basePath string
	// origins may post to us: our own and the configured company sites.
	origins []string
	pace    *pacer
}

// NewHandler builds the handler. Everything it talks to is passed in, so tests run it against
// the emulators with a fixed clock.
func NewHandler(cfg config.Intake, st requestStore, outbox mailer, after afterResponse, now func() time.Time, log *slog.Logger) (*Handler, error) {
	pages, err := web.NewPages(pageFiles, "pages/*.html", nil)
	if err != nil {
		return nil, fmt.Errorf("intake: pages: %w", err)
	}
	return &Handler{
		cfg:      cfg,
		store:    st,
		outbox:   outbox,
		after:    after,
		calendar: cfg.Calendar,
		now:      now,
		log:      log,
		pages:    pages,
		defLang:  cfg.DefaultLang,
		basePath: cfg.BasePath,
		origins:  append([]string{cfg.BaseURL}, cfg.AllowedOrigins...),
		pace:     newPacer(),
	}, nil
}

// Handle answers one API Gateway HTTP API request. It always returns a response and never an
// error: an error would make API Gateway answer a bare 500.
func (h *Handler) Handle(ctx context.Context, req web.Request) (resp web.Response, _ error) {
	start := time.Now()
	method, path := h.route(req)
	name := method + " " + path
	defer func() {
		if p := recover(); p != nil {
			h.log.ErrorContext(ctx, "panic", "route", name, "panic", fmt.Sprint(p))
			lang := h.lang(req, "")
			resp = h.problem(lang, false, errors.New("internal error"), "intake.unavailable")
		}
		h.log.InfoContext(ctx, "http", "route", name, "status", resp.StatusCode,
			"ms", time.Since(start).Milliseconds())
	}()
	switch {
	case path == "/" && (method == http.MethodGet || method == http.MethodHead):
		return h.form(req), nil
	case path == "/requests" && method == http.MethodPost:
		return h.cors(req, h.submit(ctx, req)), nil
	case path == "/requests" && method == http.MethodOptions:
		return h.preflight(req), nil
	case path == "/sent" && (method == http.MethodGet || method == http.MethodHead):
		return h.sent(req), nil
	case path == "/verify" && (method == http.MethodGet || method == http.MethodHead):
		return h.verifyPage(ctx, req), nil
	case path == "/verify" && method == http.MethodPost:
		return h.confirm(ctx, req), nil
	}
	name = "not_found" // the path itself may hold anything; do not log it
	return h.problem(h.lang(req, ""), wantsJSON(req), notFound, "intake.notfound"), nil
}

// notFound is the error behind the 404 page; web.Status maps it.
var notFound = fmt.Errorf("intake: no such page: %w", fault.NotFound)

// route returns the method and the path relative to BASE_URL. API Gateway puts a named stage
// and a custom domain's mapping in rawPath; neither is part of our routes.
func (h *Handler) route(req web.Request) (method, path string) {
	method = strings.ToUpper(req.RequestContext.HTTP.Method)
	path = req.RawPath
	if path == "" {
		path = req.RequestContext.HTTP.Path
	}
	if st := req.RequestContext.Stage; st != "" && st != "$default" {
		if rest, ok := strings.CutPrefix(path, "/"+st); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	if h.basePath != "" {
		if rest, ok := strings.CutPrefix(path, h.basePath); ok && (rest == "" || rest[0] == '/') {
			path = rest
		}
	}
	if path == "" {
		path = "/"
	}
	return method, path
}

// query parses rawQueryString: API Gateway's queryStringParameters joins repeated keys with
// commas, which would turn "?lang=da&lang=en" into "da,en".
func query(req web.Request) url.Values {
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

// lang picks the page language: an explicit choice (form field), then ?lang=, then the
// browser's Accept-Language, then the deployment default.
func (h *Handler) lang(req web.Request, explicit string) i18n.Lang {
	if _, ok := i18n.Parse(explicit); !ok {
		explicit = query(req).Get("lang")
	}
	return i18n.Negotiate(explicit, web.Header(req, "accept-language"), h.defLang)
}

// wantsJSON tells API clients from browsers for answers given before a body is read.
func wantsJSON(req web.Request) bool {
	if web.MediaType(req) == mediaJSON {
		return true
	}
	accept := strings.ToLower(web.Header(req, "accept"))
	return strings.Contains(accept, mediaJSON) && !strings.Contains(accept, "text/html")
}

// home is the form's address in lang, the way back from every page.
func (h *Handler) home(lang i18n.Lang) string { return h.basePath + "/?lang=" + string(lang) }

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
		return web.JSON(status, map[string]string{"message": text})
	}
	title := i18n.T(lang, key+".title")
	return h.render("error", status, lang, title, web.Switch(lang, h.basePath+"/"),
		errorView{Heading: title, Text: text, Home: h.home(lang)})
}

// sent is the page a form post lands on whatever happened to it.
func (h *Handler) sent(req web.Request) web.Response {
	lang := h.lang(req, "")
	return h.render("sent", http.StatusOK, lang, i18n.T(lang, "intake.sent.title"),
		web.Switch(lang, h.basePath+"/sent"), errorView{Home: h.home(lang)})
}
