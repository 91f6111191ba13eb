package dsr

import (
	"slices"
	"strings"
	"time"
)

// Recipient is someone the controller discloses personal data to (Art. 4(9)), as the DPO keeps
// them once in the register: who they are, where a notice goes and in which language, and
// what they receive. Art. 19 obliges the controller to tell each of them about a
// rectification, erasure or restriction.
type Recipient struct {
	// ID is drawn when the recipient is added and never changes; mails and checklists refer
	// to it.
	ID       string
	Name     string
	Email    string
	Lang     string
	Receives string
}

// Length caps of a recipient's fields.
const (
	MaxRecipientName     = 200
	MaxRecipientReceives = 1000
	// MaxRecipients bounds the register: it is one item, and every checklist lists it.
	MaxRecipients = 50
)

// Normalize trims what the DPO typed.
func (x Recipient) Normalize() Recipient {
	x.Name = strings.TrimSpace(x.Name)
	x.Email = strings.TrimSpace(x.Email)
	x.Lang = strings.TrimSpace(x.Lang)
	x.Receives = strings.TrimSpace(strings.ReplaceAll(x.Receives, "\r\n", "\n"))
	return x
}

// Validate checks a normalized recipient and returns the errors per field, or nil.
func (x Recipient) Validate() FieldErrors {
	errs := FieldErrors{}
	if code := CheckText(x.Name, MaxRecipientName, false, true); code != "" {
		errs["name"] = code
	}
	if code := CheckEmail(x.Email); code != "" {
		errs["email"] = code
	}
	if x.Lang != "da" && x.Lang != "nb" && x.Lang != "en" {
		errs["lang"] = CodeInvalidChoice
	}
	if code := CheckText(x.Receives, MaxRecipientReceives, true, true); code != "" {
		errs["receives"] = code
	}
	if len(errs) == 0 {
		return nil
	}
	return errs
}

// Register is the recipients the DPO keeps once, for every request.
type Register struct {
	Recipients []Recipient
	// Version counts saved changes; a save must start from the version it read.
	Version int
}

// Find returns the recipient with id.
func (g *Register) Find(id string) (Recipient, bool) {
	i := slices.IndexFunc(g.Recipients, func(x Recipient) bool { return x.ID == id })
	if i < 0 {
		return Recipient{}, false
	}
	return g.Recipients[i], true
}

// Put adds x (with a new ID from newID when x has none) or replaces the recipient with x's ID.
func (g *Register) Put(x Recipient, newID func() string) (Recipient, error) {
	x = x.Normalize()
	if errs := x.Validate(); errs != nil {
		return x, errs
	}
	if x.ID != "" {
		i := slices.IndexFunc(g.Recipients, func(y Recipient) bool { return y.ID == x.ID })
		if i < 0 {
			return x, &TransitionError{Reason: "no_recipient"}
		}
		g.Recipients[i] = x
		return x, nil
	}
	if len(g.Recipients) >= MaxRecipients {
		return x, &TransitionError{Reason: "register_full"}
	}
	x.ID = newID()
	g.Recipients = append(g.Recipients, x)
	return x, nil
}

// Remove takes the recipient with id out of the register. Requests that told them keep their
// own copy.
func (g *Register) Remove(id string) bool {
	n := len(g.Recipients)
	g.Recipients = slices.DeleteFunc(g.Recipients, func(x Recipient) bool { return x.ID == id })
	return len(g.Recipients) < n
}

// Means is how a recipient was dealt with on one request. The values are stored and
// translated ("recipients.means.<code>"): never rename one.
type Means string

const (
	// ToldByDesk: the desk mailed the recipient its notice.
	ToldByDesk Means = "desk_mail"
	// ToldOtherwise: the DPO told them another way (phone, their portal, a letter) and noted how.
	ToldOtherwise Means = "other"
	// NotDisclosed: this requester's data never went to this recipient, so there is nothing to
	// tell; the DPO notes why they know.
	NotDisclosed Means = "not_disclosed"
)

// RecipientNotice is one line of a request's Art. 19 checklist: the recipient as the register
// had them then, how and when they were dealt with, and the text they were sent or the DPO's
// note.
type RecipientNotice struct {
	Recipient
	Means Means
	At    time.Time
	By    string
	Note  string
}

// Told reports whether the recipient was informed (by the desk or otherwise).
func (n RecipientNotice) Told() bool { return n.Means == ToldByDesk || n.Means == ToldOtherwise }

// RecipientMail is the mail kind of the notice to recipient id.
func RecipientMail(id string) MailKind { return MailKind(recipientMailPrefix + id) }

const recipientMailPrefix = "recipient_"

// RecipientID returns the recipient a mail kind is the notice to, if it is one.
func (k MailKind) RecipientID() (string, bool) {
	return strings.CutPrefix(string(k), recipientMailPrefix)
}

// Notice returns the checklist line for recipient id.
func (r *Request) Notice(id string) (RecipientNotice, bool) {
	i := slices.IndexFunc(r.Recipients, func(n RecipientNotice) bool { return n.ID == id })
	if i < 0 {
		return RecipientNotice{}, false
	}
	return r.Recipients[i], true
}

// Told lists the recipients who were informed.
func (r *Request) Told() []RecipientNotice {
	var out []RecipientNotice
	for _, n := range r.Recipients {
		if n.Told() {
			out = append(out, n)
		}
	}
	return out
}

// Open lists the recipients of the register not yet on r's checklist: what Art. 19 still asks
// the DPO to deal with.
func (r *Request) Open(g Register) []Recipient {
	var out []Recipient
	for _, x := range g.Recipients {
		if _, ok := r.Notice(x.ID); !ok {
			out = append(out, x)
		}
	}
	return out
}

// CanTellRecipients says whether r's recipients may be dealt with (a *TransitionError whose
// Reason is "not_allowed" or "no_recipients"): for a rectification, erasure or restriction,
// while it is being worked on or once carried out.
func (r *Request) CanTellRecipients() error {
	switch {
	case !r.Type.Rules().Recipients:
		return &TransitionError{From: r.Status, To: r.Status, Reason: "no_recipients"}
	case r.Status.Active(), r.Status == Completed && r.Outcome != nil && r.Outcome.Result != ResultNoData:
		return nil
	}
	return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
}

// TellRecipients records that the desk mails each of rs the notice of Art. 19 with the DPO's
// instruction (what to rectify, erase or restrict), and queues one mail per recipient. A
// recipient already on the checklist is refused.
func (r *Request) TellRecipients(actor string, rs []Recipient, instruction string, now time.Time) (Change, error) {
	if err := r.CanTellRecipients(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if len(rs) == 0 {
		errs["recipients"] = CodeRequired
	}
	for _, x := range rs {
		if _, done := r.Notice(x.ID); done || x.ID == "" || x.Validate() != nil {
			errs["recipients"] = CodeInvalidChoice
		}
	}
	if code := CheckText(instruction, MaxMessage, true, true); code != "" {
		errs["instruction"] = code
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	kinds := make([]MailKind, 0, len(rs))
	names := make([]string, 0, len(rs))
	for _, x := range rs {
		kinds = append(kinds, RecipientMail(x.ID))
		names = append(names, x.Name)
	}
	ev := AuditEvent{At: now.UTC(), Actor: actor, Action: ActionRecipientsTold, Note: strings.Join(names, ", ") + ": " + instruction}
	c := r.begin(ev, FieldRecipients, kinds...)
	r.Recipients = slices.Clone(r.Recipients)
	for _, x := range rs {
		r.Recipients = append(r.Recipients, RecipientNotice{Recipient: x, Means: ToldByDesk, At: now.UTC(), By: actor, Note: instruction})
	}
	return c, nil
}

// RecordRecipient records how recipient x was dealt with without the desk's mail: told some
// other way, or not a recipient of this requester's data; note says how, or how we know.
func (r *Request) RecordRecipient(actor string, x Recipient, means Means, note string, now time.Time) (Change, error) {
	if err := r.CanTellRecipients(); err != nil {
		return Change{}, err
	}
	errs := FieldErrors{}
	if _, done := r.Notice(x.ID); done || x.ID == "" || x.Validate() != nil {
		errs["recipient"] = CodeInvalidChoice
	}
	if means != ToldOtherwise && means != NotDisclosed {
		errs["means"] = CodeInvalidChoice
	}
	if code := CheckText(note, MaxMessage, true, true); code != "" {
		errs["note"] = code
	}
	if len(errs) > 0 {
		return Change{}, errs
	}
	ev := AuditEvent{At: now.UTC(), Actor: actor, Action: ActionRecipientRecorded, Note: x.Name + " (" + string(means) + "): " + note}
	c := r.begin(ev, FieldRecipients)
	r.Recipients = append(slices.Clone(r.Recipients), RecipientNotice{Recipient: x, Means: means, At: now.UTC(), By: actor, Note: note})
	return c, nil
}
