package notice

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

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
