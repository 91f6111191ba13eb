package notice_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// The outbox keeps the exact text of every mail it sends to a requester beside the request,
// except the secret of a confirmation link, which is never stored: the requester gets the
// link, the kept text says where it pointed without being able to confirm anything.
func TestOutboxKeepsWhatItSent(t *testing.T) {
	env := emulator.Get(t)
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	st := store.New(env.DynamoDB(), env.NewTable(t, store.TableDefinition("outbox")), store.WithClock(clock))
	n, err := notice.New(notice.Settings{Controller: "Eksempel ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
		DPOAddresses: []string{"dpo@example.dk"}, DefaultLang: i18n.DA, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	o := &notice.Outbox{Notices: n, Sender: notice.NewMailer(env.SES(), "privacy@example.dk"), Recorder: st, Now: clock}
	ctx := context.Background()

	email := "kept." + token.New()[:8] + "@example.dk"
	tok, hash := token.ForRequest("KEPT-2222")
	r := dsr.New("KEPT-2222", dsr.Submission{Type: "access", Name: "Åse Ødegård", Email: email, Lang: "nb"}, now, now.AddDate(0, 1, 0), hash)
	if err := st.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	link := notice.VerifyLink("https://dsr.example.dk", tok)
	if err := o.Deliver(ctx, r, []dsr.MailKind{dsr.MailVerification}, link); err != nil {
		t.Fatal(err)
	}
	got := env.Mails(t, email)
	if len(got) != 1 || !strings.Contains(got[0].Text, link) {
		t.Fatalf("the requester did not get the link: %+v", got)
	}
	_, kept, err := st.OpenRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(kept) != 1 {
		t.Fatalf("%d mail texts kept, want 1", len(kept))
	}
	k := kept[0]
	secret := strings.TrimPrefix(tok, "KEPT-2222.")
	if strings.Contains(k.Text, secret) || !strings.Contains(k.Text, notice.RedactLink(link)) {
		t.Errorf("kept text holds the secret or not the redacted link:\n%s", k.Text)
	}
	if strings.ReplaceAll(got[0].Text, link, notice.RedactLink(link)) != k.Text || k.Subject != got[0].Subject ||
		k.To != email || k.Lang != "nb" || k.Kind != dsr.MailVerification || !k.At.Equal(now) {
		t.Errorf("kept %+v\nsent %q %q", k, got[0].Subject, got[0].Text)
	}
	// The DPO's notice is not the requester's: its text is not kept with theirs.
	if err := o.Deliver(ctx, r, []dsr.MailKind{dsr.MailDPONew}, ""); err != nil {
		t.Fatal(err)
	}
	if _, kept, _ = st.OpenRequest(ctx, r.Ref); len(kept) != 1 {
		t.Errorf("%d texts kept after the DPO's notice", len(kept))
	}
}
