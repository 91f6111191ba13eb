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
	// Heading says what the digest is about: deadlines, when it lists any.
	Heading string
	// Date is today's local date.
	Date      string
	Groups    []digestGroup
	Workspace string
	// Unconfirmed says a line is a withdrawal or a marketing objection not yet confirmed,
	// which the digest then explains.
	Unconfirmed bool
	// Undelivered lists the mails that did not arrive, NotPosted the letters waiting to be
	// posted, NotDownloaded the answers whose files were not downloaded; each group is left
	// out when empty.
	Undelivered   []mailsLine
	NotPosted     []mailsLine
	NotDownloaded []notDownloadedLine
	// UndeliveredTitle, NotPostedTitle and NotDownloadedTitle head those groups.
	UndeliveredTitle, NotPostedTitle, NotDownloadedTitle string
}

// mailsLine is a request with some of its mails: those SES reported bounced or marked as
// spam, or its letters no DPO has recorded posted.
type mailsLine struct {
	Ref    string
	Type   string
	Status string
	// Mails say, one each, which mail, what SES reported and when; or which letter and the
	// day it was written.
	Mails []string
	Link  string
}

// notDownloadedLine is an answer with files not all downloaded.
type notDownloadedLine struct {
	Ref      string
	Type     string
	Answered string
	// Missing says how many of the files were not downloaded; Expires, when the files go.
	Missing string
	Expires string
	Link    string
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

// Compose renders the one mail that reports every line of rep to the addresses to: the
// deadlines grouped by level, most urgent first, and within a level by deadline; then the
// mails that did not arrive; then the letters waiting to be posted; then the answers whose
// files were not downloaded. rep must not be empty.
func Compose(notices Renderer, desk Desk, to []string, rep Report, now time.Time) (notice.Message, error) {
	lang, loc := desk.Lang, desk.Calendar.Location()
	sorted := slices.Clone(rep.Deadlines)
	slices.SortFunc(sorted, func(a, b Item) int {
		return cmp.Or(
			cmp.Compare(a.Esc.Level.Rank, b.Esc.Level.Rank),
			a.Req.Deadline().Compare(b.Req.Deadline()),
			cmp.Compare(a.Req.Ref, b.Req.Ref),
		)
	})
	d := digestData{
		Lang:               lang,
		Controller:         desk.Controller,
		Date:               i18n.LongDate(lang, now.In(loc)),
		Workspace:          desk.BaseURL + "/admin",
		UndeliveredTitle:   i18n.T(lang, "sweep.group.undelivered"),
		NotPostedTitle:     i18n.T(lang, "sweep.group.not_posted"),
		NotDownloadedTitle: i18n.T(lang, "sweep.group.not_downloaded"),
	}
	link := func(r *dsr.Request) string { return desk.BaseURL + "/admin/requests/" + r.Ref }
	mails := func(r *dsr.Request) mailsLine {
		return mailsLine{Ref: r.Ref, Type: i18n.T(lang, "type."+string(r.Type)+".name"), Status: i18n.T(lang, "status."+string(r.Status)), Link: link(r)}
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
			Link:     link(r),
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
	undelivered := sortedBy(rep.Undelivered, func(u Undelivered) *dsr.Request { return u.Req }, func(u Undelivered) time.Time {
		_, at := u.Req.Undelivered()
		return at
	})
	for _, u := range undelivered {
		r := u.Req
		line := mails(r)
		for _, k := range u.Kinds {
			f := r.Mails[k].Feedback
			if f == nil {
				continue
			}
			what := i18n.T(lang, "feedback."+f.Kind)
			if f.Detail != "" {
				what += " (" + f.Detail + ")"
			}
			line.Mails = append(line.Mails, i18n.T(lang, "sweep.digest.mail_feedback", MailName(lang, r, k), what, i18n.DateTime(lang, f.At.In(loc))))
		}
		d.Undelivered = append(d.Undelivered, line)
	}
	// The letters waiting longest first.
	// The letters listed are those written before today, so the oldest of them is the oldest
	// not posted.
	letters := sortedBy(rep.NotPosted, func(n NotPosted) *dsr.Request { return n.Req }, func(n NotPosted) time.Time {
		at, _ := n.Req.OldestLetter()
		return at
	})
	for _, n := range letters {
		r := n.Req
		line := mails(r)
		for _, k := range n.Kinds {
			line.Mails = append(line.Mails, i18n.T(lang, "sweep.digest.letter_written", MailName(lang, r, k), i18n.Date(lang, r.Mails[k].At.In(loc))))
		}
		d.NotPosted = append(d.NotPosted, line)
	}
	files := sortedBy(rep.NotDownloaded, func(n NotDownloaded) *dsr.Request { return n.Req }, func(n NotDownloaded) time.Time { return n.Req.Delivery.At })
	for _, n := range files {
		r := n.Req
		key := "sweep.digest.missing.other"
		if len(r.Delivery.Files) == 1 {
			key = "sweep.digest.missing.one"
		}
		d.NotDownloaded = append(d.NotDownloaded, notDownloadedLine{
			Ref:      r.Ref,
			Type:     i18n.T(lang, "type."+string(r.Type)+".name"),
			Answered: i18n.Date(lang, r.Delivery.At.In(loc)),
			Missing:  i18n.T(lang, key, len(n.Missing), len(r.Delivery.Files)),
			Expires:  i18n.Date(lang, r.Delivery.LastExpiry().In(loc)),
			Link:     link(r),
		})
	}
	d.Heading = i18n.T(lang, "sweep.digest.heading_other")
	if len(d.Groups) > 0 {
		d.Heading = i18n.T(lang, "sweep.digest.heading")
	}
	// The subject names the most urgent group: a deadline's level, else what did not arrive,
	// else a letter not posted, else what was not downloaded.
	var top string
	switch {
	case len(sorted) > 0:
		top = LevelText(lang, "sweep.short", sorted[0].Esc.Level)
	case len(d.Undelivered) > 0:
		top = i18n.T(lang, "sweep.short.undelivered")
	case len(d.NotPosted) > 0:
		top = i18n.T(lang, "sweep.short.not_posted")
	default:
		top = i18n.T(lang, "sweep.short.not_downloaded")
	}
	if n := rep.Len(); n == 1 {
		d.Subject = i18n.T(lang, "sweep.digest.subject.one", desk.Controller, top)
	} else {
		d.Subject = i18n.T(lang, "sweep.digest.subject.other", desk.Controller, n, top)
	}
	subject, text, html, err := notices.Render("digest", d)
	if err != nil {
		return notice.Message{}, err
	}
	return notice.Message{To: to, Subject: subject, Text: text, HTML: html}, nil
}

// MailName names a mail of r: by its kind, or a notice to a recipient of the data (Art. 19)
// by the recipient's name (a company, not the requester).
func MailName(lang i18n.Lang, r *dsr.Request, kind dsr.MailKind) string {
	if id, ok := kind.RecipientID(); ok {
		n, _ := r.Notice(id)
		return i18n.T(lang, "mail.kind.recipient", n.Name)
	}
	return i18n.T(lang, "mail.kind."+string(kind))
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
