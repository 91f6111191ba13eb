package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The files of an answer (the copy of Art. 15(3), the portable file of Art. 20), handed out
// after the requester proves their mailbox once more:
//
//	POST /status/files/link      from the status page: mail a files link to the request's address
//	GET  /status/files?proof=…   the link: a page with one button, so a mail scanner that opens
//	                             the link spends nothing
//	POST /status/files           the button: spends the link (once), opens a short session
//	                             (cookie dsr_files) and shows the files
//	GET  /status/files           the files, while the session lasts
//	POST /status/files/download  one file: its download recorded, then a redirect to a URL of
//	                             the bucket valid minutes, as an attachment
//
// The file's bytes go from the bucket to the browser; this function signs a URL and nothing
// more. Unknown, tampered, expired and used links, and dead sessions, all get the one "not
// valid" page every link of the portal gets.

// presigner signs a download URL for an object of the deliveries bucket, and names the
// bucket's origin, which the files page's forms are redirected to (bucket.Bucket does both).
type presigner interface {
	PresignGet(ctx context.Context, key string, d bucket.Download) (string, error)
	Origin() string
}

// filesCookie holds the files session: "<ref>.<link key>.<secret>", the link it was opened by
// and the session's own secret, whose hash only is stored. Path keeps it to the files routes.
const filesCookie = "dsr_files"

// downloadValid is how long a download URL works: long enough to start the download on a slow
// line, short enough that a URL copied out of the browser's history is dead.
const downloadValid = 5 * time.Minute

// scopeFilesLink is the rate limit of files links per request (dsr.MaxProofs per
// dsr.ProofWindow).
const scopeFilesLink = "files_link"

func (h *Handler) filesCookieValue(ref, key, secret string) string {
	return filesCookie + "=" + ref + "." + key + "." + secret + "; Path=" + h.cfg.BasePath + "/status/files; Max-Age=" +
		strconv.Itoa(int(dsr.FilesSession.Seconds())) + "; HttpOnly; Secure; SameSite=Strict"
}

func (h *Handler) clearFilesCookie() string {
	return filesCookie + "=; Path=" + h.cfg.BasePath + "/status/files; Max-Age=0; HttpOnly; Secure; SameSite=Strict"
}

// parseFilesCookie splits a files session cookie into the request's reference, the link's
// key and the session secret's hash.
func parseFilesCookie(v string) (ref, key, sessionHash string, ok bool) {
	ref, rest, ok1 := strings.Cut(v, ".")
	key, secret, ok2 := strings.Cut(rest, ".")
	if !ok1 || !ok2 || len(key) != 64 || len(secret) != 43 {
		return "", "", "", false
	}
	if canon, ok := dsr.NormalizeReference(ref); !ok || canon != ref {
		return "", "", "", false
	}
	return ref, key, token.Hash(secret), true
}

// filesFormToken is what the files page's forms carry against cross-site posts, derived from
// the session cookie as the reply form's is from the status cookie.
func filesFormToken(cookie string) string { return token.Hash("files-form\n" + cookie) }

// filesView is the data of the files pages.
type filesView struct {
	Lang i18n.Lang
	Ref  string
	// Confirm is the link's page: one button that spends the link; Proof is the link's token.
	Confirm bool
	Proof   string
	// The session's page: the files, each with its download form.
	Files      []fileLine
	Action     string
	Form       string
	Expired    bool
	Until      string
	Error      string
	Contact    string
	StatusHref string
}

// fileLine is one delivered file as the requester sees it.
type fileLine struct {
	ID, Name, Size, MD5, Expires string
	Expired                      bool
}

func (h *Handler) fileLines(l i18n.Lang, r *dsr.Request, now time.Time) (lines []fileLine, open bool, until string) {
	loc := h.cfg.Calendar.Location()
	var last time.Time
	for _, f := range r.Delivery.Files {
		line := fileLine{ID: f.ID, Name: f.Name, Size: i18n.Size(l, f.Size), MD5: f.MD5,
			Expires: i18n.DateTime(l, f.Expires.In(loc)), Expired: f.Expired(now)}
		open = open || !line.Expired
		if f.Expires.After(last) {
			last = f.Expires
		}
		lines = append(lines, line)
	}
	return lines, open, i18n.DateTime(l, last.In(loc))
}

// filesLink mails a files link to the request's address: from the status page, which the
// session cookie names (and the form token ties to the page), within the limit of links per
// request. The request is read and counted at once; the link is stored before the answer and
// mailed after it.
func (h *Handler) filesLink(ctx context.Context, c *web.Call) web.Response {
	log := h.log.With("step", "files_link")
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, c, "files_link", err)
	}
	tok := c.Cookie(cookieName)
	ref, _, _ := parseLink(tok)
	var r *dsr.Request
	var allowed bool
	var openErr, limitErr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		allowed, limitErr = h.allowFilesLink(ctx, ref)
	}()
	r, _, openErr = h.open(ctx, tok)
	<-done
	switch {
	case errors.Is(openErr, fault.NotFound):
		log.InfoContext(ctx, "files_link", "outcome", "invalid")
		return h.invalid(c)
	case openErr != nil:
		log.ErrorContext(ctx, "files_link", "outcome", "unavailable", errlog.Attr(openErr))
		return h.problem(c, openErr, "portal.unavailable")
	}
	c.Suggest(r.Lang)
	if !formTokenOK(form.Get("form"), tok) {
		log.InfoContext(ctx, "files_link", "outcome", "stale", "ref", r.Ref)
		return h.problem(c, fault.Forbidden, "portal.stale")
	}
	now := h.now()
	switch {
	case !r.CanProve(now):
		log.InfoContext(ctx, "files_link", "outcome", "no_files", "ref", r.Ref)
		return web.Redirect(h.cfg.BasePath + "/status")
	case limitErr != nil:
		log.ErrorContext(ctx, "files_link", "outcome", "unavailable", "ref", r.Ref, errlog.Attr(limitErr))
		return h.problem(c, limitErr, "portal.unavailable")
	case !allowed:
		log.WarnContext(ctx, "files_link", "outcome", "limited", "ref", r.Ref)
		return web.Redirect(h.cfg.BasePath + "/status?done=files_limited#files")
	}
	link, hash := token.ForRequest(r.Ref)
	p := r.NewProof(hash, now)
	if err := h.store.PutProof(ctx, r.Ref, p); err != nil {
		log.ErrorContext(ctx, "files_link", "outcome", "unavailable", "ref", r.Ref, errlog.Attr(err))
		return h.problem(c, err, "portal.unavailable")
	}
	lang := c.Lang
	h.after.Later(ctx, func(ctx context.Context) { h.mailFilesLink(ctx, r, link, p, lang) })
	log.InfoContext(ctx, "files_link", "outcome", "issued", "ref", r.Ref)
	return web.Redirect(h.cfg.BasePath + "/status?done=files_link#files")
}

// allowFilesLink counts a files link against its request's limit, under a keyed hash as every
// counter is.
func (h *Handler) allowFilesLink(ctx context.Context, ref string) (bool, error) {
	if ref == "" {
		return false, nil
	}
	key, err := h.keys.Load(ctx)
	if err != nil {
		return false, err
	}
	_, err = h.store.Allow(ctx, scopeFilesLink, key.Hash(scopeFilesLink, ref), dsr.MaxProofs, dsr.ProofWindow)
	switch {
	case errors.Is(err, fault.Limited):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// filesMail is the data of the files link mail (templates/files_link.tmpl).
type filesMail struct {
	Lang            i18n.Lang
	Controller, Ref string
	Link            string
	Minutes         int
	ValidUntil      string
}

// mailFilesLink sends the files link to the request's address, in the page's language. A
// mail that fails is not retried: the page asks the requester to ask again.
func (h *Handler) mailFilesLink(ctx context.Context, r *dsr.Request, link string, p dsr.Proof, lang i18n.Lang) {
	data := filesMail{Lang: lang, Controller: h.cfg.ControllerName, Ref: r.Ref, Link: notice.FilesLink(h.cfg.BaseURL, link),
		Minutes: int(dsr.ProofLinkValid / time.Minute), ValidUntil: i18n.DateTime(lang, p.ValidUntil.In(h.cfg.Calendar.Location()))}
	subject, text, html, err := h.notices.Render("files_link", data)
	if err == nil {
		err = h.sender.Send(ctx, notice.Message{To: []string{r.Email}, ReplyTo: []string{h.cfg.DPOContact()}, Subject: subject, Text: text, HTML: html})
	}
	if err != nil {
		h.log.ErrorContext(ctx, "files_link", "outcome", "mail_failed", "ref", r.Ref, errlog.Attr(err))
		return
	}
	h.log.InfoContext(ctx, "files_link", "outcome", "mailed", "ref", r.Ref)
}

// readFiles reads the request and the files link a token or cookie names: one Query.
func (h *Handler) readFiles(ctx context.Context, ref, key string) (*dsr.Request, dsr.Proof, error) {
	if ref == "" {
		return nil, dsr.Proof{}, fault.NotFound
	}
	return h.store.FilesPage(ctx, ref, key)
}

// filesGet answers GET /status/files: with ?proof= the link's page, which only offers to
// open the files; without, the files of the session the cookie holds.
func (h *Handler) filesGet(ctx context.Context, c *web.Call) web.Response {
	if proof := c.Query.Get("proof"); proof != "" {
		ref, key, _ := parseLink(proof)
		r, p, err := h.readFiles(ctx, ref, key)
		if resp, done := h.filesFailed(ctx, c, "files_link_page", err); done {
			return resp
		}
		// A dead link's page is the same whichever request it names: its language is not the
		// request's, which would tell that the reference exists.
		if !p.LinkUsable(r, h.now()) {
			h.log.InfoContext(ctx, "files_link_page", "outcome", "invalid")
			return h.filesInvalid(c)
		}
		c.Suggest(r.Lang)
		h.log.InfoContext(ctx, "files_link_page", "outcome", "shown", "ref", r.Ref)
		return h.render(c, "files", http.StatusOK, i18n.T(c.Lang, "portal.files.title", r.Ref), h.filesSwitch(c, proof), filesView{
			Lang: c.Lang, Ref: r.Ref, Confirm: true, Proof: proof, Action: h.cfg.BasePath + "/status/files", Contact: h.cfg.DPOContact(),
		})
	}
	cookie := c.Cookie(filesCookie)
	r, err := h.session(ctx, cookie)
	if resp, done := h.filesFailed(ctx, c, "files", err); done {
		return resp
	}
	c.Suggest(r.Lang)
	h.log.InfoContext(ctx, "files", "outcome", "shown", "ref", r.Ref)
	return h.filesPage(c, r, cookie, http.StatusOK, "")
}

// filesFailed answers a read that found no valid link or session (the "not valid" page) or
// could not be made; done is false when err is nil.
func (h *Handler) filesFailed(ctx context.Context, c *web.Call, msg string, err error) (web.Response, bool) {
	switch {
	case err == nil:
		return web.Response{}, false
	case errors.Is(err, fault.NotFound):
		h.log.InfoContext(ctx, msg, "outcome", "invalid")
		return h.filesInvalid(c), true
	}
	h.log.ErrorContext(ctx, msg, "outcome", "unavailable", errlog.Attr(err))
	return h.problem(c, err, "portal.unavailable"), true
}

// session reads the request whose files session cookie holds, if the session is open now;
// every other cookie is fault.NotFound.
func (h *Handler) session(ctx context.Context, cookie string) (*dsr.Request, error) {
	ref, key, sessionHash, ok := parseFilesCookie(cookie)
	if !ok {
		return nil, fault.NotFound
	}
	r, p, err := h.readFiles(ctx, ref, key)
	if err != nil {
		return nil, err
	}
	if !p.SessionOpen(r, sessionHash, h.now()) || !r.HasFiles() {
		return nil, fault.NotFound
	}
	return r, nil
}

// filesOpen answers the link page's button: it spends the link, once (a conditional write),
// and opens the session.
func (h *Handler) filesOpen(ctx context.Context, c *web.Call) web.Response {
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, c, "files_open", err)
	}
	ref, key, _ := parseLink(form.Get("proof"))
	r, p, err := h.readFiles(ctx, ref, key)
	if resp, done := h.filesFailed(ctx, c, "files_open", err); done {
		return resp
	}
	now := h.now()
	if !p.LinkUsable(r, now) {
		h.log.InfoContext(ctx, "files_open", "outcome", "invalid")
		return h.filesInvalid(c)
	}
	c.Suggest(r.Lang)
	secret := token.New()
	p.Use(token.Hash(secret), now)
	if err := h.store.UseProof(ctx, r.Ref, p); err != nil {
		// Spent by another click a moment ago, or expired since it was read.
		if resp, done := h.filesFailed(ctx, c, "files_open", err); done {
			return resp
		}
	}
	c.SetCookie(h.filesCookieValue(r.Ref, p.Key, secret))
	h.log.InfoContext(ctx, "files_open", "outcome", "opened", "ref", r.Ref)
	return web.Redirect(h.cfg.BasePath + "/status/files?lang=" + url.QueryEscape(string(c.Lang)))
}

// download hands out one file: the session and the form token checked, the request and the
// link read (one Query), the download recorded (one write), then a redirect to a URL of the
// bucket valid minutes that serves the file as an attachment. Two AWS calls before the answer;
// the URL is signed here, without a call.
func (h *Handler) download(ctx context.Context, c *web.Call) web.Response {
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, c, "download", err)
	}
	cookie := c.Cookie(filesCookie)
	r, err := h.session(ctx, cookie)
	if resp, done := h.filesFailed(ctx, c, "download", err); done {
		return resp
	}
	c.Suggest(r.Lang)
	if cookie == "" || !token.Equal(token.Hash(form.Get("form")), token.Hash(filesFormToken(cookie))) {
		h.log.InfoContext(ctx, "download", "outcome", "stale", "ref", r.Ref)
		return h.problem(c, fault.Forbidden, "portal.stale")
	}
	now := h.now()
	f, err := r.CanDownload(form.Get("file"), now)
	if err != nil {
		h.log.InfoContext(ctx, "download", "outcome", "refused", "ref", r.Ref)
		return h.filesPage(c, r, cookie, web.Status(err), i18n.T(c.Lang, "portal.files.gone"))
	}
	if err := h.store.RecordDownload(ctx, r, dsr.NewDownload(f.ID, now)); err != nil {
		h.log.ErrorContext(ctx, "download", "outcome", "unavailable", "ref", r.Ref, errlog.Attr(err))
		return h.problem(c, err, "portal.unavailable")
	}
	link, err := h.files.PresignGet(ctx, f.Key, bucket.Download{Filename: f.Name, Expires: downloadValid})
	if err != nil {
		h.log.ErrorContext(ctx, "download", "outcome", "unsigned", "ref", r.Ref, errlog.Attr(err))
		return h.problem(c, fault.Unavailable, "portal.unavailable")
	}
	h.log.InfoContext(ctx, "download", "outcome", "issued", "ref", r.Ref, "file", f.ID)
	resp := web.Redirect(link)
	resp.Headers["Cache-Control"] = "no-store"
	return resp
}

// filesPage shows the files of the session's request, each with its download form.
func (h *Handler) filesPage(c *web.Call, r *dsr.Request, cookie string, status int, errText string) web.Response {
	now := h.now()
	lines, open, until := h.fileLines(c.Lang, r, now)
	resp := h.render(c, "files", status, i18n.T(c.Lang, "portal.files.title", r.Ref), web.Switch(c.Lang, h.cfg.BasePath+"/status/files"), filesView{
		Lang: c.Lang, Ref: r.Ref, Files: lines, Action: h.cfg.BasePath + "/status/files/download", Form: filesFormToken(cookie),
		Expired: !open, Until: until, Error: errText, Contact: h.cfg.DPOContact(), StatusHref: h.cfg.BasePath + "/status",
	})
	// Each download form is answered with a redirect to the bucket, which the browser holds
	// to the page's form-action.
	web.AllowFormAction(&resp, h.files.Origin())
	return resp
}

// filesSwitch links to the link's page in each language, with the link in it.
func (h *Handler) filesSwitch(c *web.Call, proof string) []web.LangLink {
	out := make([]web.LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, web.LangLink{Lang: l, Href: h.cfg.BasePath + "/status/files?proof=" + url.QueryEscape(proof) + "&lang=" + string(l), Current: l == c.Lang})
	}
	return out
}

// filesInvalid is the "not valid" page, as for every link of the portal, and drops a dead
// files session (the status page's session is not the files link's to end).
func (h *Handler) filesInvalid(c *web.Call) web.Response {
	if c.Cookie(filesCookie) != "" {
		c.SetCookie(h.clearFilesCookie())
	}
	return h.invalidPage(c)
}
