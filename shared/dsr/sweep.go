package dsr

import "time"

// Queue is one of the lists the scheduled sweep works through. The values are stored (the
// sweep index's partition key): never rename one.
type Queue string

// The sweep's queues.
const (
	// QueueUnverified holds requests awaiting confirmation: reminder, expiry, a new link.
	QueueUnverified Queue = "UNVERIFIED"
	// QueueOpen holds requests awaiting the controller's answer: the deadline's escalation.
	QueueOpen Queue = "OPEN"
	// QueueRetry holds closed requests the sweep still has work on: a mail to the requester
	// still to be sent, a mail that did not reach them (Undelivered), files delivered and
	// not downloaded that the digest is to remind the DPO of (RemindDelivery), or a letter
	// not yet posted (Letters).
	QueueRetry Queue = "RETRY"
)

// Queues lists every queue.
var Queues = []Queue{QueueOpen, QueueUnverified, QueueRetry}

// SweepQueue is the queue r belongs on and from when the sweep must look at it; "" keeps r off
// every queue (a closed request with every mail sent). Earlier is always safe, since the sweep
// reads the request and decides, so a mail due for a retry pulls the time forward.
//
// A request known only in part (Verification's, which has no deadline in hand) is put at its
// queued mails' retry time; the deadline, a month after receipt, is later anyway.
func (r *Request) SweepQueue() (Queue, time.Time) {
	var q Queue
	var when time.Time
	switch {
	case r.Held():
		// Each run of the sweep looks whether today's ceiling has room to release it.
		q, when = QueueUnverified, r.HeldAt
	case r.Status == Quarantined && r.Escalates():
		// A quarantined mail the desk could not read is reported on its short clock until a
		// DPO admits or dismisses it; it has no follow-up of its own.
		q, when = QueueUnverified, r.ReceivedAt
	case r.Status == PendingVerification && r.Escalates():
		// The DPO sees an unconfirmed withdrawal or marketing objection on its short clock,
		// so the sweep reads it on every run until it is confirmed or expires.
		q, when = QueueUnverified, r.ReceivedAt
	case r.Status == PendingVerification:
		q, when = QueueUnverified, r.followUpAt()
	case r.Status.Active():
		q, when = QueueOpen, r.Deadline()
	}
	// A mail that did not reach the requester is listed in every digest until a DPO acts on
	// the request, and so is a letter until it is recorded posted; files not downloaded,
	// once, when the reminder falls due.
	for _, next := range []func() (time.Time, bool){r.undeliveredAt, r.nextRetry, r.deliveryReminderAt, r.OldestLetter} {
		at, ok := next()
		if !ok {
			continue
		}
		if q == "" {
			q = QueueRetry
		}
		if when.IsZero() || at.Before(when) {
			when = at
		}
	}
	if q == "" {
		return "", time.Time{}
	}
	return q, when
}

// Escalates reports whether the sweep tells the DPO as r's deadline nears and passes: every
// request being worked on, and a withdrawal of consent or a marketing objection from receipt,
// confirmed or not. Those are on the short clock, and an unconfirmed one must not lapse
// without the DPO having seen it: it may be acted on anyway (an unsubscribe harms no one), and
// only an identity that cannot be confirmed would justify a refusal. A request whose clock
// stands still (Paused) does not: no time runs out while it waits for the requester.
//
// A quarantined mail the desk could not read escalates too, as an unconfirmed request on the short
// clock does (it is unclassified): it may be a person's request.
func (r *Request) Escalates() bool {
	if r.Paused() != nil {
		return false
	}
	switch r.Status {
	case Quarantined:
		return r.Inbound.escalates()
	case PendingVerification:
		return r.Type.Rules().Clock == ClockPrompt
	}
	return r.Status.Active()
}

// FollowUp is what an unconfirmed request needs from the sweep.
type FollowUp int

// The follow-ups of an unconfirmed request, each a change of its own.
const (
	NoFollowUp FollowUp = iota
	// FollowUpExpire: ExpireAfter has passed since receipt (Expire).
	FollowUpExpire
	// FollowUpRemind: ReminderAfter has passed and no reminder went out yet (Remind).
	FollowUpRemind
	// FollowUpReissue: the mail carrying the current link is due for a retry, and its secret
	// was never stored, so it needs a new one (ReissueToken).
	FollowUpReissue
	// FollowUpRelease: it was held at intake and waits for its first link (Release), when the
	// day's ceiling on unconfirmed requests has room. It does not expire while it waits.
	FollowUpRelease
)

// FollowUp is what r, awaiting confirmation, needs at now; NoFollowUp for any other request.
// SweepQueue puts r on QueueUnverified at the time the next one falls due.
func (r *Request) FollowUp(now time.Time) FollowUp {
	switch {
	case r.Status != PendingVerification:
		return NoFollowUp
	case r.Held():
		return FollowUpRelease
	case !now.Before(r.linkSince().Add(ExpireAfter)):
		return FollowUpExpire
	case r.RemindedAt.IsZero() && !now.Before(r.linkSince().Add(ReminderAfter)):
		return FollowUpRemind
	case len(r.MailsDue(now)) > 0:
		return FollowUpReissue
	}
	return NoFollowUp
}

// followUpAt is when the next timed follow-up of an unconfirmed request falls due: the
// reminder, or once it went out, the expiry.
func (r *Request) followUpAt() time.Time {
	if r.RemindedAt.IsZero() {
		return r.linkSince().Add(ReminderAfter)
	}
	return r.linkSince().Add(ExpireAfter)
}

// undeliveredAt is when SES last reported a mail of r that no DPO has acted on since: the sweep
// reads r on every run from then, for the digest to list it (Undelivered).
func (r *Request) undeliveredAt() (time.Time, bool) {
	_, at := r.Undelivered()
	return at, !at.IsZero()
}

// OldestLetter is when the earliest letter of r not yet posted was written. The sweep reads
// r on every run from then, for the digest to list the letters until they are recorded posted
// (digest.Ladder.NotPostedAt), oldest first. The digest lists a letter from the local day
// after it was written, which only the deployment's calendar knows; written is never later,
// and earlier is safe. With the daily run in the morning that costs nothing (a letter written
// after the run is first read by the next one, which lists it); a letter written before the
// day's run is read once by it and not listed yet.
func (r *Request) OldestLetter() (time.Time, bool) {
	if r.Status == Expired {
		return time.Time{}, false
	}
	var at time.Time
	for _, k := range r.Letters() {
		if w := r.Mails[k].At; at.IsZero() || w.Before(at) {
			at = w
		}
	}
	return at, !at.IsZero()
}
