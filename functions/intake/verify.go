package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// confirmAttempts bounds the tries of a confirmation whose write and read disagree, which only
// a link changing under them can cause; the second try always settles it.
const confirmAttempts = 3

// linkState is what a confirmation link is worth.
type linkState int

const (
	// linkInvalid: unknown reference, wrong secret, expired, replaced or malformed. The page
	// says the same for all of them, so a guesser learns nothing.
	linkInvalid linkState = iota
	linkPending
	linkUsed
)

// parseLink splits a confirmation token into the reference it names and its secret's hash. A
// token that is not well formed, or names a reference in another spelling, names nothing.
func parseLink(tok string) (ref, hash string, ok bool) {
	ref, hash, ok = token.ParseRequest(tok)
	if !ok {
		return "", "", false
	}
	if canon, ok := dsr.NormalizeReference(ref); !ok || canon != ref {
		return "", "", false
	}
	return ref, hash, true
}

// lookup reads the request a token names and says what the token is worth for it. A link is
// confirmable by the rule the confirming write applies (dsr.Request.CanVerify), so the page
// never offers a button the write would refuse.
func (h *Handler) lookup(ctx context.Context, tok string) (*dsr.Request, linkState, error) {
	ref, hash, ok := parseLink(tok)
	if !ok {
		return nil, linkInvalid, nil
	}
	r, err := h.store.GetRequest(ctx, ref)
	switch {
	case errors.Is(err, fault.NotFound):
		return nil, linkInvalid, nil
	case err != nil:
		return nil, linkInvalid, err
	}
	switch {
	case r.ConfirmedWith(hash):
		return r, linkUsed, nil
	case r.CanVerify(hash, h.now()):
		return r, linkPending, nil
	}
	return nil, linkInvalid, nil
}

// verifyView is the data of the page that shows what is being confirmed.
type verifyView struct {
	Action   string
	Token    string
	Lang     i18n.Lang
	Ref      string
	TypeName string
	Article  string
	Email    string
	Received string
	Home     string
}

// doneView is the data of the confirmed and already-confirmed pages.
type doneView struct {
	Ref        string
	Deadline   string
	DPOContact string
	Authority  authority
	Home       string
}

// verifyPage shows which request a link confirms and a button that confirms it. It writes
// nothing: mail scanners open links, and only a person presses the button.
func (h *Handler) verifyPage(ctx context.Context, req web.Request) web.Response {
	tok := query(req).Get("token")
	r, state, err := h.lookup(ctx, tok)
	lang := h.verifyLang(req, "", r)
	if err != nil {
		h.log.ErrorContext(ctx, "verification", "step", "show", "outcome", "unavailable", errlog.Attr(err))
		return h.problem(lang, false, err, "intake.unavailable_verify")
	}
	return h.linkAnswer(ctx, lang, tok, r, state, "show")
}

// linkAnswer renders the page for a link that is not (or no longer) confirmable, or the
// confirmation page for one that is.
func (h *Handler) linkAnswer(ctx context.Context, lang i18n.Lang, tok string, r *dsr.Request, state linkState, step string) web.Response {
	switch state {
	case linkUsed:
		h.log.InfoContext(ctx, "verification", "step", step, "outcome", "already", "ref", r.Ref)
		title := i18n.T(lang, "intake.already.title")
		return h.render("already", http.StatusOK, lang, title, h.verifySwitch(lang, tok), doneView{
			Ref:        r.Ref,
			DPOContact: h.cfg.DPOContact(),
			Home:       h.home(lang),
		})
	case linkPending:
		h.log.InfoContext(ctx, "verification", "step", step, "outcome", "shown", "ref", r.Ref)
		t := r.Type
		return h.render("verify", http.StatusOK, lang, i18n.T(lang, "intake.verify.title"), h.verifySwitch(lang, tok), verifyView{
			Action:   h.basePath + "/verify",
			Token:    tok,
			Lang:     lang,
			Ref:      r.Ref,
			TypeName: i18n.T(lang, "type."+string(t)+".name"),
			Article:  i18n.T(lang, "type.article", t.Article()),
			Email:    maskEmail(r.Email),
			Received: i18n.Date(lang, r.ReceivedAt.In(h.calendar.Location())),
			Home:     h.home(lang),
		})
	}
	h.log.InfoContext(ctx, "verification", "step", step, "outcome", "invalid")
	title := i18n.T(lang, "intake.invalid.title")
	return h.render("invalid", web.Status(fault.NotFound), lang, title, web.Switch(lang, h.basePath+"/"),
		errorView{Heading: title, Text: i18n.T(lang, "intake.invalid.text"), Home: h.home(lang)})
}

// confirm is the button: one conditional write, keyed by the token's reference and holding
// only while the token is the request's live one, opens the request and returns it; then the
// receipt and the DPO's notice go out. Nothing is read first: a person is waiting. Only when
// the write is refused is the request read, to say why (already confirmed, or an invalid
// link). Of two concurrent confirms exactly one wins the write; the other finds the token
// spent and sends nothing.
func (h *Handler) confirm(ctx context.Context, req web.Request) web.Response {
	lang := h.lang(req, "")
	log := h.log.With("step", "confirm")
	if !web.SameOrigin(req, h.origins...) {
		log.WarnContext(ctx, "verification", "outcome", "cross_site")
		return h.problem(lang, false, fault.Forbidden, "intake.forbidden")
	}
	if web.MediaType(req) != mediaForm {
		log.InfoContext(ctx, "verification", "outcome", "unsupported_media")
		return h.problem(lang, false, fault.Unsupported, "intake.unsupported")
	}
	body, err := web.Body(req, maxBody)
	var form url.Values
	if err == nil {
		form, err = url.ParseQuery(string(body))
		if err != nil {
			err = errors.Join(fault.BadRequest, err)
		}
	}
	if err != nil {
		// Only a tampered post gets here: the page sends one hidden token.
		log.InfoContext(ctx, "verification", "outcome", "unreadable")
		return h.problem(lang, false, err, "intake.badrequest")
	}
	tok := form.Get("token")
	ref, hash, ok := parseLink(tok)
	if !ok {
		return h.linkAnswer(ctx, h.verifyLang(req, form.Get("lang"), nil), tok, nil, linkInvalid, "confirm")
	}
	for range confirmAttempts {
		r, change := dsr.Verification(ref, hash, h.now())
		err := h.store.Commit(ctx, r, change)
		if err == nil {
			h.deliver(ctx, log, r, change.Mails, "")
			log.InfoContext(ctx, "verification", "outcome", "confirmed", "ref", r.Ref, "type", r.Type)
			return h.confirmed(h.verifyLang(req, form.Get("lang"), r), tok, r)
		}
		if !errors.Is(err, fault.Conflict) {
			log.ErrorContext(ctx, "verification", "outcome", "unavailable", errlog.Attr(err))
			return h.problem(h.verifyLang(req, form.Get("lang"), nil), false, err, "intake.unavailable_verify")
		}
		// Refused: the read says why, and in the request's language once the link proves itself.
		r, state, err := h.lookup(ctx, tok)
		lang = h.verifyLang(req, form.Get("lang"), r)
		if err != nil {
			log.ErrorContext(ctx, "verification", "outcome", "unavailable", errlog.Attr(err))
			return h.problem(lang, false, err, "intake.unavailable_verify")
		}
		if state != linkPending {
			return h.linkAnswer(ctx, lang, tok, r, state, "confirm")
		}
		// The read found the link confirmable after the write refused it: it changed in
		// between. Try the write again.
	}
	log.ErrorContext(ctx, "verification", "outcome", "conflict")
	return h.problem(lang, false, fault.Conflict, "intake.unavailable_verify")
}

// deliver sends the mails a write queued, once the answer has gone: the write recorded them
// queued, so the person waits for nothing but that write, and a mail that fails (or a run cut
// short) stays on the request for the sweep to send.
func (h *Handler) deliver(ctx context.Context, log *slog.Logger, r *dsr.Request, kinds []dsr.MailKind, link string) {
	h.after.Later(ctx, func(ctx context.Context) {
		if err := h.outbox.Deliver(ctx, r, kinds, link); err != nil {
			log.ErrorContext(ctx, "mail", "ref", r.Ref, "kinds", kinds, "outcome", "failed", errlog.Attr(err))
			return
		}
		log.InfoContext(ctx, "mail", "ref", r.Ref, "kinds", kinds, "outcome", "sent")
	})
}

func (h *Handler) confirmed(lang i18n.Lang, tok string, r *dsr.Request) web.Response {
	return h.render("confirmed", http.StatusOK, lang, i18n.T(lang, "intake.confirmed.title"), h.verifySwitch(lang, tok), doneView{
		Ref:        r.Ref,
		Deadline:   i18n.LongDate(lang, r.Deadline().In(h.calendar.Location())),
		DPOContact: h.cfg.DPOContact(),
		Authority:  h.authority(lang),
		Home:       h.home(lang),
	})
}

// verifyLang picks the language of a confirmation page: an explicit choice, then the language
// the request was filed in (only once the link has proved itself, so a guessed reference
// reveals nothing), then the browser's, then the default.
func (h *Handler) verifyLang(req web.Request, explicit string, r *dsr.Request) i18n.Lang {
	if _, ok := i18n.Parse(explicit); !ok {
		explicit = query(req).Get("lang")
	}
	if _, ok := i18n.Parse(explicit); !ok && r != nil {
		explicit = r.Lang
	}
	return i18n.Negotiate(explicit, web.Header(req, "accept-language"), h.defLang)
}

// verifySwitch links the confirmation page in the other languages; the token travels along
// so the person stays on the page they were on. A token that is not even well formed does not.
func (h *Handler) verifySwitch(lang i18n.Lang, tok string) []web.LangLink {
	if _, _, ok := token.ParseRequest(tok); !ok {
		return web.Switch(lang, h.basePath+"/")
	}
	out := make([]web.LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, web.LangLink{
			Lang:    l,
			Href:    h.basePath + "/verify?token=" + url.QueryEscape(tok) + "&lang=" + string(l),
			Current: l == lang,
		})
	}
	return out
}
