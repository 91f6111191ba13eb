package dsr

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Mail to the privacy address (functions/inbound). A readable mail from an address the desk
// can write to becomes an unclassified request, received when SES received it, and its sender
// gets the confirmation link a form request gets. A reply to a mail the desk sent joins its
// request's conversation (Reply). Auto-replies, bounces and mailing lists make nothing. What
// the desk must not answer (spam, a virus) or cannot read is quarantined for the DPO: stored, shown,
// never answered.

// InboundMail is what a request keeps of the mail it came in. The mail itself, with every
// attachment, stays in the inbound bucket under Key for the DPO to open, until the bucket's
// lifecycle removes it.
type InboundMail struct {
	// Key is the raw message's object key in the inbound bucket.
	Key     string
	Subject string
	// Attachments are the mail's attachments as its parts name them, in order.
	Attachments []Attachment
	// DMARCFail: the sender's domain publishes a DMARC policy this mail failed, so its From
	// may be forged; the DPO is told so before trusting it.
	DMARCFail bool
	// Reason is why the mail is quarantined (Quarantined): a Quarantine* code; "" for a mail that made a request.
	Reason string
}

// Attachment is one attachment of an inbound mail: its file name as the part gives it, its
// decoded size in bytes and its media type.
type Attachment struct {
	Name string
	Size int64
	Type string
}

// Quarantined is a request the desk stored from a mail but will not answer by itself: SES
// found spam or a virus in it, or the desk could not read it. A DPO admits it (the sender then
// gets the confirmation link) or dismisses it. Stored: never rename it.
const Quarantined Status = "quarantined"

// Why a mail is quarantined. Values are stored (InboundMail.Reason) and translated
// ("quarantine.<code>").
const (
	QuarantineSpam  = "spam"
	QuarantineVirus = "virus"
	// QuarantineUnreadable: the mail's structure or text could not be read.
	QuarantineUnreadable = "unreadable"
	// QuarantineTooLarge: larger than the desk reads; SES accepts up to 40 MB.
	QuarantineTooLarge = "too_large"
	// QuarantineAddress: the sender's address is one the desk cannot write to.
	QuarantineAddress = "address"
)

// Audit actions of inbound mail and of what became of mail the desk sent.
const (
	ActionQuarantined Action = "quarantined"
	ActionAdmitted    Action = "admitted"
	ActionDismissed   Action = "dismissed"
	// ActionBounced and ActionComplained: SES heard back that a mail SES had accepted did
	// not reach the requester, or that the requester marked it as spam; the note is the mail.
	ActionBounced    Action = "mail_bounced"
	ActionComplained Action = "mail_complained"
)

// A mail that asked something is joined to its request by its reference; these are the limits
// of what the desk keeps of one.
const (
	// MaxSubject bounds the subject kept with a request.
	MaxSubject = 300
	// maxAttachments bounds the attachments listed on a request (the mail keeps them all).
	maxAttachments = 50
)

// IncomingMail is what the desk read from a mail to the privacy address.
type IncomingMail struct {
	// From is the sender's address, Name the display name it came with.
	From string
	Name string
	// Text is the mail's text (its plain part, or its HTML part as text).
	Text string
	// Lang is the language the text is in, as far as it could be told.
	Lang string
	// ReceivedAt is when SES received the mail: the request's receipt.
	ReceivedAt time.Time
	Mail       InboundMail
}

// FromMail makes the unclassified request a readable mail from a sendable address (CheckEmail)
// is, received when SES received it and due on the short clock from then (due, by Type.Due),
// with the hash of its confirmation link's secret. What the mail said is kept as the details,
// cut to their limit (the mail keeps the rest).
func FromMail(ref string, m IncomingMail, due time.Time, tokenHash string) *Request {
	r := New(ref, Submission{
		Type:    string(Unclassified),
		Name:    CleanLine(m.Name, MaxName),
		Email:   m.From,
		Details: CleanText(m.Text, MaxDetails),
		Lang:    m.Lang,
	}, m.ReceivedAt, due, tokenHash)
	r.Channel = ChannelEmail
	r.Audit[0].Note = string(ChannelEmail)
	r.Inbound = keep(m.Mail)
	return r
}

// QuarantineMail makes the request a mail is quarantined as, for reason (a Quarantine* code): nothing is sent,
// the DPO decides. A from that CheckEmail accepts is kept, so that a release can answer it.
func QuarantineMail(ref string, m IncomingMail, reason string, due time.Time) *Request {
	received := m.ReceivedAt.UTC()
	r := &Request{
		Ref:        ref,
		Type:       Unclassified,
		Status:     Quarantined,
		Channel:    ChannelEmail,
		Name:       CleanLine(m.Name, MaxName),
		Details:    CleanText(m.Text, MaxDetails),
		Lang:       m.Lang,
		ReceivedAt: received,
		Due:        due,
		Mails:      map[MailKind]MailState{},
		Audit:      []AuditEvent{{At: received, Actor: ActorSystem, Action: ActionQuarantined, Note: reason}},
		Version:    1,
	}
	if CheckEmail(m.From) == "" {
		r.Email = m.From
	}
	r.Inbound = keep(m.Mail)
	r.Inbound.Reason = reason
	return r
}

func keep(m InboundMail) *InboundMail {
	k := m
	k.Subject = CleanLine(m.Subject, MaxSubject)
	k.Attachments = slices.Clone(m.Attachments[:min(len(m.Attachments), maxAttachments)])
	for i := range k.Attachments {
		k.Attachments[i].Name = CleanLine(k.Attachments[i].Name, MaxName)
		k.Attachments[i].Type = CleanLine(k.Attachments[i].Type, MaxName)
	}
	return &k
}

// escalates reports, for a quarantined mail, whether the DPO must see it on its clock: a mail the
// desk could not read may be a person's request, whose deadline runs from its receipt; spam
// and viruses are only listed.
func (m *InboundMail) escalates() bool {
	return m != nil && m.Reason != QuarantineSpam && m.Reason != QuarantineVirus
}

// CanAdmit says whether a DPO may admit r: it is quarantined, and there is an address to
// send the confirmation link to.
func (r *Request) CanAdmit() error {
	switch {
	case r.Status != Quarantined:
		return &TransitionError{From: r.Status, To: PendingVerification, Reason: "not_allowed"}
	case r.Email == "":
		return &TransitionError{From: r.Status, To: PendingVerification, Reason: "no_address"}
	}
	return nil
}

// Admit answers a quarantined mail after all: the DPO (actor) judged it a person's request,
// and its sender gets the confirmation link (whose secret hashes to tokenHash) as a form
// request's does. The link, its reminder and its expiry run from now (ReleasedAt).
func (r *Request) Admit(actor, tokenHash string, now time.Time) (Change, error) {
	if err := r.CanAdmit(); err != nil {
		return Change{}, err
	}
	now = now.UTC()
	c, err := r.move(PendingVerification, actor, "", now, FieldToken|FieldHeld, MailVerification)
	if err != nil {
		return c, err
	}
	r.ReleasedAt = now
	r.TokenHash, r.TokenExpires = tokenHash, now.Add(ExpireAfter)
	return c, nil
}

// Dismiss closes a quarantined mail without answering it (spam, nothing to do with personal data),
// with the DPO's note, and removes what it held about its sender; the mail itself goes with
// the inbound bucket's lifecycle.
func (r *Request) Dismiss(actor, note string, now time.Time) (Change, error) {
	if r.Status != Quarantined {
		return Change{}, &TransitionError{From: r.Status, To: Expired, Reason: "not_allowed"}
	}
	if code := CheckText(note, MaxMessage, true, false); code != "" {
		return Change{}, FieldErrors{"note": code}
	}
	c, err := r.move(Expired, actor, note, now, FieldRequester|FieldToken)
	if err != nil {
		return c, err
	}
	r.wipeRequester()
	r.wipeNotes(&c)
	return c, nil
}

// CleanLine makes s one line of at most max characters: valid UTF-8, every run of control
// characters and spaces one space, format characters that hide text dropped.
func CleanLine(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case unicode.IsControl(r) || unicode.IsSpace(r) || r == '\u2028' || r == '\u2029':
			space = true
			continue
		case unicode.Is(unicode.Cf, r):
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return cutRunes(b.String(), max)
}

// CleanText makes s text CheckText accepts as multi-line, of at most max characters: valid
// UTF-8, lines ended by LF, no control characters but tab, at most two blank lines in a row,
// no space at either end.
func CleanText(s string, max int) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	blank := 0
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.TrimRightFunc(strings.Map(func(r rune) rune {
			switch {
			case r == '\t':
				return r
			case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
				return ' '
			}
			return r
		}, line), unicode.IsSpace)
		if line == "" {
			blank++
			if blank > 2 {
				continue
			}
		} else {
			blank = 0
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return cutRunes(strings.TrimSpace(b.String()), max)
}

// cutRunes cuts s to at most max characters, marking a cut with an ellipsis.
func cutRunes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	n := 0
	for i := range s {
		if n == max-1 {
			return strings.TrimRightFunc(s[:i], unicode.IsSpace) + "…"
		}
		n++
	}
	return s
}

// What SES heard back about a mail it accepted.

// Feedback kinds. Values are stored and translated ("feedback.<code>").
const (
	// FeedbackBounce: the requester's mail server refused the mail for good.
	FeedbackBounce = "bounce"
	// FeedbackComplaint: the requester marked the mail as spam.
	FeedbackComplaint = "complaint"
)

// Feedback is what SES reported about one mail after accepting it.
type Feedback struct {
	Kind string
	At   time.Time
	// Detail is SES's classification (bounce type and subtype, complaint type): no address.
	Detail string
}

// RecordFeedback records that mail kind of r bounced or was complained about (f.Kind), as SES
// reported at f.At: the request's page shows it, the digest lists it until a DPO acts on the
// request (Undelivered), and the mail is not retried. A kind r never sent is refused
// (fault.Refused).
func (r *Request) RecordFeedback(kind MailKind, f Feedback) (Change, error) {
	m, ok := r.Mails[kind]
	if !ok || (f.Kind != FeedbackBounce && f.Kind != FeedbackComplaint) {
		return Change{}, &TransitionError{From: r.Status, To: r.Status, Reason: "not_allowed"}
	}
	action := ActionBounced
	if f.Kind == FeedbackComplaint {
		action = ActionComplained
	}
	f.At, f.Detail = f.At.UTC(), CleanLine(f.Detail, 100)
	c := r.begin(AuditEvent{At: f.At, Actor: ActorSystem, Action: action, Note: string(kind)}, 0)
	c.Feedback = []MailKind{kind}
	m.Feedback = &f
	r.Mails[kind] = m
	return c, nil
}

// Undelivered lists the mails of r that SES reported bounced or complained about and that no
// DPO has acted on since, in a stable order, with the time of the newest such report. The
// digest lists them every day until then: the notice the law requires did not reach the
// requester, and only the DPO can reach them another way. Anything a DPO records on the
// request after the report ends it (a note saying how the requester was reached, another
// mail, an answer), as the conversation's "replied" ends (Conversation): the trail then shows
// what was done. "After" is the trail's order, not the clock's: SES's time of a bounce can be
// earlier than an action recorded before the bounce arrived. An expired request has nobody
// left to reach.
func (r *Request) Undelivered() ([]MailKind, time.Time) {
	if r.Status == Expired {
		return nil, time.Time{}
	}
	var kinds []MailKind
	var last time.Time
	for k, m := range r.Mails {
		if f := m.Feedback; f != nil && !r.actedOnSince(k) {
			kinds = append(kinds, k)
			if f.At.After(last) {
				last = f.At
			}
		}
	}
	slices.Sort(kinds)
	return kinds, last
}

// actedOnSince reports whether a DPO recorded anything on r after the newest feedback on mail
// kind (ActionBounced or ActionComplained, noting kind) in the audit trail.
func (r *Request) actedOnSince(kind MailKind) bool {
	for i := len(r.Audit) - 1; i >= 0; i-- {
		switch e := r.Audit[i]; {
		case (e.Action == ActionBounced || e.Action == ActionComplained) && e.Note == string(kind):
			return false
		case e.Actor != ActorRequester && e.Actor != ActorSystem:
			return true
		}
	}
	return false
}

// Replies by mail. When the desk receives mail, every mail to a requester says Reply-To the
// privacy address with the request's reference as its +tag (SES delivers user+tag@domain to a
// rule for user@domain), so a reply finds its request without anyone reading it.

// ReplyAddress is the address a reply to a mail about request ref goes to, when the desk
// receives mail at inbound: privacy@example.dk → privacy+K7MQ-4XTZ@example.dk.
func ReplyAddress(inbound, ref string) string {
	at := strings.LastIndexByte(inbound, '@')
	if at < 1 {
		return inbound
	}
	return inbound[:at] + "+" + ref + inbound[at:]
}

// ThreadRef is the reference of the request a mail to inbound answers, if it names one: the
// +tag of one of its recipients at inbound, else a reference written as the desk writes it
// (K7MQ-4XTZ) in its subject. Whether the mail may join that request is the caller's question
// (the sender must be the requester).
func ThreadRef(inbound string, recipients []string, subject string) (string, bool) {
	at := strings.LastIndexByte(inbound, '@')
	if at > 0 {
		local, domain := inbound[:at], inbound[at+1:]
		for _, rcpt := range recipients {
			rat := strings.LastIndexByte(rcpt, '@')
			if rat < 1 || !strings.EqualFold(rcpt[rat+1:], domain) {
				continue
			}
			user, tag, ok := strings.Cut(rcpt[:rat], "+")
			if !ok || !strings.EqualFold(user, local) {
				continue
			}
			if ref, ok := NormalizeReference(tag); ok {
				return ref, true
			}
		}
	}
	for _, word := range strings.FieldsFunc(subject, func(r rune) bool {
		return !(r == '-' || r >= '0' && r <= '9' || r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z')
	}) {
		if len(word) == ReferenceLength+1 && word[ReferenceLength/2] == '-' {
			if ref, ok := NormalizeReference(word); ok {
				return ref, true
			}
		}
	}
	return "", false
}

// SameSender reports whether a mail from address from may speak for r: it comes from r's
// own address (case aside). A mail that names a request from any other address starts a
// request of its own.
func (r *Request) SameSender(from string) bool {
	return r.Email != "" && strings.EqualFold(strings.TrimSpace(from), r.Email)
}
