package e2e

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// TestStatusPageFromTheMail follows the status page link every mail to the requester carries,
// in each language: the receipt's link opens the page (from the mail program, so without a
// cookie yet), the requester writes from it, the DPO is told, and the page shows the message.
// Then the lost-link form mails a new link to the address, and answers an address without
// requests the same way.
func TestStatusPageFromTheMail(t *testing.T) {
	d := desk(t)
	for _, f := range filings {
		t.Run(string(f.lang), func(t *testing.T) {
			t.Parallel()
			person := newVisitor(t, d, f.acceptLanguage)
			email := address("status-" + string(f.lang))
			ref := fileAndConfirm(t, d, person, f, email)
			receipt := mails(t, d, email, 2, nil)[1]
			statusLink := link(t, d, receipt, "/status?token=")

			// The mail program opens it: no cookie yet, the page sets one.
			reader := newVisitor(t, d, f.acceptLanguage)
			page := reader.open(statusLink, "none")
			loc := d.cal.Location()
			r, err := d.store.GetRequest(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			expectPage(t, page, f.lang, i18n.T(f.lang, "portal.status.heading", ref), i18n.T(f.lang, "type."+string(f.typ)+".name"),
				i18n.LongDate(f.lang, r.Deadline().In(loc)), i18n.T(f.lang, "portal.why.month"))
			if page.header.Get("Cache-Control") != "no-store" || reader.cookies["dsr_status"] == "" {
				t.Fatalf("Cache-Control %q, cookies %v", page.header.Get("Cache-Control"), reader.cookies)
			}

			text := "Jeg har også en konto under mit pigenavn."
			done := reader.submit(d.base+"/status/reply", url.Values{
				"form": {hidden(t, page.body, "form")}, "lang": {hidden(t, page.body, "lang")}, "text": {text},
			}).location(t, d.base)
			if done != d.base+"/status?done=reply" {
				t.Fatalf("after the reply: %s", done)
			}
			expectPage(t, reader.open(done, "same-origin"), f.lang, i18n.T(f.lang, "portal.done.heading"), text)
			mails(t, d, dpoNotified, 1, func(m emulator.Mail) bool {
				return m.Subject == i18n.T(dpoLang, "portal.mail.dpo_reply.subject", ref)
			})
			r, err = d.store.GetRequest(context.Background(), ref)
			if err != nil {
				t.Fatal(err)
			}
			if last := r.Audit[len(r.Audit)-1]; last.Action != dsr.ActionReplied || last.Actor != dsr.ActorRequester || last.Message == "" {
				t.Fatalf("the trail ends %+v", last)
			}

			// Lost the link: a new one by mail. Another address gets the same answer, and no mail.
			asker := newVisitor(t, d, f.acceptLanguage)
			form := asker.open(d.base+"/status/lost", "none")
			expectPage(t, form, f.lang, i18n.T(f.lang, "portal.lost.title"))
			known := asker.submit(d.base+"/status/lost", url.Values{"lang": {string(f.lang)}, "email": {email}})
			nobody := address("nobody")
			unknown := asker.submit(d.base+"/status/lost", url.Values{"lang": {string(f.lang)}, "email": {nobody}})
			if known.status != http.StatusSeeOther || known.header.Get("Location") != unknown.header.Get("Location") || known.body != unknown.body {
				t.Fatalf("known %d %s, unknown %d %s", known.status, known.header.Get("Location"), unknown.status, unknown.header.Get("Location"))
			}
			expectPage(t, asker.open(known.location(t, d.base), "same-origin"), f.lang, i18n.T(f.lang, "portal.lost.sent.title"))
			lost := mails(t, d, email, 1, func(m emulator.Mail) bool { return m.Subject == i18n.T(f.lang, "portal.mail.lost.subject", controller) })[0]
			fresh := newVisitor(t, d, f.acceptLanguage)
			expectPage(t, fresh.open(link(t, d, lost, "/status?token="), "none"), f.lang, ref, text)
			if n := len(d.aws.Mails(t, nobody)); n != 0 {
				t.Errorf("%d mails to an address without requests", n)
			}
			// A link that was never issued (the secret's last character changed) gets the page
			// any unknown link gets.
			last := statusLink[len(statusLink)-1:]
			forged := strings.TrimSuffix(statusLink, last) + map[bool]string{true: "B", false: "A"}[last == "A"]
			if p := newVisitor(t, d, f.acceptLanguage).open(forged, "none"); p.status != http.StatusNotFound {
				t.Errorf("a forged link: %d", p.status)
			}
		})
	}
}
