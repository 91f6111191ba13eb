package notice

import (
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
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
