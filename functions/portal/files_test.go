package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// answer is an Art. 15 answer as the DPO fills it in.
var answer = &dsr.AccessAnswer{
	Purposes: "Levering af dine ordrer.", Categories: "Navn, adresse, ordrer.", Recipients: "Fragtfirmaet.",
	Retention: "Fem år efter regnskabsåret.", Source: "Dig.", Automated: "", Safeguards: "Ingen overførsler.",
}

// upload stores content in the harness's bucket as the DPO's browser would, under the key the
// workspace's form gives it, and returns the file as a delivery records it.
func (hs *harness) upload(r *dsr.Request, id, name string, content []byte) dsr.File {
	hs.t.Helper()
	key := r.Ref + "/" + id + "/" + name
	if _, err := hs.env.S3(hs.t).PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(hs.cfg.Deliveries.Bucket), Key: aws.String(key), Body: bytes.NewReader(content),
	}); err != nil {
		hs.t.Fatal(err)
	}
	sum := md5.Sum(content)
	return dsr.File{ID: id, Name: name, Size: int64(len(content)), MD5: hex.EncodeToString(sum[:]), Key: key, Uploaded: hs.clock.Now()}
}

// deliver completes r with files, as the workspace does.
func (hs *harness) deliver(r *dsr.Request, files ...dsr.File) {
	hs.t.Helper()
	lim := dsr.DeliveryLimits{MaxFile: 200 << 20, MaxTotal: 1000 << 20, Retention: config.DefaultDeliveryRetention, RemindAfter: 7 * 24 * time.Hour}
	ch, err := r.Deliver(hs.dpo, dsr.DeliveryInput{Message: "Her er din kopi.", Files: files, Answer: answer}, lim, hs.clock.Now())
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.commit(r, ch)
}

var linkInMail = regexp.MustCompile(`https://dsr\.example\.dk/status/files\?proof=([A-Za-z0-9%._-]+)`)

// filesLink asks for a files link from the status page and returns the link's token, from
// the mail it arrives in.
func (b *browser) filesLink(t *testing.T, page web.Response, email string) string {
	t.Helper()
	before := len(b.hs.env.Mails(t, email))
	resp := b.post("/status/files/link", url.Values{"form": {hidden(t, page.Body, "form")}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Headers["Location"], "done=files_link") {
		t.Fatalf("files link: %d %s", resp.StatusCode, resp.Headers["Location"])
	}
	b.hs.runAfter()
	mails := b.hs.env.Mails(t, email)
	if len(mails) != before+1 {
		t.Fatalf("%d mails after asking for the files link, want %d", len(mails), before+1)
	}
	m := linkInMail.FindStringSubmatch(mails[len(mails)-1].Text)
	if m == nil {
		t.Fatalf("no files link in:\n%s", mails[len(mails)-1].Text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// The whole round for the requester: the status page shows the answer and the files and
// offers a link; the link, mailed to the address, opens a page with one button; the button
// opens the files; each download is recorded and answered with a URL of the bucket that
// serves the file, byte for byte, as an attachment. The link works once.
func TestFilesRound(t *testing.T) {
	env := emulator.Get(t)
	hs := newHarness(t, withS3(t, env))
	email := address("mette")
	r := hs.seed(i18n.DA, email)
	big := bytes.Repeat([]byte("0123456789abcdef"), 7<<16) // 7 MiB: more than Lambda could carry
	small := []byte(`{"ordrer": [1, 2, 3]}`)
	f1 := hs.upload(r, "u1", "ordrer æøå.json", small)
	f2 := hs.upload(r, "u2", "billeder.zip", big)
	hs.deliver(r, f1, f2)

	b := hs.browser()
	page := b.open(hs.link(r))
	if page.StatusCode != http.StatusOK {
		t.Fatalf("status page: %d", page.StatusCode)
	}
	mustContain(t, "status page", page.Body, i18n.T(i18n.DA, "portal.answer.heading"), answer.Purposes, answer.Retention,
		i18n.T(i18n.DA, "answer.rights"), "ordrer æøå.json", "billeder.zip", i18n.Size(i18n.DA, int64(len(big))),
		i18n.T(i18n.DA, "portal.files.send"), "m…@example.dk")
	if strings.Contains(page.Body, f2.Key) || strings.Contains(page.Body, "X-Amz") {
		t.Error("the status page shows a file's key or a URL of the bucket")
	}

	tok := b.filesLink(t, page, email)
	sent := b.get("/status?done=files_link")
	mustContain(t, "status page after the link", sent.Body, i18n.T(i18n.DA, "portal.files.sent.heading"))

	// The mailed link, opened from webmail: a page with one button, nothing spent.
	mail := hs.browser()
	confirm := mail.send(mail.request(http.MethodGet, "/status/files?proof="+url.QueryEscape(tok), nil, "cross-site"))
	if confirm.StatusCode != http.StatusOK || !strings.Contains(confirm.Body, i18n.T(i18n.DA, "portal.files.confirm.submit")) {
		t.Fatalf("the link's page: %d\n%s", confirm.StatusCode, confirm.Body)
	}
	again := mail.send(mail.request(http.MethodGet, "/status/files?proof="+url.QueryEscape(tok), nil, "cross-site"))
	if again.StatusCode != http.StatusOK {
		t.Fatal("opening the link twice spent it")
	}
	opened := mail.post("/status/files", url.Values{"proof": {hidden(t, confirm.Body, "proof")}})
	if opened.StatusCode != http.StatusSeeOther || mail.cookies[filesCookie] == "" {
		t.Fatalf("open: %d, cookie %q", opened.StatusCode, mail.cookies[filesCookie])
	}
	files := mail.get(opened.Headers["Location"])
	if files.StatusCode != http.StatusOK {
		t.Fatalf("files page: %d", files.StatusCode)
	}
	mustContain(t, "files page", files.Body, "ordrer æøå.json", "billeder.zip", f2.MD5, i18n.T(i18n.DA, "portal.files.download"))
	if csp := files.Headers["Content-Security-Policy"]; !strings.Contains(csp, "form-action 'self' "+env.S3Endpoint) {
		t.Errorf("the files page's forms may not be redirected to the bucket: %s", csp)
	}

	// Each download: a redirect to the bucket, the file as an attachment, recorded.
	for _, f := range []dsr.File{f2, f1} {
		hs.clock.Add(time.Minute)
		resp := mail.post("/status/files/download", url.Values{"form": {hidden(t, files.Body, "form")}, "file": {f.ID}})
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("download %s: %d\n%s", f.Name, resp.StatusCode, resp.Body)
		}
		if len(resp.Body) > 0 {
			t.Errorf("the download's answer has a body of %d bytes", len(resp.Body))
		}
		got := fetch(t, resp.Headers["Location"])
		want := small
		if f.ID == "u2" {
			want = big
		}
		if !bytes.Equal(got.body, want) || !strings.HasPrefix(got.disposition, "attachment;") {
			t.Errorf("%s: %d bytes (want %d), Content-Disposition %q", f.Name, len(got.body), len(want), got.disposition)
		}
	}
	downloads, err := hs.st.Downloads(context.Background(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if len(downloads) != 2 || downloads[0].File != "u2" || downloads[1].File != "u1" {
		t.Errorf("downloads recorded: %+v", downloads)
	}

	// Used once: the link no longer opens anything, whoever holds it.
	for name, resp := range map[string]web.Response{
		"the link again":   mail.send(mail.request(http.MethodGet, "/status/files?proof="+url.QueryEscape(tok), nil, "cross-site")),
		"its button again": hs.browser().post("/status/files", url.Values{"proof": {tok}}),
	} {
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.DA, "portal.invalid.title"))) {
			t.Errorf("%s: %d, want the not-valid page", name, resp.StatusCode)
		}
	}
	// The session ends after its half hour.
	hs.clock.Add(dsr.FilesSession)
	if resp := mail.get("/status/files"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("files page after the session: %d", resp.StatusCode)
	}
}

// fetched is a download as the browser gets it from the bucket.
type fetched struct {
	body        []byte
	disposition string
}

// fetch follows a download URL as the browser does.
func fetch(t *testing.T, link string) fetched {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s\n%s", link, resp.Status, body)
	}
	return fetched{body: body, disposition: resp.Header.Get("Content-Disposition")}
}

// Tampered, expired, unknown and used links all get the one not-valid page, as every link of
// the portal does, and a request without files offers none.
func TestFilesLinksThatDoNotWork(t *testing.T) {
	hs := newHarness(t)
	email := address("ola")
	r := hs.seed(i18n.NB, email)
	hs.deliver(r, dsr.File{ID: "u1", Name: "data.csv", Size: 10, MD5: strings.Repeat("0", 32), Key: r.Ref + "/u1/data.csv", Uploaded: hs.clock.Now()})
	b := hs.browser()
	page := b.open(hs.link(r))
	tok := b.filesLink(t, page, email)

	ref, secret, _ := strings.Cut(tok, ".")
	// The secret's first character changed (all six of its bits count; a secret that began
	// with "A" once made this link the very one mailed, and the test fail one run in 64).
	first := map[bool]string{true: "B", false: "A"}[secret[0] == 'A']
	tampered := ref + "." + first + secret[1:]
	other := hs.seed(i18n.NB, address("kari"))
	// Every dead link gets the same page, in the deployment's language: one in the request's
	// would tell that the reference exists. No link at all is the files page without a session.
	var firstPage string
	for name, link := range map[string]string{
		"tampered":           tampered,
		"another request's":  other.Ref + "." + secret,
		"not a token":        "nonsense",
		"empty":              "",
		"a status page link": hs.link(r),
	} {
		resp := b.send(b.request(http.MethodGet, "/status/files?proof="+url.QueryEscape(link), nil, "cross-site"))
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(resp.Body, htmlEscape(i18n.T(i18n.DA, "portal.invalid.title"))) {
			t.Errorf("%s link: %d", name, resp.StatusCode)
		}
		if firstPage == "" {
			firstPage = resp.Body
		} else if resp.Body != firstPage {
			t.Errorf("%s link: a different page from the others", name)
		}
	}
	// Expired: 15 minutes after it was mailed.
	hs.clock.Add(dsr.ProofLinkValid)
	for name, resp := range map[string]web.Response{
		"page":   b.send(b.request(http.MethodGet, "/status/files?proof="+url.QueryEscape(tok), nil, "cross-site")),
		"button": b.post("/status/files", url.Values{"proof": {tok}}),
	} {
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("expired link's %s: %d", name, resp.StatusCode)
		}
	}
	// The status page's session survives a dead files link.
	if resp := b.get("/status"); resp.StatusCode != http.StatusOK {
		t.Errorf("status page after a dead files link: %d", resp.StatusCode)
	}
	// A download without a session, or with a forged one, is refused the same way.
	for _, cookie := range []string{"", r.Ref + "." + strings.Repeat("a", 64) + "." + secret} {
		x := hs.browser()
		if cookie != "" {
			x.cookies[filesCookie] = cookie
		}
		if resp := x.post("/status/files/download", url.Values{"file": {"u1"}, "form": {"x"}}); resp.StatusCode != http.StatusNotFound {
			t.Errorf("download with cookie %q: %d", cookie, resp.StatusCode)
		}
	}

	// A request answered without files has no files part.
	plain := hs.seed(i18n.NB, address("per"))
	ch, err := plain.Answer(hs.dpo, dsr.Answer{Result: dsr.ResultNoData, Message: "Ingen data."}, hs.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	hs.commit(plain, ch)
	if resp := hs.browser().open(hs.link(plain)); strings.Contains(resp.Body, i18n.T(i18n.NB, "portal.files.heading")) {
		t.Error("a request without files shows a files part")
	}
}

// Once the files have expired, the page says so and whom to write to, and offers no link.
func TestFilesExpired(t *testing.T) {
	hs := newHarness(t)
	email := address("jane")
	r := hs.seed(i18n.EN, email)
	hs.deliver(r, dsr.File{ID: "u1", Name: "data.csv", Size: 10, MD5: strings.Repeat("0", 32), Key: r.Ref + "/u1/data.csv", Uploaded: hs.clock.Now()})
	tok := hs.link(r)
	hs.clock.Add(config.DefaultDeliveryRetention)
	b := hs.browser()
	page := b.open(tok)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("status page: %d", page.StatusCode)
	}
	// Still open, a month past the files' expiry, and saying until when.
	mustContain(t, "status page", page.Body, i18n.T(i18n.EN, "portal.files.expired.heading"), hs.cfg.DPOContact(), "data.csv",
		i18n.Date(i18n.EN, r.PageOpenUntil().In(hs.cfg.Calendar.Location())))
	if strings.Contains(page.Body, i18n.T(i18n.EN, "portal.files.send")) {
		t.Error("expired files are still offered")
	}
	// A link asked for anyway (a page left open) is not issued.
	resp := b.post("/status/files/link", url.Values{"form": {formToken(tok)}})
	if resp.StatusCode != http.StatusSeeOther || strings.Contains(resp.Headers["Location"], "done=files_link") {
		t.Errorf("a link for expired files: %d %s", resp.StatusCode, resp.Headers["Location"])
	}
	if n := len(hs.env.Mails(t, email)); n != 0 {
		t.Errorf("%d mails for expired files", n)
	}
}

// A request's files links are bounded: past dsr.MaxProofs an hour the page says to use the
// newest, and no more mails go out.
func TestFilesLinksAreLimited(t *testing.T) {
	hs := newHarness(t)
	email := address("mette")
	r := hs.seed(i18n.DA, email)
	hs.deliver(r, dsr.File{ID: "u1", Name: "data.csv", Size: 10, MD5: strings.Repeat("0", 32), Key: r.Ref + "/u1/data.csv", Uploaded: hs.clock.Now()})
	b := hs.browser()
	page := b.open(hs.link(r))
	for range dsr.MaxProofs {
		b.filesLink(t, page, email)
	}
	resp := b.post("/status/files/link", url.Values{"form": {hidden(t, page.Body, "form")}})
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Headers["Location"], "done=files_limited") {
		t.Fatalf("over the limit: %d %s", resp.StatusCode, resp.Headers["Location"])
	}
	if n := len(hs.env.Mails(t, email)); n != dsr.MaxProofs {
		t.Errorf("%d mails, want %d", n, dsr.MaxProofs)
	}
	mustContain(t, "status page", b.get("/status?done=files_limited").Body, i18n.T(i18n.DA, "portal.files.limited.heading"))
}
