package dsr

import (
	"crypto/rand"
	"encoding/base32"
	"slices"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/token"
)

// The conversation with the requester: the controller asks (Art. 12(6) for identity, or to
// clarify what the request covers), the requester replies on their status page, and both sides
// see every message in order. The messages' texts are stored beside the request (one item
// each, so the request stays small); the request holds the open question, the clock's pauses
// and an audit event for every message, which names the message it carried.

// Purposes of a question to the requester. Values are stored and translated.
const (
	// PurposeIdentity asks for what the controller needs to confirm who the requester is
	// (Art. 12(6)); only such a question may stop the clock.
	PurposeIdentity = "identity"
	// PurposeClarification asks what the request covers: which systems, which period, what
	// exactly to correct.
	PurposeClarification = "clarification"
	PurposeOther         = "other"
)

// Purposes lists the purposes of a question, in the order the workspace offers them.
var Purposes = []string{PurposeIdentity, PurposeClarification, PurposeOther}

// Audit actions of the conversation. Values are stored and translated.
const (
	ActionAsked Action = "asked"
	// ActionClockPaused follows ActionAsked in the same change when the DPO stopped the
	// clock; its note is the reason.
	ActionClockPaused Action = "clock_paused"
	ActionReplied     Action = "replied"
	// ActionClockResumed follows ActionReplied in the same change when the reply ran the
	// clock again; its note is the new deadline's date (YYYY-MM-DD, local).
	ActionClockResumed Action = "clock_resumed"
	ActionLinksRevoked Action = "links_revoked"
)

// Field error codes of the conversation, besides the common ones.
const (
	// CodePauseIdentityOnly: a pause of the clock was asked for with a question that is not
	// about identity.
	CodePauseIdentityOnly = "pause_identity_only"
)

// Question is the controller's open question to the requester.
type Question struct {
	At      time.Time
	By      string
	Purpose string
	// Text is the question as the requester's mail and page show it; the mail is rendered
	// from it, so a retry sends the same words.
	Text string
	// Message is the ID of the stored message that holds it too.
	Message string
}

// Pause is a time the clock stood still while the controller waited for the requester to
// confirm their identity.
type Pause struct {
	From   time.Time
	By     string
	Reason string
	// Until is when the clock ran again (the reply), or when the request was closed during
	// the pause; zero while it stands still.
	Until time.Time
	// Deadline is the deadline in force from Until on: the one when the clock stopped, moved
	// on by the days it stood still. Zero while paused, and for a pause a closing ended.
	Deadline time.Time
	// Month is the one-month date a refusal is due by (Art. 12(4)), moved on the same way:
	// an extension gives no more time to refuse, a pause does. Zero as Deadline is.
	Month time.Time
}

// Message is one message of the conversation, as stored beside the request.
type Message struct {
	// ID orders the messages by time and names the message in the audit trail.
	ID string
	At time.Time
	// From is the actor: a DPO's address, or ActorRequester.
	From string
	// Purpose is the question's purpose; "" for a reply.
	Purpose string
	Text    string
	// Mail is the mail a reply came in, when the requester answered by mail: the DPO opens
	// it (and its attachments) from the request's page. nil for the others.
	Mail *InboundMail
}

// FromRequester reports whether the requester wrote m.
func (m Message) FromRequester() bool { return m.From == ActorRequester }

// NewMessageID returns a message ID for a message written at `at`: the time to the
// millisecond, so IDs sort as the messages were written, and 40 random bits, so two messages
// of the same millisecond do not collide.
func NewMessageID(at time.Time) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return at.UTC().Format("20060102T150405.000Z") + "-" + strings.ToLower(base32.StdEncoding.EncodeToString(b[:]))
}

// Resumer moves a deadline on by the days a clock stood still (deadline.Calendar does).
type Resumer interface {
	Resume(deadline, from, until time.Time) time.Time
}

// Paused returns the open pause of the clock, or nil when it runs.
func (r *Request) Paused() *Pause {
	if n := len(r.Pauses); n > 0 && r.Pauses[n-1].Until.IsZero() {
		return &r.Pauses[n-1]
	}
	return nil
}

// CanAsk says whether the controller may ask the requester something now: only while the
// request is confirmed and not yet answered.
func (r *Request) CanAsk() error {
	if !r.Status.Active() {
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	return nil
}

// Ask records the controller's question to the requester, in their language, and queues the
// mail that carries it: the request is waiting for the requester from now on. pauseReason,
// if given, also stops the clock (only for an identity question, Art. 12(6); a pause already
// running goes on). The change carries the message, which the store writes beside the
// request with it.
func (r *Request) Ask(actor, purpose, text, pauseReason string, now time.Time) (Change, error) {
	if err := r.CanAsk(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if !slices.Contains(Purposes, purpose) {
		errs["purpose"] = CodeInvalidChoice
	}
	if code := CheckText(text, MaxMessage, true, true); code != "" {
		errs["text"] = code
	}
	if pauseReason != "" {
		if purpose != PurposeIdentity {
			errs["pause_reason"] = CodePauseIdentityOnly
		} else if code := CheckText(pauseReason, MaxMessage, true, true); code != "" {
			errs["pause_reason"] = code
		}
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	now = now.UTC()
	m := Message{ID: NewMessageID(now), At: now, From: actor, Purpose: purpose, Text: text}
	c := r.begin(AuditEvent{At: now, Actor: actor, Action: ActionAsked, Note: purpose, Message: m.ID}, FieldConversation, MailQuestion)
	c.Message = &m
	r.Waiting = &Question{At: now, By: actor, Purpose: purpose, Text: text, Message: m.ID}
	if pauseReason != "" && r.Paused() == nil {
		c.Also = append(c.Also, r.record(AuditEvent{At: now, Actor: actor, Action: ActionClockPaused, Note: pauseReason}))
		r.Pauses = append(r.Pauses, Pause{From: now, By: actor, Reason: pauseReason})
	}
	return c, nil
}

// CanReply says whether the requester may write to the controller now: while the request is
// confirmed and not yet answered. A closed request's page shows the answer and the contact
// address instead.
func (r *Request) CanReply() bool { return r.Status.Active() }

// Reply records the requester's message, sent from their status page: it answers an open
// question (the request is no longer waiting), runs a stopped clock again with the deadline
// moved on by the days it stood still (cal), and queues the DPO's notice. The requester may
// write while no question is open too. The change carries the message, which the store
// writes beside the request with it.
func (r *Request) Reply(text string, now time.Time, cal Resumer) (Change, error) {
	return r.reply(AuditEvent{Actor: ActorRequester}, text, now, cal, MailDPOReply)
}

// NoteRecorded is the note of an ActionReplied a DPO recorded (RecordReply).
const NoteRecorded = "recorded"

// RecordReply records the requester's answer that came by letter, by phone or in person, as
// a DPO (actor) writes it down: as Reply does (the question answered, a stopped clock run
// again), but the trail names the DPO who wrote it down, and nobody is notified. A requester
// the desk cannot mail (ByMail) has no status page to reply on.
func (r *Request) RecordReply(actor, text string, now time.Time, cal Resumer) (Change, error) {
	return r.reply(AuditEvent{Actor: actor, Note: NoteRecorded}, text, now, cal)
}

// reply is Reply and RecordReply: ev is the event's actor and note.
func (r *Request) reply(ev AuditEvent, text string, now time.Time, cal Resumer, mails ...MailKind) (Change, error) {
	if !r.CanReply() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	if code := CheckText(text, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"text": code}
	}
	now = now.UTC()
	m := Message{ID: NewMessageID(now), At: now, From: ActorRequester, Text: text}
	ev.At, ev.Action, ev.Message = now, ActionReplied, m.ID
	c := r.begin(ev, FieldConversation, mails...)
	c.Message = &m
	r.Waiting = nil
	if p := r.Paused(); p != nil {
		p.Until = now
		p.Deadline = cal.Resume(r.Deadline(), p.From, now)
		p.Month = cal.Resume(r.Month(), p.From, now)
		// The note is the new deadline's date as the calendar wrote it, in its own zone.
		c.Also = append(c.Also, r.record(AuditEvent{At: now, Actor: ActorSystem, Action: ActionClockResumed,
			Note: p.Deadline.Format(time.DateOnly)}))
	}
	return c, nil
}

// record appends a further event of the change begin started.
func (r *Request) record(ev AuditEvent) AuditEvent {
	r.Audit = append(r.Audit, ev)
	return ev
}

// endConversation closes what a closed request no longer waits for: the open question, and
// the clock's pause, which ends at the closing without moving the deadline.
func (r *Request) endConversation(now time.Time) {
	r.Waiting = nil
	if p := r.Paused(); p != nil {
		p.Until = now
	}
}

// AnsweredInTime reports whether a closed request was answered by the deadline that applied to
// its answer (Lateness). A request closed while its clock stood still was answered in time if
// the clock stopped before that deadline ran out: no time ran while it stood still.
func (r *Request) AnsweredInTime() bool { return r.Lateness() == OnTime }

// clockAt is the time an answer given at `at` counts as given: while the clock stands still no
// time runs, so an answer given during a pause (or by the closing that ended one) counts as
// given when the clock stopped.
func (r *Request) clockAt(at time.Time) time.Time {
	if n := len(r.Pauses); n > 0 {
		p := r.Pauses[n-1]
		open := p.Until.IsZero() || (p.Deadline.IsZero() && p.Until.Equal(at))
		if open && p.From.Before(at) {
			return p.From
		}
	}
	return at
}

// Month is the one-month date a refusal is due by (Art. 12(4)): the deadline fixed at receipt,
// moved on by the clock's pauses as the deadline in force is, but never by an extension.
func (r *Request) Month() time.Time {
	d := r.Due
	for _, p := range r.Pauses {
		if p.Month.After(d) {
			d = p.Month
		}
	}
	return d
}

// ConversationState is where the conversation with the requester stands, as the worklist and
// the digest show it.
type ConversationState string

// The conversation's states.
const (
	ConversationNone ConversationState = ""
	// ConversationWaiting: a question is open.
	ConversationWaiting ConversationState = "waiting"
	// ConversationReplied: the requester wrote, and no DPO has acted on the request since.
	ConversationReplied ConversationState = "replied"
)

// Conversation says where the conversation stands and since when.
func (r *Request) Conversation() (ConversationState, time.Time) {
	if r.Waiting != nil {
		return ConversationWaiting, r.Waiting.At
	}
	for i := len(r.Audit) - 1; i >= 0; i-- {
		switch e := r.Audit[i]; {
		case e.Action == ActionReplied:
			return ConversationReplied, e.At
		case e.Actor != ActorRequester && e.Actor != ActorSystem:
			return ConversationNone, time.Time{}
		}
	}
	return ConversationNone, time.Time{}
}

// Messages returns the stored messages that r's audit trail names, in the order of the trail
// (the order they were committed in): a message whose change was never committed (a write
// that lost a race) is left out.
func (r *Request) Messages(stored []Message) []Message {
	byID := make(map[string]Message, len(stored))
	for _, m := range stored {
		byID[m.ID] = m
	}
	var out []Message
	for _, e := range r.Audit {
		if m, ok := byID[e.Message]; ok && e.Message != "" {
			out = append(out, m)
			delete(byID, e.Message)
		}
	}
	return out
}

// The requester's status page.

// PageAfterClose is how long a status page link works after the request was closed: long
// enough to read the answer and come back to it, not for ever.
const PageAfterClose = 30 * 24 * time.Hour

// MaxPageLinks bounds the live links of one request. Every mail to the requester carries a
// new one and anyone may ask for one to be mailed to the address (rate-limited): past this
// many, the next link replaces them all, and the request's item stays small.
const MaxPageLinks = 50

// PageLinkKey is what is stored for a status page link whose secret hashes to secretHash
// (token.ParseRequest), sent to email: a link works for that request and that address only,
// and stops working if the request's address changes.
func PageLinkKey(secretHash, email string) string {
	return token.Hash(secretHash + "\n" + HashEmail(email))
}

// PageOpen reports whether r's status page may be shown at now, to anyone holding a link:
// from confirmation until PageAfterClose after the request was answered, or after the last
// file of its answer expired if that is later, so that the page can still say the files are
// gone and whom to ask. An unconfirmed request has no page (its confirmation link is its
// page) and an expired one no address.
func (r *Request) PageOpen(now time.Time) bool {
	switch {
	case r.Email == "":
		return false
	case r.Status.Active():
		return true
	case r.Status == Completed || r.Status == Rejected:
		return now.Before(r.PageOpenUntil())
	}
	return false
}

// PageOpenUntil is when a closed request's status page closes: PageAfterClose after it was
// answered, or after the last file of its answer expired if that is later.
func (r *Request) PageOpenUntil() time.Time {
	from := r.ClosedAt
	if r.Delivery != nil {
		if last := r.Delivery.LastExpiry(); last.After(from) {
			from = last
		}
	}
	return from.Add(PageAfterClose)
}

// CanOpenPage reports whether the holder of a status page link whose secret hashes to
// secretHash may see r's page at now: the link was issued for r and its address, has not
// been revoked, and the page is open. Unknown, forged, revoked and expired links are all
// simply not valid, and a page says the same for each.
func (r *Request) CanOpenPage(secretHash string, now time.Time) bool {
	if secretHash == "" || !r.PageOpen(now) {
		return false
	}
	key := PageLinkKey(secretHash, r.Email)
	found := false
	for _, k := range r.PageLinks {
		// Every key is compared, so the time taken does not say which one matched.
		found = token.Equal(k, key) || found
	}
	return found
}

// RevokePageLinks makes every link to r's status page stop working (the DPO fears a link went
// astray). Mails sent later carry new links; the requester may also ask for one to be mailed
// to their address.
func (r *Request) RevokePageLinks(actor string, now time.Time) (Change, error) {
	if len(r.PageLinks) == 0 {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "no_links"}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionLinksRevoked}, FieldPageLinks)
	r.PageLinks = nil
	return c, nil
}
