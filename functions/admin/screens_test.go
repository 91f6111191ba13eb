package main

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// screen is one workspace page as a DPO sees it: where it is, what shows it has loaded, and
// what a step before the screenshot does on it (a click, a form filled in).
type screen struct {
	name  string
	path  string
	ready string
	// before, if set, runs after the page loaded and before the screenshot.
	before func(b *browsertest.Browser)
}

// widths are the screens every page is drawn at: a laptop, and a phone, where a DPO lands from
// a digest link.
var widths = []int64{1280, 390}

// TestEveryScreen draws every workspace page in Chromium in Danish, Norwegian and English, at
// 1280 and 390 px, saves each as artifacts/e2e/admin-<page>-<lang>-<width>.png, and checks what
// a person would notice first: nothing scrolls sideways on a phone, every text is readable and
// every control shows its focus.
func TestEveryScreen(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()
	ln, base := browsertest.Listen(t)
	e := setup(t, func(c *config.Admin) { c.BaseURL = base })
	w := e.workspace()
	browsertest.Serve(t, ln, browsertest.HTTPAPI(e.h.Handle, "ANY /admin/{proxy+}"))
	shots := browsertest.ArtifactDir(t, "e2e")

	b := browsertest.New(t, 5*time.Minute, chromedp.WindowSize(1280, 900))
	e.signInBrowser(b, base, e.cfg.DPOAddresses[0])

	screens := []screen{
		{name: "worklist", path: "/admin", ready: "main h1"},
		{name: "worklist-waiting", path: "/admin?view=waiting", ready: "main h1"},
		{name: "worklist-closed", path: "/admin?view=closed", ready: "main h1"},
		{name: "worklist-all", path: "/admin?view=all&type=access", ready: "main h1"},
		{name: "request", path: requestPath(w.extended), ready: "ol.history"},
		{name: "request-mail", path: requestPath(w.extended), ready: "ol.history", before: func(b *browsertest.Browser) {
			b.Do(chromedp.Click(chromedp.CSS("ol.history details summary")))
		}},
		{name: "request-action", path: requestPath(w.open) + "?action=complete", ready: `[id="complete.message"]`},
		{name: "request-preview", path: requestPath(w.open) + "?action=reject", ready: `[id="reject.reason"]`, before: func(b *browsertest.Browser) {
			b.Do(chromedp.SetValue(chromedp.CSS(`[id="reject.category"]`), "manifestly_unfounded"),
				chromedp.SendKeys(chromedp.CSS(`[id="reject.reason"]`), "Du har bedt om det samme fjorten gange i dag."),
				chromedp.SendKeys(chromedp.CSS(`[id="reject.justification"]`), "Anmodning K1–K13 i dag, alle besvaret."),
				chromedp.Click(chromedp.CSS(`button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".panel .mail pre")))
		}},
		{name: "request-pending", path: requestPath(w.pending), ready: "ol.history"},
		{name: "request-partial", path: requestPath(w.erasure) + "?action=partial", ready: `[id="partial.kept"]`},
		{name: "request-recipients", path: requestPath(w.erasure) + "?action=recipients", ready: `[id="recipients.instruction"]`, before: func(b *browsertest.Browser) {
			b.Do(chromedp.Click(chromedp.CSS(`[id="recipients.recipients-0"]`)), chromedp.Click(chromedp.CSS(`[id="recipients.recipients-1"]`)),
				chromedp.SendKeys(chromedp.CSS(`[id="recipients.instruction"]`), "Slet alle oplysninger om kunde K-1042."),
				chromedp.Click(chromedp.CSS(`button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".panel .mail pre")))
		}},
		{name: "request-fee", path: requestPath(w.open) + "?action=fee", ready: `[id="fee.amount"]`},
		{name: "request-closed", path: requestPath(w.closed), ready: "ol.history"},
		{name: "request-mail-in", path: requestPath(w.mailed), ready: "ol.history"},
		{name: "request-classify", path: requestPath(w.mailed) + "?action=classify", ready: `[id="classify.type"]`},
		{name: "request-confirm-other", path: requestPath(w.pending) + "?action=confirm_other", ready: `[id="confirm_other.note"]`},
		{name: "request-registered", path: requestPath(w.registered), ready: "ol.history"},
		{name: "register", path: registerPath, ready: `[id="register.channel"]`},
		{name: "register-preview", path: registerPath, ready: `[id="register.channel"]`, before: func(b *browsertest.Browser) {
			b.Do(chromedp.SetValue(chromedp.CSS(`[id="register.channel"]`), "letter"),
				chromedp.SetValue(chromedp.CSS(`[id="register.received_at"]`), "2026-03-04T09:30"),
				chromedp.SetValue(chromedp.CSS(`[id="register.type"]`), "access"),
				chromedp.SendKeys(chromedp.CSS(`[id="register.name"]`), "Ola Nordmann"),
				chromedp.SendKeys(chromedp.CSS(`[id="register.email"]`), w.email),
				chromedp.SetValue(chromedp.CSS(`[id="register.requester_lang"]`), "nb"),
				chromedp.SendKeys(chromedp.CSS(`[id="register.details"]`), "Brev: ber om innsyn i alt dere har om meg."),
				chromedp.Click(chromedp.CSS(`[id="register.identity-1"]`)),
				chromedp.Click(chromedp.CSS(`button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".panel .mail pre")))
		}},
		{name: "report", path: "/admin/report", ready: "main h1"},
		{name: "digest", path: "/admin/digest", ready: "main h1"},
		{name: "search", path: "/admin/search?q=" + url.QueryEscape("Søren"), ready: "main h1"},
		{name: "settings", path: "/admin/settings", ready: "main h1"},
		{name: "settings-replies", path: "/admin/settings/replies?edit=complete.rectification", ready: "#edit"},
		{name: "settings-answer", path: "/admin/settings/answer", ready: `[id="answer.purposes"]`},
		{name: "not-found", path: "/admin/requests/ZZZZ-ZZZZ", ready: "main h1"},
	}
	for _, lang := range i18n.Langs {
		b.Do(chromedp.Navigate(base + "/admin?lang=" + string(lang)))
		for _, width := range widths {
			b.Do(chromedp.EmulateViewport(width, 900))
			for _, s := range screens {
				name := fmt.Sprintf("admin-%s-%s-%d", s.name, lang, width)
				b.Do(chromedp.Navigate(base+s.path), chromedp.WaitVisible(chromedp.CSS(s.ready)))
				if s.before != nil {
					s.before(b)
				}
				if got := browsertest.Get(b, chromedp.Evaluate[string](`document.documentElement.lang`)); got != string(lang) {
					t.Errorf("%s: page in %q", name, got)
				}
				if wide := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); wide > 0 {
					t.Errorf("%s scrolls sideways by %d px", name, wide)
				}
				b.Screenshot(shots, name)
				if width == widths[0] && lang == i18n.DA {
					browsertest.CheckReadable(t, b.Context(), name)
				}
			}
		}
	}
}

// world is the workspace a screenshot shows: requests in every state, in every language,
// with names as requesters write them.
type world struct {
	open, extended, pending, closed string
	// erasure is in progress, with recipients of its data in the register (Art. 19).
	erasure string
	email   string
	// mailed came by mail to the privacy address, unclassified, with an attachment and a
	// sender whose domain failed DMARC; registered is a letter the DPO registered.
	mailed, registered string
}

// workspace fills e's table with a small company's requests and returns the ones the screens
// show. The answers go through the handler, so their mails are sent and kept as a DPO's are.
func (e *tenv) workspace() world {
	e.t.Helper()
	d := e.session(e.cfg.DPOAddresses[1])
	w := world{email: "ola.nordmann." + uniq() + "@example.no"}
	people := []struct {
		name, lang, typ string
		received        time.Time
		steps           []func(*dsr.Request, time.Time) (dsr.Change, error)
	}{
		{"Ola Nordmann", "nb", "access", time.Date(2026, 2, 12, 9, 0, 0, 0, time.UTC), []func(*dsr.Request, time.Time) (dsr.Change, error){verify}},
		{"Søren Kierkegaard", "da", "erasure", time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC), []func(*dsr.Request, time.Time) (dsr.Change, error){verify, start}},
		{"Karen Blixen", "da", "rectification", received0, []func(*dsr.Request, time.Time) (dsr.Change, error){verify}},
		{"Jane Doe", "en", "portability", now0.Add(-2 * time.Hour), []func(*dsr.Request, time.Time) (dsr.Change, error){verify}},
		{"Bjørn Ærø", "da", "objection", now0.Add(-time.Hour), nil},
		{"Ingrid Ås", "nb", "restriction", time.Date(2025, 11, 3, 9, 0, 0, 0, time.UTC), []func(*dsr.Request, time.Time) (dsr.Change, error){verify, complete}},
		{"Peter Hansen", "da", "withdraw_consent", time.Date(2025, 12, 1, 9, 0, 0, 0, time.UTC), []func(*dsr.Request, time.Time) (dsr.Change, error){verify, reject}},
	}
	refs := make([]string, len(people))
	for i, p := range people {
		s := dsr.Submission{Type: p.typ, Name: p.name, Email: strings.ToLower(strings.ReplaceAll(p.name, " ", ".")) + "." + uniq() + "@example.dk",
			Details: "Jeg vil gerne vide, hvilke oplysninger I har om mig,\nog hvor I har dem fra.", CustomerRef: fmt.Sprintf("K-%04d", 1041+i), Lang: p.lang}
		if i == 0 {
			s.Email = w.email
		}
		refs[i] = dsr.NewReference()
		e.seed(refs[i], s, p.received, p.steps...)
	}
	w.open, w.pending, w.erasure = refs[2], refs[4], refs[1]
	g := dsr.Register{Recipients: []dsr.Recipient{
		{ID: "fak1", Name: "Fakturaservice ApS", Email: "gdpr@fakturaservice.example", Lang: "da", Receives: "Navn, adresse og fakturaer"},
		{ID: "lea2", Name: "Leasing Nord AS", Email: "personvern@leasingnord.example", Lang: "nb", Receives: "Kjøpskontrakter ved leasing"},
	}}
	if err := e.st.SaveRecipients(context.Background(), &g); err != nil {
		e.t.Fatal(err)
	}
	// One extended with reasons and a note, one answered: their mails go out as the DPO's do.
	w.extended = refs[0]
	redirect(e.t, d.act(w.extended, "extend", url.Values{"reason": {"Oplysningerne ligger i tre systemer, og vi har mange anmodninger lige nu."}}))
	redirect(e.t, d.act(w.extended, "note", url.Values{"note": {"Ringede til Ola: han vil helst have svaret på e-mail."}}))
	// A reply template for the answer the screens open.
	redirect(e.t, d.post("/admin/settings/replies", url.Values{"action": {"complete"}, "type": {"rectification"},
		"text.da": {"Vi har rettet din adresse i kundesystemet og i faktureringen.\nDer er ikke andre steder, vi har den."},
		"text.nb": {"Vi har rettet adressen din i kundesystemet og i faktureringen."}, "text.en": {"We have corrected your address in our customer and billing systems."},
		"version.da": {"0"}, "version.nb": {"0"}, "version.en": {"0"}}))
	w.closed = refs[3]
	redirect(e.t, d.act(w.closed, "complete", url.Values{"message": {"We have attached a copy of your data in a machine-readable format (JSON).\nKind regards"}, "confirm": {"no_delivery"}}))
	// The answer bounced.
	closed := e.request(w.closed)
	ch, err := closed.RecordFeedback(dsr.MailCompletion, dsr.Feedback{Kind: dsr.FeedbackBounce, At: now0, Detail: "Permanent/General"})
	if err != nil {
		e.t.Fatal(err)
	}
	if err := e.st.Commit(context.Background(), closed, ch); err != nil {
		e.t.Fatal(err)
	}
	mailed := dsr.FromMail(dsr.NewReference(), dsr.IncomingMail{
		From: "ole.olsen." + uniq() + "@example.no", Name: "Ole Olsen", Lang: "nb", ReceivedAt: now0.Add(-3 * time.Hour),
		Text: "Hei,\njeg vil vite hva dere har lagret om meg, og be dere slette det dere ikke trenger.\nHilsen Ole",
		Mail: dsr.InboundMail{Key: "mail/0100019a-screens", Subject: "Personopplysninger – innsyn og sletting", DMARCFail: true,
			Attachments: []dsr.Attachment{{Name: "legitimasjon-førerkort.pdf", Size: 482133, Type: "application/pdf"}, {Name: "brev.jpg", Size: 2612004, Type: "image/jpeg"}}},
	}, dsr.Unclassified.Due(e.cfg.Calendar, now0.Add(-3*time.Hour), e.cfg.PromptWorkingDays), "hash")
	if err := e.st.CreateRequest(context.Background(), mailed); err != nil {
		e.t.Fatal(err)
	}
	// Its acknowledgement went out, as the inbound function sends it.
	sent := map[dsr.MailKind]dsr.MailState{dsr.MailVerification: {State: dsr.MailSent, At: mailed.ReceivedAt, Attempts: 1}}
	if err := e.st.RecordMails(context.Background(), mailed, sent); err != nil {
		e.t.Fatal(err)
	}
	w.mailed = mailed.Ref
	redirect(e.t, d.act(w.mailed, "confirm_other", url.Values{"note": {"Ringte Ole tilbake på nummeret fra kundekortet."}, "step": {stepConfirm}}))
	loc := redirect(e.t, d.post(registerPath, url.Values{"step": {stepConfirm}, "channel": {"letter"}, "received_at": {"2026-03-04T09:30"},
		"type": {"erasure"}, "name": {"Grethe Sørensen"}, "postal_address": {"Algade 12, 2. th.\n4000 Roskilde"}, "requester_lang": {"da"},
		"details": {"Brev: beder om at blive slettet som kunde."}, "identity": {"other_means"}, "identity_note": {"Underskrevet brev; adressen stemmer med kundekortet."}}))
	w.registered, _, _ = strings.Cut(strings.TrimPrefix(loc, "/admin/requests/"), "?")
	// A refusal by a letter written yesterday and not yet posted, which the digest lists.
	unposted(e.t, e, dsr.NewReference(), true, now0.Add(-24*time.Hour))
	return w
}

// signInBrowser signs email in in b the way a DPO does: the sign-in form, the mailed link,
// the confirmation.
func (e *tenv) signInBrowser(b *browsertest.Browser, base, email string) {
	e.t.Helper()
	b.Do(chromedp.Navigate(base+"/admin/signin"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS(".notice")))
	tok, _ := e.linkFrom(email)
	b.Do(chromedp.Navigate(base+"/admin/signin/confirm?token="+tok), chromedp.Click(chromedp.CSS("main button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("header form.who")))
}
