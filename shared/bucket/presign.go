package bucket

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

const (
	service = "s3"
	// unsignedPayload is what a presigned URL signs for a body it cannot know.
	unsignedPayload = "UNSIGNED-PAYLOAD"
	algorithm       = "AWS4-HMAC-SHA256"
	amzDateLayout   = "20060102T150405Z"
	// maxPresign is S3's limit on a presigned URL's life (Signature Version 4: seven days).
	maxPresign = 7 * 24 * time.Hour
)

// Download says how a presigned GET hands out an object.
type Download struct {
	// Filename is the name the browser saves it under (Content-Disposition: attachment).
	Filename string
	// Expires is how long the URL works, at most seven days.
	Expires time.Duration
}

// PresignGet returns a URL that fetches key, as an attachment under d.Filename with a
// generic content type (so no browser renders it, whatever it holds), for d.Expires. Both
// headers are part of what is signed: the URL cannot be changed to serve the object inline.
// Presigning makes no call: it signs with the credentials the function already holds.
func (b *Bucket) PresignGet(ctx context.Context, key string, d Download) (string, error) {
	if d.Expires <= 0 || d.Expires > maxPresign {
		return "", fmt.Errorf("bucket: a presigned URL must expire within 7 days, not %s", d.Expires)
	}
	creds, err := b.creds.Retrieve(ctx)
	if err != nil {
		return "", fmt.Errorf("bucket: credentials: %w", err)
	}
	u := b.objectURL(key)
	q := u.Query()
	q.Set("response-content-disposition", Attachment(d.Filename))
	q.Set("response-content-type", "application/octet-stream")
	// The S3 client names the operation in every request; S3 ignores it, and with it the URL
	// is the one the client's own presigner makes.
	q.Set("x-id", "GetObject")
	q.Set("X-Amz-Expires", strconv.Itoa(int(d.Expires/time.Second)))
	u.RawQuery = q.Encode()
	req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}, Host: u.Host}
	signed, _, err := b.signer.PresignHTTP(ctx, creds, req, unsignedPayload, service, b.region, b.now())
	if err != nil {
		return "", fmt.Errorf("bucket: presign: %w", err)
	}
	return signed, nil
}

// Attachment is the Content-Disposition of a download saved as name: the name in ASCII for
// old clients, and whole in UTF-8 (RFC 6266, RFC 8187) for the rest.
func Attachment(name string) string {
	ascii := strings.Map(func(r rune) rune {
		switch {
		case r == '"' || r == '\\' || r == '/' || r < 0x20 || r == 0x7f:
			return '_'
		case r > 0x7e:
			return '_'
		}
		return r
	}, name)
	if ascii == "" {
		ascii = "file"
	}
	v := mime.FormatMediaType("attachment", map[string]string{"filename": name})
	if v == "" || !strings.Contains(v, "filename*=") {
		// All ASCII (FormatMediaType quotes it as it should), or unformattable.
		return `attachment; filename="` + ascii + `"`
	}
	return `attachment; filename="` + ascii + `"; ` + strings.TrimPrefix(v, "attachment; ")
}

// Upload says what a browser may upload through a POST form.
type Upload struct {
	// Prefix is what the object's key must begin with; the key is the prefix and the file's
	// own name (S3 puts it in place of ${filename}).
	Prefix string
	// MaxBytes bounds the file's size; S3 refuses a larger one.
	MaxBytes int64
	// Redirect is where S3 sends the browser after the upload (303), with the bucket, key and
	// ETag in its query.
	Redirect string
	// Expires is how long the form works.
	Expires time.Duration
}

// Field is one form field of a POST upload, in the order the form must send it.
type Field struct{ Name, Value string }

// Form is a presigned POST upload: an HTML form that posts URL with Fields, then the file
// (as the field "file", which S3 wants last).
type Form struct {
	URL    string
	Fields []Field
}

// FilenameVar is what S3 replaces with the uploaded file's own name in a POST form's key.
const FilenameVar = "${filename}"

// PostForm returns a form that uploads one file from a browser straight to S3: the browser
// sends the bytes to S3, never to a function. Its policy, signed with the function's
// credentials, holds the form to what u allows (the key's prefix, the size, the redirect)
// until u.Expires; S3 checks it. Making the form makes no call.
func (b *Bucket) PostForm(ctx context.Context, u Upload) (Form, error) {
	if u.Prefix == "" || u.MaxBytes < 1 || u.Redirect == "" {
		return Form{}, errors.New("bucket: an upload needs a key prefix, a size limit and a redirect")
	}
	if u.Expires <= 0 || u.Expires > maxPresign {
		return Form{}, fmt.Errorf("bucket: an upload form must expire within 7 days, not %s", u.Expires)
	}
	creds, err := b.creds.Retrieve(ctx)
	if err != nil {
		return Form{}, fmt.Errorf("bucket: credentials: %w", err)
	}
	now := b.now().UTC()
	credential := creds.AccessKeyID + "/" + now.Format("20060102") + "/" + b.region + "/" + service + "/aws4_request"
	fields := []Field{
		{"key", u.Prefix + FilenameVar},
		{"success_action_redirect", u.Redirect},
		{"x-amz-algorithm", algorithm},
		{"x-amz-credential", credential},
		{"x-amz-date", now.Format(amzDateLayout)},
	}
	if creds.SessionToken != "" {
		fields = append(fields, Field{"x-amz-security-token", creds.SessionToken})
	}
	conditions := []any{
		map[string]string{"bucket": b.name},
		[]any{"starts-with", "$key", u.Prefix},
		[]any{"content-length-range", 1, u.MaxBytes},
	}
	for _, f := range fields[1:] {
		conditions = append(conditions, map[string]string{f.Name: f.Value})
	}
	doc, err := json.Marshal(map[string]any{
		"expiration": now.Add(u.Expires).Format("2006-01-02T15:04:05.000Z"),
		"conditions": conditions,
	})
	if err != nil {
		return Form{}, fmt.Errorf("bucket: policy: %w", err)
	}
	policy := base64.StdEncoding.EncodeToString(doc)
	fields = append(fields,
		Field{"policy", policy},
		Field{"x-amz-signature", PolicySignature(policy, creds.SecretAccessKey, b.region, now)})
	// S3 takes a POST at the bucket's URL, with a trailing slash.
	return Form{URL: b.base.String() + "/", Fields: fields}, nil
}

// PolicySignature signs a POST policy (base64) as Signature Version 4 does: with the key
// derived from the secret for the day, region and service.
func PolicySignature(policy, secret, region string, t time.Time) string {
	key := mac([]byte("AWS4"+secret), t.UTC().Format("20060102"))
	key = mac(key, region)
	key = mac(key, service)
	key = mac(key, "aws4_request")
	return hex.EncodeToString(mac(key, policy))
}

func mac(key []byte, data string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(data))
	return h.Sum(nil)
}
