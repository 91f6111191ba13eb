package main

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/browsertest"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// The requester downloads the files of their answer in Chromium, in each language: the
// status page shows the answer and the files and sends a link to the mailbox; the link opens
// a page with one button; the button opens the files; each download goes from the bucket to
// the browser as an attachment and arrives byte for byte (one of 7 MiB, more than Lambda
// could carry); both downloads are recorded. The link, used, then gives the "not valid" page.
// Every page is saved at 1280 and 390 px and must not scroll sideways.
func TestFilesInABrowser(t *testing.T) {
	browsertest.Require(t)
	t.Parallel()
	env := emulator.Get(t)
	ln, base := browsertest.Listen(t)
	hs := newHarness(t, withEnv("BASE_URL", base), withS3(t, env))
	browsertest.Serve(t, ln, browsertest.HTTPAPI(hs.h.Handle, "ANY /status/{proxy+}"))
	shots := browsertest.ArtifactDir(t, "e2e")
	big := bytes.Repeat([]byte("0123456789abcdef"), 7<<16)
	small := []byte(`{"orders": [1041, 1042]}`)
	linkIn := regexp.MustCompile(regexp.QuoteMeta(base) + `/status/files\?proof=\S+`)

	for _, lang := range i18n.Langs {
		t.Run(string(lang), func(t *testing.T) {
			hs.t = t
			email := address("files")
			r := hs.seed(lang, email)
			f1 := hs.upload(r, "u1", "ordrer.json", small)
			f2 := hs.upload(r, "u2", "billeder.zip", big)
			hs.deliver(r, f1, f2)
			status := base + "/status?token=" + url.QueryEscape(hs.link(r)) + "&lang=" + string(lang)

			dir := t.TempDir()
			b := browsertest.New(t, 2*time.Minute, chromedp.WindowSize(1280, 900))
			heading := func() string { return browsertest.Get(b, chromedp.Text(chromedp.CSS("h1"))) }
			shot := func(name string) {
				t.Helper()
				browsertest.CheckReadable(t, b.Context(), string(lang)+" "+name)
				b.Screenshot(shots, "portal-files-"+string(lang)+"-"+name+"-1280")
				b.Do(chromedp.EmulateViewport(390, 844))
				if browsertest.Get(b, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > document.documentElement.clientWidth`)) {
					t.Errorf("%s scrolls sideways at 390 px", name)
				}
				b.Screenshot(shots, "portal-files-"+string(lang)+"-"+name+"-390")
				b.Do(chromedp.EmulateViewport(1280, 900))
			}

			b.Do(chromedp.Navigate(status), chromedp.WaitVisible(chromedp.CSS("#files")))
			shot("1-status")
			b.Do(chromedp.Click(chromedp.CSS(`form[action$="/status/files/link"] button`)), chromedp.WaitVisible(chromedp.CSS(".notice.ok")))
			shot("2-link-sent")
			hs.runAfter()
			mails := hs.env.Mails(t, email)
			link := ""
			if len(mails) > 0 {
				link = linkIn.FindString(mails[len(mails)-1].Text)
			}
			if link == "" {
				t.Fatalf("no files link mailed: %d mails", len(mails))
			}

			b.Do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS(`main form button`)))
			if h := heading(); h != i18n.T(lang, "portal.files.confirm.heading") {
				t.Errorf("the link shows %q", h)
			}
			shot("3-confirm")
			b.Do(chromedp.Click(chromedp.CSS(`main form button`)), chromedp.WaitVisible(chromedp.CSS("ul.files")))
			shot("4-files")

			b.Do(chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
				_, err := chromedp.CallBrowser(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
					Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir,
				})
				return err
			}))
			// One download at a time: a second form sent while the first one's answer is on its
			// way would cancel the first, as any browser does.
			deadline := time.Now().Add(time.Minute)
			for i, f := range []struct {
				name    string
				content []byte
			}{{"ordrer.json", small}, {"billeder.zip", big}} {
				b.Do(chromedp.Click(chromedp.CSS(`ul.files li:nth-child(` + string(rune('1'+i)) + `) form button`)))
				for {
					got, err := os.ReadFile(filepath.Join(dir, f.name))
					if err == nil && bytes.Equal(got, f.content) {
						break
					}
					if time.Now().After(deadline) {
						t.Fatalf("%s: %d bytes downloaded (%v), want %d the same", f.name, len(got), err, len(f.content))
					}
					time.Sleep(100 * time.Millisecond)
				}
			}
			downloads, err := hs.st.Downloads(context.Background(), r.Ref)
			if err != nil || len(downloads) != 2 {
				t.Errorf("downloads recorded: %+v, %v", downloads, err)
			}

			// The link is used: opened again, it is not valid.
			b.Do(chromedp.Navigate(link), chromedp.WaitVisible(chromedp.CSS("main h1")))
			// A dead link's page is in no request's language: the browser's, or the deployment's.
			if h := heading(); h != i18n.T(i18n.DA, "portal.invalid.title") && h != i18n.T(i18n.EN, "portal.invalid.title") {
				t.Errorf("the used link shows %q", h)
			}
		})
	}
}
