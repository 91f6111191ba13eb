package dsr

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestFromMail(t *testing.T) {
	r := FromMail("M4IL-0001", IncomingMail{
		From: "ola@example.no", Name: "Ola\r\n Nordmann\u200b", Text: "Hei\r\n\r\n\r\n\r\nJeg vil ha innsyn.\x00\n",
		Lang: "nb", ReceivedAt: received,
		Mail: InboundMail{Key: "mail/k", Subject: "Innsyn\tnå", DMARCFail: true,
			Attachments: []Attachment{{Name: "pass.pdf", Size: 1234, Type: "application/pdf"}}},
	}, received.AddDate(0, 0, 2), "hash")
	if r.Status != PendingVerification || r.Type != Unclassified || r.Via() != ChannelEmail || r.Email != "ola@example.no" {
		t.Fatalf("request = %+v", r)
	}
	if r.Name != "Ola Nordmann" || r.Details != "Hei\n\n\nJeg vil ha innsyn." || r.Inbound.Subject != "Innsyn nå" {
		t.Fatalf("cleaned: name %q details %q subject %q", r.Name, r.Details, r.Inbound.Subject)
	}
	if CheckText(r.Details, MaxDetails, true, true) != "" || CheckText(r.Name, MaxName, false, false) != "" {
		t.Fatal("what a mail gives does not pass the form's checks")
	}
	if !r.Inbound.DMARCFail || len(r.Inbound.Attachments) != 1 || r.Inbound.Key != "mail/k" {
		t.Fatalf("inbound = %+v", r.Inbound)
	}
	if got := r.QueuedMails(); len(got) != 1 || got[0] != MailVerification {
		t.Fatalf("queued %v", got)
	}
	if r.Audit[0].Action != ActionSubmitted || r.Audit[0].Actor != ActorRequester || r.Audit[0].Note != "email" {
		t.Fatalf("audit %+v", r.Audit)
	}
}

func TestLongMailIsCut(t *testing.T) {
	text := strings.Repeat("æøå ", 3000)
	got := CleanText(text, MaxDetails)
	if n := utf8.RuneCountInString(got); n > MaxDetails || !strings.HasSuffix(got, "…") {
		t.Fatalf("cut to %d characters, ends %q", n, got[len(got)-8:])
	}
	if got := CleanLine("\xff bad \x1b[31m", 10); !utf8.ValidString(got) || strings.ContainsRune(got, 0x1b) {
		t.Fatalf("CleanLine = %q", got)
	}
}

func TestQuarantinedMail(t *testing.T) {
	spam := quarantinedRequest(QuarantineSpam)
	if spam.Status != Quarantined || spam.Group() != GroupOpen || spam.WaitsOn() != WaitsOnController || len(spam.Mails) != 0 {
		t.Fatalf("held = %+v", spam)
	}
	// Spam is listed, never escalated, and goes after a while.
	if spam.Escalates() {
		t.Fatal("spam escalates")
	}
	if q, _ := spam.SweepQueue(); q != "" {
		t.Fatalf("spam on the sweep's queue %s", q)
	}
	if kept := spam.KeptUntil(DefaultRetention); kept.IsZero() || kept.After(received.AddDate(0, 2, 0)) {
		t.Fatalf("spam kept until %v", kept)
	}
	// A mail the desk could not read may be a person's request: on its short clock, kept.
	unread := quarantinedRequest(QuarantineUnreadable)
	if !unread.Escalates() || !unread.KeptUntil(DefaultRetention).IsZero() {
		t.Fatal("an unreadable mail is not escalated or not kept")
	}
	if q, at := unread.SweepQueue(); q != QueueUnverified || !at.Equal(received) {
		t.Fatalf("unreadable on %s at %v", q, at)
	}
	if unread.FollowUp(received.Add(30*24*time.Hour)) != NoFollowUp {
		t.Fatal("a held mail has follow-ups")
	}

	now := received.Add(5 * 24 * time.Hour)
	c, err := unread.Admit("dpo", "newhash", now)
	if err != nil {
		t.Fatal(err)
	}
	if unread.Status != PendingVerification || !unread.ReleasedAt.Equal(now) || !unread.TokenExpires.Equal(now.Add(ExpireAfter)) ||
		c.Event.Action != ActionAdmitted || len(c.Mails) != 1 || c.Mails[0] != MailVerification {
		t.Fatalf("released = %+v, change %+v", unread, c)
	}
	if !unread.CanVerify("newhash", now.Add(time.Hour)) {
		t.Fatal("the released mail's link does not work")
	}

	noAddress := QuarantineMail("H3LD-NOAD", IncomingMail{From: "<>", ReceivedAt: received}, QuarantineUnreadable, due)
	if err := noAddress.CanAdmit(); reason(err) != "no_address" {
		t.Fatalf("admitted without an address: %v", err)
	}
	if _, err := spam.Dismiss("dpo", "advertising", now); err != nil {
		t.Fatal(err)
	}
	if spam.Status != Expired || spam.Email != "" || spam.Details != "" || spam.Inbound.Key != "mail/held" || spam.Audit[1].Action != ActionDismissed {
		t.Fatalf("dismissed = %+v", spam)
	}
}

func TestFeedback(t *testing.T) {
	r := openRequest(t)
	r.Mails[MailReceipt] = MailState{State: MailSent, At: received.Add(time.Hour), Attempts: 1}
	r.Mails[MailDPONew] = MailState{State: MailSent, At: received.Add(time.Hour), Attempts: 1}
	if _, err := r.RecordFeedback(MailCompletion, Feedback{Kind: FeedbackBounce, At: received}); err == nil {
		t.Fatal("feedback on a mail never sent")
	}
	at := received.Add(2 * time.Hour)
	c, err := r.RecordFeedback(MailReceipt, Feedback{Kind: FeedbackBounce, At: at, Detail: "Permanent/NoEmail"})
	if err != nil {
		t.Fatal(err)
	}
	if c.Event.Action != ActionBounced || c.Event.Note != "receipt" || len(c.Feedback) != 1 || len(c.Mails) != 0 {
		t.Fatalf("change %+v", c)
	}
	if kinds, last := r.Undelivered(); len(kinds) != 1 || !last.Equal(at) {
		t.Fatalf("undelivered %v %v", kinds, last)
	}
	if _, ok := r.MailRetry(MailReceipt); ok {
		t.Fatal("a bounced mail is retried")
	}
	// The DPO rejecting the request after the bounce acted on it: the receipt is no longer
	// listed. The refusal bouncing in turn is, and keeps a closed request on the sweep's queue
	// until a DPO acts again.
	if _, err := r.Reject("dpo", string(GroundOther), "no", at); err != nil {
		t.Fatal(err)
	}
	if kinds, _ := r.Undelivered(); len(kinds) != 0 {
		t.Fatalf("acted on, still undelivered: %v", kinds)
	}
	r.Mails[MailRejection] = MailState{State: MailSent, At: at, Attempts: 1}
	if _, err := r.RecordFeedback(MailRejection, Feedback{Kind: FeedbackBounce, At: at.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if q, when := r.SweepQueue(); q != QueueRetry || !when.Equal(at.Add(time.Hour)) {
		t.Fatalf("sweep queue %s at %v", q, when)
	}
	if _, err := r.AddNote("dpo", "Sent by post.", at.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if q, _ := r.SweepQueue(); q != "" {
		t.Fatalf("acted on, yet on %s", q)
	}
}

// A bounce is listed until a DPO acts on the request after it, in the trail's order: not
// the requester, not the system, and not an action recorded before the bounce arrived even
// if SES dates the bounce earlier.
func TestUndeliveredUntilActedOn(t *testing.T) {
	at := received.Add(3 * time.Hour)
	tests := []struct {
		name string
		// after records events on the request after its receipt bounced.
		after func(t *testing.T, r *Request)
		want  []MailKind
	}{
		{"nothing since", func(*testing.T, *Request) {}, []MailKind{MailReceipt}},
		{"a DPO's note", func(t *testing.T, r *Request) {
			must(t)(r.AddNote("dpo@example.dk", "Ringet op.", at.Add(time.Hour)))
		}, nil},
		{"a DPO's start", func(t *testing.T, r *Request) { must(t)(r.Start("dpo@example.dk", at.Add(time.Hour))) }, nil},
		{"the requester's reply", func(t *testing.T, r *Request) {
			r.Audit = append(r.Audit, AuditEvent{At: at.Add(time.Hour), Actor: ActorRequester, Action: ActionReplied})
		}, []MailKind{MailReceipt}},
		{"the system", func(t *testing.T, r *Request) {
			r.Audit = append(r.Audit, AuditEvent{At: at.Add(time.Hour), Actor: ActorSystem, Action: ActionClockResumed})
		}, []MailKind{MailReceipt}},
		{"a second bounce after the DPO acted", func(t *testing.T, r *Request) {
			must(t)(r.AddNote("dpo@example.dk", "Ny adresse?", at.Add(time.Hour)))
			must(t)(r.RecordFeedback(MailReceipt, Feedback{Kind: FeedbackComplaint, At: at.Add(2 * time.Hour)}))
		}, []MailKind{MailReceipt}},
		{"expired", func(t *testing.T, r *Request) { r.Status = Expired }, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := openRequest(t)
			r.Mails[MailReceipt] = MailState{State: MailSent, At: received.Add(time.Hour), Attempts: 1}
			// The DPO's note is recorded before the bounce arrives, though SES dates the
			// bounce earlier: it was not an answer to it.
			must(t)(r.AddNote("dpo@example.dk", "Før.", at.Add(30*time.Minute)))
			must(t)(r.RecordFeedback(MailReceipt, Feedback{Kind: FeedbackBounce, At: at}))
			tc.after(t, r)
			got, _ := r.Undelivered()
			if !slices.Equal(got, tc.want) {
				t.Fatalf("undelivered %v, want %v", got, tc.want)
			}
		})
	}
}

func TestThreadRef(t *testing.T) {
	const inbound = "privacy@example.dk"
	if got := ReplyAddress(inbound, "K7MQ-4XTZ"); got != "privacy+K7MQ-4XTZ@example.dk" {
		t.Fatalf("ReplyAddress = %q", got)
	}
	tests := []struct {
		name       string
		recipients []string
		subject    string
		want       string
	}{
		{"the +tag", []string{"privacy+K7MQ-4XTZ@example.dk"}, "Re: anything", "K7MQ-4XTZ"},
		{"a +tag lower-cased on the way", []string{"Privacy+k7mq-4xtz@EXAMPLE.dk"}, "", "K7MQ-4XTZ"},
		{"the subject", []string{"privacy@example.dk"}, "SV: Kvittering for din anmodning K7MQ-4XTZ", "K7MQ-4XTZ"},
		{"another address's tag", []string{"sales+K7MQ-4XTZ@example.dk"}, "", ""},
		{"a tag that is no reference", []string{"privacy+news@example.dk"}, "Hello", ""},
		{"a word that merely could be one", []string{"privacy@example.dk"}, "STRENGTH", ""},
		{"letters a reference never has", []string{"privacy@example.dk"}, "Re: ABCO-1234", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := ThreadRef(inbound, tt.recipients, tt.subject)
			if got != tt.want || ok != (tt.want != "") {
				t.Fatalf("ThreadRef = %q, %v; want %q", got, ok, tt.want)
			}
		})
	}
	r := openRequest(t)
	if !r.SameSender(" Jens@Example.dk") || r.SameSender("other@example.dk") {
		t.Fatal("SameSender")
	}
}
