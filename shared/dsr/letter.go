package dsr

import "time"

// Answered by letter. A request registered without an address (a letter, a call, a visit)
// has no mailbox for the desk to write to, yet the law still wants the requester told: of an
// extension and why (Art. 12(3)), of a refusal, its reasons and their remedies (Art. 12(4)), of
// the answer itself, and asked what the controller needs to know. Every change that would
// mail the requester decides the same, and records the same audit event; for such a request
// the mail becomes a letter (MailLetter): the caller keeps its exact text with the request,
// the DPO prints and posts it and records the day it was posted (RecordPosted). Nothing sends
// a letter and nothing retries one.

// ActionPosted: a DPO posted a letter to the requester; the note is the letter's kind.
const ActionPosted Action = "letter_posted"

// Field error codes of recording a posted letter.
const (
	// CodeBeforeLetter: a posting day before the letter was written.
	CodeBeforeLetter = "before_letter"
)

// ByMail reports whether the desk can reach r's requester by mail: r has an address. A
// request a DPO registered without one is answered by letter.
func (r *Request) ByMail() bool { return r.Email != "" }

// ByLetter reports whether a mail of kind k about r is a letter the DPO posts: a mail to the
// requester (not a notice to a recipient of the data, nor the DPO's own) for a requester the
// desk cannot mail.
func (r *Request) ByLetter(k MailKind) bool {
	_, toRecipient := k.RecipientID()
	return k.ToRequester() && !toRecipient && !r.ByMail()
}

// Letters lists the letters of r not yet posted, in a stable order.
func (r *Request) Letters() []MailKind { return r.mailsIn(MailLetter) }

// CanRecordPosted says whether a DPO may record that r's letter of kind k was posted: it is a
// letter not yet posted.
func (r *Request) CanRecordPosted(k MailKind) error {
	if r.Mails[k].State != MailLetter {
		return &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	return nil
}

// RecordPosted records that a DPO (actor) posted r's letter of kind k on the day that begins
// at day (the controller's local midnight): no earlier than the day the letter was written,
// and not after now. The letter's state is then MailPosted at that day; the audit trail says
// who recorded it and when. That is the controller's record that the notice went (Art. 5(2)).
func (r *Request) RecordPosted(actor string, k MailKind, day, now time.Time) (Change, error) {
	if k == "" {
		return Change{}, FieldErrors{"letter": CodeRequired}
	}
	if err := r.CanRecordPosted(k); err != nil {
		return Change{}, err
	}
	written := r.Mails[k].At
	switch {
	case day.IsZero():
		return Change{}, FieldErrors{"posted_on": CodeRequired}
	case day.After(now):
		return Change{}, FieldErrors{"posted_on": CodeInFuture}
	case !day.AddDate(0, 0, 1).After(written):
		return Change{}, FieldErrors{"posted_on": CodeBeforeLetter}
	}
	now = now.UTC()
	c := r.begin(AuditEvent{At: now, Actor: actor, Action: ActionPosted, Note: string(k)}, 0)
	r.Mails[k] = MailState{State: MailPosted, At: day.UTC()}
	// The state is written as a mail's is; nothing is sent.
	c.Letters = []MailKind{k}
	return c, nil
}
