package dsr

import (
	"slices"
	"time"
)

const (
	// MailLease is how long a mail may stay queued before the sweep takes its sender for dead
	// and sends it again. It is longer than any function's timeout.
	MailLease = 10 * time.Minute
	// MaxMailAttempts bounds the sends of one mail: an address that refuses mail is not tried
	// every day for the years a closed request is kept. The DPO sees the failed mail on the
	// request.
	MaxMailAttempts = 5
)

// MailsDue lists the mails of r that are due for a retry at now (failed, or queued for longer
// than MailLease), in a stable order.
func (r *Request) MailsDue(now time.Time) []MailKind {
	var kinds []MailKind
	for kind, m := range r.Mails {
		if at, ok := r.retryAt(kind, m); ok && !at.After(now) {
			kinds = append(kinds, kind)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// MailRetry says what becomes of a mail of r that is not sent: when it is due to be sent again,
// or false if it never will be (superseded, no address left, or out of attempts).
func (r *Request) MailRetry(kind MailKind) (time.Time, bool) {
	m, ok := r.Mails[kind]
	if !ok || m.State == MailSent {
		return time.Time{}, false
	}
	return r.retryAt(kind, m)
}

// nextRetry is when the earliest unsent mail of r is due for a retry, if any is.
func (r *Request) nextRetry() (time.Time, bool) {
	var at time.Time
	for kind, m := range r.Mails {
		t, ok := r.retryAt(kind, m)
		if ok && (at.IsZero() || t.Before(at)) {
			at = t
		}
	}
	return at, !at.IsZero()
}

// retryAt is when one unsent mail is due for a retry, or false if it never is: at once after a
// failure, after the lease for a mail still queued (its sender may have died). A link mail
// matters only while the request awaits confirmation, and only the latest one (a reminder
// carries a new link); an expired request has no address left to write to.
func (r *Request) retryAt(kind MailKind, m MailState) (time.Time, bool) {
	switch {
	case r.Status == Expired, m.Attempts >= MaxMailAttempts, m.Feedback != nil:
		// A mail that bounced would bounce again.
		return time.Time{}, false
	case kind == MailVerification && (r.Status != PendingVerification || !r.RemindedAt.IsZero()):
		return time.Time{}, false
	case kind == MailReminder && r.Status != PendingVerification:
		return time.Time{}, false
	case kind == MailQuestion && (!r.Status.Active() || r.Waiting == nil):
		// A question the requester has answered, or to a request that has been answered
		// meanwhile, would ask for nothing.
		return time.Time{}, false
	}
	switch m.State {
	case MailFailed:
		return m.At, true
	case MailQueued:
		return m.At.Add(MailLease), true
	}
	return time.Time{}, false
}

// ToRequester reports whether mails of kind k go to the requester, or on the requester's
// behalf to a recipient of their data (Art. 19): every one but the DPO's notices. Those are
// the mails whose exact text the request keeps (SentMail).
func (k MailKind) ToRequester() bool { return k != MailDPONew && k != MailDPOReply }

// SentMail is the exact text of one mail that went to the requester (or to a recipient of
// their data), as kept with the request:
// what a DPO (or a supervisory authority) reads to know what the requester was told and when.
// A confirmation link's secret is not kept: the text holds it redacted.
type SentMail struct {
	Kind    MailKind
	At      time.Time
	To      string
	Lang    string
	Subject string
	Text    string
}

// SiblingsKeptUntil is when what a request's partition holds besides the request (the texts
// of its mails, its search entries) may be deleted, and zero if it must be deleted now. An
// unconfirmed request's go when it would expire (its personal data goes then), an expired
// one's at once; an open request's when it would go if answered on its deadline, and a
// closed one's with the request. (Closing moves them to the request's own date.)
func (r *Request) SiblingsKeptUntil(retention time.Duration) time.Time {
	switch {
	case r.Status == PendingVerification:
		return r.linkSince().Add(ExpireAfter)
	case r.Status == Expired:
		return time.Time{}
	case r.Status == Quarantined && r.Escalates():
		return r.Deadline().Add(retention)
	case r.Status == Quarantined:
		return r.KeptUntil(retention)
	case r.Status.Active():
		return r.Deadline().Add(retention)
	}
	return r.KeptUntil(retention)
}

// CarriesPageLink reports whether a mail of kind k carries a link to the requester's status
// page: every mail to the requester about a confirmed request. The confirmation mails carry
// the confirmation link instead, which is all an unconfirmed request has; a notice to a
// recipient of the data goes to someone else, who must never get it.
func (k MailKind) CarriesPageLink() bool {
	_, toRecipient := k.RecipientID()
	return k.ToRequester() && !toRecipient && k != MailVerification && k != MailReminder
}
