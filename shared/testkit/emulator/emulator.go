// Package emulator gives tests a real DynamoDB and SES API to talk to: dynalite and
// aws-ses-v2-local from infra/node_modules, started on free loopback ports once per test
// binary. Mocks of the SDK would not catch a wrong condition expression or a mail the SES API
// refuses; the emulators do.
//
// A package that uses it calls Run from TestMain so the emulators stop with the tests:
//
//	func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }
//
// Tests in one binary share the emulators and may run in parallel: each test makes its own
// table with NewTable and mails to addresses only it uses, then reads them back with Mails.
//
// DSR_TEST_DYNAMODB_ENDPOINT and DSR_TEST_SES_ENDPOINT, when set, point the tests at emulators
// that are already running (the local runner's, say) instead of starting new ones.
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
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"
)

// Environment variables that replace a started emulator with a running one.
const (
	EnvDynamoDBEndpoint = "DSR_TEST_DYNAMODB_ENDPOINT"
	EnvSESEndpoint      = "DSR_TEST_SES_ENDPOINT"
)

// Region is the region every client built here uses. The emulators ignore it, but the SDK
// signs with it, and eu-north-1 is where the product runs.
const Region = "eu-north-1"

// The emulators check that requests are signed, not by whom.
const (
	dummyAccessKey = "dsrdesk-test"
	dummySecretKey = "dsrdesk-test"
)

// Env is the pair of emulators the tests of one binary share.
type Env struct {
	DynamoDBEndpoint string // e.g. http://127.0.0.1:41234
	SESEndpoint      string
}

var (
	startOnce sync.Once
	shared    *Env
	startErr  error

	procsMu sync.Mutex
	procs   []*process // what this binary started, stopped by Run
)

// Run runs the tests and then stops the emulators Get started, so none outlive the test binary.
// Call it from TestMain: os.Exit(emulator.Run(m)). Without it they live until the binary exits
// (on Linux the kernel then kills them; elsewhere they are left running).
func Run(m *testing.M) int {
	code := m.Run()
	stopAll()
	return code
}

// Get returns the emulators for this test binary, starting them on first use. Later calls
// (from any goroutine) wait for the first and get the same Env, or the same failure.
func Get(t testing.TB) *Env {
	t.Helper()
	startOnce.Do(func() { shared, startErr = start() })
	if startErr != nil {
		t.Fatalf("emulator: %v", startErr)
	}
	return shared
}

func start() (*Env, error) {
	env := &Env{
		DynamoDBEndpoint: strings.TrimRight(os.Getenv(EnvDynamoDBEndpoint), "/"),
		SESEndpoint:      strings.TrimRight(os.Getenv(EnvSESEndpoint), "/"),
	}
	if env.DynamoDBEndpoint != "" && env.SESEndpoint != "" {
		return env, nil
	}
	bins, err := installed()
	if err != nil {
		return nil, err
	}
	// Both start in parallel: each costs a Node.js start-up (about half a second), and
	// every test package pays it.
	var wg sync.WaitGroup
	var dynErr, sesErr error
	if env.DynamoDBEndpoint == "" {
		wg.Go(func() {
			// Tables go ACTIVE at once: the default 500 ms per table adds up over a suite, and
			// NewTable still has to see CREATING turn ACTIVE.
			env.DynamoDBEndpoint, dynErr = launch("dynalite", bins.dynalite,
				"--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
		})
	}
	if env.SESEndpoint == "" {
		wg.Go(func() {
			env.SESEndpoint, sesErr = launch("aws-ses-v2-local", bins.ses, "--host", "127.0.0.1")
		})
	}
	wg.Wait()
	if err := errors.Join(dynErr, sesErr); err != nil {
		stopAll()
		return nil, err
	}
	return env, nil
}

// AWSConfig returns a config for the emulators: region eu-north-1 and dummy static
// credentials. It is built by hand rather than with config.LoadDefaultConfig so that a
// developer's ~/.aws files, profile or session token cannot leak into a test. It carries no
// endpoint (aws.Config has only a global one): build clients with DynamoDB and SES, or set
// BaseEndpoint on the client options.
func (e *Env) AWSConfig() aws.Config {
	return aws.Config{
		Region:      Region,
		Credentials: credentials.NewStaticCredentialsProvider(dummyAccessKey, dummySecretKey, ""),
	}
}

// DynamoDB returns a client for the DynamoDB emulator.
func (e *Env) DynamoDB() *dynamodb.Client {
	return dynamodb.NewFromConfig(e.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String(e.DynamoDBEndpoint)
	})
}

// SES returns a client for the SES emulator.
func (e *Env) SES() *ses.Client {
	return ses.NewFromConfig(e.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(e.SESEndpoint)
	})
}

// Environ returns the variables that make a subprocess reading the AWS environment (a
// function binary, the local runner) talk to these emulators. Append them to os.Environ():
// exec.Cmd uses the last value of a repeated key. The shared-config and profile variables are
// blanked because a developer's profile that does not exist here would fail a subprocess that
// loads it with config.LoadDefaultConfig.
func (e *Env) Environ() []string {
	return []string{
		"AWS_ENDPOINT_URL_DYNAMODB=" + e.DynamoDBEndpoint,
		"AWS_ENDPOINT_URL_SES=" + e.SESEndpoint,
		"AWS_REGION=" + Region,
		"AWS_ACCESS_KEY_ID=" + dummyAccessKey,
		"AWS_SECRET_ACCESS_KEY=" + dummySecretKey,
		"AWS_SESSION_TOKEN=",
		"AWS_PROFILE=",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_EC2_METADATA_DISABLED=true",
	}
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
		// The test's own context is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_, err := db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: in.TableName})
		var gone *types.ResourceNotFoundException
		if err != nil && !errors.As(err, &gone) {
			t.Errorf("emulator: delete table: %v", err)
		}
	})
	if err := waitActive(ctx, db, *in.TableName); err != nil {
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

// waitActive waits for the table and every GSI to be ACTIVE. The SDK's TableExists waiter
// checks only the table and polls every 20 s by default.
func waitActive(ctx context.Context, db *dynamodb.Client, name string) error {
	for {
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		active := out.Table.TableStatus == types.TableStatusActive
		for _, gsi := range out.Table.GlobalSecondaryIndexes {
			active = active && gsi.IndexStatus == types.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("table %s not ACTIVE: %w", name, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
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
