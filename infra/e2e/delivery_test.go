package e2e

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/testkit/uploadform"
)

// The answer to an access request with files, through the local runner on the real template
// and its bucket at the S3 emulator: the DPO's browser uploads two files (one of 7 MiB, more
// than Lambda or API Gateway would carry) straight to the bucket with the page's presigned
// form and comes back through the cross-site bounce; the DPO fills in the Art. 15 answer and
// sends it; the requester's mail links to the status page and holds no file or file address;
// from the status page a files link goes to the mailbox, opens the files once, and each
// download is a redirect to the bucket that hands the file over byte for byte, as an
// attachment. The DPO's page then says both were downloaded.
func TestDeliveryThroughTheRunner(t *testing.T) {
	d := desk(t)
	r := seedConfirmed(t, d, dsr.Access, "delivery", time.Now().Add(-time.Hour))
	dpo := signIn(t, d, dpoDelivery)
	page := d.base + "/admin/requests/" + r.Ref

	files := []struct {
		name    string
		content []byte
	}{
		{"ordrer.csv", []byte("ordre;dato\n1042;2026-03-01\n")},
		{"billeder.zip", bytes.Repeat([]byte("0123456789abcdef"), 7<<16)},
	}
	for _, f := range files {
		form := dpo.open(page+"?action=deliver", "same-origin")
		back := uploadform.Post(t, form.body, f.name, f.content)
		if !strings.HasPrefix(back, page+"?action=deliver") {
			t.Fatalf("S3 sent the browser to %s", back)
		}
		// Back from the bucket is a cross-site navigation: the browser withholds the
		// SameSite=Strict session, the workspace answers with a same-origin reload.
		bounce := newVisitor(t, d, "da-DK").open(back, "cross-site")
		if bounce.status != http.StatusOK || !strings.HasPrefix(bounce.header.Get("Refresh"), "0; url=") {
			t.Errorf("back from the bucket without the session: %d, Refresh %q", bounce.status, bounce.header.Get("Refresh"))
		}
		listed := dpo.open(back, "same-origin")
		if sum := md5.Sum(f.content); !strings.Contains(listed.body, hex.EncodeToString(sum[:])) {
			t.Fatalf("%s is not listed with its MD5 after the upload", f.name)
		}
	}

	form := dpo.open(page+"?action=deliver", "same-origin")
	answer := url.Values{"csrf": {hidden(t, form.body, "csrf")}, "version": {hidden(t, form.body, "version")},
		"purposes": {"Levering af ordrer."}, "categories": {"Navn, adresse, ordrer."}, "recipients": {"Fragtfirmaet."},
		"retention": {"Fem år."}, "message": {"Her er dit svar."}, "step": {"confirm"}}
	if loc := dpo.submit(page+"/deliver", answer).location(t, d.base); loc != page+"?done=deliver" {
		t.Fatalf("after the answer: %s", loc)
	}
	mail := mails(t, d, r.Email, 1, about(r.Ref))[0]
	// It names the files (what waits on the page) but holds neither a file nor its address.
	if strings.Contains(mail.Text, "X-Amz") || strings.Contains(mail.Text, r.Ref+"/") || strings.Contains(mail.Text, "1042;") {
		t.Errorf("the mail carries a file or its address:\n%s", mail.Text)
	}
	person := newVisitor(t, d, "nb-NO,nb;q=0.9")
	status := person.open(link(t, d, mail, "/status?token="), "cross-site")
	if status.status != http.StatusOK || !strings.Contains(status.body, "billeder.zip") {
		t.Fatalf("status page: %d", status.status)
	}
	person.submit(d.base+"/status/files/link", url.Values{"form": {hidden(t, status.body, "form")}}).location(t, d.base)
	filesMail := mails(t, d, r.Email, 2, nil)[1]
	confirm := person.open(link(t, d, filesMail, "/status/files?proof="), "cross-site")
	opened := person.submit(d.base+"/status/files", url.Values{"proof": {hidden(t, confirm.body, "proof")}, "lang": {"nb"}}).location(t, d.base)
	list := person.open(opened, "same-origin")
	formTok := hidden(t, list.body, "form")
	stored, err := d.store.GetRequest(t.Context(), r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stored.Delivery.Files {
		redirect := person.submit(d.base+"/status/files/download", url.Values{"form": {formTok}, "file": {f.ID}})
		if len(redirect.body) > 4<<10 {
			t.Errorf("the download's answer has %d bytes: the file passed through the function", len(redirect.body))
		}
		got, disposition := fetchFile(t, redirect.location(t, d.base))
		var want []byte
		for _, x := range files {
			if x.name == f.Name {
				want = x.content
			}
		}
		if !bytes.Equal(got, want) || !strings.HasPrefix(disposition, "attachment;") {
			t.Errorf("%s: %d bytes (want %d the same), Content-Disposition %q", f.Name, len(got), len(want), disposition)
		}
	}
	downloads, err := d.store.Downloads(t.Context(), r.Ref)
	if err != nil || len(downloads) != 2 {
		t.Errorf("downloads recorded: %+v, %v", downloads, err)
	}
	if body := dpo.open(page, "same-origin").body; strings.Count(body, "tag on-track") != 2 {
		t.Errorf("the DPO's page does not show both files downloaded")
	}
}

// fetchFile follows a download URL as the browser does.
func fetchFile(t *testing.T, link string) ([]byte, string) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s %v", link, resp.Status, err)
	}
	return body, resp.Header.Get("Content-Disposition")
}
