// Package bucket is the desk's one way to S3: a bucket's objects are handed to browsers by
// presigned URLs (a GET to download, a POST form to upload), so no file byte ever passes
// through a function, and the workspace lists and deletes them with two signed calls.
//
// It signs with the SDK's own Signature Version 4 signer (aws/signer/v4, which every
// function links already for DynamoDB) rather than through the S3 client: importing
// service/s3, only to presign, adds 4.6 MB to an arm64 binary (14.7 MB against the 10.2 MB
// floor) and its endpoint rules and checksum middlewares to every cold start, which is more
// than the desk's functions are allowed (README, Performance). A presigned URL or POST policy
// is a documented, fixed format; the tests hold this package's URLs to the S3 client's own
// presigner, byte for byte, and its POST signatures to the S3 client's.
//
// Locally (AWS_ENDPOINT_URL_S3, the emulator) objects are addressed path-style,
// <endpoint>/<bucket>/<key>; in AWS virtual-hosted, https://<bucket>.s3.<region>.amazonaws.com/<key>.
package bucket

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// HTTPClient sends a signed request (aws.Config's HTTPClient is one).
type HTTPClient interface {
	Do(*http.Request) (*http.Response, error)
}

// Bucket is one S3 bucket, addressed and signed for with the function's credentials.
type Bucket struct {
	name   string
	region string
	creds  aws.CredentialsProvider
	http   HTTPClient
	signer *v4.Signer
	now    func() time.Time
	// base is the bucket's URL without a trailing slash: an object is base + "/" + key.
	base *url.URL
}

// Option changes how a Bucket is built.
type Option func(*Bucket)

// WithClock signs with now's time instead of the wall clock's (tests).
func WithClock(now func() time.Time) Option { return func(b *Bucket) { b.now = now } }

// WithHTTPClient sends the signed calls (List, Delete) through c (tests count them).
func WithHTTPClient(c HTTPClient) Option { return func(b *Bucket) { b.http = c } }

// New returns bucket name as cfg reaches it: cfg's region and credentials, and the S3
// endpoint the environment configures (AWS_ENDPOINT_URL_S3, read through cfg's sources as
// the SDK's clients read it), else S3's own.
func New(cfg aws.Config, name string, opts ...Option) (*Bucket, error) {
	if name == "" {
		return nil, errors.New("bucket: no bucket name")
	}
	if cfg.Region == "" || cfg.Credentials == nil {
		return nil, errors.New("bucket: the AWS configuration has no region or credentials")
	}
	b := &Bucket{
		name: name, region: cfg.Region, creds: cfg.Credentials, http: cfg.HTTPClient, now: time.Now,
		// S3 signs the path as it is sent: each key segment escaped once, never twice.
		signer: v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true }),
	}
	if b.http == nil {
		b.http = http.DefaultClient
	}
	endpoint, err := configuredEndpoint(cfg)
	if err != nil {
		return nil, err
	}
	if endpoint != "" {
		u, err := url.Parse(strings.TrimSuffix(endpoint, "/"))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return nil, fmt.Errorf("bucket: S3 endpoint %q is not a URL", endpoint)
		}
		// Path-style: an emulator on 127.0.0.1 has no host name to put a bucket in front of.
		u.Path += "/" + name
		b.base = u
	} else {
		b.base = &url.URL{Scheme: "https", Host: name + ".s3." + cfg.Region + ".amazonaws.com"}
	}
	for _, o := range opts {
		o(b)
	}
	return b, nil
}

// Name is the bucket's name.
func (b *Bucket) Name() string { return b.name }

// Origin is where a browser sends what this bucket serves or takes (scheme and host), for a
// page's Content-Security-Policy.
func (b *Bucket) Origin() string { return b.base.Scheme + "://" + b.base.Host }

// objectURL is the URL of key: its segments escaped as S3 signs them.
func (b *Bucket) objectURL(key string) *url.URL {
	u := *b.base
	u.Path = b.base.Path + "/" + key
	u.RawPath = escapePath(b.base.Path) + "/" + escapePath(key)
	return &u
}

// escapePath escapes every byte of p but the unreserved characters and "/", as SigV4's
// canonical URI for S3 wants (RFC 3986; a space is %20, never +).
func escapePath(p string) string {
	var sb strings.Builder
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c == '/' || unreserved(c) {
			sb.WriteByte(c)
			continue
		}
		fmt.Fprintf(&sb, "%%%02X", c)
	}
	return sb.String()
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.' || c == '~'
}

// endpointSource is what awsenv's configuration source answers (and config.LoadDefaultConfig's
// does): AWS_ENDPOINT_URL_<SERVICE>.
type endpointSource interface {
	GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
}

type ignoreSource interface {
	GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
}

// configuredEndpoint is the S3 endpoint cfg configures, "" for S3's own: the service's
// variable first, then the global one, unless configured endpoints are to be ignored. This is
// the order the SDK's clients resolve them in.
func configuredEndpoint(cfg aws.Config) (string, error) {
	ctx := context.Background()
	for _, s := range cfg.ConfigSources {
		if is, ok := s.(ignoreSource); ok {
			ignore, found, err := is.GetIgnoreConfiguredEndpoints(ctx)
			if err != nil {
				return "", fmt.Errorf("bucket: %w", err)
			}
			if found && ignore {
				return "", nil
			}
		}
	}
	for _, s := range cfg.ConfigSources {
		if es, ok := s.(endpointSource); ok {
			v, found, err := es.GetServiceBaseEndpoint(ctx, "S3")
			if err != nil {
				return "", fmt.Errorf("bucket: %w", err)
			}
			if found && v != "" {
				return v, nil
			}
		}
	}
	return aws.ToString(cfg.BaseEndpoint), nil
}
