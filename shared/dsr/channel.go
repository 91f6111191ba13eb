package dsr

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/dsrdesk/dsrdesk/shared/token"
)

// The law counts a request from its receipt, whatever way it came (Art. 12(3); EDPB Guidelines
// 01/2022 §§ 52–56): a letter, a call, a mail to the privacy address are requests as much as
// the form is. A DPO registers those that reached the controller outside the desk, with the
// time they were received, and mail to the privacy address enters by itself (functions/inbound).

// Channel is how a request reached the controller. The values are stored and translated
// ("channel.<code>"): never rename one.
type Channel string

// The channels.
const (
	// ChannelWeb is the desk's own form or JSON API; a request stored before channels were
	// recorded has none and reads as ChannelWeb.
	ChannelWeb      Channel = "web"
	ChannelEmail    Channel = "email"
	ChannelLetter   Channel = "letter"
	ChannelPhone    Channel = "phone"
	ChannelInPerson Channel = "in_person"
	ChannelOther    Channel = "other"
)

// Channels lists the channels a DPO registers a request from, in the order the workspace
// offers them.
var Channels = []Channel{ChannelEmail, ChannelLetter, ChannelPhone, ChannelInPerson, ChannelOther}

// Via is the channel r came by.
func (r *Request) Via() Channel {
	if r.Channel == "" {
		return ChannelWeb
	}
	return r.Channel
}

// Unclassified is a request whose right is not known yet: a mail to the privacy address, or a
// letter the DPO has not read closely. Until the DPO classifies it, it is held to the short
// clock (the shortest any right has: it may be a withdrawal of consent), cannot be extended,
// and can be neither completed nor refused.
const Unclassified Type = "unclassified"

// Fileable reports whether a requester may file a request of type t themselves (the form's
// choices): every type but Unclassified, which only the desk gives.
func (t Type) Fileable() bool { return slices.Contains(Types, t) }

// Audit actions of requests that come by other channels. Values are stored and translated.
const (
	// ActionRegistered: a DPO registered a request received by another channel; the note is
	// the channel.
	ActionRegistered Action = "registered"
	// ActionConfirmedOther: a DPO confirmed the requester's identity by other means than the
	// confirmation link; the note says how.
	ActionConfirmedOther Action = "confirmed_other_means"
	// ActionClassified: a DPO gave an unclassified request its type; the note is the type.
	ActionClassified Action = "classified"
)

// Identity choices of a registration.
const (
	// IdentityOtherMeans: the DPO has confirmed who the requester is (a call back to the
	// number on file, a signed letter, in person) and says how; the request opens at once.
	IdentityOtherMeans = "other_means"
	// IdentityLink: the requester gets the confirmation link, as from the form.
	IdentityLink = "link"
)

// Limits of a registration's fields, in characters.
const MaxPostalAddress = 300

// Field error codes of a registration, besides the common ones.
const (
	// CodeInFuture: a time of receipt after now.
	CodeInFuture = "in_future"
	// CodeNeedsEmail: a confirmation link was chosen for a requester without an address.
	CodeNeedsEmail = "needs_email"
)

// langs are the languages a request may be in (i18n's; the model does not import it).
var langs = []string{"da", "nb", "en"}

// Registration is what a DPO registers of a request that reached the controller by another
// channel.
type Registration struct {
	Channel Channel
	// ReceivedAt is when the controller received it: the deadline runs from it.
	ReceivedAt    time.Time
	Type          Type
	Name          string
	Email         string
	PostalAddress string
	Lang          string
	Details       string
	// Identity is IdentityOtherMeans or IdentityLink; IdentityNote says how the identity was
	// confirmed, for the first.
	Identity     string
	IdentityNote string
	// Form is the registration form's own random key, which every post of that form carries
	// (the preview, the confirmation, a browser's resubmission): the request it stores is
	// found again by it (FormKey) under the reference it gives (RegistrationReference).
	Form string
}

// Normalize trims what a form sends, as Submission.Normalize does.
func (g Registration) Normalize() Registration {
	g.Name = strings.TrimSpace(g.Name)
	g.Email = strings.TrimSpace(g.Email)
	g.PostalAddress = strings.TrimSpace(strings.ReplaceAll(g.PostalAddress, "\r\n", "\n"))
	g.Lang = strings.TrimSpace(g.Lang)
	g.Details = strings.TrimSpace(strings.ReplaceAll(g.Details, "\r\n", "\n"))
	g.IdentityNote = strings.TrimSpace(strings.ReplaceAll(g.IdentityNote, "\r\n", "\n"))
	return g
}

// Validate checks a normalized registration at now and returns the errors per field, or nil.
// The time of receipt may be in the past (a letter read today came days ago), never later
// than now; the address may be left out when the channel had none, but then the requester
// cannot get a confirmation link.
func (g Registration) Validate(now time.Time) FieldErrors {
	errs := FieldErrors{}
	if !slices.Contains(Channels, g.Channel) {
		errs["channel"] = CodeInvalidChoice
		if g.Channel == "" {
			errs["channel"] = CodeRequired
		}
	}
	switch {
	case g.ReceivedAt.IsZero():
		errs["received_at"] = CodeRequired
	case g.ReceivedAt.After(now):
		errs["received_at"] = CodeInFuture
	}
	if !g.Type.Fileable() && g.Type != Unclassified {
		errs["type"] = CodeInvalidChoice
		if g.Type == "" {
			errs["type"] = CodeRequired
		}
	}
	rules := g.Type.Rules()
	if code := CheckText(g.Name, MaxName, false, rules.NameRequired); code != "" {
		errs["name"] = code
	} else if g.Name != "" && !strings.ContainsFunc(g.Name, unicode.IsLetter) {
		errs["name"] = CodeRequired
	}
	switch {
	case g.Email != "":
		if code := CheckEmail(g.Email); code != "" {
			errs["email"] = code
		}
	case g.Channel == ChannelEmail:
		errs["email"] = CodeRequired
	case g.Identity == IdentityLink:
		errs["email"] = CodeNeedsEmail
	}
	if code := CheckText(g.PostalAddress, MaxPostalAddress, true, false); code != "" {
		errs["postal_address"] = code
	}
	if !slices.Contains(langs, g.Lang) {
		errs["lang"] = CodeInvalidChoice
	}
	if code := CheckText(g.Details, MaxDetails, true, rules.DetailsRequired); code != "" {
		errs["details"] = code
	}
	switch g.Identity {
	case IdentityOtherMeans:
		if code := CheckText(g.IdentityNote, MaxMessage, true, true); code != "" {
			errs["identity_note"] = code
		}
	case IdentityLink:
	case "":
		errs["identity"] = CodeRequired
	default:
		errs["identity"] = CodeInvalidChoice
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Registered makes the request a DPO (actor) registers at now from a validated registration,
// due at due (Type.Due from its receipt). With the identity confirmed by other means it is
// open at once, its receipt queued if the requester has an address; otherwise it awaits the
// requester's confirmation, with the hash of the link's secret, and the link's mail queued.
// The link, the reminder and the expiry run from now, when the request entered the desk:
// a letter that took a week to read still gets a week to be confirmed.
func Registered(ref string, g Registration, due time.Time, tokenHash, actor string, now time.Time) *Request {
	now = now.UTC()
	r := &Request{
		Ref:           ref,
		Type:          g.Type,
		Status:        PendingVerification,
		Channel:       g.Channel,
		Name:          g.Name,
		Email:         g.Email,
		PostalAddress: g.PostalAddress,
		Details:       g.Details,
		Lang:          g.Lang,
		ReceivedAt:    g.ReceivedAt.UTC(),
		EnteredAt:     now,
		Due:           due,
		Mails:         map[MailKind]MailState{},
		Audit:         []AuditEvent{{At: now, Actor: actor, Action: ActionRegistered, Note: string(g.Channel)}},
		Version:       1,
	}
	if g.Form != "" {
		r.FormKey = token.Hash(g.Form)
	}
	if g.Identity == IdentityOtherMeans {
		r.Status, r.VerifiedAt = Open, now
		r.Audit = append(r.Audit, AuditEvent{At: now, Actor: actor, Action: ActionConfirmedOther, Note: g.IdentityNote})
		if r.Email != "" {
			r.Mails[MailReceipt] = MailState{State: MailQueued, At: now}
		}
		return r
	}
	r.TokenHash, r.TokenExpires = tokenHash, now.Add(ExpireAfter)
	r.Mails[MailVerification] = MailState{State: MailQueued, At: now}
	return r
}

// RegistrationReference is the reference the attempt-th try (from 0) to store the registration
// posted with form key form gets: the same for every post of the same form, so that a form
// posted twice (a double click, a browser's resubmission, a retry after a lost answer) finds
// the request its first post stored instead of storing a second one. A further attempt is
// for a reference another request happens to hold.
func RegistrationReference(form string, attempt int) string {
	return ReferenceFor("registration\n" + form + "\n" + strconv.Itoa(attempt))
}

// SameRegistration reports whether r and o were stored from one registration form: o is what
// an earlier post of the form r comes from stored.
func (r *Request) SameRegistration(o *Request) bool {
	return r.FormKey != "" && o != nil && token.Equal(r.FormKey, o.FormKey)
}

// QueuedMails lists the mails a new request was stored with, queued, in a stable order: what
// the caller sends once it is stored.
func (r *Request) QueuedMails() []MailKind { return r.mailsIn(MailQueued) }

// mailsIn lists r's mails in state st, in a stable order.
func (r *Request) mailsIn(st MailStatus) []MailKind {
	var kinds []MailKind
	for k, m := range r.Mails {
		if m.State == st {
			kinds = append(kinds, k)
		}
	}
	slices.Sort(kinds)
	return kinds
}

// Entered is when r entered the desk: its receipt, or for a request a DPO registered after
// the fact, the registration. The confirmation link, the reminder and the expiry of an
// unconfirmed request run from it.
func (r *Request) Entered() time.Time {
	if r.EnteredAt.IsZero() {
		return r.ReceivedAt
	}
	return r.EnteredAt
}

// CanConfirmOther says whether a DPO may confirm r's requester by other means now: while r
// awaits confirmation.
func (r *Request) CanConfirmOther() error {
	if r.Status != PendingVerification {
		return &TransitionError{From: r.Status, To: Open, Reason: "not_allowed"}
	}
	return nil
}

// ConfirmOther records that a DPO (actor) confirmed the requester's identity by other means
// (a call, a signed letter, a visit), saying how in note: the request opens as if the link
// had been followed, the link stops working, and the requester's receipt is queued if there
// is an address to send it to.
func (r *Request) ConfirmOther(actor, note string, now time.Time) (Change, error) {
	if err := r.CanConfirmOther(); err != nil {
		return Change{}, err
	}
	if code := CheckText(note, MaxMessage, true, true); code != "" {
		return Change{}, FieldErrors{"note": code}
	}
	var mails []MailKind
	if r.Email != "" {
		mails = append(mails, MailReceipt)
	}
	now = now.UTC()
	c := r.begin(AuditEvent{At: now, Actor: actor, Action: ActionConfirmedOther, Note: note}, FieldStatus|FieldVerified|FieldToken, mails...)
	r.Status, r.VerifiedAt = Open, now
	r.TokenHash, r.TokenExpires = "", time.Time{}
	return c, nil
}

// CanClassify says whether a DPO may give r its type now: r is unclassified and not closed.
func (r *Request) CanClassify() error {
	if r.Type != Unclassified || r.Status.Closed() {
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	return nil
}

// Classify gives an unclassified request its type t, and with it the deadline of that type
// from the receipt (Type.Due on cal with the short clock's promptDays): a month for most,
// the short clock for a withdrawal or a marketing objection. A deadline that has passed
// meanwhile is simply overdue.
func (r *Request) Classify(actor string, t Type, cal Calendar, promptDays int, now time.Time) (Change, error) {
	if err := r.CanClassify(); err != nil {
		return Change{}, err
	}
	if !t.Fileable() {
		code := CodeInvalidChoice
		if t == "" {
			code = CodeRequired
		}
		return Change{}, FieldErrors{"type": code}
	}
	c := r.begin(AuditEvent{At: now.UTC(), Actor: actor, Action: ActionClassified, Note: string(t)}, FieldType)
	r.Type = t
	r.Due = t.Due(cal, r.ReceivedAt, promptDays)
	return c, nil
}
