package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/runner"
	"github.com/dsrdesk/dsrdesk/infra/sesevent"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// mailFixture reads one of the inbound function's fixtures with each old string replaced by
// its new one.
func mailFixture(t *testing.T, name string, replace ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(root, "functions", "inbound", "testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		raw = bytes.ReplaceAll(raw, []byte(replace[i]), []byte(replace[i+1]))
	}
	return raw
}

// receive posts raw to the runner's /_local/inbound with query, as SES receives a mail.
func receive(t *testing.T, d *stack, raw []byte, query url.Values) runner.InboundResult {
	t.Helper()
	res, err := http.Post(d.base+"/_local/inbound?"+query.Encode(), "message/rfc822", bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var got runner.InboundResult
	if err := json.Unmarshal(body, &got); err != nil || res.StatusCode != http.StatusOK || got.Error != "" {
		t.Fatalf("POST /_local/inbound: %s %s", res.Status, body)
	}
	return got
}

// stored is the request the inbound function made of a mail, or nil.
func stored(t *testing.T, d *stack, key string) *dsr.Request {
	t.Helper()
	r, err := d.store.GetRequest(context.Background(), dsr.ReferenceFor(key))
	if errors.Is(err, fault.NotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestMailToThePrivacyAddress sends mail into the local runner as SES would (the message into
// the bucket, then the receipt to the function): a person's mail becomes an unclassified
// request received when SES received it, whose sender gets the confirmation link and, once
// confirmed, a receipt saying Reply-To the privacy address's +reference; the reply to that
// receipt joins the request and tells the DPO; an out-of-office reply does nothing.
func TestMailToThePrivacyAddress(t *testing.T) {
	d := desk(t)
	sender := address("mail")
	before := time.Now()
	got := receive(t, d, mailFixture(t, "gmail-da-utf8.eml", "soren.olgaard@gmail.com", sender), nil)
	r := stored(t, d, got.Key)
	if r == nil || r.Type != dsr.Unclassified || r.Via() != dsr.ChannelEmail || r.Status != dsr.PendingVerification ||
		r.ReceivedAt.Before(before.Add(-time.Second)) || r.Lang != "da" || !strings.Contains(r.Details, "indsigt") {
		t.Fatalf("stored %+v", r)
	}
	if want := dsr.Unclassified.Due(d.cal, r.ReceivedAt, dsr.DefaultPromptWorkingDays); !r.Due.Equal(want) {
		t.Errorf("due %v, want the short clock from receipt %v", r.Due, want)
	}

	// The acknowledgement, with the link a form request gets; confirming it works the same.
	ack := mails(t, d, sender, 1, nil)[0]
	if !strings.Contains(ack.Text, i18n.T(i18n.DA, "intake.mail.verification.intro_email", controller)) {
		t.Errorf("the acknowledgement does not say a mail came:\n%s", ack.Text)
	}
	person := newVisitor(t, d, "da")
	verify := link(t, d, ack, "/verify?token=")
	shown := person.open(verify, "none")
	person.submit(d.base+"/verify", url.Values{"token": {hidden(t, shown.body, "token")}, "lang": {hidden(t, shown.body, "lang")}})
	receipt := mails(t, d, sender, 2, nil)[1]
	if len(receipt.ReplyTo) == 0 || receipt.ReplyTo[0] != dsr.ReplyAddress(inbox, r.Ref) {
		t.Fatalf("the receipt says Reply-To %v, want %s", receipt.ReplyTo, dsr.ReplyAddress(inbox, r.Ref))
	}

	// The requester answers the receipt: the reply joins the request, and the DPO is told.
	reply := mailFixture(t, "reply-to-receipt.eml", "kunde@example.dk", sender, "K7MQ-4XTZ", r.Ref)
	replied := receive(t, d, reply, url.Values{"to": {dsr.ReplyAddress(inbox, r.Ref)}})
	if other := stored(t, d, replied.Key); other != nil {
		t.Fatalf("the reply made a request of its own: %s", other.Ref)
	}
	mails(t, d, dpoNotified, 1, func(m emulator.Mail) bool {
		return m.Subject == i18n.T(dpoLang, "portal.mail.dpo_reply.subject", r.Ref)
	})
	_, msgs, err := d.store.Conversation(context.Background(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, "Mit kundenummer er K-4711") || msgs[0].Mail == nil || msgs[0].Mail.Key != replied.Key {
		t.Fatalf("messages %+v", msgs)
	}

	// An out-of-office reply to the acknowledgement: nothing stored, nothing sent.
	ooo := address("ooo")
	auto := receive(t, d, mailFixture(t, "autoreply-outlook.eml", "mette.sorensen@firma.dk", ooo, "K7MQ-4XTZ", r.Ref),
		url.Values{"to": {dsr.ReplyAddress(inbox, r.Ref)}})
	if got := stored(t, d, auto.Key); got != nil {
		t.Fatalf("an auto-reply made a request: %+v", got)
	}
	time.Sleep(300 * time.Millisecond)
	if n := len(d.aws.Mails(t, ooo)); n != 0 {
		t.Fatalf("%d mails to an auto-replier", n)
	}
	if _, msgs, _ := d.store.Conversation(context.Background(), r.Ref); len(msgs) != 1 {
		t.Fatalf("the auto-reply joined the conversation: %d messages", len(msgs))
	}
}

// invokeFeedback posts an SES event, as SNS delivers it, to the inbound function.
func invokeFeedback(t *testing.T, d *stack, f sesevent.Feedback) {
	t.Helper()
	ev, err := sesevent.SNS(f)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	res, err := http.Post(d.base+"/_local/invoke/InboundFunction", "application/json", bytes.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if body, _ := io.ReadAll(res.Body); res.StatusCode != http.StatusOK || res.Header.Get("X-Amz-Function-Error") != "" {
		t.Fatalf("invoke: %s %s", res.Status, body)
	}
}

// TestRegisterAndBounce drives the workspace through the local runner as a DPO does: a letter
// that came nine days ago is registered with its receipt, so its deadline runs from the
// letter; the requester gets the confirmation link and confirms it on the desk; the receipt
// that follows bounces (SES's notification, as SNS delivers it to the inbound function), and
// the request's page says it did not arrive.
func TestRegisterAndBounce(t *testing.T) {
	d := desk(t)
	ctx := context.Background()
	requester := address("letter")
	received := time.Now().Add(-9 * 24 * time.Hour).In(d.cal.Location()).Truncate(time.Minute)

	dpo := signIn(t, d, dpoChannels)
	form := dpo.open(d.base+"/admin/register", "same-origin")
	fields := url.Values{"csrf": {hidden(t, form.body, "csrf")}, "channel": {"letter"}, "received_at": {received.Format("2006-01-02T15:04")},
		"type": {"access"}, "name": {"Grethe Sørensen"}, "email": {requester}, "postal_address": {"Algade 12\n4000 Roskilde"},
		"requester_lang": {"da"}, "details": {"Jeg beder om indsigt i mine oplysninger."}, "identity": {"link"}}
	fields.Set("step", "preview")
	preview := dpo.submit(d.base+"/admin/register", fields)
	due := dsr.Access.Due(d.cal, received, dsr.DefaultPromptWorkingDays)
	expectPage(t, preview, dpoLang, i18n.T(dpoLang, "admin.register.due", i18n.LongDate(dpoLang, due.In(d.cal.Location()))))
	fields.Set("step", "confirm")
	loc := dpo.submit(d.base+"/admin/register", fields).location(t, d.base)
	ref, _, _ := strings.Cut(strings.TrimPrefix(loc, d.base+"/admin/requests/"), "?")
	r, err := d.store.GetRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if !r.ReceivedAt.Equal(received) || !r.Due.Equal(due) || r.Via() != dsr.ChannelLetter || r.Audit[0].Actor != dpoChannels {
		t.Fatalf("registered %+v; want received %v, due %v", r, received, due)
	}

	// The requester confirms from the link, as from the form; the receipt follows.
	person := newVisitor(t, d, "da")
	shown := person.open(link(t, d, mails(t, d, requester, 1, nil)[0], "/verify?token="), "none")
	person.submit(d.base+"/verify", url.Values{"token": {hidden(t, shown.body, "token")}, "lang": {hidden(t, shown.body, "lang")}})
	receipt := mails(t, d, requester, 2, nil)[1]

	// SES could not deliver it.
	invokeFeedback(t, d, sesevent.Feedback{Kind: "Bounce", MessageID: receipt.MessageID, To: requester, At: time.Now(),
		Tags: map[string]string{notice.TagRef: ref, notice.TagKind: string(dsr.MailReceipt)}})
	r, err = d.store.GetRequest(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	if f := r.Mails[dsr.MailReceipt].Feedback; f == nil || f.Kind != dsr.FeedbackBounce {
		t.Fatalf("the receipt's feedback %+v", r.Mails[dsr.MailReceipt])
	}
	bounced := i18n.T(dpoLang, "admin.mail.feedback.bounce", i18n.DateTime(dpoLang, r.Mails[dsr.MailReceipt].Feedback.At.In(d.cal.Location())))
	expectPage(t, dpo.open(loc, "same-origin"), dpoLang, i18n.T(dpoLang, "action.mail_bounced"), bounced,
		i18n.T(dpoLang, "channel.letter"), "Algade 12")
}
