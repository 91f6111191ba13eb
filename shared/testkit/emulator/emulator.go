// Package emulator gives tests a real DynamoDB, SES and S3 API to talk to: dynalite,
// aws-ses-v2-local and s3rver, started on free loopback ports once per test binary by the
// one launcher the local runner uses too (infra/emulators). Mocks of the SDK would not catch
// a wrong condition expression or a mail the SES API refuses; the emulators do.
//
// A package that uses it calls Run from TestMain so the emulators stop with the tests:
//
//	func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }
//
// Tests in one binary share the emulators and may run in parallel: each test makes its own
// table with NewTable (or bucket with NewBucket) and mails to addresses only it uses, then
// reads them back with Mails. Get starts DynamoDB and SES; S3 starts on first use, because
// most packages store no files and each emulator costs a Node.js start-up.
//
// DSR_TEST_DYNAMODB_ENDPOINT, DSR_TEST_SES_ENDPOINT and DSR_TEST_S3_ENDPOINT
// (emulators.Emulator.TestEndpointVar), when set, point the tests at emulators that are
// already running (the local runner's, say) instead of starting new ones.
package emulator

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
)

// Environment variables that replace a started emulator with a running one.
var (
	EnvDynamoDBEndpoint = emulators.DynamoDB.TestEndpointVar()
	EnvSESEndpoint      = emulators.SES.TestEndpointVar()
	EnvS3Endpoint       = emulators.S3.TestEndpointVar()
)

// Region is the region every client built here uses. The emulators ignore it, but the SDK
// signs with it, and eu-north-1 is where the product runs.
const Region = emulators.Region

// Env is the set of emulators the tests of one binary share.
type Env struct {
	DynamoDBEndpoint string // e.g. http://127.0.0.1:41234
	SESEndpoint      string

	// S3Endpoint is empty until S3, S3URL or NewBucket starts the S3 emulator; set it when
	// building an Env around a running one.
	S3Endpoint string
	s3Mu       sync.Mutex
}

var (
	startOnce sync.Once
	shared    *Env
	startErr  error

	// One start per emulator and binary, whoever asks first.
	starts = map[*emulators.Emulator]func() (string, error){}

	procsMu sync.Mutex
	procs   []*emulators.Process // what this binary started, stopped by Run
)

func init() {
	for _, e := range emulators.All {
		starts[e] = sync.OnceValues(func() (string, error) { return endpoint(e) })
	}
}

// Run runs the tests and then stops the emulators this binary started, so none outlive it.
// Call it from TestMain: os.Exit(emulator.Run(m)). Without it they live until the binary
// exits (on Linux the kernel then kills them; elsewhere they are left running).
func Run(m *testing.M) int {
	code := m.Run()
	stopAll()
	return code
}

// Get returns the DynamoDB and SES emulators for this test binary, starting them on first
// use. Later calls (from any goroutine) wait for the first and get the same Env, or the same
// failure.
func Get(t testing.TB) *Env {
	t.Helper()
	startOnce.Do(func() {
		// Both start side by side: each costs a Node.js start-up (about half a second),
		// and every test package pays it.
		var dynErr, sesErr error
		var wg sync.WaitGroup
		env := &Env{}
		wg.Go(func() { env.DynamoDBEndpoint, dynErr = starts[emulators.DynamoDB]() })
		wg.Go(func() { env.SESEndpoint, sesErr = starts[emulators.SES]() })
		wg.Wait()
		if startErr = errors.Join(dynErr, sesErr); startErr != nil {
			stopAll()
			return
		}
		shared = env
	})
	if startErr != nil {
		t.Fatalf("emulator: %v", startErr)
	}
	return shared
}

// Around returns an Env for emulators that are already running (the local runner's), so
// that a test can read what they hold.
func Around(ep emulators.Endpoints) *Env {
	return &Env{DynamoDBEndpoint: ep[emulators.DynamoDB], SESEndpoint: ep[emulators.SES], S3Endpoint: ep[emulators.S3]}
}

// endpoint is the emulator's URL from its DSR_TEST_*_ENDPOINT variable, else one started
// for this binary.
func endpoint(e *emulators.Emulator) (string, error) {
	if url := strings.TrimRight(os.Getenv(e.TestEndpointVar()), "/"); url != "" {
		return url, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a first npm ci included
	defer cancel()
	infra, err := emulators.FindInfra(".")
	if err != nil {
		return "", err
	}
	if err := emulators.Install(ctx, infra, nil); err != nil {
		return "", fmt.Errorf("%w (or set %s to a running %s emulator)", err, e.TestEndpointVar(), e.Service)
	}
	p, err := emulators.Start(ctx, e, emulators.Options{NodeModules: filepath.Join(infra, "node_modules"), Env: emulatorEnv()})
	if err != nil {
		return "", err
	}
	procsMu.Lock()
	procs = append(procs, p)
	procsMu.Unlock()
	return p.Endpoint, nil
}

// emulatorEnv is the test's environment without SMTP_TRANSPORT, with which aws-ses-v2-local
// would forward every test mail to a real SMTP server.
func emulatorEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SMTP_TRANSPORT=")
	})
}

func stopAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Go(p.Stop)
	}
	wg.Wait()
	procs = nil
}

// AWSConfig returns a config for the emulators: region eu-north-1 and dummy static
// credentials, never a developer's ~/.aws (emulators.Config). It carries no endpoint:
// build clients with DynamoDB, SES and S3, or set BaseEndpoint on the client options.
func (e *Env) AWSConfig() aws.Config { return emulators.Config() }

// DynamoDB returns a client for the DynamoDB emulator.
func (e *Env) DynamoDB() *dynamodb.Client { return emulators.DynamoDBClient(e.DynamoDBEndpoint) }

// SES returns a client for the SES emulator.
func (e *Env) SES() *ses.Client {
	return ses.NewFromConfig(e.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(e.SESEndpoint)
	})
}

// S3URL returns the S3 emulator's base URL, starting it on first use.
func (e *Env) S3URL(t testing.TB) string {
	t.Helper()
	e.s3Mu.Lock()
	defer e.s3Mu.Unlock()
	if e.S3Endpoint == "" {
		url, err := starts[emulators.S3]()
		if err != nil {
			t.Fatalf("emulator: %v", err)
		}
		e.S3Endpoint = url
	}
	return e.S3Endpoint
}

// S3 returns a client for the S3 emulator (path-style addressing), starting it on first
// use.
func (e *Env) S3(t testing.TB) *s3.Client { return emulators.S3Client(e.S3URL(t)) }

// NewBucket creates a bucket under a name no other test uses and returns the name; when the
// test ends, it empties the bucket and deletes it.
func (e *Env) NewBucket(t testing.TB) string {
	t.Helper()
	client := e.S3(t)
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails
	name := "test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := emulators.CreateBucket(ctx, client, name); err != nil {
		t.Fatalf("emulator: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := deleteBucket(ctx, client, name); err != nil {
			t.Errorf("emulator: %v", err)
		}
	})
	return name
}

func deleteBucket(ctx context.Context, client *s3.Client, name string) error {
	pages := s3.NewListObjectsV2Paginator(client, &s3.ListObjectsV2Input{Bucket: aws.String(name)})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return fmt.Errorf("empty bucket %s: %w", name, err)
		}
		for _, o := range page.Contents {
			if _, err := client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(name), Key: o.Key}); err != nil {
				return fmt.Errorf("empty bucket %s: %w", name, err)
			}
		}
	}
	_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: aws.String(name)})
	var gone *s3types.NoSuchBucket
	if err != nil && !errors.As(err, &gone) {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// Environ returns the variables that make a subprocess reading the AWS environment (a
// function binary, the local runner) talk to these emulators, S3 only once it has started
// (emulators.Endpoints.Environ). Append them to os.Environ().
func (e *Env) Environ() []string {
	e.s3Mu.Lock()
	defer e.s3Mu.Unlock()
	return emulators.Endpoints{
		emulators.DynamoDB: e.DynamoDBEndpoint,
		emulators.SES:      e.SESEndpoint,
		emulators.S3:       e.S3Endpoint,
	}.Environ()
}

// NewTable creates a table from def under a name no other test uses (def's TableName is
// ignored and def is not modified), waits until the table and its indexes are ACTIVE, deletes
// it when the test ends, and returns the name.
func (e *Env) NewTable(t testing.TB, def *dynamodb.CreateTableInput) string {
	t.Helper()
	in := *def
	in.TableName = aws.String(tableName(t.Name()))
	db := e.DynamoDB()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := db.CreateTable(ctx, &in); err != nil {
		t.Fatalf("emulator: create table: %v", err)
	}
	t.Cleanup(func() {
		// The test's own context is already cancelled when cleanups run. dynalite deletes a
		// table item by item: a benchmark's 100,000 requests take a while on a busy machine.
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName})
		var gone *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &gone) {
			t.Errorf("emulator: delete table: %v", err)
		}
	})
	if err := emulators.WaitActive(ctx, db, *in.TableName); err != nil {
		t.Fatalf("emulator: %v", err)
	}
	return *in.TableName
}

var notInTableName = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName keeps the test's name in the table name so a leftover table in a shared emulator
// says where it came from, and adds randomness because -count and parallel subtests repeat
// test names.
func tableName(testName string) string {
	base := notInTableName.ReplaceAllString(testName, "_")
	if len(base) > 200 { // the limit is 255
		base = base[:200]
	}
	var b [6]byte
	_, _ = rand.Read(b[:]) // never fails
	return base + "-" + hex.EncodeToString(b[:])
}

// Mail is one message as the SES emulator stored it.
type Mail struct {
	MessageID string
	From      string
	ReplyTo   []string
	To        []string
	Cc        []string
	Bcc       []string
	Subject   string
	HTML      string
	Text      string
	At        time.Time // whole seconds: the emulator stores epoch seconds
}

// storedMail is the JSON of one entry of aws-ses-v2-local's GET /store.
type storedMail struct {
	MessageID   string      `json:"messageId"`
	From        string      `json:"from"`
	ReplyTo     addressList `json:"replyTo"`
	Destination struct {
		To  addressList `json:"to"`
		Cc  addressList `json:"cc"`
		Bcc addressList `json:"bcc"`
	} `json:"destination"`
	Subject string `json:"subject"`
	Body    struct {
		HTML string `json:"html"`
		Text string `json:"text"`
	} `json:"body"`
	At float64 `json:"at"` // epoch seconds
}

// addressList accepts a list, a single string or null: 2.10.2 sends lists for SendEmail, but
// the SES v2 and raw paths of the emulator are not as consistent.
type addressList []string

func (l *addressList) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*l = addressList{one}
		if one == "" {
			*l = nil
		}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return fmt.Errorf("address list: %w", err)
	}
	*l = many
	return nil
}

var mailClient = &http.Client{Timeout: 10 * time.Second}

// Mails returns the mails in the SES emulator sent to the address to (in To, Cc or Bcc; the
// display name and letter case do not matter), oldest first. Other tests share the emulator,
// so it leaves the store as it is and filters instead: give each test its own addresses.
//
// aws-ses-v2-local 2.10.2 stores only the first address of each of To, Cc, Bcc and Reply-To of
// a SendEmail (it still answers 200): a mail to two To addresses is found only by the first.
func (e *Env) Mails(t testing.TB, to string) []Mail {
	t.Helper()
	want := addrSpec(to)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, e.SESEndpoint+"/store", nil)
	if err != nil {
		t.Fatalf("emulator: read mails: %v", err)
	}
	res, err := mailClient.Do(req)
	if err != nil {
		t.Fatalf("emulator: read mails: %v", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("emulator: read mails: GET /store: %s", res.Status)
	}
	var store struct {
		Emails []storedMail `json:"emails"`
	}
	if err := json.NewDecoder(res.Body).Decode(&store); err != nil {
		t.Fatalf("emulator: read mails: decode /store: %v", err)
	}
	var mails []Mail
	for _, s := range store.Emails {
		if !addressedTo(want, s.Destination.To, s.Destination.Cc, s.Destination.Bcc) {
			continue
		}
		mails = append(mails, Mail{
			MessageID: s.MessageID,
			From:      s.From,
			ReplyTo:   s.ReplyTo,
			To:        s.Destination.To,
			Cc:        s.Destination.Cc,
			Bcc:       s.Destination.Bcc,
			Subject:   s.Subject,
			HTML:      s.Body.HTML,
			Text:      s.Body.Text,
			At:        time.Unix(int64(s.At), 0),
		})
	}
	// The store is in the order the emulator received the mails; "at" has only whole seconds,
	// so that order is kept rather than sorting by it.
	return mails
}

func addressedTo(want string, lists ...addressList) bool {
	for _, l := range lists {
		for _, a := range l {
			if addrSpec(a) == want {
				return true
			}
		}
	}
	return false
}

// addrSpec reduces "Name <a@b>" to "a@b", lower-cased.
func addrSpec(s string) string {
	if a, err := mail.ParseAddress(s); err == nil {
		s = a.Address
	}
	return strings.ToLower(strings.TrimSpace(s))
}
