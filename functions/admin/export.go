package main

import (
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// The exports are for the DPO's records and for a supervisory authority: one row per request
// with every field a DPO is asked about (export.csv), and the whole trail, one row per event
// with the exact text of every mail and message (audit.csv). Both open in the spreadsheet of
// the DPO's language as a table: headers and values in that language, and the list separator
// its Excel expects (";" where the decimal mark is a comma, in Danish and Norwegian; "," in
// English). Nothing a requester typed is ever read as a formula (sheet).

// exportColumns name the columns of export.csv: each is headed by admin.export.col.<name> in
// the DPO's language.
var exportColumns = []string{
	"reference", "type", "status", "language", "name", "email", "customer_ref",
	"received", "verified", "due", "deadline", "extended_deadline", "extension_reason",
	"closed", "outcome", "ground", "reply", "kept", "basis", "kept_reason", "justification",
	"fee", "on_time", "late", "waiting_since", "clock_paused", "messages", "audit_events",
}

// auditColumns name the columns of audit.csv, headed by admin.audit.col.<name>.
var auditColumns = []string{
	"reference", "type", "at", "who", "event", "note", "text", "mail_to", "mail_language", "mail_subject",
}

// export answers export.csv: every request, one a row, oldest first.
func (h *handler) export(c *call) web.Response {
	type row struct {
		r    *dsr.Request
		msgs []dsr.Message
	}
	var rs []row
	if err := h.reqs.EachConversation(c.ctx, func(r *dsr.Request, msgs []dsr.Message) error {
		rs = append(rs, row{r, msgs})
		return nil
	}); err != nil {
		return h.fail(c, err)
	}
	sort.SliceStable(rs, func(i, j int) bool { return byReceipt(rs[i].r, rs[j].r) })
	l := c.Lang
	s := newSheet(l)
	s.row(headings(l, "admin.export.col.", exportColumns)...)
	now := h.now()
	for _, r := range rs {
		s.row(h.exportRow(l, r.r, r.msgs, now)...)
	}
	h.log.Info("export", "rows", len(rs), "dpo", h.actor(c))
	return h.download("requests", s)
}

// audit answers audit.csv: every request's history as its page shows it (the audit trail,
// the messages either way and the kept text of every mail sent), one event a row, oldest
// request first and each request's events in order.
func (h *handler) audit(c *call) web.Response {
	type part struct {
		r     *dsr.Request
		mails []dsr.SentMail
		msgs  []dsr.Message
	}
	var ps []part
	if err := h.reqs.EachHistory(c.ctx, func(r *dsr.Request, mails []dsr.SentMail, msgs []dsr.Message) error {
		ps = append(ps, part{r, mails, msgs})
		return nil
	}); err != nil {
		return h.fail(c, err)
	}
	sort.SliceStable(ps, func(i, j int) bool { return byReceipt(ps[i].r, ps[j].r) })
	l := c.Lang
	s := newSheet(l)
	s.row(headings(l, "admin.audit.col.", auditColumns)...)
	rows := 0
	for _, p := range ps {
		typ := typeLabel(l, p.r.Type)
		for _, e := range h.history(l, p.r, p.mails, p.msgs) {
			text, to, lang, subject := e.Message, "", "", ""
			if m := e.Mail; m != nil {
				text, to, lang, subject = m.Text, m.To, m.Lang, m.Subject
			}
			s.row(p.r.Ref, typ, h.stamp(e.at), e.Who, e.What, e.Note, text, to, lang, subject)
			rows++
		}
	}
	h.log.Info("audit export", "requests", len(ps), "rows", rows, "dpo", h.actor(c))
	return h.download("audit", s)
}

// download answers s as a file named for what it holds and today's date.
func (h *handler) download(what string, s *sheet) web.Response {
	name := what + "-" + h.now().In(h.cal.Location()).Format(time.DateOnly) + ".csv"
	return web.Response{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"Content-Type":           "text/csv; charset=utf-8",
			"Content-Disposition":    `attachment; filename="` + name + `"`,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Referrer-Policy":        "no-referrer",
		},
		Body: s.String(),
	}
}

func headings(l i18n.Lang, prefix string, names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = i18n.T(l, prefix+n)
	}
	return out
}

// stamp writes a moment as ISO 8601 in the desk's time zone, which every spreadsheet reads.
func (h *handler) stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cal.Location()).Format(time.RFC3339)
}

// day writes a date as ISO 8601 in the desk's time zone.
func (h *handler) day(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(h.cal.Location()).Format(time.DateOnly)
}

func (h *handler) exportRow(l i18n.Lang, r *dsr.Request, msgs []dsr.Message, now time.Time) []string {
	var lang string
	if lg, ok := i18n.Parse(r.Lang); ok {
		lang = i18n.T(l, "admin.langname."+string(lg))
	}
	var extended, extReason string
	if x := r.Extension; x != nil {
		extended, extReason = h.day(x.Deadline), x.Reason
	}
	var deadline string
	if r.Status.Active() || answered(r) {
		deadline = h.day(r.Deadline())
	}
	var outcome, ground, reply, kept, basis, keptReason, justification, late string
	if o := r.Outcome; o != nil {
		reply, kept, keptReason, justification = o.Message, o.Kept, o.Reason, o.Justification
		if o.Category != "" {
			ground = i18n.T(l, "reject."+string(o.Category))
		}
		if r.Status == dsr.Completed {
			res := o.Result
			if res == "" {
				res = dsr.ResultDone
			}
			outcome = i18n.T(l, "result."+string(res))
		}
		if o.Basis != "" {
			basis = i18n.T(l, "basis."+string(o.Basis))
		}
		late = lateLabel(l, r.Lateness())
	}
	var fee string
	if f := r.Fee; f != nil {
		fee = i18n.T(l, "fee.amount."+h.cal.Country(), f.Amount) + ": " + f.Reason
		if !f.AcceptedAt.IsZero() {
			fee += " (" + i18n.T(l, "admin.export.fee_accepted", h.day(f.AcceptedAt)) + ")"
		}
	}
	// on time: yes/no once answered; no for an open request already late; empty otherwise.
	var timely string
	switch {
	case answered(r) && onTime(r):
		timely = i18n.T(l, "admin.export.yes")
	case answered(r), r.Status.Active() && now.After(r.Deadline()):
		timely = i18n.T(l, "admin.export.no")
	}
	// The conversation with the requester: since when an open question waits, every pause
	// of the clock (from, until, and the DPO's reason), and every message either way, in the
	// order of the trail, one a line: when, from whom, its purpose if a question, and its text.
	var waiting string
	if r.Waiting != nil {
		waiting = h.stamp(r.Waiting.At)
	}
	var pauses []string
	for _, p := range r.Pauses {
		pauses = append(pauses, h.day(p.From)+"/"+h.day(p.Until)+": "+p.Reason)
	}
	byID := make(map[string]dsr.Message, len(msgs))
	for _, m := range msgs {
		byID[m.ID] = m
	}
	var messages []string
	for _, e := range r.Audit {
		if e.Message == "" {
			continue
		}
		line := h.stamp(e.At) + " " + actorLabel(l, e.Actor)
		m, ok := byID[e.Message]
		if ok && m.Purpose != "" {
			line += " (" + i18n.T(l, "admin.ask.purpose."+m.Purpose) + ")"
		}
		if ok {
			line += ": " + m.Text
		} else {
			line += ": " + i18n.T(l, "admin.history.message_missing")
		}
		messages = append(messages, line)
	}
	return []string{
		r.Ref, typeLabel(l, r.Type), statusLabel(l, r.Status), lang, r.Name, r.Email, r.CustomerRef,
		h.stamp(r.ReceivedAt), h.stamp(r.VerifiedAt), h.day(r.Due), deadline, extended, extReason,
		h.stamp(r.ClosedAt), outcome, ground, reply, kept, basis, keptReason, justification,
		fee, timely, late, waiting, strings.Join(pauses, "; "), strings.Join(messages, "\n"),
		strconv.Itoa(len(r.Audit)),
	}
}

// sheet is a CSV file that the spreadsheet of the DPO's language opens as a table, and that
// no spreadsheet reads a formula from (CSV injection, OWASP): every field is quoted, so a
// separator, a quote or a line break in it stays in the field, and every place a cell could
// begin, in the field or in a part of it a reader splitting on another separator would take
// for a cell, is defused (defuse).
type sheet struct {
	b   strings.Builder
	sep byte
}

// newSheet starts a file for a DPO reading l: Danish and Norwegian Excel, whose decimal mark
// is a comma, split a row on ";" and would open a ","-separated file as one column.
func newSheet(l i18n.Lang) *sheet {
	s := &sheet{sep: ','}
	if l != i18n.EN {
		s.sep = ';'
	}
	// Excel reads a file without a byte order mark as the local code page and garbles æ, ø, å.
	s.b.WriteString("\ufeff")
	return s
}

func (s *sheet) row(cells ...string) {
	for i, c := range cells {
		if i > 0 {
			s.b.WriteByte(s.sep)
		}
		s.b.WriteByte('"')
		s.b.WriteString(strings.ReplaceAll(defuse(c), `"`, `""`))
		s.b.WriteByte('"')
	}
	s.b.WriteString("\r\n")
}

func (s *sheet) String() string { return s.b.String() }

// formulaStart are the characters a spreadsheet reads as the start of a formula.
const formulaStart = "=+-@"

// defuse puts an apostrophe (which a spreadsheet shows as text and hides) before each place a
// cell could begin with a formula: the field's start (where a tab or a carriage return also
// counts, OWASP), and after every separator and line break in it (past any quotes and
// spaces), for a reader that splits the field there (a text import with another separator, a script that ignores the quotes).
// A requester who types "Jens;=HYPERLINK(…)" as their name gets nothing evaluated on the
// DPO's machine.
func defuse(cell string) string {
	var b strings.Builder
	start := true
	for i, r := range cell {
		if start && (strings.ContainsRune(formulaStart, r) || i == 0 && (r == '\t' || r == '\r')) {
			b.WriteByte('\'')
		}
		b.WriteRune(r)
		// A quote or a space keeps a cell's start where it was: a reader may drop them.
		start = strings.ContainsRune(",;\t\r\n", r) || start && (r == '"' || r == ' ')
	}
	return b.String()
}
