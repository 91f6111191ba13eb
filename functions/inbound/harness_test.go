package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/infra/sesevent"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/fakeclock"
	"github.com/dsrdesk/dsrdesk/shared/testkit/keyscope"
	"github.com/dsrdesk/dsrdesk/shared/testkit/logsink"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// t0 is Monday 2 March 2026, 10:15 in Copenhagen: SES received the mail then.
var t0 = time.Date(2026, 3, 2, 9, 15, 0, 0, time.UTC)

const (
	baseURL = "https://dsr.example.dk"
	inbox   = "privacy@example.dk"
)

// harness is the handler over a table, a bucket and SES of its own, wired as main wires it.
type harness struct {
	t      testing.TB
	env    *emulator.Env
	cfg    config.Inbound
	clock  *fakeclock.Clock
	h      *handler
	st     *store.Store
	bucket string
	s3     *s3.Client
	dpo    string
	logs   *logsink.Buffer
}

type harnessOpt func(vars map[string]string, c *harnessClients)

type harnessClients struct {
	db  store.DynamoDB
	ses notice.SES
	s3  objects
}

// withRecorder records every AWS call in rec, each delayed by rec.Latency.
func withRecorder(t testing.TB, env *emulator.Env, rec *awscount.Recorder) harnessOpt {
	s3url := env.S3URL(t)
	return func(_ map[string]string, c *harnessClients) {
		c.db = dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
		}, rec.DynamoDB)
		c.ses = ses.NewFromConfig(env.AWSConfig(), func(o *ses.Options) {
			o.BaseEndpoint = aws.String(env.SESEndpoint)
		}, rec.SES)
		c.s3 = s3.NewFromConfig(env.AWSConfig(), func(o *s3.Options) {
			o.BaseEndpoint = aws.String(s3url)
			o.UsePathStyle = true
			o.APIOptions = append(o.APIOptions, rec.Record)
		})
	}
}

// withoutInbound is a deployment that receives no mail: only feedback comes in.
func withoutInbound() harnessOpt {
	return func(vars map[string]string, _ *harnessClients) { delete(vars, "INBOUND_ADDRESS") }
}

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	env := emulator.Get(t)
	dpo := address("dpo")
	bucket := env.NewBucket(t)
	vars := map[string]string{
		"CONTROLLER_NAME":    "Eksempel ApS",
		"COUNTRY":            "DK",
		"DEFAULT_LANG":       "da",
		"BASE_URL":           baseURL,
		"SENDER_ADDRESS":     "noreply@example.dk",
		"DPO_ADDRESSES":      dpo,
		"CONTROLLER_ADDRESS": "Vestergade 1, 8000 Aarhus C",
		"PRIVACY_POLICY_URL": "https://example.dk/privatliv",
		"INBOUND_ADDRESS":    inbox,
		"INBOUND_BUCKET":     bucket,
		"TABLE_NAME":         env.NewTable(t, store.TableDefinition("inbound")),
	}
	clients := &harnessClients{db: env.DynamoDB(), ses: env.SES(), s3: env.S3(t)}
	for _, o := range opts {
		o(vars, clients)
	}
	if vars["INBOUND_ADDRESS"] == "" {
		delete(vars, "INBOUND_BUCKET")
	}
	cfg, err := config.LoadInbound(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.At(t0.Add(time.Second))
	logs := &logsink.Buffer{}
	// Every call the function makes goes through keyscope: only what its role allows.
	h, err := build(cfg, keyscope.Wrap(t, "InboundFunction", clients.db), clients.ses, clients.s3, clk.Now, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{t: t, env: env, cfg: cfg, clock: clk, h: h, bucket: bucket, s3: env.S3(t), dpo: dpo, logs: logs,
		st: store.New(env.DynamoDB(), cfg.Table, store.WithClock(clk.Now), store.WithRetention(cfg.Retention))}
	t.Cleanup(hs.checkLogs)
	return hs
}

// personal matches what must never reach a log line: addresses, names and words of the
// fixtures, tokens.
var personal = regexp.MustCompile(`@|token=|Søren|Kåre|Ingrid|kundenummer|K-4711|førerkort|indsigt|[A-Z2-9]{4}-[A-Z2-9]{4}\.[A-Za-z0-9_-]{43}`)

func (hs *harness) checkLogs() {
	for _, line := range strings.Split(hs.logs.String(), "\n") {
		if m := personal.FindString(line); m != "" {
			hs.t.Errorf("log line carries %q: %s", m, line)
		}
	}
}

// address returns an address no other test uses: the SES emulator is shared.
func address(who string) string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return who + "-" + hex.EncodeToString(b[:]) + "@example.dk"
}

// fixture reads testdata/mail/name with each old string replaced by its new one (the
// sender's address, so that each test has its own).
func fixture(t testing.TB, name string, replace ...string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "mail", name))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(replace); i += 2 {
		raw = bytes.ReplaceAll(raw, []byte(replace[i]), []byte(replace[i+1]))
	}
	return raw
}

// messageID is a fresh SES message id.
func messageID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return "0100018f" + hex.EncodeToString(b[:])
}

// receive does what SES does with a mail to the privacy address: the S3 action stores it,
// then the Lambda action invokes the function with the receipt. It returns the handler's
// error and the receipt's message id.
func (hs *harness) receive(raw []byte, r sesevent.Receipt) (string, error) {
	hs.t.Helper()
	if r.MessageID == "" {
		r.MessageID = messageID()
	}
	if r.At.IsZero() {
		r.At = t0
	}
	if r.Recipients == nil {
		r.Recipients = []string{inbox}
	}
	if r.Source == "" && !bytes.Contains(raw, []byte("Return-Path: <>")) {
		r.Source = "bounces@sender.example"
	}
	_, err := hs.s3.PutObject(context.Background(), &s3.PutObjectInput{
		Bucket: aws.String(hs.bucket), Key: aws.String(config.InboundPrefix + r.MessageID), Body: bytes.NewReader(raw),
	})
	if err != nil {
		hs.t.Fatal(err)
	}
	ev, err := sesevent.Event(raw, r)
	if err != nil {
		hs.t.Fatal(err)
	}
	return r.MessageID, hs.invoke(ev)
}

func (hs *harness) invoke(ev any) error {
	hs.t.Helper()
	b, err := json.Marshal(ev)
	if err != nil {
		hs.t.Fatal(err)
	}
	return hs.h.Handle(context.Background(), b)
}

// stored is the request a mail with SES message id was stored as, or nil.
func (hs *harness) stored(id string) *dsr.Request {
	hs.t.Helper()
	r, err := hs.st.GetRequest(context.Background(), dsr.ReferenceFor(config.InboundPrefix+id))
	if err != nil {
		return nil
	}
	return r
}

// seedOpen stores a confirmed access request from email, received at t0.
func (hs *harness) seedOpen(email string) *dsr.Request {
	hs.t.Helper()
	ctx := context.Background()
	r := dsr.New(dsr.NewReference(), dsr.Submission{Type: "access", Name: "Jens Hansen", Email: email, Lang: "da"}, t0.Add(-72*time.Hour), hs.cfg.Calendar.Due(t0), "h")
	if err := hs.st.CreateRequest(ctx, r); err != nil {
		hs.t.Fatal(err)
	}
	hs.commit(r)(r.Verify("h", t0.Add(-71*time.Hour)))
	return r
}

// commit returns what commits a change of r, and then brings r's partition in step (its
// search entries and their retention), as the change's delivery does.
func (hs *harness) commit(r *dsr.Request) func(dsr.Change, error) {
	return func(ch dsr.Change, err error) {
		hs.t.Helper()
		ctx := context.Background()
		if err != nil {
			hs.t.Fatal(err)
		}
		if err := hs.st.Commit(ctx, r, ch); err != nil {
			hs.t.Fatal(err)
		}
		if err := hs.st.SyncSiblings(ctx, r); err != nil {
			hs.t.Fatal(err)
		}
	}
}

// seedAsked is seedOpen with a question to the requester that stopped the clock, as the
// workspace asks it, with the search entries and retention the question's delivery leaves.
func (hs *harness) seedAsked(email string) *dsr.Request {
	hs.t.Helper()
	r := hs.seedOpen(email)
	hs.commit(r)(r.Ask("dpo@example.dk", dsr.PurposeIdentity, "Kundenummer?", "To kunder med samme navn.", t0.Add(-48*time.Hour)))
	return r
}
