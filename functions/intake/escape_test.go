package main

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// TestMarkupIsEscaped puts markup in every field: the re-rendered form, the pages and both
// parts of every mail show it as text, and no subject ever carries what a requester typed.
func TestMarkupIsEscaped(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	const (
		xName    = `Mette <script>alert("name")</script>`
		xDetails = "<img src=x onerror=alert(1)>\n</textarea><script>alert('details')</script>"
		xRef     = `"><script>alert(3)</script>`
	)

	// Re-rendered with an error (the address is invalid): every value comes back as text.
	v := hs.form(`<script>alert(2)</script>@example.dk`, i18n.DA)
	v.Set("name", xName)
	v.Set("details", xDetails)
	v.Set("customer_ref", xRef)
	v.Set("type", `"><script>alert(4)</script>`)
	resp := hs.postForm(v)
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("%s, want 400", fmtStatus(resp))
	}
	mustNotContain(t, "form", resp.Body, "<script", "<img", "</textarea><")
	mustContain(t, "form", resp.Body, "&lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;", "&lt;img src=x onerror=alert(1)&gt;")

	// Filed and confirmed: the mails quote it harmlessly.
	email := address("markup")
	v = hs.form(email, i18n.EN)
	v.Set("name", xName)
	v.Set("details", xDetails)
	v.Set("customer_ref", xRef)
	resp = hs.postForm(v)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("%s, want 303", fmtStatus(resp))
	}
	tok := tokenFrom(t, hs.env.Mails(t, email)[0].Text)
	mustNotContain(t, "verify page", hs.verifyGet(tok).Body, "<script")
	done := hs.verifyPost(tok, i18n.EN)
	mustNotContain(t, "confirmed page", done.Body, "<script")

	mails := append(hs.env.Mails(t, email), hs.env.Mails(t, hs.dpo)...)
	if len(mails) != 3 {
		t.Fatalf("%d mails, want verification, receipt and DPO", len(mails))
	}
	ref := refOf(tok)
	subjects := map[string]bool{
		i18n.T(i18n.EN, "intake.mail.verification.subject", controller): true,
		i18n.T(i18n.EN, "intake.mail.receipt.subject", ref):             true,
	}
	for _, m := range mails {
		mustNotContain(t, "mail html", m.HTML, "<script", "<img")
		mustNotContain(t, "subject", m.Subject, "script", "alert", "Mette", "\n", "\r")
		if !subjects[m.Subject] && !strings.HasPrefix(m.Subject, "Ny anmodning "+ref+":") {
			t.Errorf("unexpected subject %q", m.Subject)
		}
	}
	receipt, dpo := mails[1], mails[2]
	mustContain(t, "receipt html", receipt.HTML, "Mette &lt;script&gt;alert(&#34;name&#34;)&lt;/script&gt;")
	mustContain(t, "DPO html", dpo.HTML, "&lt;img src=x onerror=alert(1)&gt;<br>&lt;/textarea&gt;&lt;script&gt;", "&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;")
	// Plain text is plain: the words arrive as typed, quoted so they cannot pass for ours.
	mustContain(t, "DPO text", dpo.Text, "> <img src=x onerror=alert(1)>\n> </textarea>", xRef)
}
