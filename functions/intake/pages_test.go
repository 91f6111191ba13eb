package main

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// TestEveryPageEveryLanguage renders each page and error answer in each language and looks for
// keys the catalog lacks, a missing title or heading, and missing security headers.
func TestEveryPageEveryLanguage(t *testing.T) {
	t.Parallel()
	hs := newHarness(t)
	h := hs.h
	ctx := context.Background()
	tok, hash := token.ForRequest("ABCD-EFGH")
	r := dsr.New("ABCD-EFGH", dsr.Submission{Type: "portability", Name: "N", Email: "n@example.dk", Lang: "da"}, t0, h.cfg.Calendar.Due(t0), hash)
	allErrors := dsr.FieldErrors{"type": dsr.CodeRequired, "name": dsr.CodeTooLong, "email": dsr.CodeInvalidEmail,
		"details": dsr.CodeInvalidUTF8, "customer_ref": dsr.CodeControlChar}
	for _, l := range i18n.Langs {
		pages := map[string]web.Response{
			"form":         h.formPage(l, dsr.Submission{}, nil, "ts", ""),
			"form, errors": h.formPage(l, dsr.Submission{Type: "rectification"}, allErrors, "ts", ""),
			"form, stale":  h.formPage(l, dsr.Submission{Type: "access"}, nil, "ts", "intake.form.stale"),
			"form, again":  h.formPage(l, dsr.Submission{Type: "access"}, nil, "ts", "intake.form.again"),
			"verify":       h.linkAnswer(ctx, l, tok, r, linkPending, "test"),
			"already":      h.linkAnswer(ctx, l, tok, r, linkUsed, "test"),
			"invalid":      h.linkAnswer(ctx, l, tok, nil, linkInvalid, "test"),
			"confirmed":    h.confirmed(l, tok, r),
			"sent":         h.sent(h.site.Call(withQuery(event(t, "intake-sent-get"), "lang="+string(l)))),
		}
		for _, key := range []string{"intake.notfound", "intake.forbidden", "intake.toolarge", "intake.unsupported",
			"intake.badrequest", "intake.badjson", "intake.unavailable", "intake.unavailable_verify"} {
			pages[key] = h.problem(l, false, errors.New("x"), key)
			js := h.problem(l, true, fault.Unavailable, key)
			checkNoMissingKeys(t, key+" JSON", js.Body)
		}
		for name, p := range pages {
			what := string(l) + " " + name
			checkNoMissingKeys(t, what, p.Body)
			mustContain(t, what, p.Body, `<html lang="`+string(l)+`">`, "<h1", "</html>")
			if !strings.Contains(p.Body, "<title>") || strings.Contains(p.Body, "<title> –") {
				t.Errorf("%s has no title", what)
			}
			if p.Headers["Content-Security-Policy"] == "" || p.Headers["X-Content-Type-Options"] != "nosniff" {
				t.Errorf("%s lacks the security headers", what)
			}
			if strings.Contains(p.Body, "<script") {
				t.Errorf("%s has a script", what)
			}
		}
		// Every field error has words in every language.
		for _, f := range fields {
			for _, code := range []string{dsr.CodeRequired, dsr.CodeTooLong, dsr.CodeInvalidUTF8, dsr.CodeControlChar,
				dsr.CodeInvalidEmail, dsr.CodeInvalidChoice, dsr.CodeUnsendableEmail, dsr.CodeInvisibleChar, codeNotText} {
				checkNoMissingKeys(t, f.Name+" "+code, fieldMessage(l, f.Name, code))
			}
		}
	}
}

// TestEveryMailEveryLanguage renders the intake's four mail templates in each language for
// both countries, including the reminder the sweep sends.
func TestEveryMailEveryLanguage(t *testing.T) {
	t.Parallel()
	for _, country := range []string{"DK", "NO"} {
		loc, err := deadline.Location(country)
		if err != nil {
			t.Fatal(err)
		}
		for _, def := range i18n.Langs {
			n, err := notice.New(notice.Settings{Controller: controller, Country: country, BaseURL: baseURL,
				DPOAddresses: []string{"dpo@example.dk"}, DefaultLang: def, Location: loc})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range i18n.Langs {
				for _, ty := range []dsr.Type{dsr.Access, dsr.WithdrawConsent} {
					cal, _ := deadline.ForCountry(country)
					due := ty.Due(cal, t0, dsr.DefaultPromptWorkingDays)
					r := dsr.New("ABCD-EFGH", dsr.Submission{Type: string(ty), Name: "Ola", Email: "ola@example.no",
						Details: "Line one\nLine two", Lang: string(l)}, t0, due, "h")
					for _, kind := range []dsr.MailKind{dsr.MailVerification, dsr.MailReminder, dsr.MailReceipt, dsr.MailDPONew} {
						m, err := n.Request(kind, r, baseURL+"/verify?token=ABCD-EFGH.x")
						what := country + " " + string(def) + "/" + string(l) + " " + string(ty) + " " + string(kind)
						if err != nil {
							t.Fatalf("%s: %v", what, err)
						}
						checkNoMissingKeys(t, what, m.Subject+m.Text+m.HTML)
						if m.Subject == "" || strings.ContainsAny(m.Subject, "\r\n") {
							t.Errorf("%s subject %q", what, m.Subject)
						}
						lang := l
						if kind == dsr.MailDPONew {
							lang = def
						}
						mustContain(t, what, m.HTML, `<html lang="`+string(lang)+`">`)
						mustContain(t, what, m.Text, "ABCD-EFGH", i18n.T(lang, "type."+string(ty)+".name"))
						switch kind {
						case dsr.MailVerification, dsr.MailReminder:
							mustContain(t, what, m.Text, baseURL+"/verify?token=ABCD-EFGH.x", i18n.DateTime(lang, t0.Add(dsr.ExpireAfter).In(loc)))
							mustNotContain(t, what, m.Text+m.HTML, "Ola", "Line one")
						case dsr.MailReceipt:
							mustContain(t, what, m.Text, i18n.T(lang, "authority."+country+".url"), "dpo@example.dk")
							// A withdrawal is acted on without undue delay: no month, no extension.
							if ty == dsr.WithdrawConsent {
								mustContain(t, what, m.Text, i18n.T(lang, "intake.mail.receipt.prompt.withdraw_consent"))
								mustNotContain(t, what, m.Text, i18n.LongDate(lang, due.In(loc)), i18n.T(lang, "intake.mail.receipt.extension"))
							} else {
								mustContain(t, what, m.Text, i18n.LongDate(lang, due.In(loc)), i18n.T(lang, "intake.mail.receipt.extension"))
							}
						case dsr.MailDPONew:
							mustContain(t, what, m.Text, baseURL+"/admin/requests/ABCD-EFGH", "> Line one\n> Line two", "ola@example.no")
						}
						if kind == dsr.MailReminder {
							mustContain(t, what, m.Text, i18n.T(lang, "intake.mail.reminder.fresh"), i18n.Date(lang, t0.In(loc)))
						}
					}
				}
			}
		}
	}
}
