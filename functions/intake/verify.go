package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

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
	Name     string
	Email    string
	Received string
	// Details are the first lines of what the request says, and Cut whether there is more: the
	// person confirms a request they can read, not one someone else wrote in their name.
	Details []string
	Cut     bool
	Home    string
}

// shownLines and shownWidth bound what the confirmation page quotes of the details: enough to
// recognise one's own words (or to see they are not), not the whole text again.
const (
	shownLines = 3
	shownWidth = 200
)

// firstLines returns the first shownLines non-empty lines of s, each at most shownWidth
// characters, and whether anything was left out.
func firstLines(s string) (lines []string, cut bool) {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l == "" {
			continue
		}
		if len(lines) == shownLines {
			return lines, true
		}
		if r := []rune(l); len(r) > shownWidth {
			l, cut = string(r[:shownWidth]), true
		}
		lines = append(lines, l)
	}
	return lines, cut
}

// doneView is the data of the confirmed and already-confirmed pages.
type doneView struct {
	Ref      string
	Deadline string
	// Prompt is set for a withdrawal or a marketing objection: acted on without undue delay,
	// never extended, so the page names no deadline; PromptText says what happens instead.
	Prompt     bool
	PromptText string
	DPOContact string
	Authority  authority
	Home       string
}

// verifyPage shows which request a link confirms and a button that confirms it. It writes
// nothing: mail scanners open links, and only a person presses the button.
func (h *Handler) verifyPage(ctx context.Context, c *web.Call) web.Response {
	tok := c.Query.Get("token")
	r, state, err := h.lookup(ctx, tok)
	h.requestLang(c, r)
	if err != nil {
		h.log.ErrorContext(ctx, "verification", "step", "show", "outcome", "unavailable", errlog.Attr(err))
		return h.problem(c.Lang, false, err, "intake.unavailable_verify")
	}
	return h.linkAnswer(ctx, c.Lang, tok, r, state, "show")
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
		details, cut := firstLines(r.Details)
		return h.render("verify", http.StatusOK, lang, i18n.T(lang, "intake.verify.title"), h.verifySwitch(lang, tok), verifyView{
			Name:     r.Name,
			Details:  details,
			Cut:      cut,
			Action:   h.cfg.BasePath + "/verify",
			Token:    tok,
			Lang:     lang,
			Ref:      r.Ref,
			TypeName: i18n.T(lang, "type."+string(t)+".name"),
			Article:  i18n.T(lang, "type.article", i18n.Article(lang, t.Article())),
			Email:    maskEmail(r.Email),
			Received: i18n.Date(lang, r.ReceivedAt.In(h.cfg.Calendar.Location())),
			Home:     h.home(lang),
		})
	}
	h.log.InfoContext(ctx, "verification", "step", step, "outcome", "invalid")
	title := i18n.T(lang, "intake.invalid.title")
	return h.render("invalid", web.StatusOf(fault.NotFound), lang, title, web.Switch(lang, h.cfg.BasePath+"/"),
		errorView{Heading: title, Text: i18n.T(lang, "intake.invalid.text"), Home: h.home(lang)})
}

// confirm is the button: one conditional write, keyed by the token's reference and holding
// only while the token is the request's live one, opens the request and returns it; then the
// receipt and the DPO's notice go out. Nothing is read first: a person is waiting. Only when
// the write is refused is the request read, to say why (already confirmed, or an invalid
// link). Of two concurrent confirms exactly one wins the write; the other finds the token
// spent and sends nothing.
func (h *Handler) confirm(ctx context.Context, c *web.Call) web.Response {
	log := h.log.With("step", "confirm")
	// Only a tampered post is unreadable: the page sends one hidden token and its language.
	form, err := c.Form(maxBody)
	if err != nil {
		return h.unreadable(ctx, log, "verification", c.Lang, false, err, "intake.badrequest")
	}
	tok := form.Get("token")
	ref, hash, ok := parseLink(tok)
	if !ok {
		return h.linkAnswer(ctx, c.Lang, tok, nil, linkInvalid, "confirm")
	}
	for range confirmAttempts {
		r, change := dsr.Verification(ref, hash, h.now())
		err := h.store.Commit(ctx, r, change)
		if err == nil {
			h.deliver(ctx, log, r, change.Mails, "")
			log.InfoContext(ctx, "verification", "outcome", "confirmed", "ref", r.Ref, "type", r.Type)
			h.requestLang(c, r)
			return h.confirmed(c.Lang, tok, r)
		}
		if !errors.Is(err, fault.Conflict) {
			log.ErrorContext(ctx, "verification", "outcome", "unavailable", errlog.Attr(err))
			return h.problem(c.Lang, false, err, "intake.unavailable_verify")
		}
		// Refused: the read says why, and in the request's language once the link proves itself.
		r, state, err := h.lookup(ctx, tok)
		h.requestLang(c, r)
		if err != nil {
			log.ErrorContext(ctx, "verification", "outcome", "unavailable", errlog.Attr(err))
			return h.problem(c.Lang, false, err, "intake.unavailable_verify")
		}
		if state != linkPending {
			return h.linkAnswer(ctx, c.Lang, tok, r, state, "confirm")
		}
		// The read found the link confirmable after the write refused it: it changed in
		// between. Try the write again.
	}
	log.ErrorContext(ctx, "verification", "outcome", "conflict")
	return h.problem(c.Lang, false, fault.Conflict, "intake.unavailable_verify")
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
		Deadline:   i18n.LongDate(lang, r.Deadline().In(h.cfg.Calendar.Location())),
		Prompt:     r.Type.Rules().Clock == dsr.ClockPrompt,
		PromptText: i18n.T(lang, "intake.mail.receipt.prompt."+string(r.Type)),
		DPOContact: h.cfg.DPOContact(),
		Authority:  h.authority(lang),
		Home:       h.home(lang),
	})
}

// requestLang lets the language the request was filed in speak for a confirmation page, below
// an explicit choice and above the browser's (web.Call.Suggest); r is nil until the link has
// proved itself, so a guessed reference reveals nothing.
func (h *Handler) requestLang(c *web.Call, r *dsr.Request) {
	if r != nil {
		c.Suggest(r.Lang)
	}
}

// verifySwitch links the confirmation page in the other languages; the token travels along
// so the person stays on the page they were on. A token that is not even well formed does not.
func (h *Handler) verifySwitch(lang i18n.Lang, tok string) []web.LangLink {
	if _, _, ok := token.ParseRequest(tok); !ok {
		return web.Switch(lang, h.cfg.BasePath+"/")
	}
	out := make([]web.LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, web.LangLink{
			Lang:    l,
			Href:    h.cfg.BasePath + "/verify?token=" + url.QueryEscape(tok) + "&lang=" + string(l),
			Current: l == lang,
		})
	}
	return out
}
