package main

import (
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
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

// export answers export.csv: every request received in the period, one a row, oldest first.
func (h *handler) export(c *call) web.Response {
	l, now := c.Lang, h.now()
	return h.periodFile(c, "/admin/export.csv", "requests", headings(l, "admin.export.col.", exportColumns), false,
		func(r *dsr.Request, hist store.History) [][]string {
			return [][]string{h.exportRow(l, r, hist.Messages[r.Ref], now)}
		})
}

// audit answers audit.csv: the history of every request received in the period as its page
// shows it (the audit trail, the messages either way and the kept text of every mail sent),
// one event a row, oldest request first and each request's events in order.
func (h *handler) audit(c *call) web.Response {
	l := c.Lang
	return h.periodFile(c, "/admin/audit.csv", "audit", headings(l, "admin.audit.col.", auditColumns), true,
		func(r *dsr.Request, hist store.History) [][]string {
			typ := typeLabel(l, r.Type)
			var rows [][]string
			for _, e := range h.history(l, r, hist.Mails[r.Ref], hist.Messages[r.Ref]) {
				text, to, lang, subject := e.Message, "", "", ""
				if m := e.Mail; m != nil {
					text, to, lang, subject = m.Text, m.To, m.Lang, m.Subject
				}
				rows = append(rows, []string{r.Ref, typ, h.stamp(e.at), e.Who, e.What, e.Note, text, to, lang, subject})
			}
			return rows
		})
}

// exportBudget bounds what one file weighs as Lambda returns it: the body, escaped as JSON,
// inside a response of at most 6 MB, beside the headers (handler.exportBudget; tests lower
// it).
const exportBudget = 5 << 20

// exportPartsView is the page a file too large for one response answers with: the part that
// fits, and the rest, which is read again and may come in parts itself.
type exportPartsView struct {
	Requests   int
	From, To   string
	Part, Rest string
}

// periodFile answers a CSV file of the requests received in the period (?year=, or the last
// twelve months), a request's rows (rows) at a time, oldest first, read a page at a time with
// their history (with the mail texts if mails). A file that would not fit in one response
// (exportBudget) comes in parts (?after= and ?until=, receipt positions): a page names the
// first part, which fits, and the rest. A request's rows are never split between parts.
func (h *handler) periodFile(c *call, base, what string, head []string, mails bool, rows func(*dsr.Request, store.History) [][]string) web.Response {
	p := h.periodOf(c)
	after, until := c.Query.Get("after"), c.Query.Get("until")
	s := newSheet(c.Lang)
	s.row(head...)
	size := jsonLen(s.String())
	var n, lines int
	var first, last *dsr.Request
	cut := false
	err := h.eachPage(c, p, after, func(rs []*dsr.Request) (bool, error) {
		hist, err := h.reqs.PageHistory(c.ctx, rs, mails)
		if err != nil {
			return false, err
		}
		for _, r := range rs {
			if until != "" && store.ReceiptKey(r) > until {
				return false, nil
			}
			part := &sheet{sep: s.sep}
			rr := rows(r, hist)
			for _, row := range rr {
				part.row(row...)
			}
			chunk := part.String()
			k := jsonLen(chunk)
			if size+k > h.exportBudget && n > 0 {
				cut = true
				return false, nil
			}
			size += k
			s.b.WriteString(chunk)
			n, lines = n+1, lines+len(rr)
			if first == nil {
				first = r
			}
			last = r
		}
		return true, nil
	})
	if err != nil {
		return h.fail(c, err)
	}
	loc := h.cal.Location()
	if cut {
		h.log.Info(what+" export in parts", "requests", n, "rows", lines, "dpo", h.actor(c))
		return h.render(c, http.StatusOK, "export_parts", "admin.export.parts.title", exportPartsView{
			Requests: n, From: i18n.Date(c.Lang, first.ReceivedAt.In(loc)), To: i18n.Date(c.Lang, last.ReceivedAt.In(loc)),
			Part: p.path(base, after, store.ReceiptKey(last)), Rest: p.path(base, store.ReceiptKey(last), until),
		})
	}
	h.log.Info(what+" export", "requests", n, "rows", lines, "dpo", h.actor(c))
	// Named for the day it was made, and for the year and the part it holds, if any.
	if p.Year != 0 {
		what += "-of-" + strconv.Itoa(p.Year)
	}
	if first != nil && (after != "" || until != "") {
		what += "-from-" + first.ReceivedAt.In(loc).Format(time.DateOnly)
	}
	return h.download(what, s)
}

// jsonLen is how many bytes s takes as a JSON string the way encoding/json writes it (the
// Lambda response): quotes, backslashes and control characters escaped, and <, >, & and the
// line separators as \u escapes.
func jsonLen(s string) int {
	n := 2
	for _, r := range s {
		switch {
		case r == '"' || r == '\\' || r == '\n' || r == '\r' || r == '\t':
			n += 2
		case r < 0x20 || r == '<' || r == '>' || r == '&' || r == '\u2028' || r == '\u2029' || r == utf8.RuneError:
			n += 6
		default:
			n += utf8.RuneLen(r)
		}
	}
	return n
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
