package dsr

import (
	"slices"
	"time"
)

// Request is one data-subject request: what the requester asked, where it stands and
// everything that happened to it.
type Request struct {
	Ref         string
	Type        Type
	Status      Status
	Name        string
	Email       string
	Details     string
	CustomerRef string
	// Lang is the requester's language (da, nb, en): every mail to them is written in it.
	Lang string

	ReceivedAt time.Time
	VerifiedAt time.Time
	ClosedAt   time.Time
	// Due is the one-month deadline of Art. 12(3), fixed at receipt.
	Due       time.Time
	Extension *Extension
	Outcome   *Outcome

	// TokenHash is the SHA-256 of the current verification secret; empty once used.
	TokenHash    string
	TokenExpires time.Time
	// SpentTokenHash is the hash of the token that confirmed the request, so that a second
	// click on the same link can be told "already confirmed" and anyone else "unknown link".
	SpentTokenHash string
	RemindedAt     time.Time

	Mails map[MailKind]MailState
	Audit []AuditEvent
	// Version counts committed changes; the store refuses a change that did not start from
	// the version it finds (optimistic locking).
	Version int
}

// AuditEvent records who did what, when. The trail is append-only.
type AuditEvent struct {
	At     time.Time
	Actor  string
	Action Action
	Note   string
}

// Actors that are not a person.
const (
	ActorRequester = "requester"
	ActorSystem    = "system"
)

// Extension records the one extension Art. 12(3) allows.
type Extension struct {
	At       time.Time
	By       string
	Reason   string
	Deadline time.Time
}

// Outcome is how a request was closed and what the requester was told.
type Outcome struct {
	// Category is set on rejections (see RejectionCategories).
	Category string
	Message  string
}

// RejectionCategories are the grounds a DPO picks when refusing to act. The manifestly
// unfounded or excessive ground carries the burden of proof (Art. 12(5)), so its justification
// is kept with the request like every other reason.
var RejectionCategories = []string{"identity_not_confirmed", "manifestly_unfounded", "excessive", "no_data", "legal_exemption", "other"}

// MailKind names a mail the product sends about a request. Values are stored.
type MailKind string

// The mails about a request.
const (
	MailVerification MailKind = "verification"
	MailReminder     MailKind = "reminder"
	MailReceipt      MailKind = "receipt"
	MailDPONew       MailKind = "dpo_new"
	MailExtension    MailKind = "extension"
	MailCompletion   MailKind = "completion"
	MailRejection    MailKind = "rejection"
)

// MailStatus is the delivery state of a mail towards SES.
type MailStatus string

// Mail states: queued by the write that decided to send it, then sent or failed.
const (
	MailQueued MailStatus = "queued"
	MailSent   MailStatus = "sent"
	MailFailed MailStatus = "failed"
)

// MailState is the last known state of one mail.
type MailState struct {
	State    MailStatus
	At       time.Time
	Attempts int
}

// Periods of the requester-side lifecycle.
const (
	// ReminderAfter: an unconfirmed request gets one reminder with a fresh link.
	ReminderAfter = 48 * time.Hour
	// ExpireAfter: an unconfirmed request expires and its personal data is removed. The
	// verification link is valid for as long.
	ExpireAfter = 7 * 24 * time.Hour
)

// Change is what one state change did, for the store to commit as a single conditional write:
// it checks that the item is still at From/Version and appends Event.
type Change struct {
	From    Status
	Version int
	Event   AuditEvent
	// Mails are queued by this change; the caller sends them after the commit.
	Mails []MailKind
}

// New makes a request from a validated submission, received at `received`, due at `due`
// (see package deadline), with the hash and expiry of its first verification token.
func New(ref string, s Submission, received, due time.Time, tokenHash string) *Request {
	received = received.UTC()
	return &Request{
		Ref:          ref,
		Type:         Type(s.Type),
		Status:       PendingVerification,
		Name:         s.Name,
		Email:        s.Email,
		Details:      s.Details,
		CustomerRef:  s.CustomerRef,
		Lang:         s.Lang,
		ReceivedAt:   received,
		Due:          due,
		TokenHash:    tokenHash,
		TokenExpires: received.Add(ExpireAfter),
		Mails:        map[MailKind]MailState{MailVerification: {State: MailQueued, At: received}},
		Audit:        []AuditEvent{{At: received, Actor: ActorRequester, Action: ActionSubmitted}},
		Version:      1,
	}
}

// Deadline is the deadline in force: the extended one once extended.
func (r *Request) Deadline() time.Time {
	if r.Extension != nil {
		return r.Extension.Deadline
	}
	return r.Due
}

// begin records the start of a change and returns its descriptor.
func (r *Request) begin(ev AuditEvent, mails ...MailKind) Change {
	c := Change{From: r.Status, Version: r.Version, Event: ev, Mails: mails}
	r.Audit = append(r.Audit, ev)
	r.Version++
	if r.Mails == nil {
		r.Mails = map[MailKind]MailState{}
	}
	for _, k := range mails {
		r.Mails[k] = MailState{State: MailQueued, At: ev.At, Attempts: r.Mails[k].Attempts}
	}
	return c
}

func (r *Request) move(to Status, actor, note string, now time.Time, mails ...MailKind) (Change, error) {
	action, err := Transition(r.Status, to)
	if err != nil {
		return Change{}, err
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: action, Note: note}, mails...)
	r.Status = to
	if to.Closed() {
		r.ClosedAt = now.UTC()
	}
	return c, nil
}

// Verification is what confirming a request records and sends: the audit event and the mails
// it queues. It needs no request in hand, so the store can apply it in one conditional write
// keyed by the reference and the token (store.ConfirmRequest) instead of reading first; Verify
// applies the very same change to a request that was read.
func Verification(now time.Time) (AuditEvent, []MailKind) {
	return AuditEvent{At: now.UTC(), Actor: ActorRequester, Action: ActionVerified}, []MailKind{MailReceipt, MailDPONew}
}

// Verify records that the requester confirmed their address: the request opens and the
// receipt and the DPO notification are queued. The token is spent.
func (r *Request) Verify(now time.Time) (Change, error) {
	ev, mails := Verification(now)
	c, err := r.move(Open, ev.Actor, ev.Note, now, mails...)
	if err != nil {
		return c, err
	}
	r.VerifiedAt = now.UTC()
	r.SpentTokenHash = r.TokenHash
	r.TokenHash, r.TokenExpires = "", time.Time{}
	return c, nil
}

// Remind replaces the verification token (the old link stops working) and queues the
// reminder. It is allowed once, while the request is unconfirmed.
func (r *Request) Remind(tokenHash string, now time.Time) (Change, error) {
	if r.Status != PendingVerification || !r.RemindedAt.IsZero() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionReminded}, MailReminder)
	r.RemindedAt = now.UTC()
	r.TokenHash = tokenHash
	r.TokenExpires = r.ReceivedAt.Add(ExpireAfter)
	return c, nil
}

// ReissueToken replaces the verification token when the mail carrying it could not be sent:
// the secret is never stored, so a retry needs a new one. The verification mail is queued again.
func (r *Request) ReissueToken(tokenHash string, now time.Time) (Change, error) {
	if r.Status != PendingVerification {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	kind := MailVerification
	if !r.RemindedAt.IsZero() {
		kind = MailReminder
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionReissued}, kind)
	r.TokenHash = tokenHash
	r.TokenExpires = r.ReceivedAt.Add(ExpireAfter)
	return c, nil
}

// Expire closes a request that was never confirmed and removes the requester's personal data;
// the reference and the audit trail stay for accountability.
func (r *Request) Expire(now time.Time) (Change, error) {
	c, err := r.move(Expired, ActorSystem, "", now)
	if err != nil {
		return c, err
	}
	r.Name, r.Email, r.Details, r.CustomerRef = "", "", "", ""
	r.TokenHash, r.TokenExpires = "", time.Time{}
	return c, nil
}

// Start records that the DPO has begun working on the request.
func (r *Request) Start(actor string, now time.Time) (Change, error) {
	return r.move(InProgress, actor, "", now)
}

// Extend records the one extension of Art. 12(3): allowed once, only before the deadline in
// force has passed, with the reasons the requester will be told.
func (r *Request) Extend(actor, reason string, deadline, now time.Time) (Change, error) {
	if !r.Status.Active() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	if r.Extension != nil {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "already_extended"}
	}
	if now.After(r.Due) {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "deadline_passed"}
	}
	if code := CheckText(reason, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"reason": code}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionExtended, Note: reason}, MailExtension)
	r.Extension = &Extension{At: now.UTC(), By: actor, Reason: reason, Deadline: deadline}
	return c, nil
}

// Complete closes the request as done; message tells the requester what was done.
func (r *Request) Complete(actor, message string, now time.Time) (Change, error) {
	if code := CheckText(message, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"message": code}
	}
	c, err := r.move(Completed, actor, message, now, MailCompletion)
	if err != nil {
		return c, err
	}
	r.Outcome = &Outcome{Message: message}
	return c, nil
}

// Reject closes the request without acting on it (Art. 12(4)); the reason is sent to the
// requester together with their right to complain and to a judicial remedy.
func (r *Request) Reject(actor, category, reason string, now time.Time) (Change, error) {
	errs := FieldErrors{}
	if !slices.Contains(RejectionCategories, category) {
		errs["category"] = CodeInvalidChoice
	}
	if code := CheckText(reason, MaxMessage, true, true); code != "" {
		errs["reason"] = code
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	c, err := r.move(Rejected, actor, category+": "+reason, now, MailRejection)
	if err != nil {
		return c, err
	}
	r.Outcome = &Outcome{Category: category, Message: reason}
	return c, nil
}

// AddNote records an internal note; nothing is sent to anyone.
func (r *Request) AddNote(actor, note string, now time.Time) (Change, error) {
	if code := CheckText(note, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"note": code}
	}
	return r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionNoted, Note: note}), nil
}
