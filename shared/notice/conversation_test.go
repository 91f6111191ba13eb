package notice

import (
	"context"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

var (
	received = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due      = time.Date(2026, 4, 7, 21, 59, 59, 999999999, time.UTC)
	cph      = func() *time.Location { l, _ := time.LoadLocation("Europe/Copenhagen"); return l }()
)

type days int

func (n days) Resume(deadline, _, _ time.Time) time.Time { return deadline.AddDate(0, 0, int(n)) }

func testNotices(t *testing.T) *Notices {
	t.Helper()
	n, err := New(Settings{Controller: "Fjordlys ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
		DPOAddresses: []string{"dpo@fjordlys.dk"}, DefaultLang: i18n.DA, Location: cph})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func confirmed(t *testing.T, lang, email string) *dsr.Request {
	t.Helper()
	r := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Name: "Mette <b>", Email: email, Lang: lang}, received, due, "h")
	if _, err := r.Verify("h", received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	return r
}

// missingKey is how i18n.T shows a key that is not in the catalog.
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z_.]+\]`)

func checkConversationMail(t *testing.T, what string, m Message, want ...string) {
	t.Helper()
	for part, body := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
		if k := missingKey.FindString(body); k != "" {
			t.Errorf("%s %s: missing key %s", what, part, k)
		}
	}
	for _, w := range want {
		if !strings.Contains(m.Text, w) {
			t.Errorf("%s text lacks %q:\n%s", what, w, m.Text)
		}
	}
}

// The question in each language: the DPO's words quoted and escaped, whether the clock
// stands still and why, the deadline, and the link to answer on.
func TestQuestionMail(t *testing.T) {
	n := testNotices(t)
	link := StatusLink("https://dsr.example.dk", "REF.secret")
	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			r := confirmed(t, string(lang), "mette@example.dk")
			if _, err := r.Ask("dpo@fjordlys.dk", dsr.PurposeClarification, "Which shop?\n<script>x</script>", "", received.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			m, err := n.Request(dsr.MailQuestion, r, link)
			if err != nil {
				t.Fatal(err)
			}
			deadline := i18n.LongDate(lang, due.In(cph))
			checkConversationMail(t, "question", m, "> Which shop?", "> <script>x</script>", link, i18n.T(lang, "portal.mail.question.running", deadline))
			if m.To[0] != "mette@example.dk" || m.ReplyTo[0] != "dpo@fjordlys.dk" || m.Subject != i18n.T(lang, "portal.mail.question.subject", r.Ref) {
				t.Errorf("to %v reply-to %v subject %q", m.To, m.ReplyTo, m.Subject)
			}
			if strings.Contains(m.HTML, "<script>") || !strings.Contains(m.HTML, "&lt;script&gt;") || !strings.Contains(m.HTML, `href="`+link+`"`) {
				t.Errorf("html does not escape the question or lacks the link:\n%s", m.HTML)
			}

			// The clock stopped for identity: said, with the reason.
			r = confirmed(t, string(lang), "mette@example.dk")
			if _, err := r.Ask("dpo@fjordlys.dk", dsr.PurposeIdentity, "Your customer number?", "Two customers share your name.", received.Add(24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			m, err = n.Request(dsr.MailQuestion, r, link)
			if err != nil {
				t.Fatal(err)
			}
			checkConversationMail(t, "paused question", m, i18n.T(lang, "portal.mail.question.paused", deadline), "> Two customers share your name.")
			if strings.Contains(m.Text, i18n.T(lang, "portal.mail.question.running", deadline)) {
				t.Error("a paused question says the clock runs")
			}
		})
	}
	// Nothing to ask, nothing to send.
	if _, err := n.Request(dsr.MailQuestion, confirmed(t, "da", "x@example.dk"), link); err == nil {
		t.Error("a question mail without an open question")
	}
}

// Every mail to the requester about a confirmed request carries the status page link; the
// confirmation mails carry theirs instead, and the DPO's none.
func TestStatusLinkInEveryRequesterMail(t *testing.T) {
	n := testNotices(t)
	link := StatusLink("https://dsr.example.dk", "REF.secret")
	for _, lang := range i18n.Langs {
		r := confirmed(t, string(lang), "mette@example.dk")
		r.Extension = &dsr.Extension{At: received, By: "dpo", Reason: "many systems", Deadline: due.AddDate(0, 2, 0)}
		r.Outcome = &dsr.Outcome{Category: "other", Message: "done"}
		r.Waiting = &dsr.Question{Purpose: dsr.PurposeOther, Text: "q"}
		r.Fee = &dsr.Fee{At: received, By: "dpo", Ground: dsr.GroundExcessive, Amount: 100, Reason: "r"}
		r.Lift = &dsr.LiftNotice{At: received, By: "dpo", From: received.Add(72 * time.Hour), Reason: "checked"}
		for _, kind := range []dsr.MailKind{dsr.MailReceipt, dsr.MailExtension, dsr.MailCompletion, dsr.MailRejection, dsr.MailQuestion, dsr.MailFee, dsr.MailLift} {
			if !kind.CarriesPageLink() {
				t.Fatalf("%s carries no page link", kind)
			}
			m, err := n.Request(kind, r, link)
			if err != nil {
				t.Fatal(err)
			}
			checkConversationMail(t, string(kind), m, link, i18n.T(lang, "portal.mail.status.text"), i18n.T(lang, "portal.mail.status.while"))
			if !strings.Contains(m.HTML, `href="`+link+`"`) {
				t.Errorf("%s %s: no link in the HTML", lang, kind)
			}
			// Without a link (no page any more), no block.
			m, err = n.Request(kind, r, "")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(m.Text, i18n.T(lang, "portal.mail.status.text")) {
				t.Errorf("%s %s: the link's block without a link", lang, kind)
			}
		}
		// Once answered, the mail says until when the link works.
		r.Status, r.ClosedAt = dsr.Completed, received.Add(48*time.Hour)
		m, err := n.Request(dsr.MailCompletion, r, link)
		if err != nil {
			t.Fatal(err)
		}
		checkConversationMail(t, "completion", m, i18n.T(lang, "portal.mail.status.closed_text"),
			i18n.T(lang, "portal.mail.status.until", i18n.Date(lang, r.ClosedAt.Add(dsr.PageAfterClose).In(cph))))
	}
	for _, kind := range []dsr.MailKind{dsr.MailVerification, dsr.MailReminder, dsr.MailDPONew, dsr.MailDPOReply} {
		if kind.CarriesPageLink() {
			t.Errorf("%s carries a page link", kind)
		}
	}
}

func TestDPOReplyMail(t *testing.T) {
	n := testNotices(t)
	r := confirmed(t, "en", "mette@example.dk")
	if _, err := r.Ask("dpo@fjordlys.dk", dsr.PurposeIdentity, "Who?", "unsure", received.Add(24*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Reply("Me, with secret details", received.Add(72*time.Hour), days(2)); err != nil {
		t.Fatal(err)
	}
	m, err := n.Request(dsr.MailDPOReply, r, "")
	if err != nil {
		t.Fatal(err)
	}
	checkConversationMail(t, "dpo_reply", m, r.Ref, i18n.T(i18n.DA, "portal.mail.dpo_reply.resumed", i18n.LongDate(i18n.DA, due.AddDate(0, 0, 2).In(cph))),
		"https://dsr.example.dk/admin/requests/"+r.Ref)
	if m.To[0] != "dpo@fjordlys.dk" || len(m.ReplyTo) != 0 || strings.Contains(m.Text+m.HTML, "secret details") {
		t.Errorf("to %v, reply-to %v, or the reply's text is in the mail:\n%s", m.To, m.ReplyTo, m.Text)
	}
}

func TestLostLinkMail(t *testing.T) {
	n := testNotices(t)
	for _, lang := range i18n.Langs {
		subject, text, html, err := n.Render("lost_link", struct {
			Lang       i18n.Lang
			Controller string
			Items      []struct{ Ref, Type, Received, Status, Link string }
			DPOContact string
		}{lang, "Fjordlys ApS", []struct{ Ref, Type, Received, Status, Link string }{
			{"K7MQ-4XTZ", "Access", "2 March 2026", "Received", "https://dsr.example.dk/status?token=a"},
			{"B2CD-EFGH", "Erasure", "1 March 2026", "Answered", "https://dsr.example.dk/status?token=b"},
		}, "dpo@fjordlys.dk"})
		if err != nil {
			t.Fatal(err)
		}
		checkConversationMail(t, "lost_link", Message{Subject: subject, Text: text, HTML: html}, "K7MQ-4XTZ", "token=a", "token=b",
			i18n.T(lang, "portal.mail.lost.notyou"))
	}
}

// The outbox issues one status page link for the requester's mails of a delivery, stores it
// as a hash only, and the link in the mail opens the page; the DPO's mail has none.
func TestOutboxIssuesAPageLink(t *testing.T) {
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("outbox"))
	now := received.Add(2 * time.Hour)
	st := store.New(env.DynamoDB(), table, store.WithClock(func() time.Time { return now }))
	n := testNotices(t)
	o := &Outbox{Notices: n, Sender: NewMailer(env.SES(), "noreply@fjordlys.dk"), Recorder: st, Links: st, Now: func() time.Time { return now }}
	ctx := context.Background()
	email := "outbox-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.dk"

	r := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Name: "M", Email: email, Lang: "nb"}, received, due, "h")
	if err := st.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Verify("h", received.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if err := o.Deliver(ctx, r, ch.Mails, ""); err != nil {
		t.Fatal(err)
	}
	mails := env.Mails(t, email)
	if len(mails) != 1 {
		t.Fatalf("%d mails to the requester", len(mails))
	}
	tok := linkToken(t, mails[0].Text)
	ref, hash, ok := token.ParseRequest(tok)
	got, err := st.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if !ok || ref != r.Ref || !got.CanOpenPage(hash, now) || len(got.PageLinks) != 1 || strings.Contains(got.PageLinks[0], tok) {
		t.Fatalf("link %q: opens %v, stored %v", tok, got.CanOpenPage(hash, now), got.PageLinks)
	}
	if got.Mails[dsr.MailReceipt].State != dsr.MailSent || got.Mails[dsr.MailDPONew].State != dsr.MailSent {
		t.Fatalf("mail states %+v", got.Mails)
	}
	// The text the request keeps of the mail has the link without its secret.
	_, kept, err := st.OpenRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 || strings.Contains(kept[0].Text, tok) || !strings.Contains(kept[0].Text, "/status?token="+r.Ref+".…") {
		t.Fatalf("kept texts %+v", kept)
	}

	// Answered long ago: the mail goes out without a link rather than not at all.
	done, err := got.Complete("dpo@fjordlys.dk", "Done.", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, got, done); err != nil {
		t.Fatal(err)
	}
	now = now.Add(dsr.PageAfterClose + time.Hour)
	if err := o.Deliver(ctx, got, done.Mails, ""); err != nil {
		t.Fatal(err)
	}
	mails = env.Mails(t, email)
	if len(mails) != 2 || strings.Contains(mails[1].Text, "/status?token=") {
		t.Fatalf("%d mails; the last:\n%s", len(mails), mails[len(mails)-1].Text)
	}
}

// A table that cannot store the link fails the requester's mails (a retry issues another
// link), and sends the DPO's.
func TestOutboxWithoutALinkFailsTheRequesterMails(t *testing.T) {
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("nolink"))
	proxy := awsfault.Start(t, env.DynamoDBEndpoint)
	now := received.Add(time.Hour)
	st := store.New(proxy.DynamoDB(env.AWSConfig()), table, store.WithClock(func() time.Time { return now }))
	tag := strconv.FormatInt(time.Now().UnixNano(), 36)
	email, dpo := "nolink-"+tag+"@example.dk", "dpo-"+tag+"@fjordlys.dk"
	n, err := New(Settings{Controller: "Fjordlys ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
		DPOAddresses: []string{dpo}, DefaultLang: i18n.DA, Location: cph})
	if err != nil {
		t.Fatal(err)
	}
	o := &Outbox{Notices: n, Sender: NewMailer(env.SES(), "noreply@fjordlys.dk"), Recorder: st, Links: st, Now: func() time.Time { return now }}
	ctx := context.Background()
	r := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Name: "M", Email: email, Lang: "da"}, received, due, "h")
	if err := st.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, err := r.Verify("h", now)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	// Every attempt of the link's write fails; the record of the mails after it goes through.
	proxy.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.ServerError, Times: 3})
	if err := o.Deliver(ctx, r, ch.Mails, ""); err == nil {
		t.Fatal("no error for the mail that could not go")
	}
	got, err := st.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Mails[dsr.MailReceipt].State != dsr.MailFailed || got.Mails[dsr.MailDPONew].State != dsr.MailSent || len(got.PageLinks) != 0 {
		t.Fatalf("states %+v, links %v", got.Mails, got.PageLinks)
	}
	if len(env.Mails(t, email)) != 0 || len(env.Mails(t, dpo)) != 1 {
		t.Fatal("the requester got a mail without its link, or the DPO none")
	}
}

// linkToken returns the token of the status page link in a mail's text.
func linkToken(t *testing.T, text string) string {
	t.Helper()
	m := regexp.MustCompile(`/status\?token=(\S+)`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no status link in:\n%s", text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
