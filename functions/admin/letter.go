package main

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// Answered by letter (dsr.Request.ByLetter): a requester registered without an address gets
// each mail the desk would have sent as a letter. The action is the same and recorded the
// same; the letter's exact text is kept with the request (notice.Outbox.Keep), and its page
// (/admin/requests/<ref>/letter?kind=<kind>) shows it ready to print: a print stylesheet
// leaves the letter alone on the paper, the requester's name and postal address at the top,
// the controller's name and address beside them. The DPO posts it and records the day
// (action letter_posted), which the page then states, for the notices whose proof the law
// needs (an extension, Art. 12(3); a refusal, Art. 12(4)). The requester's answer, by letter
// or by phone, is written down by the DPO (action reply_recorded).

// letterPage is the path segment of a letter's page.
const letterPage = "letter"

// letterPath is the page of r's letter of kind.
func letterPath(ref string, kind dsr.MailKind) string {
	return requestPath(ref) + "/" + letterPage + "?kind=" + url.QueryEscape(string(kind))
}

// letterView is a letter's page.
type letterView struct {
	Ref, Href, Heading string
	// Lang is the letter's language (its lang attribute).
	Lang string
	// From is the controller's name and address, To the requester's, one line each.
	From, To  []string
	NoAddress bool
	Date      string
	Subject   string
	Text      string
	// Missing says the text could not be kept, and is shown as it reads now.
	Missing bool
	// Posted says when the letter was posted and who recorded it; Proof, for a notice whose
	// proof the law needs, what that day proves.
	Posted, Proof string
	// Record is the form that records the letter as posted, while it is not.
	Record *recordForm
}

type recordForm struct {
	CSRF, Action, Kind, Today string
	Version                   int
}

// letter serves GET /admin/requests/<ref>/letter?kind=<kind>.
func (h *handler) letter(c *call, ref string) web.Response {
	r, mails, err := h.load(c, ref)
	if err != nil {
		return h.fail(c, err)
	}
	kind := dsr.MailKind(c.Query.Get("kind"))
	st, ok := r.Mails[kind]
	var kept *dsr.SentMail
	for i := range mails {
		if m := &mails[i]; m.Kind == kind && (kept == nil || m.At.After(kept.At)) {
			kept = m
		}
	}
	if !r.ByLetter(kind) || (!ok && kept == nil) {
		return h.notFound(c)
	}
	l := c.Lang
	v := &letterView{Ref: r.Ref, Href: requestPath(r.Ref), Heading: i18n.T(l, "admin.letter.heading", digest.MailName(l, r, kind))}
	if kept == nil {
		// The text was not kept (the table failed after the action): as it reads now.
		msg, err := h.notices.Letter(kind, r)
		if err != nil {
			return h.fail(c, err)
		}
		kept = &dsr.SentMail{Kind: kind, At: st.At, To: msg.To[0], Lang: string(msg.Lang), Subject: msg.Subject, Text: msg.Text}
		v.Missing = true
	}
	lang := i18n.ParseOr(kept.Lang, h.cfg.DefaultLang)
	v.Lang, v.Subject, v.Text = string(lang), kept.Subject, kept.Text
	v.Date = h.longDate(lang, kept.At)
	v.From = append([]string{h.cfg.ControllerName}, addressLines(h.cfg.ControllerAddress)...)
	v.To = addressLines(notice.LetterAddress(r))
	v.NoAddress = strings.TrimSpace(r.PostalAddress) == ""
	switch st.State {
	case dsr.MailPosted:
		who, when := "", time.Time{}
		for _, e := range r.Audit {
			if e.Action == dsr.ActionPosted && e.Note == string(kind) {
				who, when = e.Actor, e.At
			}
		}
		day := h.longDate(l, st.At)
		v.Posted = i18n.T(l, "admin.letter.posted", day, actorLabel(l, who), h.dateTime(l, when))
		if key := "admin.letter.proof." + string(kind); i18n.Has(key) {
			v.Proof = i18n.T(l, key, day)
		}
	case dsr.MailLetter:
		v.Record = &recordForm{CSRF: c.sess.CSRF, Action: requestPath(r.Ref) + "/" + actionLetterPosted, Kind: string(kind),
			Today: h.day(h.now()), Version: r.Version}
	}
	return h.render(c, http.StatusOK, "letter", "admin.letter.title", v)
}

// addressLines splits a postal address into its lines: its own, or for one written on one
// line, its comma-separated parts ("Vestergade 1, 8000 Aarhus C").
func addressLines(s string) []string {
	sep := "\n"
	if !strings.Contains(s, "\n") {
		sep = ","
	}
	var out []string
	for _, line := range strings.Split(s, sep) {
		if line = strings.TrimSpace(line); line != "" {
			out = append(out, line)
		}
	}
	return out
}

// actionLetterPosted records a letter as posted.
const actionLetterPosted = "letter_posted"

func init() {
	register(&action{
		Name: actionLetterPosted,
		Fields: []field{
			{Name: "letter", Label: "admin.letter_posted.letter", Prompt: "admin.letter_posted.choose",
				Choices: func(_ *handler, _ *call, r *dsr.Request) []string {
					var out []string
					for _, k := range r.Letters() {
						out = append(out, string(k))
					}
					return out
				},
				ChoiceLabel: func(_ *handler, c *call, v string) string { return i18n.T(c.Lang, "mail.kind."+v) }},
			{Name: "posted_on", Label: "admin.letter_posted.posted_on", Input: "date",
				Default: func(h *handler, _ *call, _ *dsr.Request) string {
					return h.day(h.now())
				}},
		},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) { return len(r.Letters()) > 0, "" },
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.RecordPosted(c.sess.Email, dsr.MailKind(form.Get("letter")), h.localDay(form.Get("posted_on")), now)
		},
	})
	register(&action{
		Name:   "reply_recorded",
		Fields: []field{{Name: "text", Label: "admin.reply_recorded.text", Hint: "admin.reply_recorded.hint"}},
		Offered: func(_ *handler, _ *call, r *dsr.Request, _ time.Time) (bool, string) {
			return r.Waiting != nil && r.CanReply(), ""
		},
		Apply: func(h *handler, c *call, r *dsr.Request, form url.Values, now time.Time) (dsr.Change, error) {
			return r.RecordReply(c.sess.Email, formText(form, "text"), now, h.cal)
		},
	})
}
