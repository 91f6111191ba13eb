package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// pdfPage is a page object of a PDF (not the /Pages tree).
var pdfPage = regexp.MustCompile(`/Type\s*/Page[^s]`)

// media emulates a CSS media type ("print", or "" for the screen again).
func media(m string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
		return chromedp.Void{}, err
	}
}

// TestLetterInABrowser draws the page of a letter to a requester without an address, in
// Chromium, in Danish, Norwegian and English (the workspace and the letter in the same
// language), at 1280 and 390 px and as printed: on screen nothing scrolls sideways and the
// page is readable; on paper the letter is alone (no header, footer, menu or form), and the
// PDF Chromium prints is one page. Screenshots and PDFs land in artifacts/e2e/
// (admin-letter-<lang>-<width>.png, admin-letter-<lang>-print.png and .pdf), with the request's
// page that links to the letter (admin-request-letter-<lang>-<width>.png).
func TestLetterInABrowser(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()
	ln, base := browsertest.Listen(t)
	e := setup(t, func(c *config.Admin) { c.BaseURL = base })
	browsertest.Serve(t, ln, browsertest.HTTPAPI(e.h.Handle, "ANY /admin/{proxy+}"))
	shots := browsertest.ArtifactDir(t, "e2e")
	d := e.session(e.cfg.DPOAddresses[0])
	refs := map[i18n.Lang]string{}
	for _, lang := range i18n.Langs {
		ref := byLetter(t, d, lang)
		redirect(t, d.act(ref, "extend", url.Values{"reason": {"Oplysningerne ligger i fem systemer, og to af dem kræver leverandørens hjælp."}, "step": {stepConfirm}}))
		refs[lang] = ref
	}
	posted := byLetter(t, d, i18n.EN)
	redirect(t, d.act(posted, "extend", url.Values{"reason": {"Five systems to search."}, "step": {stepConfirm}}))
	redirect(t, d.act(posted, actionLetterPosted, url.Values{"letter": {string(dsr.MailExtension)}, "posted_on": {"2026-03-10"}}))

	b := browsertest.New(t, 3*time.Minute, chromedp.WindowSize(1280, 900))
	e.signInBrowser(b, base, e.cfg.DPOAddresses[0])
	visible := func(sel string) bool {
		return browsertest.Get(b, chromedp.Evaluate[bool](fmt.Sprintf(`(() => { const e = document.querySelector(%q); return !!e && getComputedStyle(e).display !== "none" })()`, sel)))
	}
	for _, lang := range i18n.Langs {
		path := letterPath(refs[lang], dsr.MailExtension)
		b.Do(chromedp.Navigate(base + path + "&lang=" + string(lang)))
		for _, width := range widths {
			name := fmt.Sprintf("admin-letter-%s-%d", lang, width)
			b.Do(chromedp.EmulateViewport(width, 900), chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("article.letter")))
			if got := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("article.letter").lang`)); got != string(lang) {
				t.Errorf("%s: the letter is in %q", name, got)
			}
			if wide := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); wide > 0 {
				t.Errorf("%s scrolls sideways by %d px", name, wide)
			}
			if !visible("header.site") || !visible(".record") {
				t.Errorf("%s: on screen the page lacks its header or the form to record the posting", name)
			}
			b.Screenshot(shots, name)
			if width == widths[0] {
				browsertest.CheckReadable(t, b.Context(), name)
			}
			// The request's page: the letter to post, linked from its summary and its history.
			name = fmt.Sprintf("admin-request-letter-%s-%d", lang, width)
			b.Do(chromedp.Navigate(base+requestPath(refs[lang])), chromedp.WaitVisible(chromedp.CSS(`a[href="`+path+`"]`)))
			if wide := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); wide > 0 {
				t.Errorf("%s scrolls sideways by %d px", name, wide)
			}
			b.Screenshot(shots, name)
		}
		// On paper: A4 width, print media; the letter alone.
		name := fmt.Sprintf("admin-letter-%s-print", lang)
		b.Do(chromedp.EmulateViewport(794, 1123), chromedp.Navigate(base+path), chromedp.WaitVisible(chromedp.CSS("article.letter")), media("print"))
		for _, hidden := range []string{"header.site", "footer.site", ".no-print", ".record"} {
			if visible(hidden) {
				t.Errorf("%s: %s is printed", name, hidden)
			}
		}
		if !visible("article.letter") {
			t.Errorf("%s: the letter is not printed", name)
		}
		text := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector("article.letter").innerText`))
		for _, want := range []string{"Karen Blixen", "2960 Rungsted Kyst", e.cfg.ControllerName, "Strandvejen 12", refs[lang],
			i18n.T(lang, "letter.contact", e.cfg.DPOAddresses[0], refs[lang])} {
			if !strings.Contains(text, want) {
				t.Errorf("%s: the letter lacks %q", name, want)
			}
		}
		b.Screenshot(shots, name)
		pdf := browsertest.Get(b, chromedp.PrintToPDF(chromedp.PDFPaper(chromedp.PaperA4)))
		if pages := len(pdfPage.FindAll(pdf, -1)); pages != 1 {
			t.Errorf("%s: %d pages", name, pages)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".pdf"), pdf, 0o644); err != nil {
			t.Log(err)
		}
		b.Do(media(""))
	}
	// Once posted, the page says when, and what that proves; on paper too, on a page of its own.
	b.Do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(base+letterPath(posted, dsr.MailExtension)+"&lang=en"),
		chromedp.WaitVisible(chromedp.CSS(".record.posted")))
	record := browsertest.Get(b, chromedp.Evaluate[string](`document.querySelector(".record").innerText`))
	if !strings.Contains(record, i18n.T(i18n.EN, "admin.letter.proof.extension", "Tuesday 10 March 2026")) {
		t.Errorf("the posted letter's page says %q", record)
	}
	b.Screenshot(shots, "admin-letter-posted-en-1280")
	b.Do(media("print"))
	if !visible(".record") || visible(".record form") {
		t.Error("the record of the posting is not printed")
	}
	b.Do(media(""))
}
