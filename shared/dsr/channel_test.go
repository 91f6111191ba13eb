package dsr

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// fixedCalendar is a calendar of plain days: a month is 30 days, every day a working day.
type fixedCalendar struct{}

func (fixedCalendar) Due(received time.Time) time.Time { return received.AddDate(0, 0, 30) }
func (fixedCalendar) AddWorkingDays(d time.Time, n int) time.Time {
	return d.AddDate(0, 0, n)
}

// mailRequest is an unclassified request that came by mail, unconfirmed.
func mailRequest() *Request {
	return FromMail("M4IL-REQ1", IncomingMail{
		From: "ola@example.no", Name: "Ola Nordmann", Text: "Jeg vil vite hva dere har om meg.", Lang: "nb",
		ReceivedAt: received, Mail: InboundMail{Key: "mail/abc", Subject: "Innsyn"},
	}, received.AddDate(0, 0, 2), "hash")
}

// quarantinedRequest is a mail held for reason.
func quarantinedRequest(reason string) *Request {
	return QuarantineMail("H3LD-MAIL", IncomingMail{From: "x@example.com", Text: "?", Lang: "en", ReceivedAt: received,
		Mail: InboundMail{Key: "mail/held"}}, reason, received.AddDate(0, 0, 2))
}

func registration() Registration {
	return Registration{
		Channel: ChannelLetter, ReceivedAt: received, Type: Access, Name: "Karen Hansen", Email: "karen@example.dk",
		PostalAddress: "Vestergade 2\n8000 Aarhus C", Lang: "da", Details: "Brev af 2. marts", Identity: IdentityLink,
	}
}

func TestRegistrationValidate(t *testing.T) {
	now := received.Add(72 * time.Hour)
	tests := []struct {
		name string
		edit func(*Registration)
		want FieldErrors
	}{
		{"valid, with a link", func(*Registration) {}, nil},
		{"valid, confirmed on the phone without an address", func(g *Registration) {
			g.Channel, g.Email, g.Identity, g.IdentityNote = ChannelPhone, "", IdentityOtherMeans, "Called back on the number in the CRM"
		}, nil},
		{"received now", func(g *Registration) { g.ReceivedAt = now }, nil},
		{"received in the future", func(g *Registration) { g.ReceivedAt = now.Add(time.Minute) }, FieldErrors{"received_at": CodeInFuture}},
		{"no time of receipt", func(g *Registration) { g.ReceivedAt = time.Time{} }, FieldErrors{"received_at": CodeRequired}},
		{"no channel", func(g *Registration) { g.Channel = "" }, FieldErrors{"channel": CodeRequired}},
		{"the web is not registered", func(g *Registration) { g.Channel = ChannelWeb }, FieldErrors{"channel": CodeInvalidChoice}},
		{"unclassified may be registered", func(g *Registration) { g.Type = Unclassified }, nil},
		{"unknown type", func(g *Registration) { g.Type = "complaint" }, FieldErrors{"type": CodeInvalidChoice}},
		{"a name for access", func(g *Registration) { g.Name = "" }, FieldErrors{"name": CodeRequired}},
		{"no name for a withdrawal", func(g *Registration) { g.Type, g.Name = WithdrawConsent, "" }, nil},
		{"a link needs an address", func(g *Registration) { g.Channel, g.Email = ChannelPhone, "" }, FieldErrors{"email": CodeNeedsEmail}},
		{"a mail had an address", func(g *Registration) {
			g.Channel, g.Email, g.Identity, g.IdentityNote = ChannelEmail, "", IdentityOtherMeans, "x"
		}, FieldErrors{"email": CodeRequired}},
		{"a bad address", func(g *Registration) { g.Email = "karen@" }, FieldErrors{"email": CodeInvalidEmail}},
		{"other means needs a note", func(g *Registration) { g.Identity = IdentityOtherMeans }, FieldErrors{"identity_note": CodeRequired}},
		{"no identity choice", func(g *Registration) { g.Identity = "" }, FieldErrors{"identity": CodeRequired}},
		{"unknown language", func(g *Registration) { g.Lang = "sv" }, FieldErrors{"lang": CodeInvalidChoice}},
		{"rectification needs details", func(g *Registration) { g.Type, g.Details = Rectification, "" }, FieldErrors{"details": CodeRequired}},
		{"a postal address too long", func(g *Registration) { g.PostalAddress = strings.Repeat("a", MaxPostalAddress+1) }, FieldErrors{"postal_address": CodeTooLong}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := registration()
			tt.edit(&g)
			got := g.Normalize().Validate(now)
			if len(got) != len(tt.want) {
				t.Fatalf("Validate = %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[k] != v {
					t.Fatalf("Validate = %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestRegisteredWithALink(t *testing.T) {
	now := received.Add(10 * 24 * time.Hour) // a letter read ten days after it came
	g := registration()
	r := Registered("L3TT-ER01", g, due, "hash", "dpo@example.dk", now)
	if r.Status != PendingVerification || r.Via() != ChannelLetter || !r.ReceivedAt.Equal(received) || !r.Due.Equal(due) {
		t.Fatalf("registered = %+v", r)
	}
	// The link, the reminder and the expiry run from the registration, not from the letter.
	if !r.TokenExpires.Equal(now.Add(ExpireAfter)) || !r.Entered().Equal(now) {
		t.Fatalf("token expires %v, entered %v", r.TokenExpires, r.Entered())
	}
	if got := r.QueuedMails(); len(got) != 1 || got[0] != MailVerification {
		t.Fatalf("queued %v", got)
	}
	r.Mails[MailVerification] = MailState{State: MailSent, At: now, Attempts: 1}
	if r.FollowUp(now.Add(time.Hour)) != NoFollowUp || r.FollowUp(now.Add(ReminderAfter)) != FollowUpRemind {
		t.Fatal("follow-ups do not run from the registration")
	}
	if len(r.Audit) != 1 || r.Audit[0].Action != ActionRegistered || r.Audit[0].Actor != "dpo@example.dk" || r.Audit[0].Note != "letter" || !r.Audit[0].At.Equal(now) {
		t.Fatalf("audit %+v", r.Audit)
	}
	if q, at := r.SweepQueue(); q != QueueUnverified || !at.Equal(now.Add(ReminderAfter)) {
		t.Fatalf("sweep queue %s at %v", q, at)
	}
}

func TestRegisteredConfirmedByOtherMeans(t *testing.T) {
	now := received.Add(time.Hour)
	g := registration()
	g.Channel, g.Identity, g.IdentityNote = ChannelPhone, IdentityOtherMeans, "Called back on the number in the CRM"
	r := Registered("PH0N-E001", g, due, "", "dpo@example.dk", now)
	if r.Status != Open || !r.VerifiedAt.Equal(now) || r.TokenHash != "" {
		t.Fatalf("registered = %+v", r)
	}
	if len(r.Audit) != 2 || r.Audit[1].Action != ActionConfirmedOther || r.Audit[1].Note != g.IdentityNote {
		t.Fatalf("audit %+v", r.Audit)
	}
	if got := r.QueuedMails(); len(got) != 1 || got[0] != MailReceipt {
		t.Fatalf("queued %v", got)
	}
	g.Email = ""
	if r := Registered("PH0N-E002", g, due, "", "dpo", now); len(r.QueuedMails()) != 0 {
		t.Fatalf("no address, yet queued %v", r.QueuedMails())
	}
}

func TestConfirmOther(t *testing.T) {
	now := received.Add(3 * time.Hour)
	r := newRequest()
	if _, err := r.ConfirmOther("dpo", "  ", now); !errors.As(err, new(FieldErrors)) {
		t.Fatalf("no note: %v", err)
	}
	c, err := r.ConfirmOther("dpo", "Signed letter with ID", now)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != Open || r.TokenHash != "" || !r.VerifiedAt.Equal(now) || c.From != PendingVerification || len(c.Mails) != 1 || c.Mails[0] != MailReceipt {
		t.Fatalf("confirmed = %+v, change %+v", r, c)
	}
	if c.Event.Action != ActionConfirmedOther || c.Event.Actor != "dpo" || c.Event.Note != "Signed letter with ID" {
		t.Fatalf("event %+v", c.Event)
	}
	if _, err := r.ConfirmOther("dpo", "again", now); err == nil {
		t.Fatal("confirmed twice")
	}
	if r.CanVerify("hash", now) {
		t.Fatal("the link still confirms")
	}
}

func TestClassify(t *testing.T) {
	r := mailRequest()
	if r.Type != Unclassified || r.Type.Rules().Clock != ClockPrompt || !r.Escalates() {
		t.Fatalf("a mail's request: %+v", r)
	}
	// Nothing answers it before it is classified.
	if err := r.CanComplete(ResultDone); reason(err) != "not_allowed" {
		t.Fatalf("CanComplete unconfirmed = %v", err)
	}
	if _, err := r.Verify("hash", received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := r.CanComplete(ResultDone); reason(err) != "unclassified" {
		t.Fatalf("CanComplete = %v", err)
	}
	if err := r.CanRefuse(); reason(err) != "unclassified" {
		t.Fatalf("CanRefuse = %v", err)
	}
	if err := r.CanExtend(received.Add(2 * time.Hour)); reason(err) != "not_extendable" {
		t.Fatalf("CanExtend = %v", err)
	}
	now := received.Add(26 * time.Hour)
	if _, err := r.Classify("dpo", Unclassified, fixedCalendar{}, 2, now); !errors.As(err, new(FieldErrors)) {
		t.Fatalf("classified as unclassified: %v", err)
	}
	c, err := r.Classify("dpo", Access, fixedCalendar{}, 2, now)
	if err != nil {
		t.Fatal(err)
	}
	// The month runs from the receipt, not from the classification.
	if r.Type != Access || !r.Due.Equal(received.AddDate(0, 0, 30)) || c.Fields != FieldType || c.Event.Note != "access" {
		t.Fatalf("classified = %+v, change %+v", r, c)
	}
	if err := r.CanClassify(); err == nil {
		t.Fatal("classified twice")
	}
	w := mailRequest()
	if _, err := w.Classify("dpo", WithdrawConsent, fixedCalendar{}, 2, now); err != nil || !w.Due.Equal(received.AddDate(0, 0, 2)) {
		t.Fatalf("a withdrawal is due on the short clock from receipt: %v %v", w.Due, err)
	}
}

func TestUnclassifiedIsNotOnTheForm(t *testing.T) {
	s := Submission{Type: string(Unclassified), Name: "x", Email: "x@example.dk", Lang: "da"}
	if errs := s.Validate(); errs["type"] != CodeInvalidChoice {
		t.Fatalf("Validate = %v", errs)
	}
	if !Unclassified.Valid() || Unclassified.Fileable() {
		t.Fatal("unclassified is a stored type, not one to file")
	}
}
