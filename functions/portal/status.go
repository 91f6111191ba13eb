package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// statusView is the data of the status page.
type statusView struct {
	Lang                         i18n.Lang
	Ref, TypeName, Article       string
	Received, Status, StatusCode string
	// Deadline is the deadline in force, and the lines below say why it is that date.
	Deadline  string
	Why       []whyView
	Closed    string
	OpenUntil string
	// Paused says the clock stands still.
	Paused   bool
	Outcome  *outcomeView
	Waiting  string
	Messages []messageLine

	// CanReply offers the reply form: Action is where it posts, Form its token.
	CanReply     bool
	Action, Form string
	Text, Error  string
	MaxText      int
	// Done says the reply just went through.
	Done bool

	Controller, Contact string
	Authority           authority

	// Delivery is what the answer delivered, nil for none.
	Delivery *deliveryView
}

// deliveryView is an answer's delivery as the status page shows it: the structured answer of
// an access request, a portable file's format and where it went, and the files, behind a
// fresh proof of the mailbox.
type deliveryView struct {
	Parts      []answerPart
	Rights     bool
	Format     string
	Controller string
	Files      []fileLine
	// FilesOpen offers the files link (LinkAction, with the page's form token); Until is when
	// the last file goes, or went (Expired).
	FilesOpen  bool
	Expired    bool
	Until      string
	LinkAction string
	Form       string
	// MaskedEmail is where the link goes, partly hidden: the page may be open on a shared
	// screen.
	MaskedEmail string
	// Sent and Limited say the link just went out, or that too many went lately.
	Sent, Limited bool
}

// answerPart is one part of the Art. 15 answer: its question, the article it answers, and
// the DPO's text.
type answerPart struct{ Label, Article, Text string }

// whyView is one reason the deadline is what it is: a sentence, and the DPO's words under it.
type whyView struct{ Text, Quote string }

type outcomeView struct {
	// Refused is a refusal or a partial answer: both come with every remedy (Art. 12(4)).
	Refused          bool
	Category, Answer string
	// Kept, Basis and Reason are a partial answer's: what was kept, on which ground, and why.
	Kept, Basis, Reason string
}

// messageLine is one message as the requester sees it: theirs, or the controller's.
type messageLine struct {
	Mine              bool
	From, At, Purpose string
	Text              string
}

// authority is the supervisory authority a requester may complain to.
type authority struct{ Name, URL string }

// status shows the page a link opens: GET only, and it changes nothing, so a mail scanner that
// opens the link does nothing but read. The token comes from the link (?token=) or from the
// session cookie the page set when a link opened it; one read of the request's partition
// gives the request and its messages.
func (h *Handler) status(ctx context.Context, c *web.Call) web.Response {
	tok, fromLink := c.Query.Get("token"), true
	if tok == "" {
		tok, fromLink = c.Cookie(cookieName), false
	}
	r, msgs, err := h.open(ctx, tok)
	switch {
	case errors.Is(err, fault.NotFound):
		h.log.InfoContext(ctx, "status", "outcome", "invalid", "from_link", fromLink)
		return h.invalid(c)
	case err != nil:
		h.log.ErrorContext(ctx, "status", "outcome", "unavailable", errlog.Attr(err))
		return h.problem(c, err, "portal.unavailable")
	}
	c.Suggest(r.Lang)
	if fromLink {
		c.SetCookie(h.cookie(tok))
	}
	v := h.view(c, tok, r, msgs)
	v.Done = c.Query.Get("done") == "reply"
	h.log.InfoContext(ctx, "status", "outcome", "shown", "ref", r.Ref, "from_link", fromLink)
	return h.render(c, "status", http.StatusOK, i18n.T(c.Lang, "portal.status.title", r.Ref), h.switchLinks(c, tok, fromLink), v)
}

// open reads the request a token names and its conversation, if the token opens its page at
// this moment (dsr.Request.CanOpenPage); every other token is fault.NotFound, whatever the
// reason.
func (h *Handler) open(ctx context.Context, tok string) (*dsr.Request, []dsr.Message, error) {
	ref, hash, ok := parseLink(tok)
	if !ok {
		return nil, nil, fault.NotFound
	}
	r, msgs, err := h.store.Conversation(ctx, ref)
	if err != nil {
		return nil, nil, err
	}
	if !r.CanOpenPage(hash, h.now()) {
		return nil, nil, fault.NotFound
	}
	return r, msgs, nil
}

// switchLinks links to the page in each language. Opened from a link, the token stays in
// the address it is already in, so the switch works without cookies; opened from the
// cookie, it is not put into an address.
func (h *Handler) switchLinks(c *web.Call, tok string, fromLink bool) []web.LangLink {
	base := h.cfg.BasePath + "/status"
	if !fromLink {
		return web.Switch(c.Lang, base)
	}
	out := make([]web.LangLink, 0, len(i18n.Langs))
	for _, l := range i18n.Langs {
		out = append(out, web.LangLink{Lang: l, Href: base + "?token=" + url.QueryEscape(tok) + "&lang=" + string(l), Current: l == c.Lang})
	}
	return out
}

// view builds the page for r in the call's language.
func (h *Handler) view(c *web.Call, tok string, r *dsr.Request, msgs []dsr.Message) *statusView {
	l, loc := c.Lang, h.cfg.Calendar.Location()
	date := func(t time.Time) string { return i18n.Date(l, t.In(loc)) }
	v := &statusView{
		Lang: l, Ref: r.Ref,
		TypeName: i18n.T(l, "type."+string(r.Type)+".name"), Article: i18n.T(l, "type.article", i18n.Article(l, r.Type.Article())),
		Received: date(r.ReceivedAt), StatusCode: string(r.Status), Status: i18n.T(l, "portal.status."+string(r.Status)),
		Deadline: i18n.LongDate(l, r.Deadline().In(loc)),
		CanReply: r.CanReply(), Action: h.cfg.BasePath + "/status/reply", Form: formToken(tok), MaxText: dsr.MaxMessage,
		Controller: h.cfg.ControllerName, Contact: h.cfg.DPOContact(),
	}
	why := "portal.why.month"
	if r.Type.Rules().Clock == dsr.ClockPrompt {
		why = "portal.why.prompt"
	}
	v.Why = append(v.Why, whyView{Text: i18n.T(l, why)})
	if x := r.Extension; x != nil {
		v.Why = append(v.Why, whyView{Text: i18n.T(l, "portal.why.extended", date(x.At)), Quote: x.Reason})
	}
	for _, p := range r.Pauses {
		switch {
		case p.Until.IsZero():
			v.Why = append(v.Why, whyView{Text: i18n.T(l, "portal.why.paused", date(p.From)), Quote: p.Reason})
		case !p.Deadline.IsZero():
			v.Why = append(v.Why, whyView{Text: i18n.T(l, "portal.why.resumed", date(p.From), date(p.Until), i18n.LongDate(l, p.Deadline.In(loc))), Quote: p.Reason})
		}
	}
	if q := r.Waiting; q != nil {
		v.Waiting = date(q.At)
	}
	v.Paused = r.Paused() != nil
	if r.Status.Closed() {
		v.Closed = date(r.ClosedAt)
		v.OpenUntil = date(r.PageOpenUntil())
		k := "authority." + h.cfg.Calendar.Country()
		v.Authority = authority{Name: i18n.T(l, k+".name"), URL: i18n.T(l, k+".url")}
	}
	if o := r.Outcome; o != nil {
		v.Outcome = &outcomeView{Refused: r.Status == dsr.Rejected || o.Result == dsr.ResultPartial, Answer: o.Message,
			Kept: o.Kept, Reason: o.Reason}
		if o.Category != "" {
			v.Outcome.Category = i18n.T(l, "reject."+string(o.Category))
		}
		if o.Basis != "" {
			v.Outcome.Basis = i18n.T(l, "basis."+string(o.Basis))
		}
	}
	if r.Delivery != nil && r.Status == dsr.Completed {
		v.Delivery = h.deliveryView(c, tok, r)
	}
	for _, m := range msgs {
		line := messageLine{Mine: m.FromRequester(), At: i18n.DateTime(l, m.At.In(loc)), Text: m.Text}
		if line.Mine {
			line.From = i18n.T(l, "portal.messages.you")
		} else {
			line.From = h.cfg.ControllerName
			line.Purpose = i18n.T(l, "portal.purpose."+m.Purpose)
		}
		v.Messages = append(v.Messages, line)
	}
	return v
}

// deliveryView builds the delivery part of r's page in the call's language.
func (h *Handler) deliveryView(c *web.Call, tok string, r *dsr.Request) *deliveryView {
	l, d, now := c.Lang, r.Delivery, h.now()
	v := &deliveryView{Controller: d.Controller, LinkAction: h.cfg.BasePath + "/status/files/link", Form: formToken(tok),
		MaskedEmail: maskEmail(r.Email)}
	if a := d.Answer; a != nil {
		v.Rights = true
		for i, p := range dsr.AnswerParts {
			text := a.Part(p)
			if text == "" {
				text = i18n.T(l, "answer.none")
			}
			v.Parts = append(v.Parts, answerPart{Label: i18n.T(l, "answer."+p), Article: i18n.Article(l, dsr.AnswerProvisions[i]), Text: text})
		}
	}
	if d.Format != "" {
		v.Format = i18n.T(l, "format."+d.Format)
	}
	if r.HasFiles() {
		var open bool
		v.Files, open, v.Until = h.fileLines(l, r, now)
		v.FilesOpen, v.Expired = open && r.CanProve(now), !open
	}
	switch c.Query.Get("done") {
	case "files_link":
		v.Sent = true
	case "files_limited":
		v.Limited = true
	}
	return v
}

// maskEmail shows an address as its first letter and its domain: enough for a requester to
// recognise their own, little for anyone looking over their shoulder.
func maskEmail(email string) string {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" {
		return "…"
	}
	r := []rune(local)
	return string(r[0]) + "…@" + domain
}
