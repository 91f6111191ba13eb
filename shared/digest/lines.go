package digest

import (
	"cmp"
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Besides the ladder's levels the digest has three groups that are not about a deadline. Their
// names key their marks (esc.<name>), as a level's does: renaming one would list every such
// line again.
const (
	// LineUndelivered: mails that SES reported bounced or marked as spam, which no DPO has
	// acted on since (dsr.Request.Undelivered). Listed every day until a DPO does.
	LineUndelivered = "undelivered"
	// LineNotDownloaded: an answer with files that the requester has not downloaded (all of)
	// when the reminder fell due (dsr.Request.DeliveryReminderDue). Listed once per answer.
	LineNotDownloaded = "not_downloaded"
	// LineNotPosted: letters to a requester the desk cannot mail that no DPO has recorded
	// posted (dsr.Request.Letters), from the local day after each was written. Listed every
	// day until each is recorded posted.
	LineNotPosted = "not_posted"
)

// Undelivered is a request whose mails did not reach their addressee, a line of the digest.
type Undelivered struct {
	Req   *dsr.Request
	Kinds []dsr.MailKind
}

// NotDownloaded is an answer whose files were not all downloaded, a line of the digest.
type NotDownloaded struct {
	Req *dsr.Request
	// Missing are the delivered files no download fetched.
	Missing []dsr.File
}

// NotPosted is a request whose letters wait to be posted, a line of the digest.
type NotPosted struct {
	Req *dsr.Request
	// Kinds are the letters listed: those not posted that were written before today.
	Kinds []dsr.MailKind
}

// UndeliveredAt returns r's line of mails that did not arrive, if it has one, and the period
// of its mark: today's local date, so that it is listed once a day until a DPO acts on the
// request. The notice the law requires did not reach the requester, and nobody but the DPO
// can reach them another way: a line that were listed once could be skimmed past for good.
func (l Ladder) UndeliveredAt(r *dsr.Request, now time.Time) (Undelivered, string, bool) {
	kinds, _ := r.Undelivered()
	if len(kinds) == 0 {
		return Undelivered{}, "", false
	}
	return Undelivered{Req: r, Kinds: kinds}, l.cal.LocalDate(now), true
}

// NotPostedAt returns r's line of letters not yet posted, if it has one, and the period of its
// mark: today's local date, so that it is listed once a day until the DPO records each letter
// posted. A letter is listed from the local day after it was written: the DPO has the day it
// was written to post it. An extension or a refusal counts only once the requester is told
// (Art. 12(3), 12(4)), and a letter forgotten beside the printer tells them nothing; as with a
// mail that did not arrive, nobody but the DPO can put it right, so it is not listed once only.
func (l Ladder) NotPostedAt(r *dsr.Request, now time.Time) (NotPosted, string, bool) {
	if r.Status == dsr.Expired {
		return NotPosted{}, "", false
	}
	today := l.cal.LocalDate(now)
	var kinds []dsr.MailKind
	for _, k := range r.Letters() {
		if l.cal.LocalDate(r.Mails[k].At) < today {
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return NotPosted{}, "", false
	}
	return NotPosted{Req: r, Kinds: kinds}, today, true
}

// NotDownloadedAt returns r's line of files not downloaded, given its downloads, if its
// reminder is due at now and a file was not fetched, and the period of its mark: the answer's
// time, so that each answer is listed once. The DPO cannot make the requester download, and
// the request's page says "not downloaded yet" for as long as it is true; a daily line until
// the files expire would bury the deadlines. ok is false when every file was downloaded, or
// the reminder is not due.
func NotDownloadedAt(r *dsr.Request, downloads []dsr.Download, now time.Time) (NotDownloaded, string, bool) {
	if !r.DeliveryReminderDue(now) {
		return NotDownloaded{}, "", false
	}
	missing := r.NotDownloaded(downloads)
	if len(missing) == 0 {
		return NotDownloaded{}, "", false
	}
	return NotDownloaded{Req: r, Missing: missing}, r.Delivery.At.UTC().Format(time.RFC3339Nano), true
}

// Report is everything one digest lists.
type Report struct {
	// Deadlines are the requests at a level of the ladder.
	Deadlines     []Item
	Undelivered   []Undelivered
	NotPosted     []NotPosted
	NotDownloaded []NotDownloaded
}

// Len is the number of lines in the report.
func (r Report) Len() int {
	return len(r.Deadlines) + len(r.Undelivered) + len(r.NotPosted) + len(r.NotDownloaded)
}

// sortedBy sorts lines by the time key gives them, then by reference.
func sortedBy[T any](lines []T, req func(T) *dsr.Request, key func(T) time.Time) []T {
	out := slices.Clone(lines)
	slices.SortFunc(out, func(a, b T) int {
		return cmp.Or(key(a).Compare(key(b)), cmp.Compare(req(a).Ref, req(b).Ref))
	})
	return out
}
