package main

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/infra/sesevent"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// Each fixture a person wrote becomes one unclassified request, received when SES received
// it, in the language it is written in, and its sender gets the confirmation link.
func TestMailBecomesARequest(t *testing.T) {
	tests := []struct {
		file, from string
		lang       string
		name       string
		details    string
		attached   int
	}{
		{"gmail-da-utf8.eml", "soren.olgaard@gmail.com", "da", "Søren Ærø Ølgaard", "Jeg vil gerne have indsigt", 0},
		{"outlook-nb-latin1.eml", "kare.odegard@outlook.com", "nb", "Kåre Ødegård", "Jeg ønsker innsyn", 0},
		{"applemail-nb-attachment.eml", "ingrid.bjornstad@icloud.com", "nb", "Ingrid Bjørnstad", "kopi av førerkortet mitt", 2},
		{"thunderbird-da-latin9.eml", "bjorn.aebelo@example.net", "da", "Bjørn Æbelø", "49 €", 0},
		{"html-only-en-cp1252.eml", "john.smith@example.org", "en", "John Smith", "delete all personal data you hold about me", 0},
		{"gmail-forwarded-nb.eml", "ola.nordmann@gmail.com", "nb", "Ola Nordmann", "Forwarded message", 1},
	}
	hs := newHarness(t)
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			sender := address("sender")
			id, err := hs.receive(fixture(t, tt.file, tt.from, sender), sesevent.Receipt{})
			if err != nil {
				t.Fatal(err)
			}
			r := hs.stored(id)
			if r == nil {
				t.Fatal("no request stored")
			}
			if r.Type != dsr.Unclassified || r.Status != dsr.PendingVerification || r.Via() != dsr.ChannelEmail ||
				!r.ReceivedAt.Equal(t0) || r.Email != sender || r.Name != tt.name || r.Lang != tt.lang {
				t.Fatalf("request %+v", r)
			}
			if !strings.Contains(r.Details, tt.details) || len(r.Inbound.Attachments) != tt.attached || r.Inbound.Key != "mail/"+id {
				t.Fatalf("details %q, inbound %+v", r.Details, r.Inbound)
			}
			// Due on the short clock from receipt until a DPO classifies it.
			if want := dsr.Unclassified.Due(hs.cfg.Calendar, t0, hs.cfg.PromptWorkingDays); !r.Due.Equal(want) {
				t.Fatalf("due %v, want %v", r.Due, want)
			}
			mails := hs.env.Mails(t, sender)
			if len(mails) != 1 {
				t.Fatalf("%d mails to the sender", len(mails))
			}
			m := mails[0]
			if len(m.ReplyTo) == 0 || m.ReplyTo[0] != dsr.ReplyAddress(inbox, r.Ref) || !strings.Contains(m.Text, "/verify?token="+r.Ref+".") {
				t.Fatalf("acknowledgement %+v", m)
			}
			// The link in it confirms the request.
			tok := m.Text[strings.Index(m.Text, "token=")+len("token="):]
			tok = strings.Fields(tok)[0]
			_, hash, ok := token.ParseRequest(tok)
			if !ok || !r.CanVerify(hash, t0.Add(time.Hour)) {
				t.Fatalf("the link %q does not confirm the request", tok)
			}
			if got := hs.stored(id); got.Mails[dsr.MailVerification].State != dsr.MailSent {
				t.Fatalf("acknowledgement recorded %+v", got.Mails)
			}
			// Its text is kept beside the request (the link's secret cut out), and the
			// request is found by its address.
			_, kept, err := hs.st.OpenRequest(context.Background(), r.Ref)
			if err != nil || len(kept) != 1 || kept[0].Kind != dsr.MailVerification || strings.Contains(kept[0].Text, tok) {
				t.Fatalf("kept %+v, %v", kept, err)
			}
			if refs, err := hs.st.RequestRefsByEmail(context.Background(), sender); err != nil || len(refs) != 1 || refs[0] != r.Ref {
				t.Fatalf("found by its address: %v, %v", refs, err)
			}
		})
	}
}

// A mail delivered twice (SES retries, Lambda retries) is one request with one answer.
func TestMailTwiceIsOneRequest(t *testing.T) {
	hs := newHarness(t)
	sender := address("twice")
	raw := fixture(t, "gmail-da-utf8.eml", "soren.olgaard@gmail.com", sender)
	id, err := hs.receive(raw, sesevent.Receipt{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hs.receive(raw, sesevent.Receipt{MessageID: id}); err != nil {
		t.Fatal(err)
	}
	if n := len(hs.env.Mails(t, sender)); n != 1 {
		t.Fatalf("%d acknowledgements", n)
	}
	if !strings.Contains(hs.logs.String(), `"outcome":"duplicate"`) {
		t.Fatalf("logs: %s", hs.logs)
	}
}

// Nothing answers a machine: auto-replies, bounces and reports store nothing and send nothing,
// and neither does a mail from the desk's own address.
func TestAutomaticMailMakesNothing(t *testing.T) {
	hs := newHarness(t)
	tests := []struct {
		name string
		raw  []byte
		r    sesevent.Receipt
	}{
		{"out of office", fixture(t, "autoreply-outlook.eml", "mette.sorensen@firma.dk", address("ooo")), sesevent.Receipt{}},
		{"bounce with a null sender", fixture(t, "bounce-dsn.eml"), sesevent.Receipt{Source: ""}},
		{"precedence bulk", []byte("From: News <news@shop.example>\r\nTo: " + inbox + "\r\nPrecedence: bulk\r\nSubject: Offers\r\n\r\nBuy now\r\n"), sesevent.Receipt{}},
		{"a mailing list", []byte("From: a@list.example\r\nTo: " + inbox + "\r\nList-Id: <gdpr.lists.example>\r\nSubject: x\r\n\r\nhello\r\n"), sesevent.Receipt{}},
		{"a read receipt", []byte("From: a@example.net\r\nTo: " + inbox + "\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nread\r\n--b--\r\n"), sesevent.Receipt{}},
		{"the desk itself", []byte("From: Eksempel <noreply@example.dk>\r\nTo: " + inbox + "\r\nSubject: x\r\n\r\nloop\r\n"), sesevent.Receipt{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := hs.receive(tt.raw, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if r := hs.stored(id); r != nil {
				t.Fatalf("stored %+v", r)
			}
		})
	}
	if n := strings.Count(hs.logs.String(), `"outcome":"automatic"`); n != len(tests) {
		t.Fatalf("%d automatic outcomes logged: %s", n, hs.logs)
	}
}

// What SES found spam or a virus in, and what the desk cannot read, is quarantined for the DPO with
// nothing sent; a DMARC failure is flagged on a request that is answered as any other.
func TestQuarantinedAndFlagged(t *testing.T) {
	hs := newHarness(t)
	tests := []struct {
		name   string
		file   string
		r      sesevent.Receipt
		status dsr.Status
		reason string
		mails  int
	}{
		{"spam", "gmail-da-utf8.eml", sesevent.Receipt{Spam: "FAIL"}, dsr.Quarantined, dsr.QuarantineSpam, 0},
		{"virus", "applemail-nb-attachment.eml", sesevent.Receipt{Virus: "FAIL"}, dsr.Quarantined, dsr.QuarantineVirus, 0},
		{"malformed", "malformed-no-boundary.eml", sesevent.Receipt{}, dsr.Quarantined, dsr.QuarantineUnreadable, 0},
		{"dmarc fail", "outlook-nb-latin1.eml", sesevent.Receipt{DMARC: "FAIL"}, dsr.PendingVerification, "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sender := address("quarantined")
			raw := fixture(t, tt.file, "soren.olgaard@gmail.com", sender, "ingrid.bjornstad@icloud.com", sender,
				"someone@example.com", sender, "kare.odegard@outlook.com", sender)
			id, err := hs.receive(raw, tt.r)
			if err != nil {
				t.Fatal(err)
			}
			r := hs.stored(id)
			if r == nil || r.Status != tt.status || r.Inbound.Reason != tt.reason || r.Email != sender {
				t.Fatalf("stored %+v", r)
			}
			if tt.name == "dmarc fail" && !r.Inbound.DMARCFail {
				t.Fatal("DMARC failure not flagged")
			}
			if n := len(hs.env.Mails(t, sender)); n != tt.mails {
				t.Fatalf("%d mails to the sender, want %d", n, tt.mails)
			}
		})
	}
}

// A mail larger than the desk reads is quarantined, not read.
func TestTooLargeIsQuarantined(t *testing.T) {
	hs := newHarness(t)
	big := append(fixture(t, "gmail-da-utf8.eml"), []byte(strings.Repeat("x", 2048))...)
	id := messageID()
	if _, err := hs.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(hs.bucket), Key: aws.String("mail/" + id), Body: strings.NewReader(string(big))}); err != nil {
		t.Fatal(err)
	}
	ev, _ := sesevent.Event(big, sesevent.Receipt{MessageID: id, At: t0, Recipients: []string{inbox}, Source: "x@gmail.com"})
	hs.h.maxSize = 1024
	if err := hs.invoke(ev); err != nil {
		t.Fatal(err)
	}
	if r := hs.stored(id); r == nil || r.Status != dsr.Quarantined || r.Inbound.Reason != dsr.QuarantineTooLarge {
		t.Fatalf("stored %+v", r)
	}
}

// A reply from the requester to a mail the desk sent joins the request's conversation and
// tells the DPO; the same words from anyone else, or to a request already answered, are a
// request of their own.
func TestReplyThreads(t *testing.T) {
	hs := newHarness(t)
	requester := address("jens")
	r := hs.seedOpen(requester)
	raw := fixture(t, "reply-to-receipt.eml", "kunde@example.dk", requester, "K7MQ-4XTZ", r.Ref)
	id, err := hs.receive(raw, sesevent.Receipt{Recipients: []string{dsr.ReplyAddress(inbox, r.Ref)}})
	if err != nil {
		t.Fatal(err)
	}
	if hs.stored(id) != nil {
		t.Fatal("a reply made a request")
	}
	got, msgs, err := hs.st.Conversation(context.Background(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].From != dsr.ActorRequester || !msgs[0].At.Equal(t0) || msgs[0].Mail == nil || msgs[0].Mail.Key != "mail/"+id {
		t.Fatalf("messages %+v", msgs)
	}
	if !strings.Contains(msgs[0].Text, "Mit kundenummer er K-4711") || strings.Contains(msgs[0].Text, "Referencenummer") {
		t.Fatalf("the reply's text, without the quote: %q", msgs[0].Text)
	}
	if st, _ := got.Conversation(); st != dsr.ConversationReplied {
		t.Fatalf("conversation %q", st)
	}
	if n := len(hs.env.Mails(t, hs.dpo)); n != 1 {
		t.Fatalf("%d notices to the DPO", n)
	}
	// Delivered again: joined once.
	if _, err := hs.receive(raw, sesevent.Receipt{MessageID: id, Recipients: []string{dsr.ReplyAddress(inbox, r.Ref)}}); err != nil {
		t.Fatal(err)
	}
	if _, msgs, _ := hs.st.Conversation(context.Background(), r.Ref); len(msgs) != 1 {
		t.Fatalf("%d messages after a second delivery", len(msgs))
	}
	if n := len(hs.env.Mails(t, hs.dpo)); n != 1 {
		t.Fatalf("%d notices to the DPO after a second delivery", n)
	}
	if again, err := hs.st.GetRequest(context.Background(), r.Ref); err != nil || again.Mails[dsr.MailDPOReply].State != dsr.MailSent {
		t.Fatalf("the DPO's notice as recorded: %+v, %v", again, err)
	}

	// Someone else naming the request in the subject: a request of their own.
	stranger := address("stranger")
	id2, err := hs.receive(fixture(t, "reply-to-receipt.eml", "kunde@example.dk", stranger, "K7MQ-4XTZ", r.Ref, "privacy+"+r.Ref, "privacy"), sesevent.Receipt{})
	if err != nil {
		t.Fatal(err)
	}
	if other := hs.stored(id2); other == nil || other.Email != stranger {
		t.Fatalf("the stranger's mail: %+v", other)
	}
	if _, msgs, _ := hs.st.Conversation(context.Background(), r.Ref); len(msgs) != 1 {
		t.Fatalf("a stranger's mail joined the request: %d messages", len(msgs))
	}
}

// The handler's answer to what it cannot take: an event it does not know, and a bucket it
// cannot read (Lambda then retries), are errors; a mail is never lost meanwhile.
func TestErrorsAreRetried(t *testing.T) {
	hs := newHarness(t)
	if err := hs.h.Handle(context.Background(), json.RawMessage(`{"detail-type":"Scheduled Event"}`)); !errors.Is(err, errUnknownEvent) {
		t.Fatalf("unknown event: %v", err)
	}
	ev, _ := sesevent.Event(fixture(t, "gmail-da-utf8.eml"), sesevent.Receipt{MessageID: messageID(), At: t0, Recipients: []string{inbox}, Source: "x@gmail.com"})
	if err := hs.invoke(ev); err == nil {
		t.Fatal("a mail not in the bucket was taken")
	}
}

// The sample event in events/ is what SES sends: the handler takes it.
func TestSampleEvent(t *testing.T) {
	hs := newHarness(t)
	raw, err := os.ReadFile("../../events/inbound-ses-receipt.json")
	if err != nil {
		t.Fatal(err)
	}
	var ev struct {
		Records []struct {
			SES struct {
				Mail struct {
					MessageID string `json:"messageId"`
				} `json:"mail"`
			} `json:"ses"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	id := ev.Records[0].SES.Mail.MessageID
	if _, err := hs.s3.PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(hs.bucket), Key: aws.String("mail/" + id),
		Body: strings.NewReader(string(fixture(t, "gmail-da-utf8.eml")))}); err != nil {
		t.Fatal(err)
	}
	if err := hs.h.Handle(context.Background(), raw); err != nil {
		t.Fatal(err)
	}
	if r := hs.stored(id); r == nil || r.Status != dsr.PendingVerification {
		t.Fatalf("stored %+v", r)
	}
}
