package sigcheck_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/sigcheck"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// A presigned link passes the proxy as signed and fetches the object from the emulator; any
// change to it after signing (the key, its life, how it is saved, the signature itself) is
// refused as S3 refuses it, where the emulator alone would have served it.
func TestTamperedLinksAreRefused(t *testing.T) {
	env := emulator.Get(t)
	name := env.NewBucket(t)
	body := []byte("From: a@example.dk\r\nSubject: x\r\n\r\nhello\r\n")
	for _, key := range []string{"mail/one", "mail/two"} {
		if _, err := env.S3(t).PutObject(context.Background(), &s3.PutObjectInput{Bucket: aws.String(name), Key: aws.String(key), Body: bytes.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := env.AWSConfig()
	cfg.BaseEndpoint = aws.String(sigcheck.Start(t, env.S3URL(t), cfg))
	b, err := bucket.New(cfg, name)
	if err != nil {
		t.Fatal(err)
	}
	link, err := b.PresignGet(context.Background(), "mail/one", bucket.Download{Filename: "ABCD-EFGH.eml", Expires: 5 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	get := func(u string) (int, []byte) {
		t.Helper()
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	if code, got := get(link); code != http.StatusOK || !bytes.Equal(got, body) {
		t.Fatalf("as signed: %d %q", code, got)
	}
	tamper := func(f func(u *url.URL, q url.Values)) string {
		u, _ := url.Parse(link)
		q := u.Query()
		f(u, q)
		u.RawQuery = q.Encode()
		return u.String()
	}
	cases := map[string]string{
		"another object": tamper(func(u *url.URL, _ url.Values) { u.Path = strings.Replace(u.Path, "/one", "/two", 1) }),
		"a longer life":  tamper(func(_ *url.URL, q url.Values) { q.Set("X-Amz-Expires", "604800") }),
		"shown inline":   tamper(func(_ *url.URL, q url.Values) { q.Set("response-content-disposition", "inline") }),
		"another signature": tamper(func(_ *url.URL, q url.Values) {
			s := []byte(q.Get("X-Amz-Signature"))
			s[0] = map[byte]byte{'0': '1'}[s[0]] | '0'
			q.Set("X-Amz-Signature", string(s))
		}),
	}
	for name, u := range cases {
		if code, got := get(u); code != http.StatusForbidden || !strings.Contains(string(got), "SignatureDoesNotMatch") {
			t.Errorf("%s: %d %q", name, code, got)
		}
	}
}
