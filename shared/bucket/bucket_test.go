package bucket_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/shared/awsenv"
	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// at is a fixed signing time.
var at = time.Date(2026, 3, 2, 10, 4, 5, 0, time.UTC)

// lambdaEnv is what Lambda gives a function: the role's temporary credentials, with a token.
func lambdaEnv(extra map[string]string) func(string) string {
	env := map[string]string{
		"AWS_REGION":            "eu-north-1",
		"AWS_ACCESS_KEY_ID":     "ASIAEXAMPLEKEY",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_SESSION_TOKEN":     "IQoJb3JpZ2luX2VjEXAMPLE/+=token",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// fixedPresigner is the S3 client's own SigV4 presigner at a fixed time: configured as the
// client configures its default one (service/s3, api_client.go: no double escaping of the
// path).
type fixedPresigner struct{ s *v4.Signer }

func (p fixedPresigner) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string, _ time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return p.s.PresignHTTP(ctx, creds, r, payloadHash, service, region, at, optFns...)
}

// The presigned GET is the URL the S3 client's own presigner makes for the same object,
// headers and expiry, byte for byte: virtual-hosted in AWS, path-style at an emulator, for a
// key with spaces, reserved characters and letters outside ASCII.
func TestPresignGetIsTheSDKs(t *testing.T) {
	const key = "ABCD-EFGH/u1x/rapport æøå (1)+[2]&$ ~.pdf"
	for _, tc := range []struct {
		name     string
		endpoint string
		prefix   string
	}{
		{"in AWS", "", "https://deliveries-x1.s3.eu-north-1.amazonaws.com/ABCD-EFGH/u1x/rapport%20%C3%A6%C3%B8%C3%A5%20%281%29%2B%5B2%5D%26%24%20~.pdf?"},
		{"at an emulator", "http://127.0.0.1:8006", "http://127.0.0.1:8006/deliveries-x1/ABCD-EFGH/u1x/rapport%20%C3%A6%C3%B8%C3%A5%20%281%29%2B%5B2%5D%26%24%20~.pdf?"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsenv.Load(lambdaEnv(map[string]string{"AWS_ENDPOINT_URL_S3": tc.endpoint}))
			if err != nil {
				t.Fatal(err)
			}
			b, err := bucket.New(cfg, "deliveries-x1", bucket.WithClock(func() time.Time { return at }))
			if err != nil {
				t.Fatal(err)
			}
			got, err := b.PresignGet(t.Context(), key, bucket.Download{Filename: "rapport æøå (1).pdf", Expires: 5 * time.Minute})
			if err != nil {
				t.Fatal(err)
			}
			client := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = tc.endpoint != "" })
			want, err := s3.NewPresignClient(client, func(o *s3.PresignOptions) {
				o.Presigner = fixedPresigner{v4.NewSigner(func(so *v4.SignerOptions) { so.DisableURIPathEscaping = true })}
				o.Expires = 5 * time.Minute
			}).PresignGetObject(t.Context(), &s3.GetObjectInput{
				Bucket: aws.String("deliveries-x1"), Key: aws.String(key),
				ResponseContentDisposition: aws.String(bucket.Attachment("rapport æøå (1).pdf")),
				ResponseContentType:        aws.String("application/octet-stream"),
			})
			if err != nil {
				t.Fatal(err)
			}
			if got != want.URL {
				t.Errorf("presigned GET\n got %s\nwant %s", got, want.URL)
			}
			if !strings.HasPrefix(got, tc.prefix) {
				t.Errorf("presigned GET %s, want it to begin %s", got, tc.prefix)
			}
			if q, _ := url.ParseQuery(got[strings.Index(got, "?")+1:]); q.Get("X-Amz-Security-Token") == "" || q.Get("X-Amz-Expires") != "300" {
				t.Errorf("presigned GET %s: want the session token and a 300 s expiry in it", got)
			}
		})
	}
}

// A POST policy is signed as the S3 client signs one: the same key derivation and HMAC over
// the policy document the client made.
func TestPolicySignatureIsTheSDKs(t *testing.T) {
	cfg, err := awsenv.Load(lambdaEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	post, err := s3.NewPresignClient(s3.NewFromConfig(cfg)).PresignPostObject(t.Context(), &s3.PutObjectInput{
		Bucket: aws.String("deliveries-x1"), Key: aws.String("ABCD-EFGH/u1x/${filename}"),
	})
	if err != nil {
		t.Fatal(err)
	}
	date, err := time.Parse("20060102T150405Z", post.Values["X-Amz-Date"])
	if err != nil {
		t.Fatal(err)
	}
	got := bucket.PolicySignature(post.Values["policy"], "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "eu-north-1", date)
	if got != post.Values["X-Amz-Signature"] {
		t.Errorf("signature %s, the S3 client's %s", got, post.Values["X-Amz-Signature"])
	}
}

func TestAttachment(t *testing.T) {
	for name, want := range map[string]string{
		"orders.csv":       `attachment; filename="orders.csv"`,
		`my "data" 1.json`: `attachment; filename="my _data_ 1.json"`,
		"æøå.pdf":          `attachment; filename="___.pdf"; filename*=utf-8''%C3%A6%C3%B8%C3%A5.pdf`,
		"":                 `attachment; filename="file"`,
	} {
		if got := bucket.Attachment(name); got != want {
			t.Errorf("Attachment(%q) = %s, want %s", name, got, want)
		}
	}
}

// The endpoint comes from the environment as the SDK's clients read it.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name   string
		env    map[string]string
		origin string
	}{
		{"S3's own", nil, "https://b1.s3.eu-north-1.amazonaws.com"},
		{"the emulator's", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8006/"}, "http://127.0.0.1:8006"},
		{"the global one", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:9000"}, "http://127.0.0.1:9000"},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:8006", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"}, "https://b1.s3.eu-north-1.amazonaws.com"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := awsenv.Load(lambdaEnv(tc.env))
			if err != nil {
				t.Fatal(err)
			}
			b, err := bucket.New(cfg, "b1")
			if err != nil {
				t.Fatal(err)
			}
			if b.Origin() != tc.origin {
				t.Errorf("origin %s, want %s", b.Origin(), tc.origin)
			}
		})
	}
	if _, err := bucket.New(aws.Config{Region: "eu-north-1", Credentials: credentials.NewStaticCredentialsProvider("a", "b", "")}, ""); err == nil {
		t.Error("a bucket without a name was made")
	}
}

// emulated is a bucket of its own at the S3 emulator, signed for at the clock now.
func emulated(t *testing.T, now func() time.Time) *bucket.Bucket {
	t.Helper()
	env := emulator.Get(t)
	name := env.NewBucket(t)
	cfg, err := awsenv.Load(func(k string) string {
		for _, kv := range env.Environ() {
			if key, v, _ := strings.Cut(kv, "="); key == k {
				return v
			}
		}
		return ""
	})
	if err != nil {
		t.Fatal(err)
	}
	b, err := bucket.New(cfg, name, bucket.WithClock(now))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// post uploads content as a browser posts the form: the fields in order, then the file.
// It returns where S3 sent the browser.
func post(t *testing.T, f bucket.Form, filename string, content []byte) *url.URL {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for _, fl := range f.Fields {
		if err := w.WriteField(fl.Name, fl.Value); err != nil {
			t.Fatal(err)
		}
	}
	part, err := w.CreateFormFile("file", filename)
	if err != nil {
		t.Fatal(err)
	}
	part.Write(content)
	w.Close()
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodPost, f.URL, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("upload: %s\n%s", resp.Status, b)
	}
	loc, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// The whole round at the emulator: a browser uploads through the form (the key takes the
// file's name), a listing shows it with its size and MD5, a presigned GET hands it out as an
// attachment, byte for byte, and Delete removes it.
func TestUploadListDownloadDelete(t *testing.T) {
	b := emulated(t, time.Now)
	ctx := t.Context()
	content := bytes.Repeat([]byte("dsrdesk\x00\xff"), 70_000)
	sum := md5.Sum(content)
	form, err := b.PostForm(ctx, bucket.Upload{
		Prefix: "ABCD-EFGH/u1x/", MaxBytes: 10 << 20, Redirect: "http://127.0.0.1:3000/admin/requests/ABCD-EFGH/files?f=u1x", Expires: 10 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(form.URL, "/"+b.Name()+"/") || form.Fields[0] != (bucket.Field{Name: "key", Value: "ABCD-EFGH/u1x/${filename}"}) {
		t.Fatalf("form %+v", form)
	}
	loc := post(t, form, "kundedata æøå.bin", content)
	if got := loc.Query().Get("key"); got != "ABCD-EFGH/u1x/kundedata æøå.bin" || loc.Query().Get("f") != "u1x" || loc.Host != "127.0.0.1:3000" {
		t.Errorf("redirected to %s, want the workspace with the file's key", loc)
	}

	objs, err := b.List(ctx, "ABCD-EFGH/")
	if err != nil {
		t.Fatal(err)
	}
	if len(objs) != 1 || objs[0].Key != "ABCD-EFGH/u1x/kundedata æøå.bin" || objs[0].Size != int64(len(content)) || objs[0].ETag != hex.EncodeToString(sum[:]) {
		t.Fatalf("listed %+v, want the one file, %d bytes, MD5 %x", objs, len(content), sum)
	}
	if other, err := b.List(ctx, "WXYZ-WXYZ/"); err != nil || len(other) != 0 {
		t.Errorf("another request's prefix lists %v, %v", other, err)
	}

	link, err := b.PresignGet(ctx, objs[0].Key, bucket.Download{Filename: "kundedata æøå.bin", Expires: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(got, content) {
		t.Fatalf("download: %s, %d bytes, want %d the same", resp.Status, len(got), len(content))
	}
	if cd := resp.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, "%C3%A6") {
		t.Errorf("Content-Disposition %q, want an attachment with the name", cd)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
		t.Errorf("Content-Type %q", ct)
	}

	if err := b.Delete(ctx, objs[0].Key); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, objs[0].Key); err != nil {
		t.Errorf("deleting what is gone: %v", err)
	}
	if objs, err := b.List(ctx, "ABCD-EFGH/"); err != nil || len(objs) != 0 {
		t.Errorf("after delete: %v, %v", objs, err)
	}
}

// A presigned GET stops working when it expires (the emulator checks the expiry, S3 checks
// the signature too).
func TestPresignedGetExpires(t *testing.T) {
	signedAt := time.Now().Add(-2 * time.Minute)
	b := emulated(t, func() time.Time { return signedAt })
	form, err := b.PostForm(t.Context(), bucket.Upload{Prefix: "K/", MaxBytes: 100, Redirect: "http://127.0.0.1:1/x", Expires: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	post(t, form, "a.txt", []byte("hello"))
	for _, tc := range []struct {
		expires time.Duration
		status  int
	}{{time.Minute, http.StatusForbidden}, {5 * time.Minute, http.StatusOK}} {
		link, err := b.PresignGet(t.Context(), "K/a.txt", bucket.Download{Filename: "a.txt", Expires: tc.expires})
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.Get(link)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("signed 2 minutes ago for %s: %s, want %d", tc.expires, resp.Status, tc.status)
		}
	}
}

func TestBadArguments(t *testing.T) {
	cfg, err := awsenv.Load(lambdaEnv(nil))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bucket.New(cfg, "b1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.PresignGet(t.Context(), "k", bucket.Download{Expires: 8 * 24 * time.Hour}); err == nil {
		t.Error("a URL for eight days was signed")
	}
	if _, err := b.PostForm(t.Context(), bucket.Upload{Prefix: "p/", MaxBytes: 0, Redirect: "x", Expires: time.Minute}); err == nil {
		t.Error("a form without a size limit was made")
	}
}

// A bucket that does not answer is fault.Unavailable, after a few tries.
func TestUnavailable(t *testing.T) {
	cfg, err := awsenv.Load(lambdaEnv(map[string]string{"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:1"}))
	if err != nil {
		t.Fatal(err)
	}
	b, err := bucket.New(cfg, "b1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := b.List(ctx, "x/"); !errors.Is(err, fault.Unavailable) {
		t.Errorf("list at a closed port: %v, want unavailable", err)
	}
	if err := b.Delete(ctx, "x/y"); !errors.Is(err, fault.Unavailable) {
		t.Errorf("delete at a closed port: %v, want unavailable", err)
	}
}
