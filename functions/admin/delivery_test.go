package main

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/testkit/uploadform"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

// recorder counts what the workspace's handler is sent and answers, to show that no file
// passes through it.
type recorder struct {
	maxIn, maxOut int
}

func (d *dpo) recorded(rec *recorder, resp web.Response, req web.Request) web.Response {
	rec.maxIn = max(rec.maxIn, len(req.Body))
	rec.maxOut = max(rec.maxOut, len(resp.Body))
	return resp
}

// getRec is d.get with the request and the answer counted.
func (d *dpo) getRec(rec *recorder, target string) web.Response {
	d.e.t.Helper()
	req := d.e.get(target, d.cookie())
	return d.recorded(rec, d.e.do(req), req)
}

// upload sends a file from the page's upload form to the bucket and returns the workspace
// address S3 sent the browser back to.
func upload(t *testing.T, body, filename string, content []byte) string {
	t.Helper()
	loc := uploadform.Post(t, body, filename, content)
	if !strings.HasPrefix(loc, baseURL+"/admin/requests/") {
		t.Fatalf("S3 sent the browser to %s, not back to the request", loc)
	}
	return strings.TrimPrefix(loc, baseURL)
}

func md5hex(b []byte) string { s := md5.Sum(b); return hex.EncodeToString(s[:]) }

// The DPO answers an access request with files: each uploaded from the page straight to the
// bucket (one larger than Lambda could carry), one removed again, the Art. 15 answer filled
// in; the preview shows the exact mail, which names no file and no bucket; the confirmation
// completes the request with the files' names, sizes and MD5s. Through it all, the handler
// is sent and answers only pages and forms.
func TestDeliverAccessWithFiles(t *testing.T) {
	e := setup(t, withDeliveries(t))
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	requester := "deliver." + uniq() + "@example.dk"
	e.seed(ref, submission("nb", requester), received0, verify)
	rec := &recorder{}

	body := page(t, d.getRec(rec, requestPath(ref)+"?action=deliver"), http.StatusOK)
	resp := d.getRec(rec, requestPath(ref)+"?action=deliver")
	if csp := resp.Headers["Content-Security-Policy"]; !strings.Contains(csp, "form-action 'self' "+e.h.files.Origin()) {
		t.Errorf("the upload form may not post to the bucket: %s", csp)
	}
	mustHave(t, body, i18n.T(i18n.DA, "admin.files.none"), i18n.T(i18n.DA, "answer.purposes"), i18n.T(i18n.DA, "admin.deliver.message_hint"))

	big := bytes.Repeat([]byte("0123456789abcdef"), 7<<16) // 7 MiB
	small := []byte("navn;ordre\nKaren;1042\n")
	extra := []byte("not meant to go")
	for _, f := range []struct {
		name    string
		content []byte
	}{{"ordrer.csv", small}, {"billeder ÆØÅ.zip", big}, {"forkert.txt", extra}} {
		back := upload(t, body, f.name, f.content)
		body = page(t, d.getRec(rec, back), http.StatusOK)
		mustHave(t, body, html.EscapeString(f.name), md5hex(f.content))
	}

	// Remove the one uploaded by mistake.
	key := regexp.MustCompile(`name="key" value="(` + ref + `/[^"/]+/forkert\.txt)"`).FindStringSubmatch(body)
	if key == nil {
		t.Fatal("no remove button for forkert.txt")
	}
	removed := d.post(requestPath(ref)+"/"+removeFile, url.Values{"action": {"deliver"}, "key": {key[1]}})
	if loc := redirect(t, removed); !strings.HasPrefix(loc, requestPath(ref)+"?action=deliver") {
		t.Fatalf("after removing: %s", loc)
	}
	if left, err := e.h.uploads(context.Background(), ref); err != nil || len(left) != 2 {
		t.Fatalf("after removing one of three: %+v, %v", left, err)
	}
	// Nobody removes another request's file, or a file once answered (below).
	other := dsr.NewReference()
	e.seed(other, submission("da", "other."+uniq()+"@example.dk"), received0, verify)
	if resp := d.post(requestPath(other)+"/"+removeFile, url.Values{"action": {"deliver"}, "key": {strings.Replace(key[1], "forkert", "ordrer", 1)}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("removing another request's file: %d", resp.StatusCode)
	}

	form := url.Values{"message": {"Her er kopien av opplysningene dine."}, "step": {stepPreview}}
	for _, p := range dsr.AnswerParts {
		form.Set(p, "Svar om "+p)
	}
	form.Set("automated", "")
	// The required parts of Art. 15(1) are required.
	missing := clone(form)
	missing.Set("purposes", "")
	if body := page(t, d.act(ref, "deliver", missing), http.StatusBadRequest); !strings.Contains(body, `href="#deliver.purposes"`) {
		t.Errorf("no error for the missing purposes")
	}

	preview := page(t, d.act(ref, "deliver", form), http.StatusOK)
	if e.request(ref).Status == dsr.Completed || len(e.env.Mails(t, requester)) != 0 {
		t.Fatal("the preview completed or sent")
	}
	mail := unescape(between(t, between(t, preview, `<div class="mail">`, `</pre>`), "<pre>", ""))
	for _, bad := range []string{key[1], e.cfg.Deliveries.Bucket, "X-Amz", "Karen;1042"} {
		if strings.Contains(mail, bad) {
			t.Errorf("the mail shows %q:\n%s", bad, mail)
		}
	}
	form.Set("step", stepConfirm)
	if loc := redirect(t, d.act(ref, "deliver", form)); loc != requestPath(ref)+"?done=deliver" {
		t.Fatalf("after delivering: %s", loc)
	}
	r := e.request(ref)
	if r.Status != dsr.Completed || r.Delivery == nil || len(r.Delivery.Files) != 2 || r.Delivery.Answer.Purposes != "Svar om purposes" {
		t.Fatalf("delivered: %s %+v", r.Status, r.Delivery)
	}
	want := map[string][]byte{"ordrer.csv": small, "billeder ÆØÅ.zip": big}
	for _, f := range r.Delivery.Files {
		if c, ok := want[f.Name]; !ok || f.Size != int64(len(c)) || f.MD5 != md5hex(c) || !f.Expires.Equal(f.Uploaded.Add(e.cfg.Deliveries.Retention)) {
			t.Errorf("file %+v", f)
		}
	}
	mails := e.env.Mails(t, requester)
	if len(mails) != 1 || !strings.Contains(mails[0].Text, "/status?token=") || strings.Contains(mails[0].Text, e.cfg.Deliveries.Bucket) {
		t.Fatalf("mails to the requester: %+v", mails)
	}
	if rec.maxIn > 4<<10 || rec.maxOut > 128<<10 {
		t.Errorf("the handler was sent %d bytes and answered %d at most: a file passed through it", rec.maxIn, rec.maxOut)
	}

	// The page says which files were downloaded, and the history when.
	body = page(t, d.get(requestPath(ref)), http.StatusOK)
	mustHave(t, body, i18n.T(i18n.DA, "admin.delivery.heading"), i18n.T(i18n.DA, "admin.files.not_downloaded"))
	at := e.clock.Now().Add(time.Hour)
	if err := e.st.RecordDownload(context.Background(), r, dsr.NewDownload(r.Delivery.Files[0].ID, at)); err != nil {
		t.Fatal(err)
	}
	body = page(t, d.get(requestPath(ref)), http.StatusOK)
	mustHave(t, body, i18n.T(i18n.DA, "admin.files.downloaded", e.h.dateTime(i18n.DA, at)), i18n.T(i18n.DA, "admin.files.not_downloaded"),
		i18n.T(i18n.DA, "action.downloaded"))
	// Answered, the files are the answer's record: no removing them.
	if resp := d.post(requestPath(ref)+"/"+removeFile, url.Values{"action": {"deliver"}, "key": {r.Delivery.Files[0].Key}}); resp.StatusCode != http.StatusConflict {
		t.Errorf("removing a delivered file: %d", resp.StatusCode)
	}
}

// A portability request is answered with the file's format, or with the controller the data
// went to directly; with neither a file nor a controller there is nothing to deliver.
func TestDeliverPortable(t *testing.T) {
	e := setup(t, withDeliveries(t))
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	s := submission("en", "portable."+uniq()+"@example.dk")
	s.Type = string(dsr.Portability)
	e.seed(ref, s, received0, verify)
	if body := page(t, d.get(requestPath(ref)), http.StatusOK); strings.Contains(body, "?action=deliver#") || !strings.Contains(body, "?action=deliver_portable#") {
		t.Error("a portability request is offered the access answer, or not its own")
	}
	form := url.Values{"message": {"Done."}, "format": {"json"}, "step": {stepConfirm}}
	if body := page(t, d.act(ref, "deliver_portable", form), http.StatusBadRequest); !strings.Contains(body, i18n.T(i18n.DA, "error.nothing_to_deliver")) {
		t.Error("no error for an answer with nothing delivered")
	}
	form.Set("controller", "Nordlys AS, Oslo")
	redirect(t, d.act(ref, "deliver_portable", form))
	r := e.request(ref)
	if r.Status != dsr.Completed || r.Delivery.Format != "json" || r.Delivery.Controller != "Nordlys AS, Oslo" {
		t.Fatalf("delivered: %s %+v", r.Status, r.Delivery)
	}
	mustHave(t, page(t, d.get(requestPath(ref)), http.StatusOK), "Nordlys AS, Oslo", i18n.T(i18n.DA, "format.json"))
}

// Completing an access request without the desk's delivery must be confirmed: the DPO says
// the requester got their data another way.
func TestCompleteAccessWithoutDeliveryIsConfirmed(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	ref := dsr.NewReference()
	e.seed(ref, submission("da", "confirm."+uniq()+"@example.dk"), received0, verify)
	form := url.Values{"message": {"Vi har sendt dine oplysninger med posten."}, "step": {stepConfirm}}
	body := page(t, d.act(ref, "complete", form), http.StatusBadRequest)
	mustHave(t, body, i18n.T(i18n.DA, "error.confirm_no_delivery"), i18n.T(i18n.DA, "admin.complete.confirm.no_delivery"))
	if e.request(ref).Status == dsr.Completed {
		t.Fatal("completed without the confirmation")
	}
	form.Set("confirm", "no_delivery")
	redirect(t, d.act(ref, "complete", form))
	if r := e.request(ref); r.Status != dsr.Completed || r.Delivery != nil {
		t.Fatalf("after confirming: %s", r.Status)
	}
	// Another type has nothing to confirm.
	other := dsr.NewReference()
	s := submission("da", "erase."+uniq()+"@example.dk")
	s.Type = string(dsr.Erasure)
	e.seed(other, s, received0, verify)
	if body := page(t, d.get(requestPath(other)+"?action=complete"), http.StatusOK); strings.Contains(body, `name="confirm"`) {
		t.Error("an erasure asks to confirm there is no delivery")
	}
}

func mustHave(t *testing.T, body string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(body, w) && !strings.Contains(body, htmlEscape(w)) {
			t.Errorf("the page lacks %q", w)
		}
	}
}

// The Art. 15 answer kept once in the settings, per language, is what the answer's form of an
// access request opens with in the requester's language; a save that lost a race to another
// DPO keeps the text and says so.
func TestAnswerDefaults(t *testing.T) {
	e := setup(t)
	d := e.session(e.cfg.DPOAddresses[0])
	texts := map[i18n.Lang]string{i18n.DA: "Vi leverer dine ordrer.", i18n.NB: "Vi leverer ordrene dine.", i18n.EN: "We deliver your orders."}
	for lang, text := range texts {
		form := page(t, d.get("/admin/settings/answer?in="+string(lang)), http.StatusOK)
		post := url.Values{"in": {string(lang)}, "purposes": {text}, "retention": {"5 år / 5 years"}}
		for _, p := range dsr.AnswerParts {
			post.Set("version."+p, regexp.MustCompile(`name="version\.` + p + `" value="(\d+)"`).FindStringSubmatch(form)[1])
		}
		if loc := redirect(t, d.post("/admin/settings/answer", post)); loc != "/admin/settings/answer?saved=1&in="+string(lang) {
			t.Fatalf("after saving: %s", loc)
		}
	}
	for lang, text := range texts {
		ref := dsr.NewReference()
		e.seed(ref, submission(string(lang), "defaults."+uniq()+"@example.dk"), received0, verify)
		body := page(t, d.get(requestPath(ref)+"?action=deliver"), http.StatusOK)
		if !strings.Contains(body, ">"+htmlEscape(text)+"</textarea>") || !strings.Contains(body, ">5 år / 5 years</textarea>") {
			t.Errorf("%s: the answer's form does not open with the kept answer", lang)
		}
	}
	// A stale save: the text stays on the page, nothing is overwritten.
	stale := url.Values{"in": {"da"}, "purposes": {"Forældet."}}
	for _, p := range dsr.AnswerParts {
		stale.Set("version."+p, "0")
	}
	body := page(t, d.post("/admin/settings/answer", stale), http.StatusConflict)
	if !strings.Contains(body, ">Forældet.</textarea>") {
		t.Error("the stale save lost what the DPO typed")
	}
	if s, err := e.st.Setting(context.Background(), answerSection, answerKey("purposes", i18n.DA)); err != nil || s.Value != texts[i18n.DA] {
		t.Errorf("after the stale save: %+v %v", s, err)
	}
}
