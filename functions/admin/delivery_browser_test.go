package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
)

// The DPO answers an access request with files in Chromium, in each language: two files
// chosen in the page's file input (one of 7 MiB, more than Lambda takes) go from the browser
// straight to the bucket, which sends the browser back to the form; the Art. 15 answer is
// filled in, the mail previewed and the answer sent. The bucket holds both files byte for
// byte, the request records them. The form with its files and the answered request are saved
// at 1280 and 390 px and must not scroll sideways.
func TestDeliverInABrowser(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()
	ln, base := browsertest.Listen(t)
	e := setup(t, withDeliveries(t), func(c *config.Admin) { c.BaseURL = base })
	browsertest.Serve(t, ln, browsertest.HTTPAPI(e.h.Handle, "ANY /admin/{proxy+}"))
	shots := browsertest.ArtifactDir(t, "e2e")

	dir := t.TempDir()
	big := bytes.Repeat([]byte("0123456789abcdef"), 7<<16)
	small := []byte(`{"orders": [1041, 1042]}`)
	files := map[string][]byte{"ordrer.json": small, "billeder.zip": big}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o600); err != nil {
			t.Fatal(err)
		}
	}

	b := browsertest.New(t, 3*time.Minute, chromedp.WindowSize(1280, 900))
	e.signInBrowser(b, base, e.cfg.DPOAddresses[0])
	for _, lang := range i18n.Langs {
		ref := dsr.NewReference()
		e.seed(ref, submission(string(lang), "browser."+uniq()+"@example.dk"), received0, verify)
		form := base + requestPath(ref) + "?action=deliver&lang=" + string(lang)
		b.Do(chromedp.EmulateViewport(1280, 900), chromedp.Navigate(form), chromedp.WaitVisible(chromedp.CSS("#upload-file")))
		for _, name := range []string{"ordrer.json", "billeder.zip"} {
			b.Do(chromedp.SetUploadFiles(chromedp.CSS("#upload-file"), []string{filepath.Join(dir, name)}),
				chromedp.Click(chromedp.CSS("form.upload button")),
				// Back from the bucket, the form lists the file with its remove button.
				chromedp.WaitReady(chromedp.CSS(fmt.Sprintf(`input[name=key][value$="/%s"]`, name))))
		}
		for _, p := range dsr.AnswerParts[:4] {
			b.Do(chromedp.SendKeys(chromedp.CSS(`[id="deliver.`+p+`"]`), i18n.T(lang, "answer."+p)+": …"))
		}
		b.Do(chromedp.SendKeys(chromedp.CSS(`[id="deliver.message"]`), i18n.T(lang, "admin.done.deliver")))
		for _, width := range widths {
			b.Do(chromedp.EmulateViewport(width, 900))
			name := fmt.Sprintf("admin-request-deliver-%s-%d", lang, width)
			if wide := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); wide > 0 {
				t.Errorf("%s scrolls sideways by %d px", name, wide)
			}
			b.Screenshot(shots, name)
		}
		if lang == i18n.DA {
			browsertest.CheckReadable(t, b.Context(), "admin-request-deliver-da")
		}
		b.Do(chromedp.EmulateViewport(1280, 900),
			chromedp.Click(chromedp.CSS(`form[action$="/deliver"] button[value=preview]`)), chromedp.WaitVisible(chromedp.CSS(".panel .mail pre")),
			chromedp.Click(chromedp.CSS(`form[action$="/deliver"] button[value=confirm]`)), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
		for _, width := range widths {
			b.Do(chromedp.EmulateViewport(width, 900))
			name := fmt.Sprintf("admin-request-delivered-%s-%d", lang, width)
			if wide := browsertest.Get(b, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`)); wide > 0 {
				t.Errorf("%s scrolls sideways by %d px", name, wide)
			}
			b.Screenshot(shots, name)
		}

		r := e.request(ref)
		if r.Status != dsr.Completed || r.Delivery == nil || len(r.Delivery.Files) != 2 {
			t.Fatalf("%s: after the answer: %s %+v", lang, r.Status, r.Delivery)
		}
		for _, f := range r.Delivery.Files {
			want := files[f.Name]
			if f.Size != int64(len(want)) || f.MD5 != md5hex(want) {
				t.Errorf("%s: recorded %+v, want %d bytes, MD5 %s", lang, f, len(want), md5hex(want))
			}
		}
	}
}
