package main

import (
	"encoding/csv"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// exportColumns are stable codes, not translated: the file is read by spreadsheets and
// scripts as much as by people, and must mean the same whoever downloaded it.
var exportColumns = []string{
	"reference", "type", "status", "name", "email",
	"received", "verified", "due", "extended_deadline", "closed", "on_time", "audit_events",
	"waiting_since", "clock_paused", "messages",
}

// export answers the CSV of every request and its timeline, for the DPO's records.
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
	var b strings.Builder
	// Excel reads a file without a byte order mark as the local code page and garbles æ, ø, å.
	b.WriteString("\ufeff")
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.Write(exportColumns) // a strings.Builder does not fail
	now := h.now()
	for _, r := range rs {
		_ = w.Write(h.exportRow(r.r, r.msgs, now))
	}
	w.Flush()
	h.log.Info("export", "rows", len(rs), "dpo", h.actor(c))
	name := "requests-" + now.In(h.cal.Location()).Format(time.DateOnly) + ".csv"
	return web.Response{
		StatusCode: http.StatusOK,
		Headers: map[string]string{
			"Content-Type":           "text/csv; charset=utf-8",
			"Content-Disposition":    `attachment; filename="` + name + `"`,
			"X-Content-Type-Options": "nosniff",
			"Cache-Control":          "no-store",
			"Referrer-Policy":        "no-referrer",
		},
		Body: b.String(),
	}
}

func (h *handler) exportRow(r *dsr.Request, msgs []dsr.Message, now time.Time) []string {
	loc := h.cal.Location()
	stamp := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.RFC3339)
	}
	day := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format(time.DateOnly)
	}
	var extended string
	if r.Extension != nil {
		extended = day(r.Extension.Deadline)
	}
	// on_time: yes/no once answered; no for an open request already late; empty otherwise.
	var timely string
	switch {
	case answered(r) && onTime(r):
		timely = "yes"
	case answered(r), r.Status.Active() && now.After(r.Deadline()):
		timely = "no"
	}
	// The conversation with the requester: since when an open question waits, every pause
	// of the clock (from, until, and the DPO's reason), and every message either way, in the
	// order of the trail, one a line: when, from whom (a DPO's address or "requester"), its
	// purpose if a question, and its text.
	var waiting string
	if r.Waiting != nil {
		waiting = stamp(r.Waiting.At)
	}
	var pauses []string
	for _, p := range r.Pauses {
		pauses = append(pauses, day(p.From)+"/"+day(p.Until)+": "+p.Reason)
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
		line := stamp(e.At) + " " + e.Actor
		m, ok := byID[e.Message]
		if ok && m.Purpose != "" {
			line += " (" + m.Purpose + ")"
		}
		if ok {
			line += ": " + m.Text
		} else {
			line += ": [text not stored]"
		}
		messages = append(messages, line)
	}
	row := []string{
		r.Ref, string(r.Type), string(r.Status), r.Name, r.Email,
		stamp(r.ReceivedAt), stamp(r.VerifiedAt), day(r.Due), extended, stamp(r.ClosedAt),
		timely, strconv.Itoa(len(r.Audit)),
		waiting, strings.Join(pauses, "; "), strings.Join(messages, "\n"),
	}
	for i, cell := range row {
		row[i] = defuse(cell)
	}
	return row
}

// defuse keeps a spreadsheet from reading a cell as a formula (CSV injection): a requester
// who types "=HYPERLINK(…)" as their name must not get it evaluated on the DPO's machine.
func defuse(cell string) string {
	if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
		return "'" + cell
	}
	return cell
}
