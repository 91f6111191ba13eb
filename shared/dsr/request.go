package dsr

import (
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/token"
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
	// PostalAddress is where the requester can be written to, when a DPO registered one.
	PostalAddress string
	// Lang is the requester's language (da, nb, en): every mail to them is written in it.
	Lang string
	// Channel is how the request reached the controller (Via): "" for the desk's form.
	Channel Channel
	// Inbound is the mail a request came in, when it came by mail to the privacy address.
	Inbound *InboundMail
	// FormKey is the hash of the registration form a DPO registered the request with
	// (Registration.Form), "" for the others: a second post of that form finds it.
	FormKey string

	ReceivedAt time.Time
	// EnteredAt is when a request a DPO registered entered the desk (Entered); zero for the
	// others, which entered when they were received.
	EnteredAt  time.Time
	VerifiedAt time.Time
	ClosedAt   time.Time
	// Due is the one-month deadline of Art. 12(3), fixed at receipt.
	Due       time.Time
	Extension *Extension
	Outcome   *Outcome
	// Fee is the reasonable fee of Art. 12(5)(a), once announced.
	Fee *Fee
	// Recipients is the Art. 19 checklist: each recipient of the data the DPO has dealt with,
	// and how.
	Recipients []RecipientNotice
	// Lift is the notice of Art. 18(3) that a restriction will be lifted.
	Lift *LiftNotice

	// Waiting is the controller's open question to the requester (Ask), nil when none is
	// open: the request is "waiting for the requester" since Waiting.At.
	Waiting *Question
	// Pauses are the times the clock stood still while the controller waited for the
	// requester to confirm their identity (EDPB 01/2022 § 159), oldest first; at most the
	// last is open (Paused).
	Pauses []Pause
	// PageLinks are the stored keys of the live links to the requester's status page
	// (PageLinkKey): only hashes, never a link.
	PageLinks []string
	// Delivery is what an access or portability request was answered with: the structured
	// answer and the record of the files (Deliver). Each download of a file is a record
	// beside the request (Download).
	Delivery *Delivery

	// TokenHash is the SHA-256 of the current verification secret; empty once used.
	TokenHash    string
	TokenExpires time.Time
	// SpentTokenHash is the hash of the token that confirmed the request, so that a second
	// click on the same link can be told "already confirmed" and anyone else "unknown link".
	SpentTokenHash string
	RemindedAt     time.Time
	// HeldAt is when the intake stored the request without sending its link, the day's
	// ceiling on unconfirmed requests being reached (Hold); ReleasedAt when it got one
	// (Release). A request is held between the two.
	HeldAt     time.Time
	ReleasedAt time.Time

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
	// Message is the ID of the message this event sent or received (Ask, Reply), whose text
	// is stored beside the request; "" for every other event.
	Message string
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
	// Result is set on completions: done, no data, or partly carried out. A completion
	// stored before results existed has none and reads as ResultDone.
	Result Result
	// Category is the ground of a refusal.
	Category Ground
	// Message is what the requester is told: what was done, or the reasons for a refusal.
	Message string
	// Kept, Basis and Reason are a partial answer's Art. 12(4) part: what was kept, on which
	// point of Art. 17(3), and why.
	Kept   string
	Basis  Basis
	Reason string
	// Justification is the evidence that a request is manifestly unfounded or excessive
	// (Art. 12(5)): kept with the request, not sent.
	Justification string
	// Late records that the answer came after the deadline that applied to it, and which.
	Late Lateness
}

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
	// MailFee announces the reasonable fee of Art. 12(5)(a).
	MailFee MailKind = "fee"
	// MailLift is the notice of Art. 18(3) before a restriction is lifted.
	MailLift MailKind = "restriction_lift"
	// MailQuestion carries the controller's question to the requester (Ask).
	MailQuestion MailKind = "question"
	// MailDPOReply tells the DPO addresses that the requester replied (Reply).
	MailDPOReply MailKind = "dpo_reply"
	// Mails to a recipient of the data (Art. 19) are RecipientMail(id), one per recipient.
)

// MailStatus is the delivery state of a mail towards SES.
type MailStatus string

// Mail states: queued by the write that decided to send it, then sent or failed.
const (
	MailQueued MailStatus = "queued"
	MailSent   MailStatus = "sent"
	MailFailed MailStatus = "failed"
	// MailLetter: the mail is a letter, for a requester the desk cannot mail (ByMail): its
	// text is kept with the request for the DPO to print and post. Nothing sends it and
	// nothing retries it.
	MailLetter MailStatus = "letter"
	// MailPosted: the DPO posted the letter, on At (RecordPosted).
	MailPosted MailStatus = "posted"
)

// MailState is the last known state of one mail.
type MailState struct {
	State    MailStatus
	At       time.Time
	Attempts int
	// Feedback is what SES reported after accepting the mail (a bounce, a complaint); nil
	// while it reported nothing.
	Feedback *Feedback
}

// Periods of the requester-side lifecycle.
const (
	// ReminderAfter: an unconfirmed request gets one reminder with a fresh link.
	ReminderAfter = 48 * time.Hour
	// ExpireAfter: an unconfirmed request expires and its personal data is removed. The
	// verification link is valid for as long.
	ExpireAfter = 7 * 24 * time.Hour
)

// Change is what one state change did, for the store to commit as a single conditional write
// that checks its guard (From, Version, Token), writes the Fields it altered, appends Event
// and queues Mails.
type Change struct {
	// From is the status the stored request must still have.
	From Status
	// Version is the version the change started from, which the stored request must still
	// have; 0 for a change made without reading the request (Verification), which Token
	// guards instead.
	Version int
	// Token is the hash of the verification token the change spends, or "": the stored
	// request must hold that very token, live at Event.At (TokenLive).
	Token string
	Event AuditEvent
	// Also are events the same change records after Event, in order (the clock paused by a
	// question, resumed by a reply): one write, one version, more than one line in the trail.
	Also []AuditEvent
	// Message is the message of the conversation the change records (Ask, Reply), which the
	// store writes beside the request with the change; Event names it.
	Message *Message
	// Fields are the parts of the request the change altered: the store writes those and no
	// others, besides what every change moves (version, audit trail, queued mails, the sweep
	// queue and the expiry, which follow from the request).
	Fields Fields
	// Mails are queued by this change; the caller sends them after the commit.
	Mails []MailKind
	// Letters are the letters whose state this change wrote: the mails it decided for a
	// requester the desk cannot mail (Request.ByMail, state MailLetter), or the one a DPO
	// posted (MailPosted). The store writes their states as it writes a queued mail's, but
	// nothing sends them: the caller keeps the text of each in state MailLetter with the
	// request, for the DPO to print and post.
	Letters []MailKind
	// Wiped are the indexes of audit entries whose notes the change removed (an expiry
	// removes the DPO's notes with the personal data; the entries stay).
	Wiped []int
	// Feedback are the mails whose Feedback this change recorded (RecordFeedback): the store
	// writes that and leaves their delivery state alone.
	Feedback []MailKind
}

// Fields names parts of a request a change may alter, each stored as one or a few attributes.
type Fields uint32

// The parts of a request a change may alter. Ref, Lang and ReceivedAt never change; Type and
// Due only when an unclassified request is classified.
const (
	FieldStatus       Fields = 1 << iota // Status
	FieldVerified                        // VerifiedAt
	FieldClosed                          // ClosedAt
	FieldToken                           // TokenHash, TokenExpires
	FieldSpentToken                      // SpentTokenHash
	FieldReminded                        // RemindedAt
	FieldRequester                       // Name, Email, Details, CustomerRef, PostalAddress, Inbound
	FieldExtension                       // Extension
	FieldOutcome                         // Outcome
	FieldFee                             // Fee
	FieldRecipients                      // Recipients
	FieldLift                            // Lift
	FieldConversation                    // Waiting, Pauses
	// FieldPageLinks is PageLinks written whole (revoked); a new link is added on its own
	// (the store's AddPageLink), which leaves the others alone.
	FieldPageLinks
	FieldHeld // HeldAt, ReleasedAt
	// FieldDelivery is Delivery.
	FieldDelivery
	// FieldType is Type and Due, which only a classification changes.
	FieldType
	// AllFields is every part above.
	AllFields = FieldStatus | FieldVerified | FieldClosed | FieldToken | FieldSpentToken |
		FieldReminded | FieldRequester | FieldExtension | FieldOutcome | FieldFee | FieldRecipients | FieldLift |
		FieldConversation | FieldPageLinks | FieldHeld | FieldDelivery | FieldType
)

// Has reports whether every part of p is in f.
func (f Fields) Has(p Fields) bool { return f&p == p }

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

// Deadline is the deadline in force: the extended one once extended, moved on by a pause of
// the clock once it ran again (Pause.Deadline), whichever is later. While the clock stands
// still (Paused) it is the deadline it stopped at: the days it stands still are added when it
// runs again, and no time runs out meanwhile (docs/deadlines.md, pause).
func (r *Request) Deadline() time.Time {
	d := r.Due
	if r.Extension != nil {
		d = r.Extension.Deadline
	}
	for _, p := range r.Pauses {
		if p.Deadline.After(d) {
			d = p.Deadline
		}
	}
	return d
}

// ByDeadline orders requests by the deadline in force, then by receipt, then by reference, so
// that a list in that order is the same from one page load to the next (slices.SortFunc).
func ByDeadline(a, b *Request) int {
	if c := a.Deadline().Compare(b.Deadline()); c != 0 {
		return c
	}
	if c := a.ReceivedAt.Compare(b.ReceivedAt); c != 0 {
		return c
	}
	return strings.Compare(a.Ref, b.Ref)
}

// begin records the start of a change that alters fields and returns its descriptor.
func (r *Request) begin(ev AuditEvent, fields Fields, mails ...MailKind) Change {
	c := Change{From: r.Status, Version: r.Version, Event: ev, Fields: fields}
	r.Audit = append(r.Audit, ev)
	r.Version++
	if r.Mails == nil {
		r.Mails = map[MailKind]MailState{}
	}
	for _, k := range mails {
		// A change made without reading the request (Verification, Version 0) follows a
		// mailed link: its requester has an address the blind request does not show.
		if c.Version > 0 && r.ByLetter(k) {
			r.Mails[k] = MailState{State: MailLetter, At: ev.At}
			c.Letters = append(c.Letters, k)
			continue
		}
		r.Mails[k] = MailState{State: MailQueued, At: ev.At, Attempts: r.Mails[k].Attempts}
		c.Mails = append(c.Mails, k)
	}
	return c
}

func (r *Request) move(to Status, actor, note string, now time.Time, fields Fields, mails ...MailKind) (Change, error) {
	action, err := Transition(r.Status, to)
	if err != nil {
		return Change{}, err
	}
	fields |= FieldStatus
	if to.Closed() {
		fields |= FieldClosed
	}
	if to.Closed() && (r.Waiting != nil || r.Paused() != nil) {
		fields |= FieldConversation
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: action, Note: note}, fields, mails...)
	r.Status = to
	if to.Closed() {
		r.ClosedAt = now.UTC()
		r.endConversation(now.UTC())
	}
	return c, nil
}

// Can reports whether the transition table lets r move to status to: what a page asks before
// it offers the action that moves it there.
func (r *Request) Can(to Status) bool {
	_, err := Transition(r.Status, to)
	return err == nil
}

// CanVerify reports whether the holder of the token whose secret hashes to tokenHash may
// confirm r at now: r awaits confirmation with that very token, still live. The confirmation
// page asks it before it offers the button; Verify and the store's write of a Verification
// apply the same rule.
func (r *Request) CanVerify(tokenHash string, now time.Time) bool {
	return r.Status == PendingVerification && tokenHash != "" && token.Equal(tokenHash, r.TokenHash) &&
		TokenLive(r.TokenExpires, now)
}

// ConfirmedWith reports whether the token whose secret hashes to tokenHash is the one that
// confirmed r, so that a second click on the link can be told "already confirmed".
func (r *Request) ConfirmedWith(tokenHash string) bool {
	return r.SpentTokenHash != "" && token.Equal(tokenHash, r.SpentTokenHash)
}

// Verify records that the holder of the token whose secret hashes to tokenHash confirmed their
// address at now: the request opens, the token is spent, and the receipt and the DPO
// notification are queued. It is refused unless CanVerify.
func (r *Request) Verify(tokenHash string, now time.Time) (Change, error) {
	if !r.CanVerify(tokenHash, now) {
		return Change{}, &TransitionError{From: r.Status, To: Open, Reason: "not_allowed"}
	}
	return r.verify(now)
}

// Verification is Verify for a request known only by its reference and the token in the
// confirmation link: a person is waiting, so the store applies it in one conditional write
// without reading first. It returns the request as far as the change sets it, and the change,
// with Version 0: its guard is the token (Change.Token), which the write checks by the rule
// CanVerify states. Committed, the request is the whole one as written.
func Verification(ref, tokenHash string, now time.Time) (*Request, Change) {
	r := &Request{Ref: ref, Status: PendingVerification, TokenHash: tokenHash}
	c, _ := r.verify(now) // pending → open is in the table
	return r, c
}

// verify is the change both Verify and Verification make.
func (r *Request) verify(now time.Time) (Change, error) {
	spent := r.TokenHash
	c, err := r.move(Open, ActorRequester, "", now, FieldVerified|FieldToken|FieldSpentToken, MailReceipt, MailDPONew)
	if err != nil {
		return c, err
	}
	c.Token = spent
	r.VerifiedAt = now.UTC()
	r.SpentTokenHash = spent
	r.TokenHash, r.TokenExpires = "", time.Time{}
	return c, nil
}

// Hold marks a request New made, not yet stored, as held: the intake stores it without a link
// and sends nothing, the day's ceiling on unconfirmed requests being reached (a flood), and
// the DPO sees it. Release gives it its link later.
func (r *Request) Hold() {
	r.HeldAt = r.ReceivedAt
	r.TokenHash, r.TokenExpires = "", time.Time{}
	delete(r.Mails, MailVerification)
	r.Audit = append(r.Audit, AuditEvent{At: r.ReceivedAt, Actor: ActorSystem, Action: ActionHeld})
}

// Held reports whether r was held at intake and has not been released.
func (r *Request) Held() bool { return !r.HeldAt.IsZero() && r.ReleasedAt.IsZero() }

// Release gives a held request its first link (whose secret hashes to tokenHash) and queues
// the mail that carries it; its reminder and expiry count from now.
func (r *Request) Release(tokenHash string, now time.Time) (Change, error) {
	if r.Status != PendingVerification || !r.Held() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionReleased}, FieldHeld|FieldToken, MailVerification)
	r.ReleasedAt = now.UTC()
	r.TokenHash = tokenHash
	r.TokenExpires = r.linkSince().Add(ExpireAfter)
	return c, nil
}

// linkSince is when r's first link went out, or would have: receipt, or the release of a
// request held at intake. Its reminder and expiry count from then.
func (r *Request) linkSince() time.Time {
	if !r.ReleasedAt.IsZero() {
		return r.ReleasedAt
	}
	return r.Entered()
}

// Remind replaces the verification token (the old link stops working) and queues the
// reminder. It is allowed once, while the request is unconfirmed and not held.
func (r *Request) Remind(tokenHash string, now time.Time) (Change, error) {
	if r.Status != PendingVerification || !r.RemindedAt.IsZero() || r.Held() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionReminded}, FieldReminded|FieldToken, MailReminder)
	r.RemindedAt = now.UTC()
	r.TokenHash = tokenHash
	r.TokenExpires = r.linkSince().Add(ExpireAfter)
	return c, nil
}

// ReissueToken replaces the verification token when the mail carrying it could not be sent:
// the secret is never stored, so a retry needs a new one. The verification mail is queued again.
func (r *Request) ReissueToken(tokenHash string, now time.Time) (Change, error) {
	if r.Status != PendingVerification || r.Held() {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	kind := MailVerification
	if !r.RemindedAt.IsZero() {
		kind = MailReminder
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: ActorSystem, Action: ActionReissued}, FieldToken, kind)
	r.TokenHash = tokenHash
	r.TokenExpires = r.linkSince().Add(ExpireAfter)
	return c, nil
}

// Expire closes a request that was never confirmed and removes the requester's personal data,
// and with it what the DPO noted about it (a note on an unconfirmed request is as much about
// its requester); the reference and the audit trail stay for accountability, each note's
// entry with who made it and when, without its text.
func (r *Request) Expire(now time.Time) (Change, error) {
	c, err := r.move(Expired, ActorSystem, "", now, FieldRequester|FieldToken)
	if err != nil {
		return c, err
	}
	r.wipeRequester()
	r.TokenHash, r.TokenExpires = "", time.Time{}
	r.wipeNotes(&c)
	return c, nil
}

// wipeNotes removes the DPO's notes from r's trail (they may name the requester), keeping who
// made them and when, and says which entries in c.
func (r *Request) wipeNotes(c *Change) {
	for i, e := range r.Audit {
		if e.Action == ActionNoted && e.Note != "" {
			r.Audit[i].Note = ""
			c.Wiped = append(c.Wiped, i)
		}
	}
}

// Start records that the DPO has begun working on the request.
func (r *Request) Start(actor string, now time.Time) (Change, error) {
	return r.move(InProgress, actor, "", now, 0)
}

// CanExtend says whether r may be extended at now, and if not, why (a *TransitionError whose
// Reason is "not_allowed", "not_extendable", "already_extended" or "deadline_passed"):
// Art. 12(3) allows one extension, only before the one-month deadline has passed, and none
// for the types on ClockPrompt, which are acted on without undue delay. The request page asks it before it
// offers the extension; Extend refuses by it.
func (r *Request) CanExtend(now time.Time) error {
	switch {
	case !r.Status.Active():
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	case !r.Type.Rules().Extendable():
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_extendable"}
	case r.Extension != nil:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "already_extended"}
	case now.After(r.Due):
		return &TransitionError{From: r.Status, To: r.Status, Reason: "deadline_passed"}
	}
	return nil
}

// Extend records the one extension of Art. 12(3) (see CanExtend), with the reasons the
// requester will be told.
func (r *Request) Extend(actor, reason string, deadline, now time.Time) (Change, error) {
	if err := r.CanExtend(now); err != nil {
		return Change{}, err
	}
	if code := CheckText(reason, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"reason": code}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionExtended, Note: reason}, FieldExtension, MailExtension)
	r.Extension = &Extension{At: now.UTC(), By: actor, Reason: reason, Deadline: deadline}
	return c, nil
}

// AddNote records an internal note; nothing is sent to anyone.
func (r *Request) AddNote(actor, note string, now time.Time) (Change, error) {
	if code := CheckText(note, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"note": code}
	}
	return r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionNoted, Note: note}, 0), nil
}

// Clone returns a copy of r that a change can be tried on without touching r: what a page
// does to show the mail an action would send before the DPO confirms it.
func (r *Request) Clone() *Request {
	c := *r
	c.Mails = maps.Clone(r.Mails)
	c.Audit = slices.Clone(r.Audit)
	if r.Extension != nil {
		x := *r.Extension
		c.Extension = &x
	}
	if r.Outcome != nil {
		o := *r.Outcome
		c.Outcome = &o
	}
	if r.Fee != nil {
		f := *r.Fee
		c.Fee = &f
	}
	if r.Lift != nil {
		l := *r.Lift
		c.Lift = &l
	}
	c.Recipients = slices.Clone(r.Recipients)
	if r.Waiting != nil {
		q := *r.Waiting
		c.Waiting = &q
	}
	c.Pauses = slices.Clone(r.Pauses)
	c.PageLinks = slices.Clone(r.PageLinks)
	if r.Delivery != nil {
		d := *r.Delivery
		d.Files = slices.Clone(r.Delivery.Files)
		if r.Delivery.Answer != nil {
			a := *r.Delivery.Answer
			d.Answer = &a
		}
		c.Delivery = &d
	}
	if r.Inbound != nil {
		m := *r.Inbound
		m.Attachments = slices.Clone(r.Inbound.Attachments)
		c.Inbound = &m
	}
	return &c
}

// wipeRequester removes what r holds about the requester: who they are, how to reach them,
// what they wrote and the mail it came in. The reference, the type and the audit trail stay.
func (r *Request) wipeRequester() {
	r.Name, r.Email, r.Details, r.CustomerRef, r.PostalAddress = "", "", "", "", ""
	if r.Inbound != nil {
		r.Inbound = &InboundMail{Key: r.Inbound.Key, Reason: r.Inbound.Reason, DMARCFail: r.Inbound.DMARCFail}
	}
}
