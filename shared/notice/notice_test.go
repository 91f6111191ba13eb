package notice

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// Templates are parsed when first rendered; every one of them must parse.
func TestEveryTemplateParses(t *testing.T) {
	n, err := New(Settings{Controller: "Eksempel ApS", Country: "DK", BaseURL: "https://dsr.example.dk",
		DPOAddresses: []string{"dpo@example.dk"}, DefaultLang: i18n.DA, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	if len(n.mails) < len(requestTemplates) {
		t.Fatalf("%d templates, fewer than the %d request mails", len(n.mails), len(requestTemplates))
	}
	for _, name := range requestTemplates {
		if _, ok := n.mails[name]; !ok {
			t.Errorf("no template for %s", name)
		}
	}
	for name := range n.mails {
		if _, err := n.parsed(name); err != nil {
			t.Error(err)
		}
	}
	if _, _, _, err := n.Render("no_such_mail", nil); err == nil {
		t.Error("rendered a template that does not exist")
	}
}

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// A mail sent through notice.Client reaches SES.
func TestClientAdapter(t *testing.T) {
	env := emulator.Get(t)
	to := "client-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "@example.dk"
	m := NewMailer(Client(env.SES()), "privacy@example.dk")
	if err := m.Send(context.Background(), Message{To: []string{to}, Subject: "Emne", Text: "Tekst", HTML: "<p>Tekst</p>"}); err != nil {
		t.Fatal(err)
	}
	if got := env.Mails(t, to); len(got) != 1 || got[0].Subject != "Emne" {
		t.Fatalf("mails %+v", got)
	}
}

// recordSES keeps the input of each send: a pure unit test of what the mailer asks SES for.
type recordSES struct{ in []*ses.SendEmailInput }

func (r *recordSES) SendEmail(_ context.Context, in *ses.SendEmailInput, _ ...func(*ses.Options)) (*ses.SendEmailOutput, error) {
	r.in = append(r.in, in)
	return &ses.SendEmailOutput{}, nil
}

// With a configuration set, every mail names it and carries its request and kind as tags,
// which SES gives back with a bounce; a tag SES would refuse is left out.
func TestMailerTagsTheMail(t *testing.T) {
	rec := &recordSES{}
	m := DeploymentMailer(rec, config.Common{Sender: "privacy@example.dk", MailConfigurationSet: "desk-mail"})
	msg := Message{To: []string{"a@example.dk"}, Ref: "K7MQ-4XTZ", Kind: dsr.MailRejection, Subject: "s", Text: "t", HTML: "h"}
	if err := m.Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	in := rec.in[0]
	if aws.ToString(in.ConfigurationSetName) != "desk-mail" || len(in.Tags) != 2 ||
		aws.ToString(in.Tags[0].Name) != TagRef || aws.ToString(in.Tags[0].Value) != "K7MQ-4XTZ" ||
		aws.ToString(in.Tags[1].Name) != TagKind || aws.ToString(in.Tags[1].Value) != "rejection" {
		t.Fatalf("input %+v, tags %+v", in, in.Tags)
	}
	msg.Kind = "recipient_ä"
	if got := Tags(msg); len(got) != 1 {
		t.Fatalf("tags %+v", got)
	}
	// Without one (a local run), nothing names a set.
	rec.in = nil
	if err := DeploymentMailer(rec, config.Common{Sender: "privacy@example.dk"}).Send(context.Background(), msg); err != nil {
		t.Fatal(err)
	}
	if rec.in[0].ConfigurationSetName != nil || rec.in[0].Tags != nil {
		t.Fatalf("input %+v", rec.in[0])
	}
}
