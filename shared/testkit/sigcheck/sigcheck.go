// Package sigcheck is a proxy before the S3 emulator that checks the signature of a
// presigned URL, as S3 does and s3rver does not: s3rver checks a presigned URL's access key
// and expiry only, so a link changed after it was signed (another key, a longer life, a
// different file name) would pass it. The proxy signs the request it receives again with the
// SDK's own Signature Version 4 signer, with the credentials the emulators share, at the time
// the URL names, and refuses it with S3's 403 SignatureDoesNotMatch unless the signatures
// agree; a request that passes goes to the emulator unchanged.
//
//	url := sigcheck.Start(t, env.S3URL(t), env.AWSConfig())
//	b, _ := bucket.New(cfgWithEndpoint(url), name) // links the proxy checks
package sigcheck

import (
	"crypto/subtle"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Start starts a checking proxy before target (the S3 emulator's base URL) and returns its
// URL; it stops when the test ends. Requests that carry no presigned signature pass as they
// are (the S3 client's own signed calls, which the emulator takes).
func Start(t testing.TB, target string, cfg aws.Config) string {
	t.Helper()
	to, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	creds, err := cfg.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(to)
	signer := v4.NewSigner()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("X-Amz-Signature") != "" && !valid(r, signer, creds) {
			w.Header().Set("Content-Type", "application/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>SignatureDoesNotMatch</Code>` +
				`<Message>The request signature we calculated does not match the signature you provided.</Message></Error>`))
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// valid reports whether r's presigned signature is the one its URL, signed again, gets.
func valid(r *http.Request, signer *v4.Signer, creds aws.Credentials) bool {
	q := r.URL.Query()
	got := q.Get("X-Amz-Signature")
	at, err := time.Parse("20060102T150405Z", q.Get("X-Amz-Date"))
	if err != nil {
		return false
	}
	// <key id>/<date>/<region>/s3/aws4_request
	scope := strings.Split(q.Get("X-Amz-Credential"), "/")
	if len(scope) != 5 || scope[0] != creds.AccessKeyID {
		return false
	}
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature"} {
		q.Del(p)
	}
	u := *r.URL
	u.Scheme, u.Host, u.RawQuery = "http", r.Host, q.Encode()
	again := &http.Request{Method: r.Method, URL: &u, Header: http.Header{}, Host: r.Host}
	signed, _, err := signer.PresignHTTP(r.Context(), creds, again, "UNSIGNED-PAYLOAD", scope[3], scope[2], at)
	if err != nil {
		return false
	}
	su, err := url.Parse(signed)
	if err != nil {
		return false
	}
	want := su.Query().Get("X-Amz-Signature")
	return subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}
