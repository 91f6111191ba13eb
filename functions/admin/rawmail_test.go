package main

import (
	"bytes"
	"context"
	"html"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// mailed stores a request that came by mail, as the inbound function stores one: the raw
// message (file, from functions/inbound's fixtures) in the inbound bucket, if there is one,
// and the request naming it with its attachments.
func (e *tenv) mailed(file string) (*dsr.Request, []byte) {
	e.t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "inbound", "testdata", "mail", file))
	if err != nil {
		e.t.Fatal(err)
	}
	key := "mail/" + uniq()
	if e.cfg.InboundBucket != "" {
		if _, err := e.env.S3(e.t).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(e.cfg.InboundBucket),
			Key: aws.String(key), Body: bytes.NewReader(raw)}); err != nil {
			e.t.Fatal(err)
		}
	}
	r := dsr.FromMail(dsr.NewReference(), dsr.IncomingMail{From: "ola." + uniq() + "@example.no", Name: "Ola Nordmann", Text: "Innsyn, takk.",
		Lang: "nb", ReceivedAt: received0, Mail: dsr.InboundMail{Key: key, Subject: "Innsyn",
			Attachments: []dsr.Attachment{{Name: "førerkort.pdf", Size: 1540, Type: "application/pdf"}, {Name: "IMG_4711.jpeg", Size: 3072, Type: "image/jpeg"}}}},
		received0.AddDate(0, 0, 2), "hash")
	if err := e.st.CreateRequest(context.Background(), r); err != nil {
		e.t.Fatal(err)
	}
	return r, raw
}

// A mail's attachments are opened from the request's page: with an inbound bucket, the page
// offers the mail as received, and each opening writes an audit event and then sends the
// browser to a presigned link that downloads the raw message byte for byte, as an attachment,
// for five minutes; a link changed after signing is refused (sigcheck, as S3 refuses it), and
// so is a post without the session's CSRF token. Without an inbound bucket (no
// InboundAddress), nothing is offered and the route does not exist.
func TestOpenTheMail(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		opts    []func(*config.Admin)
		offered bool
	}{
		{"with an inbound bucket", []func(*config.Admin){withInbound(t)}, true},
		{"without", nil, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t, tc.opts...)
			d := e.session(e.cfg.DPOAddresses[0])
			r, raw := e.mailed("applemail-nb-attachment.eml")
			open := requestPath(r.Ref) + "/" + rawMailPage
			for _, lang := range i18n.Langs {
				resp := d.get(requestPath(r.Ref) + "?lang=" + string(lang))
				body := page(t, resp, http.StatusOK)
				offered := strings.Contains(body, `action="`+open+`"`) && strings.Contains(body, html.EscapeString(i18n.T(lang, "admin.inbound.open_with.other", 2)))
				if offered != tc.offered {
					t.Fatalf("%s: the mail is offered %v, want %v", lang, offered, tc.offered)
				}
				if csp := resp.Headers["Content-Security-Policy"]; tc.offered && !strings.Contains(csp, "form-action 'self' http://127.0.0.1:") {
					t.Errorf("the form cannot end at the bucket: %s", csp)
				}
			}
			if !tc.offered {
				page(t, d.post(open, url.Values{}), http.StatusNotFound)
				if n := len(e.request(r.Ref).Audit); n != len(r.Audit) {
					t.Errorf("%d audit events", n)
				}
				return
			}
			// Forged: nothing is recorded, no link.
			if resp := d.post(open, url.Values{"csrf": {"forged"}}); resp.StatusCode != http.StatusForbidden || resp.Headers["Location"] != "" {
				t.Fatalf("forged CSRF: %d %q", resp.StatusCode, resp.Headers["Location"])
			}
			for i := 1; i <= 2; i++ {
				link := redirect(t, d.post(open, url.Values{}))
				u, err := url.Parse(link)
				if err != nil || u.Query().Get("X-Amz-Expires") != "300" || !strings.Contains(u.Query().Get("response-content-disposition"), `attachment; filename="`+r.Ref+`.eml"`) {
					t.Fatalf("link %q", link)
				}
				got, err := http.Get(link)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(got.Body)
				got.Body.Close()
				if got.StatusCode != http.StatusOK || !bytes.Equal(b, raw) || !strings.HasPrefix(got.Header.Get("Content-Disposition"), "attachment") {
					t.Fatalf("download %d, %d bytes of %d, %q", got.StatusCode, len(b), len(raw), got.Header.Get("Content-Disposition"))
				}
				opened := 0
				for _, ev := range e.request(r.Ref).Audit {
					if ev.Action == dsr.ActionMailOpened && ev.Actor == d.email {
						opened++
					}
				}
				if opened != i {
					t.Fatalf("%d openings recorded after %d", opened, i)
				}
				// Changed after signing: a longer life.
				q := u.Query()
				q.Set("X-Amz-Expires", "604800")
				u.RawQuery = q.Encode()
				tampered, err := http.Get(u.String())
				if err != nil {
					t.Fatalf("a tampered link: %v", err)
				}
				tampered.Body.Close()
				if tampered.StatusCode != http.StatusForbidden {
					t.Fatalf("a tampered link: status %d, want 403", tampered.StatusCode)
				}
				e.clock.Add(time.Minute)
			}
			body := page(t, d.get(requestPath(r.Ref)), http.StatusOK)
			if strings.Count(body, html.EscapeString(i18n.T(i18n.DA, "action.mail_opened"))) != 2 {
				t.Error("the history does not show both openings")
			}
		})
	}
}
