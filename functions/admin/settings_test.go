package main

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// A reply template is written once per action, type and language in the settings, kept in the
// table, and fills in the answer's form for a request of that type in its requester's
// language; the mail around it keeps every part the law requires, whatever the template says.
func TestReplyTemplates(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])

	body := page(t, d.get("/admin/settings"), http.StatusOK)
	for _, w := range []string{`href="/admin/settings/replies"`, i18n.T(i18n.DA, "admin.settings.replies.title"), `href="/admin/settings" aria-current="page"`} {
		if !strings.Contains(body, w) {
			t.Errorf("settings lack %q", w)
		}
	}
	body = page(t, d.get("/admin/settings/replies?edit=reject.erasure"), http.StatusOK)
	for _, w := range []string{`name="text.da"`, `name="text.nb"`, `name="text.en"`, i18n.T(i18n.DA, "admin.replies.fixed.reject")} {
		if !strings.Contains(body, w) {
			t.Errorf("the template form lacks %q", w)
		}
	}
	texts := url.Values{
		"action": {"reject"}, "type": {"erasure"},
		"text.da": {"Vi skal gemme dine ordrer i fem år efter bogføringsloven."},
		"text.nb": {"Vi må oppbevare ordrene dine i fem år etter bokføringsloven.\nDerfor sletter vi dem ikke nå."},
		"text.en": {""}, "version.da": {"0"}, "version.nb": {"0"}, "version.en": {"0"},
	}
	if loc := redirect(t, d.post("/admin/settings/replies", texts)); !strings.HasPrefix(loc, "/admin/settings/replies?saved=1") {
		t.Fatalf("after saving: to %q", loc)
	}
	saved, err := e.st.Settings(context.Background(), repliesSection)
	if err != nil {
		t.Fatal(err)
	}
	if s := saved["reject.erasure.nb"]; s.Value != texts.Get("text.nb") || s.By != d.email || s.Version != 1 {
		t.Errorf("stored %+v", s)
	}
	if _, ok := saved["reject.erasure.en"]; ok {
		t.Error("an empty text was stored")
	}
	// The grid says which languages have a text, and the DPO's own language's mail is shown.
	body = page(t, d.get("/admin/settings/replies?edit=reject.erasure"), http.StatusOK)
	if !strings.Contains(body, "(da, nb)") || !strings.Contains(body, i18n.T(i18n.DA, "admin.mail.rejection.court")) {
		t.Errorf("the template page does not show what is saved, or the mail it makes:\n%s", body)
	}

	// A Norwegian erasure request: the rejection form starts from the Norwegian text.
	ref := dsr.NewReference()
	s := submission("nb", "tpl."+uniq()+"@example.no")
	s.Type = "erasure"
	e.seed(ref, s, received0, verify)
	body = page(t, d.get(requestPath(ref)+"?action=reject"), http.StatusOK)
	if !strings.Contains(body, ">Vi må oppbevare ordrene dine i fem år etter bokføringsloven.\nDerfor sletter vi dem ikke nå.</textarea>") ||
		!strings.Contains(body, i18n.T(i18n.DA, "admin.replies.from_template", i18n.T(i18n.DA, "type.erasure.name"), i18n.T(i18n.DA, "admin.langname.nb"))) {
		t.Errorf("the form does not start from the template:\n%s", body)
	}
	// An access request has no template yet: the form says so, and where to write one.
	other := dsr.NewReference()
	e.seed(other, submission("nb", "tpl2."+uniq()+"@example.no"), received0, verify)
	body = page(t, d.get(requestPath(other)+"?action=complete"), http.StatusOK)
	if !strings.Contains(body, i18n.T(i18n.DA, "admin.replies.no_template", i18n.T(i18n.DA, "type.access.name"), i18n.T(i18n.DA, "admin.langname.nb"))) {
		t.Error("a missing template is not said")
	}

	// Whatever the template says, the mail carries what the law requires.
	form := url.Values{"category": {"legal_exemption"}, "reason": {"x"}, "step": {stepConfirm}}
	redirect(t, d.act(ref, "reject", form))
	m := e.env.Mails(t, s.Email)
	if len(m) != 1 || !strings.Contains(m[0].Text, i18n.T(i18n.NB, "admin.mail.rejection.court")) ||
		!strings.Contains(m[0].Text, i18n.T(i18n.NB, "authority.DK.url")) {
		t.Fatalf("the mail lacks the rights of Art. 12(4): %+v", m)
	}

	// Two DPOs edit the same text: the second sees the first's save and keeps their own text.
	stale := url.Values{"action": {"reject"}, "type": {"erasure"}, "text.da": {"Min udgave."}, "text.nb": {texts.Get("text.nb")}, "text.en": {""},
		"version.da": {"0"}, "version.nb": {"1"}, "version.en": {"0"}}
	body = page(t, d.post("/admin/settings/replies", stale), http.StatusConflict)
	if !strings.Contains(body, "Min udgave.") || !strings.Contains(body, i18n.T(i18n.DA, "admin.replies.conflict")) {
		t.Errorf("a lost edit is not explained, or the text is lost:\n%s", body)
	}
	// A text the desk would refuse in an answer is refused here too, next to its field.
	bad := url.Values{"action": {"reject"}, "type": {"erasure"}, "text.da": {"nul \x00 byte"}, "version.da": {"1"}, "version.nb": {"1"}, "version.en": {"0"}}
	body = page(t, d.post("/admin/settings/replies", bad), http.StatusBadRequest)
	if !strings.Contains(body, `id="text.da-error"`) {
		t.Error("an invalid text is not refused next to its field")
	}
	// Only real actions and types have templates.
	page(t, d.post("/admin/settings/replies", url.Values{"action": {"note"}, "type": {"erasure"}}), http.StatusBadRequest)
}
