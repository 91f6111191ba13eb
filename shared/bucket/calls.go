package bucket

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/fault"
)

// Object is one object as a listing shows it.
type Object struct {
	Key  string
	Size int64
	// ETag is S3's entity tag without quotes: for an object uploaded in one part and stored
	// under S3-managed keys (SSE-S3, as the desk's buckets are), the MD5 of its bytes.
	ETag     string
	Modified time.Time
}

// MaxList bounds what one List returns: a listing is of one request's files, which the
// workspace bounds far below this.
const MaxList = 1000

// attempts bounds the tries of one call: S3 asks clients to retry a 500 or 503 (SlowDown).
const attempts = 3

// emptyHash is the SHA-256 of an empty body, which every call here sends.
var emptyHash = func() string { s := sha256.Sum256(nil); return hex.EncodeToString(s[:]) }()

// List returns the objects whose keys begin with prefix, in key order, at most MaxList. It
// is one call (ListObjectsV2); it needs s3:ListBucket, not s3:GetObject, so a function may
// see what is there without being able to read it.
func (b *Bucket) List(ctx context.Context, prefix string) ([]Object, error) {
	u := *b.base
	u.Path = b.base.Path + "/"
	u.RawPath = escapePath(b.base.Path) + "/"
	q := url.Values{}
	q.Set("list-type", "2")
	q.Set("prefix", prefix)
	q.Set("max-keys", strconv.Itoa(MaxList))
	u.RawQuery = q.Encode()
	body, err := b.call(ctx, http.MethodGet, &u, http.StatusOK)
	if err != nil {
		return nil, err
	}
	var res struct {
		Contents []struct {
			Key          string
			Size         int64
			ETag         string
			LastModified time.Time
		}
	}
	if err := xml.Unmarshal(body, &res); err != nil {
		return nil, fmt.Errorf("bucket: list: %w: %w", err, fault.Unavailable)
	}
	out := make([]Object, 0, len(res.Contents))
	for _, c := range res.Contents {
		out = append(out, Object{Key: c.Key, Size: c.Size, ETag: strings.Trim(c.ETag, `"`), Modified: c.LastModified.UTC()})
	}
	return out, nil
}

// Delete removes key. An object that is not there is deleted already.
func (b *Bucket) Delete(ctx context.Context, key string) error {
	_, err := b.call(ctx, http.MethodDelete, b.objectURL(key), http.StatusNoContent, http.StatusOK, http.StatusNotFound)
	return err
}

// call sends one signed request with an empty body and returns the answer's body if its
// status is one of ok, retrying a failed connection and S3's 500 and 503 a few times. Any
// other answer is fault.Unavailable: S3's error text says nothing a person could act on.
func (b *Bucket) call(ctx context.Context, method string, u *url.URL, ok ...int) ([]byte, error) {
	op := opName(method)
	var last error
	for attempt := range attempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("bucket: %s: %w: %w", op, ctx.Err(), fault.Unavailable)
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			}
		}
		body, status, err := b.send(ctx, method, u)
		switch {
		case err != nil:
			last = err
			var ne net.Error
			if errors.As(err, &ne) || errors.Is(err, io.ErrUnexpectedEOF) {
				continue
			}
			return nil, fmt.Errorf("bucket: %s: %w: %w", op, err, fault.Unavailable)
		case slices.Contains(ok, status):
			return body, nil
		case status == http.StatusInternalServerError || status == http.StatusServiceUnavailable:
			last = fmt.Errorf("status %d", status)
			continue
		}
		return nil, fmt.Errorf("bucket: %s: status %d (%s): %w", op, status, s3Code(body), fault.Unavailable)
	}
	return nil, fmt.Errorf("bucket: %s: %w: %w", op, last, fault.Unavailable)
}

func (b *Bucket) send(ctx context.Context, method string, u *url.URL) ([]byte, int, error) {
	creds, err := b.creds.Retrieve(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("credentials: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), nil)
	if err != nil {
		return nil, 0, err
	}
	// NewRequest parses the URL again, which would lose the path's exact escaping.
	req.URL = u
	req.Header.Set("X-Amz-Content-Sha256", emptyHash)
	if err := b.signer.SignHTTP(ctx, creds, req, emptyHash, service, b.region, b.now()); err != nil {
		return nil, 0, fmt.Errorf("sign: %w", err)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	// A listing of one request's files is small; an error document smaller still.
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, 0, err
	}
	return body, resp.StatusCode, nil
}

// opName names a call as S3's API does, for errors and for counting round trips.
func opName(method string) string {
	if method == http.MethodDelete {
		return "DeleteObject"
	}
	return "ListObjectsV2"
}

// s3Code is the Code of an S3 error document, for the log.
func s3Code(body []byte) string {
	var e struct{ Code string }
	if xml.Unmarshal(body, &e) != nil || e.Code == "" {
		return "no error code"
	}
	return e.Code
}
