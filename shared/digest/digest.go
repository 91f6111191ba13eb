package digest

import (
	"cmp"
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
)

// digestData is what notice's templates/digest.tmpl shows. Every text is resolved here, in the
// deployment's language; the template only lays it out.
type digestData struct {
	// Lang and Controller are what the shared mail layout needs.
	Lang       i18n.Lang
	Controller string
	Subject    string
	// Date is today's local date.
	Date      string
	Groups    []digestGroup
	Workspace string
	// Unconfirmed says a line is a withdrawal or a marketing objection not yet confirmed,
	// which the digest then explains.
	Unconfirmed bool
}

type digestGroup struct {
	// Level is the level's name, e.g. "overdue", for the HTML's colour.
	Level string
	Title string
	Lines []digestLine
}

type digestLine struct {
	Ref      string
	Type     string
	Received string
	Deadline string
	// Left says plainly how many working days are left, or how many are past.
	Left   string
	Status string
	// Extended is "no", or "yes" with the original deadline.
	Extended   string
	IsExtended bool
	Link       string
	// Conversation is where the conversation with the requester stands: waiting for their
	// answer since …, or their reply not yet acted on; "" for neither.
	Conversation string
}

// Item is a request at its level, a line of the digest.
type Item struct {
	Req *dsr.Request
	Esc Escalation
}

// Renderer renders a mail template (notice.Notices).
type Renderer interface {
	Render(name string, data any) (subject, text, html string, err error)
}

// Desk is what the digest says of the deployment: in which language, from whom, and where
// the workspace is.
type Desk struct {
	Lang       i18n.Lang
	Controller string
	BaseURL    string
	Calendar   *deadline.Calendar
}

// Compose renders the one mail that reports every item to the addresses to: grouped by level,
// most urgent first, and within a level by deadline. items must not be empty.
func Compose(notices Renderer, desk Desk, to []string, items []Item, now time.Time) (notice.Message, error) {
	lang, loc := desk.Lang, desk.Calendar.Location()
	sorted := slices.Clone(items)
	slices.SortFunc(sorted, func(a, b Item) int {
		return cmp.Or(
			cmp.Compare(a.Esc.Level.Rank, b.Esc.Level.Rank),
			a.Req.Deadline().Compare(b.Req.Deadline()),
			cmp.Compare(a.Req.Ref, b.Req.Ref),
		)
	})
	d := digestData{
		Lang:       lang,
		Controller: desk.Controller,
		Date:       i18n.LongDate(lang, now.In(loc)),
		Workspace:  desk.BaseURL + "/admin",
	}
	for _, c := range sorted {
		if n := len(d.Groups); n == 0 || d.Groups[n-1].Level != c.Esc.Level.Name {
			d.Groups = append(d.Groups, digestGroup{Level: c.Esc.Level.Name, Title: LevelText(lang, "sweep.level", c.Esc.Level)})
		}
		r := c.Req
		d.Unconfirmed = d.Unconfirmed || r.Status == dsr.PendingVerification
		line := digestLine{
			Ref:      r.Ref,
			Type:     i18n.T(lang, "type."+string(r.Type)+".name"),
			Received: i18n.Date(lang, r.ReceivedAt.In(loc)),
			Deadline: i18n.LongDate(lang, r.Deadline().In(loc)),
			Left:     DaysText(lang, c.Esc.Days),
			Status:   i18n.T(lang, "status."+string(r.Status)),
			Extended: i18n.T(lang, "sweep.digest.not_extended"),
			Link:     desk.BaseURL + "/admin/requests/" + r.Ref,
		}
		if r.Extension != nil {
			line.IsExtended = true
			line.Extended = i18n.T(lang, "sweep.digest.extended_from", i18n.Date(lang, r.Due.In(loc)))
		}
		switch st, since := r.Conversation(); st {
		case dsr.ConversationWaiting:
			line.Conversation = i18n.T(lang, "sweep.digest.waiting", i18n.Date(lang, since.In(loc)))
		case dsr.ConversationReplied:
			line.Conversation = i18n.T(lang, "sweep.digest.replied", i18n.Date(lang, since.In(loc)))
		}
		g := &d.Groups[len(d.Groups)-1]
		g.Lines = append(g.Lines, line)
	}
	top := LevelText(lang, "sweep.short", sorted[0].Esc.Level)
	if len(sorted) == 1 {
		d.Subject = i18n.T(lang, "sweep.digest.subject.one", desk.Controller, top)
	} else {
		d.Subject = i18n.T(lang, "sweep.digest.subject.other", desk.Controller, len(sorted), top)
	}
	subject, text, html, err := notices.Render("digest", d)
	if err != nil {
		return notice.Message{}, err
	}
	return notice.Message{To: to, Subject: subject, Text: text, HTML: html}, nil
}

// LevelText names a level in words: with "sweep.level" the heading of its group ("Overdue",
// "Due within 5 working days"), with "sweep.short" its name in the subject line.
func LevelText(lang i18n.Lang, keys string, l Level) string {
	switch l.Name {
	case LevelOverdue:
		return i18n.T(lang, keys+".overdue")
	case LevelDueToday:
		return i18n.T(lang, keys+".due_today")
	}
	return i18n.T(lang, keys+".working_days", l.WorkingDays)
}

// DaysText says how far the deadline is, in working days: "3 working days left", "due
// today", "1 working day overdue".
func DaysText(lang i18n.Lang, days int) string {
	switch {
	case days == 0:
		return i18n.T(lang, "sweep.days.today")
	case days == 1:
		return i18n.T(lang, "sweep.days.left.one")
	case days > 1:
		return i18n.T(lang, "sweep.days.left.other", days)
	case days == -1:
		return i18n.T(lang, "sweep.days.over.one")
	}
	return i18n.T(lang, "sweep.days.over.other", -days)
}
