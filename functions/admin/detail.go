package main

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The request page, top to bottom: a summary (where the request stands, the deadline in force
// and why, who must act next), the history (every event, and the exact text of every mail
// the requester was sent), then the actions, one open at a time (?action=<name>), each with a
// preview of its mail and a confirmation before anything is sent. It needs no script: each
// step is a link or a form post.

type detailView struct {
	CSRF    string
	Version int

	Ref, Type, Article, Status, StatusCode  string
	Name, Email, CustomerRef, Lang, Details string
	Received, Verified, Closed              string
	// Channel is how a request that did not come by the form reached the controller, and
	// PostalAddress where a letter can reach the requester.
	Channel, PostalAddress string
	// NoEmail says why there is no address, when there is none.
	NoEmail string
	// Inbound is the mail the request came in, when it came by mail.
	Inbound *inboundView

	// Deadline is the deadline in force and Why says where it comes from; Urgency is set
	// while an answer is owed.
	Deadline, Why string
	Urgency       *urgency
	// Waiting says who must act next, and by when.
	Waiting string
	// Outcome is how the request was closed.
	Outcome *outcomeView
	// Fee says what fee was announced and whether the requester accepted it; Lift, when the
	// requester was told a restriction will be lifted.
	Fee, Lift string
	// Delivery is what the answer delivered, and what the requester downloaded.
	Delivery *deliveryView
	// Checklist is the Art. 19 list of recipients, for a type that has one.
	Checklist []checkRow
	// Mails are the mails that have not (yet) gone out, each saying what becomes of it.
	Mails []mailNote

	History []historyEntry

	// Choices are the actions the request's state allows; Blocked says why others are not.
	Choices []choiceView
	Blocked []string
	// Open is the chosen action's form, or the preview of its mail.
	Open *openAction
	// Banner is the outcome of the last action, or why it was refused.
	Banner    *banner
	ErrorList []fieldError
	// Refreshing is set while a mail is being sent: the page reloads itself to show it sent.
	Refreshing bool
}

// fieldError is one entry of the error summary, linking to its field.
type fieldError struct{ ID, Label, Message string }

// outcomeView is how a request was closed: the ground of a refusal, the result of a
// completion other than "done" (no data, partly carried out, with what was kept and why), and
// whether the answer was late.
type outcomeView struct {
	Category, Message, Result, Kept, Basis, Late string
}

// checkRow is one recipient of the register on a request's Art. 19 checklist: how and when
// they were dealt with, or not yet.
type checkRow struct {
	Name, State, Note string
	Done              bool
}

// mailNote is a mail that has not gone out, or a letter not yet posted (Href: its page), or
// one that did not arrive (Hint: what ends its line in the digest, under its state).
type mailNote struct{ Kind, State, Class, Href, Hint string }

// inboundView is what the page shows of the mail a request came in: its subject, its
// attachments by name and size (the mail keeps them), whether its sender may be forged, and
// why it is held, if it is.
type inboundView struct {
	Subject     string
	Attachments []string
	DMARCFail   bool
	Quarantine  string
	// Open is where the DPO opens the mail as received (rawmail.go), "" when there is no
	// inbound bucket or nothing to open; CSRF its form's token, OpenLabel its button.
	Open, CSRF, OpenLabel string
}

// historyEntry is one event, or one mail with its text.
type historyEntry struct {
	at              time.Time
	When, Who, What string
	Note            string
	// Message is the text of the message the event sent or received (a question, a reply).
	Message string
	Mail    *mailText
}

// mailText is a mail as it went: to whom, in which language, its subject and exact text; a
// letter's Href is its page, to print it again.
type mailText struct{ To, Lang, Subject, Text, Href string }

type choiceView struct {
	Label, Href     string
	Danger, Current bool
}

// openAction is the chosen action as its form or its preview shows it.
type openAction struct {
	Name, Heading, Hint, Submit string
	Danger                      bool
	// Previewed actions send a mail: their first button shows the mail instead of acting.
	Previewed bool
	// Warning is what the DPO should know before acting (an answer that would be late).
	Warning  string
	Fields   []fieldView
	Previews []mailPreview
	// Files are the files an answer would deliver, for an action that delivers them.
	Files *filesPanel
}

type fieldView struct {
	ID, Name, Label, Hint, Value, Error string
	// Input is the control without Options: "" a text area, "text", "email", "date" or
	// "datetime-local".
	Input string
	// Radio shows Options as radio buttons rather than a select.
	Radio bool
	// Optional marks a field that may be left empty.
	Optional bool
	// Options makes the field a select, or with Multiple a set of checkboxes; Values are
	// the values posted (or ticked).
	Options  []option
	Multiple bool
	Values   []string
	// Template says where a reply's text came from: the template for the request's type and
	// language, or that there is none yet (with where to write one, WriteTemplate).
	Template, NoTemplate, WriteTemplate string
}

// mailPreview is the exact mail an action (or a registration) would send, or the digest:
// Lead says, in the page's language, what it is, to whom and in which language ("" for
// nothing). The pages show it with the partial "mail" (pages/partials/mail.html).
type mailPreview struct {
	Lead, To, Subject, Text string
}

// mailBox is what the partial "mail" draws: a mail, with the page's language for its labels.
type mailBox struct {
	Lang i18n.Lang
	Mail mailPreview
}

// previewOf is msg as a page previews it, with lead, a message key given the name of the
// mail's language in the page's language l.
func previewOf(l i18n.Lang, lead string, msg notice.Message) mailPreview {
	return mailPreview{Lead: i18n.T(l, lead, i18n.T(l, "admin.langname."+string(msg.Lang))),
		To: strings.Join(msg.To, ", "), Subject: msg.Subject, Text: msg.Text}
}

// banner is a notice at the top of the page; Class is ok, warn or err.
type banner struct {
	Class, Heading, Text string
}

// detail shows one request; ?action=<name> opens that action's form, ?done=<name> after an
// action says what happened.
func (h *handler) detail(c *call, ref string) web.Response {
	r, mails, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	v := h.detailView(c, r, mails)
	if a := actionNamed(c.Query.Get("action")); a != nil {
		if ok, _ := a.Offered(h, c, r, h.now()); ok {
			v.Open = h.openAction(c, r, a, h.replyTemplate(c, r, a), nil)
			v.markChoice(a)
		}
	}
	if a := actionNamed(c.Query.Get("done")); a != nil {
		v.Banner = h.doneBanner(c.Lang, r, a)
	} else if c.Query.Get("done") == "register" {
		v.Banner = h.doneBanner(c.Lang, r, &action{Name: "register", Mail: registeredMail(r)})
	}
	resp := h.renderDetail(c, http.StatusOK, v)
	if v.Refreshing && v.Open == nil {
		// No form is open whose text a reload would lose.
		resp.Headers["Refresh"] = "2"
	}
	return resp
}

// load reads a request by a reference as typed or linked, with the texts of its mails; the
// messages of its conversation are kept on the call for its page.
func (h *handler) load(c *call, ref string) (*dsr.Request, []dsr.SentMail, error) {
	canon, ok := dsr.NormalizeReference(ref)
	if !ok {
		return nil, nil, errUnknownRef
	}
	if e, ok := c.takeEarly(canon); ok {
		c.msgs = e.msgs
		return e.r, e.mails, e.err
	}
	r, mails, msgs, err := h.reqs.OpenConversation(c.ctx, canon)
	c.msgs = msgs
	return r, mails, err
}

func (h *handler) detailView(c *call, r *dsr.Request, mails []dsr.SentMail) *detailView {
	l, now := c.Lang, h.now()
	v := &detailView{
		CSRF: c.sess.CSRF, Version: r.Version,
		Ref: r.Ref, Type: typeLabel(l, r.Type), Article: i18n.Article(l, r.Type.Article()),
		Status: statusLabel(l, r.Status), StatusCode: string(r.Status),
		Name: r.Name, Email: r.Email, CustomerRef: r.CustomerRef, Details: r.Details,
		Received: h.dateTime(l, r.ReceivedAt), Verified: h.dateTime(l, r.VerifiedAt), Closed: h.dateTime(l, r.ClosedAt),
		Deadline: h.longDate(l, r.Deadline()),
	}
	if lang, ok := i18n.Parse(r.Lang); ok {
		v.Lang = i18n.T(l, "admin.langname."+string(lang))
	}
	if ch := r.Via(); ch != dsr.ChannelWeb {
		v.Channel = i18n.T(l, "channel."+string(ch))
	}
	v.PostalAddress = r.PostalAddress
	// An address is gone when an unconfirmed request expired; one registered without any
	// was never given.
	v.NoEmail = i18n.T(l, "admin.none")
	if r.Status == dsr.Expired {
		v.NoEmail = i18n.T(l, "admin.removed")
	}
	if m := r.Inbound; m != nil {
		v.Inbound = &inboundView{Subject: m.Subject, DMARCFail: m.DMARCFail}
		for _, a := range m.Attachments {
			v.Inbound.Attachments = append(v.Inbound.Attachments, i18n.T(l, "admin.inbound.attachment", a.Name, byteSize(l, a.Size)))
		}
		if m.Reason != "" {
			v.Inbound.Quarantine = i18n.T(l, "quarantine."+m.Reason)
		}
		if h.rawMails != nil && r.CanOpenMail() == nil {
			v.Inbound.Open, v.Inbound.CSRF = requestPath(r.Ref)+"/"+rawMailPage, c.sess.CSRF
			v.Inbound.OpenLabel = i18n.T(l, "admin.inbound.open")
			if n := len(m.Attachments); n > 0 {
				v.Inbound.OpenLabel = plural(l, "admin.inbound.open_with", n)
			}
		}
	}
	v.Why, v.Waiting = h.why(l, r), h.waiting(l, r, now)
	if r.Status.Active() {
		u := h.urgency(l, r.Deadline(), now)
		v.Urgency = &u
	}
	if o := r.Outcome; o != nil {
		v.Outcome = &outcomeView{Message: o.Message, Kept: o.Kept, Late: lateLabel(l, r.Lateness())}
		if o.Category != "" {
			v.Outcome.Category = i18n.T(l, "reject."+string(o.Category))
		}
		if o.Result != "" && o.Result != dsr.ResultDone {
			v.Outcome.Result = i18n.T(l, "result."+string(o.Result))
		}
		if o.Basis != "" {
			v.Outcome.Basis = i18n.T(l, "basis."+string(o.Basis))
		}
	}
	if f := r.Fee; f != nil {
		amount := i18n.T(l, "fee.amount."+h.cal.Country(), f.Amount)
		v.Fee = i18n.T(l, "admin.summary.fee", amount, h.date(l, f.At))
		if !f.AcceptedAt.IsZero() {
			v.Fee = i18n.T(l, "admin.summary.fee_accepted", amount, h.date(l, f.AcceptedAt))
		}
	}
	if x := r.Lift; x != nil {
		v.Lift = i18n.T(l, "admin.summary.lift", h.longDate(l, x.From), h.date(l, x.At))
	}
	if r.Type.Rules().Recipients {
		v.Checklist = h.checklist(c, r)
	}
	v.Mails, v.Refreshing = h.mailNotes(l, r, now)
	v.History = h.history(l, r, mails, c.msgs)
	var downloads []dsr.Download
	v.Delivery, downloads = h.deliveryOf(c, r)
	v.History = h.withDownloads(l, r, v.History, downloads)

	for _, a := range registry {
		ok, blocked := a.Offered(h, c, r, now)
		switch {
		case ok:
			v.Choices = append(v.Choices, choiceView{
				Label: i18n.T(l, "admin."+a.Name+".choice"), Danger: a.Danger,
				Href: requestPath(r.Ref) + "?action=" + url.QueryEscape(a.Name) + "#act",
			})
		case blocked != "":
			v.Blocked = append(v.Blocked, i18n.T(l, "admin."+a.Name+".heading")+": "+i18n.T(l, blocked))
		}
	}
	return v
}

// replyTemplate is a's form as it starts for r: its reply filled in with the template the DPO
// keeps for r's type in r's language (settings), if there is one. A template that cannot be
// read leaves the reply empty: the page is still of use.
func (h *handler) replyTemplate(c *call, r *dsr.Request, a *action) url.Values {
	f := a.replyField()
	lang, ok := i18n.Parse(r.Lang)
	if f == nil || !ok {
		return nil
	}
	st, err := h.reqs.Setting(c.ctx, repliesSection, replyKey(a.Name, r.Type, lang))
	switch {
	case errors.Is(err, fault.NotFound):
		return url.Values{noTemplate: {"1"}}
	case err != nil:
		h.log.Warn("reply template not read", "action", a.Name, errlog.Attr(err))
		return nil
	}
	return url.Values{f.Name: {st.Value}, fromTemplate: {"1"}}
}

// Marks in a form's values (never posted) that say where its reply came from.
const (
	fromTemplate = "\x00template"
	noTemplate   = "\x00no-template"
)

// markChoice marks the choice of a as the one open.
func (v *detailView) markChoice(a *action) {
	for i := range v.Choices {
		if v.Choices[i].Href == requestPath(v.Ref)+"?action="+url.QueryEscape(a.Name)+"#act" {
			v.Choices[i].Current = true
		}
	}
}

// lateLabel names how late an answer was, "" for on time.
func lateLabel(l i18n.Lang, late dsr.Lateness) string {
	if late == dsr.OnTime {
		return ""
	}
	return i18n.T(l, "late."+string(late))
}

// checklist lists the recipients of the data for r: those dealt with (as the request keeps
// them), then those of the register not yet.
func (h *handler) checklist(c *call, r *dsr.Request) []checkRow {
	l := c.Lang
	var rows []checkRow
	for _, n := range r.Recipients {
		row := checkRow{Name: n.Name, Done: true, Note: n.Note,
			State: i18n.T(l, "admin.checklist.dealt", i18n.T(l, "means."+string(n.Means)), h.dateTime(l, n.At), actorLabel(l, n.By))}
		rows = append(rows, row)
	}
	if g, err := h.register(c); err == nil {
		for _, x := range r.Open(g) {
			rows = append(rows, checkRow{Name: x.Name, State: i18n.T(l, "admin.checklist.open")})
		}
	}
	return rows
}

// why says where the deadline in force comes from, and plainly whether the clock stands
// still or stood still for the requester's answer (docs/deadlines.md, pause).
func (h *handler) why(l i18n.Lang, r *dsr.Request) string {
	w := i18n.T(l, "admin.why.month", h.date(l, r.ReceivedAt))
	switch {
	case r.Type == dsr.Unclassified:
		// The short clock holds until the DPO says which right it is (dsr.Unclassified).
		w = i18n.T(l, "admin.why.unclassified", h.date(l, r.ReceivedAt))
	case r.Type.Rules().Clock == dsr.ClockPrompt:
		w = i18n.T(l, "admin.why.prompt", h.date(l, r.ReceivedAt))
	}
	if x := r.Extension; x != nil {
		w = i18n.T(l, "admin.why.extended", h.longDate(l, r.Due), h.date(l, x.At))
	}
	for _, p := range r.Pauses {
		switch {
		case p.Until.IsZero():
			w += " " + i18n.T(l, "admin.why.paused", h.date(l, p.From), p.Reason)
		case !p.Deadline.IsZero():
			w += " " + i18n.T(l, "admin.why.resumed", h.date(l, p.From), h.date(l, p.Until), p.Reason)
		default:
			w += " " + i18n.T(l, "admin.why.paused_closed", h.date(l, p.From), h.date(l, p.Until), p.Reason)
		}
	}
	return w
}

// waiting says who must act next on r.
func (h *handler) waiting(l i18n.Lang, r *dsr.Request, now time.Time) string {
	switch st, since := r.Conversation(); {
	case st == dsr.ConversationWaiting && r.Paused() != nil:
		return i18n.T(l, "admin.waiting.answer_paused", h.date(l, since))
	case st == dsr.ConversationWaiting:
		return i18n.T(l, "admin.waiting.answer", h.date(l, since), h.longDate(l, r.Deadline()))
	case st == dsr.ConversationReplied && r.Status.Active():
		return i18n.T(l, "admin.waiting.replied", h.dateTime(l, since), h.longDate(l, r.Deadline()))
	}
	if r.AwaitingFee() {
		// The requester is to accept the fee, but the clock runs: the GDPR does not stop it.
		return i18n.T(l, "admin.waiting.fee", h.longDate(l, r.Deadline()))
	}
	switch r.WaitsOn() {
	case dsr.WaitsOnController:
		return i18n.T(l, "admin.waiting.controller", h.longDate(l, r.Deadline()))
	case dsr.WaitsOnRequester:
		return i18n.T(l, "admin.waiting.requester", h.dateTime(l, r.ReceivedAt.Add(dsr.ExpireAfter)))
	}
	if r.Status == dsr.Expired {
		return i18n.T(l, "admin.waiting.expired")
	}
	if onTime(r) {
		return i18n.T(l, "admin.waiting.closed_on_time", h.date(l, r.ClosedAt))
	}
	return i18n.T(l, "admin.waiting.closed_late", h.date(l, r.ClosedAt))
}

// mailNotes says of every mail that has not gone out what becomes of it, as it stands now: a
// mail queued moments ago is being sent (and the page refreshes), one that failed is tried
// again by the next daily run or, out of attempts, never. Nothing claims a failure that has
// not happened.
func (h *handler) mailNotes(l i18n.Lang, r *dsr.Request, now time.Time) (notes []mailNote, sending bool) {
	kinds := make([]dsr.MailKind, 0, len(r.Mails))
	for k := range r.Mails {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	undelivered, _ := r.Undelivered()
	for _, k := range kinds {
		m := r.Mails[k]
		n := mailNote{Kind: digest.MailName(l, r, k)}
		_, retried := r.MailRetry(k)
		switch {
		case m.Feedback != nil:
			// SES accepted it, and then heard that it did not reach the requester, or that
			// they marked it as spam: the DPO must reach them another way.
			n.State, n.Class = i18n.T(l, "admin.mail.feedback."+m.Feedback.Kind, h.dateTime(l, m.Feedback.At)), "overdue"
			if slices.Contains(undelivered, k) {
				// What ends its line in the daily digest (dsr.Request.Undelivered).
				n.Hint = i18n.T(l, feedbackHint(k))
			}
		case m.State == dsr.MailSent, m.State == dsr.MailPosted:
			continue
		case m.State == dsr.MailLetter:
			// Nothing sends it: the DPO prints and posts it.
			n.State, n.Class, n.Href = i18n.T(l, "admin.letter.to_post"), "due-soon", letterPath(r.Ref, k)
		case m.State == dsr.MailQueued && now.Sub(m.At) < dsr.MailLease:
			n.State, n.Class, sending = i18n.T(l, "admin.mail.sending"), "due-soon", true
		case !retried:
			n.State, n.Class = plural(l, "admin.mail.given_up", m.Attempts), "overdue"
		case m.State == dsr.MailQueued:
			n.State, n.Class = i18n.T(l, "admin.mail.later"), "due-soon"
		default:
			n.State, n.Class = plural(l, "admin.mail.failed", m.Attempts), "overdue"
		}
		notes = append(notes, n)
	}
	return notes, sending
}

// history merges the audit trail, the kept mail texts and the messages of the conversation
// into one timeline, oldest first: a message shows with the event that recorded it.
func (h *handler) history(l i18n.Lang, r *dsr.Request, mails []dsr.SentMail, msgs []dsr.Message) []historyEntry {
	text := map[string]dsr.Message{}
	for _, m := range msgs {
		text[m.ID] = m
	}
	var out []historyEntry
	for _, e := range r.Audit {
		he := historyEntry{at: e.At, When: h.dateTime(l, e.At), Who: actorLabel(l, e.Actor),
			What: i18n.T(l, "action."+string(e.Action)), Note: e.Note}
		if e.Message != "" {
			if m, ok := text[e.Message]; ok {
				he.Message = m.Text
			} else {
				he.Message = i18n.T(l, "admin.history.message_missing")
			}
			if e.Action == dsr.ActionAsked {
				he.Note = i18n.T(l, "admin.ask.purpose."+e.Note)
			}
		}
		switch e.Action {
		case dsr.ActionSubmitted:
			// A mail to the privacy address is submitted "email"; the form's say nothing.
			if e.Note != "" && i18n.Has("channel."+e.Note+".by") {
				he.Note = i18n.T(l, "channel."+e.Note+".by")
			}
		case dsr.ActionRegistered:
			// The note is the channel, a registration's by code.
			he.Note = i18n.T(l, "channel."+e.Note)
		case dsr.ActionClassified:
			he.Note = typeLabel(l, dsr.Type(e.Note))
		case dsr.ActionQuarantined:
			he.Note = i18n.T(l, "quarantine."+e.Note)
		case dsr.ActionBounced, dsr.ActionComplained, dsr.ActionPosted:
			he.Note = digest.MailName(l, r, dsr.MailKind(e.Note))
		case dsr.ActionReplied:
			if e.Note == dsr.NoteRecorded {
				he.Note = i18n.T(l, "admin.history.reply_recorded")
			}
		}
		if e.Action == dsr.ActionClockResumed {
			// The note is the new deadline's local date, as the model wrote it.
			if d, err := time.ParseInLocation(time.DateOnly, e.Note, h.cal.Location()); err == nil {
				he.Note = i18n.T(l, "admin.history.new_deadline", i18n.LongDate(l, d))
			}
		}
		out = append(out, he)
	}
	for _, m := range mails {
		what, href := "admin.history.mail", ""
		if r.ByLetter(m.Kind) {
			// Every text kept for a requester the desk cannot mail is a letter.
			what, href = "admin.history.letter", letterPath(r.Ref, m.Kind)
		}
		e := historyEntry{at: m.At, When: h.dateTime(l, m.At), Who: actorLabel(l, dsr.ActorSystem),
			What: i18n.T(l, what, digest.MailName(l, r, m.Kind)),
			Mail: &mailText{To: m.To, Subject: m.Subject, Text: m.Text, Href: href}}
		if lang, ok := i18n.Parse(m.Lang); ok {
			e.Mail.Lang = i18n.T(l, "admin.langname."+string(lang))
		}
		out = append(out, e)
	}
	slices.SortStableFunc(out, func(a, b historyEntry) int { return a.at.Compare(b.at) })
	return out
}

// openAction builds a's form for r, with the values the DPO posted (or, the first time, the
// reply template) and the errors found in them.
func (h *handler) openAction(c *call, r *dsr.Request, a *action, form url.Values, errs map[string]string) *openAction {
	l := c.Lang
	o := &openAction{
		Name: a.Name, Heading: i18n.T(l, "admin."+a.Name+".heading"), Submit: i18n.T(l, "admin."+a.Name+".submit"),
		Danger: a.Danger, Previewed: a.previewed(),
	}
	var args []any
	if a.HintArgs != nil {
		args = a.HintArgs(h, l, r, h.now())
	}
	o.Hint = i18n.T(l, "admin."+a.Name+".about", args...)
	if a.Warn != nil {
		o.Warning = a.Warn(h, l, r, h.now())
	}
	for _, f := range a.Fields {
		fv := fieldView{ID: a.Name + "." + f.Name, Name: f.Name, Label: i18n.T(l, f.Label), Error: errs[f.Name],
			Input: f.Input, Multiple: f.Multiple, Optional: f.Optional}
		if f.Hint != "" {
			fv.Hint = i18n.T(l, f.Hint)
		}
		switch {
		case form != nil && (form.Has(f.Name) || f.Default == nil):
			fv.Value, fv.Values = form.Get(f.Name), form[f.Name]
		case f.Default != nil:
			fv.Value = f.Default(h, c, r)
		}
		if lang, _ := i18n.Parse(r.Lang); f.Reply && form != nil {
			switch {
			case form.Get(fromTemplate) != "":
				fv.Template = i18n.T(l, "admin.replies.from_template", typeLabel(l, r.Type), i18n.T(l, "admin.langname."+string(lang)))
			case form.Get(noTemplate) != "" && f.Default == nil:
				fv.NoTemplate = i18n.T(l, "admin.replies.no_template", typeLabel(l, r.Type), i18n.T(l, "admin.langname."+string(lang)))
				fv.WriteTemplate = i18n.T(l, "admin.replies.write")
			}
		}
		if f.Choices != nil {
			if !f.Multiple {
				fv.Options = []option{{Value: "", Label: i18n.T(l, f.Prompt)}}
			}
			for _, v := range f.Choices(h, c, r) {
				label := i18n.T(l, f.ChoiceKey+v)
				if f.ChoiceLabel != nil {
					label = f.ChoiceLabel(h, c, v)
				}
				fv.Options = append(fv.Options, option{Value: v, Label: label, Selected: slices.Contains(fv.Values, v)})
			}
		}
		o.Fields = append(o.Fields, fv)
	}
	if a.Files {
		o.Files = h.panel(c, r, a, form.Get("step") != stepPreview, errs["files"])
	}
	return o
}

// recipientsBanner says what became of the notices to recipients of the data: all sent, some
// still going out, or some failed (the sweep tries those again).
func recipientsBanner(l i18n.Lang, r *dsr.Request, b *banner) *banner {
	sent, failed := 0, 0
	for kind, m := range r.Mails {
		if _, ok := kind.RecipientID(); !ok {
			continue
		}
		switch m.State {
		case dsr.MailSent:
			sent++
		case dsr.MailFailed:
			failed++
		}
	}
	switch {
	case failed > 0:
		b.Class, b.Text = "warn", i18n.T(l, "admin.done.recipients_failed", failed)
	case sent < deskTold(r):
		b.Text = i18n.T(l, "admin.done.mail_sending")
	default:
		b.Text = i18n.T(l, "admin.done.recipients_sent", sent)
	}
	return b
}

// doneBanner says what the last action did and what became of its mail, as it stands now.
func (h *handler) doneBanner(l i18n.Lang, r *dsr.Request, a *action) *banner {
	b := &banner{Class: "ok", Heading: i18n.T(l, "admin.done."+a.Name)}
	if a.ToRecipients {
		return recipientsBanner(l, r, b)
	}
	if a.Mail == "" {
		return b
	}
	m, ok := r.Mails[a.Mail]
	_, retried := r.MailRetry(a.Mail)
	switch {
	case !ok:
	case m.State == dsr.MailLetter:
		b.Text = i18n.T(l, "admin.done.letter")
	case m.State == dsr.MailSent:
		b.Text = i18n.T(l, "admin.done.mail_sent", h.dateTime(l, m.At))
	case m.State == dsr.MailQueued && h.now().Sub(m.At) < dsr.MailLease:
		b.Text = i18n.T(l, "admin.done.mail_sending")
	case !retried:
		b.Class, b.Text = "warn", plural(l, "admin.mail.given_up", m.Attempts)
	case m.State == dsr.MailQueued:
		b.Class, b.Text = "warn", i18n.T(l, "admin.mail.later")
	default:
		b.Class, b.Text = "warn", plural(l, "admin.mail.failed", m.Attempts)
	}
	return b
}

// deskTold counts the recipients the desk mailed.
func deskTold(r *dsr.Request) int {
	n := 0
	for _, x := range r.Recipients {
		if x.Means == dsr.ToldByDesk {
			n++
		}
	}
	return n
}

// byteSize writes a size in bytes as a person reads it: 12 kB, 3.4 MB.
func byteSize(l i18n.Lang, n int64) string {
	switch {
	case n < 1000:
		return i18n.T(l, "admin.size.bytes", n)
	case n < 1000*1000:
		return i18n.T(l, "admin.size.kb", (n+500)/1000)
	}
	mb := strconv.FormatFloat(float64(n)/1e6, 'f', 1, 64)
	if l != i18n.EN {
		mb = strings.Replace(mb, ".", ",", 1)
	}
	return i18n.T(l, "admin.size.mb", mb)
}

// renderDetail renders a request's page, whose forms may end at a bucket: the upload form at
// the deliveries bucket, the form that opens the mail at the inbound bucket (a redirect).
func (h *handler) renderDetail(c *call, status int, v *detailView) web.Response {
	resp := h.render(c, status, "detail", "admin.detail.title", v)
	h.allowUploads(&resp, v)
	if v.Inbound != nil && v.Inbound.Open != "" {
		web.AllowFormAction(&resp, h.rawMails.Origin())
	}
	return resp
}

// feedbackHint is the message key that says what ends a bounced mail's line in the daily
// digest, for the mail's addressee: the requester is reached another way, a recipient of the
// data through the controller's contact there, and a notification to the DPO address that did
// not arrive means that address itself receives no mail.
func feedbackHint(k dsr.MailKind) string {
	if _, ok := k.RecipientID(); ok {
		return "admin.mail.feedback.open_recipient"
	}
	if k == dsr.MailDPONew {
		return "admin.mail.feedback.open_dpo"
	}
	return "admin.mail.feedback.open"
}
