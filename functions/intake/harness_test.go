package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/fakeclock"
	"github.com/dsrdesk/dsrdesk/shared/testkit/keyscope"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/testkit/logsink"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// t0 is Monday 2 March 2026, 10:00 in Copenhagen (09:00 UTC, the fixtures' timeEpoch). The
// one-month deadline is Tuesday 7 April 2026: 2 April is Maundy Thursday, then Good Friday,
// the weekend and Easter Monday (the first example of docs/deadlines.md).
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

const (
	baseURL     = "http://localhost:3000"
	companySite = "https://www.example.com"
	controller  = "Jensen & Søn ApS"
	// controllerAddress and privacyPolicy are what the form tells about the controller.
	controllerAddress = "Havnegade 3, 5000 Odense C"
	privacyPolicy     = "https://www.example.com/privatliv?a=1&b=2"
	senderAddress     = "privacy@jensen-soen.example"
)

// harness is one handler over its own table, wired exactly as main wires it.
type harness struct {
	t     testing.TB
	env   *emulator.Env
	cfg   config.Intake
	clock *fakeclock.Clock
	h     *Handler
	st    *store.Store
	db    *dynamodb.Client
	dpo   string
	logs  *logsink.Buffer
	// held keeps the handler's work after the response until the test runs it; nil when the
	// work runs before the answer (later.Now).
	held *later.Held
}

type harnessOpt func(env map[string]string, o *harnessClients)

// harnessClients lets a test swap an emulator for an endpoint that is down.
type harnessClients struct {
	db    store.DynamoDB
	ses   notice.SES
	after afterResponse
	held  *later.Held
	// coldKey leaves the deployment key unread, as in a container's first request.
	coldKey bool
}

// withColdKey builds a handler that has not read the deployment key yet.
func withColdKey() harnessOpt {
	return func(_ map[string]string, c *harnessClients) { c.coldKey = true }
}

func withEnv(k, v string) harnessOpt {
	return func(env map[string]string, _ *harnessClients) { env[k] = v }
}

// deadEndpoint is a loopback port nothing listens on; one attempt, no retries, so a test of an
// outage takes milliseconds.
const deadEndpoint = "http://127.0.0.1:1"

func withDynamoDBDown(env *emulator.Env) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.db = dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(deadEndpoint)
			o.RetryMaxAttempts = 1
		})
	}
}

func withSESDown(env *emulator.Env) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.ses = ses.NewFromConfig(env.AWSConfig(), func(o *ses.Options) {
			o.BaseEndpoint = aws.String(deadEndpoint)
			o.RetryMaxAttempts = 1
		})
	}
}

// withTable shares another harness's table, for a second handler over the same data.
func withTable(table string) harnessOpt { return withEnv("TABLE_NAME", table) }

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	env := emulator.Get(t)
	dpo := address("dpo")
	vars := map[string]string{
		"CONTROLLER_NAME":  controller,
		"COUNTRY":          "DK",
		"DEFAULT_LANG":     "da",
		"BASE_URL":         baseURL,
		"SENDER_ADDRESS":   senderAddress,
		"DPO_ADDRESSES":    dpo + ", " + address("deputy"),
		"ALLOWED_ORIGINS":  companySite,
		"MIN_FILL_SECONDS": "3",

		"CONTROLLER_ADDRESS": controllerAddress,
		"PRIVACY_POLICY_URL": privacyPolicy,
	}
	clients := &harnessClients{db: env.DynamoDB(), ses: env.SES(), after: later.Now{}}
	for _, o := range opts {
		o(vars, clients)
	}
	if vars["TABLE_NAME"] == "" {
		vars["TABLE_NAME"] = env.NewTable(t, store.TableDefinition("intake"))
	}
	cfg, err := config.LoadIntake(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	cfg.Region = "eu-north-1" // main takes it from the Lambda environment
	clk := fakeclock.At(t0)
	logs := &logsink.Buffer{}
	// Every call the intake makes goes through keyscope: only what its role allows.
	h, err := build(cfg, keyscope.Wrap(t, "IntakeFunction", clients.db), clients.ses, clients.after, clk.Now, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	hs := &harness{
		t: t, env: env, cfg: cfg, clock: clk, h: h, dpo: dpo, logs: logs,
		held: clients.held,
		db:   env.DynamoDB(),
		st:   store.New(env.DynamoDB(), cfg.Table, store.WithClock(clk.Now)),
	}
	// A container reads the deployment's key once, on its first request that needs it; the
	// tests start from a container that has, so that each counts only its own calls. (Over a
	// dead endpoint it cannot, and every submission answers 503 before its render time.)
	if !clients.coldKey {
		_, _ = h.keys.Load(context.Background())
	}
	t.Cleanup(hs.checkLogs)
	return hs
}

// personal matches what must never reach a log line: addresses, links with tokens, the
// names and texts the tests submit.
var personal = regexp.MustCompile(`@|token=|Mette|Ola|Jane|S\\u00f8rensen|Sørensen|<script|[A-Z2-9]{4}-[A-Z2-9]{4}\.[A-Za-z0-9_-]{43}`)

// checkLogs fails the test if any log line carries personal data or a secret.
func (hs *harness) checkLogs() {
	logs := hs.logs.String()
	for _, line := range strings.Split(logs, "\n") {
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

// runAfter does the work the handler left for after its answers, if the test holds it.
func (hs *harness) runAfter() {
	if hs.held != nil {
		hs.held.Run()
	}
}

func (hs *harness) do(req web.Request) web.Response {
	hs.t.Helper()
	resp, err := hs.h.Handle(context.Background(), req)
	if err != nil {
		hs.t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

// event loads a fixture from events/, the same file a person passes to sam local invoke.
func event(t testing.TB, name string) web.Request {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var req web.Request
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// withForm replaces a fixture's body with v, encoded as API Gateway delivers a form.
func withForm(req web.Request, v url.Values) web.Request {
	return withBody(req, []byte(v.Encode()))
}

func withBody(req web.Request, body []byte) web.Request {
	req.Body = base64.StdEncoding.EncodeToString(body)
	req.IsBase64Encoded = true
	req.Headers = cloneHeaders(req.Headers)
	req.Headers["content-length"] = strconv.Itoa(len(body))
	return req
}

func withJSON(req web.Request, v any) web.Request {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return withRawJSON(req, b)
}

func withRawJSON(req web.Request, b []byte) web.Request {
	req.Body = string(b)
	req.IsBase64Encoded = false
	req.Headers = cloneHeaders(req.Headers)
	req.Headers["content-length"] = strconv.Itoa(len(b))
	return req
}

func withHeader(req web.Request, k, v string) web.Request {
	req.Headers = cloneHeaders(req.Headers)
	if v == "" {
		delete(req.Headers, k)
	} else {
		req.Headers[k] = v
	}
	return req
}

func withQuery(req web.Request, q string) web.Request {
	req.RawQueryString = q
	req.QueryStringParameters = nil
	if v, err := url.ParseQuery(q); err == nil && len(v) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k := range v {
			req.QueryStringParameters[k] = strings.Join(v[k], ",")
		}
	}
	return req
}

func withIP(req web.Request, ip string) web.Request {
	req.RequestContext.HTTP.SourceIP = ip
	req.Headers = cloneHeaders(req.Headers)
	req.Headers["x-forwarded-for"] = ip
	return req
}

func cloneHeaders(h map[string]string) map[string]string {
	out := make(map[string]string, len(h)+1)
	for k, v := range h {
		out[k] = v
	}
	return out
}

// stamp is the form's render time for at, signed as the form signs it; unsigned when the
// handler cannot read its key (DynamoDB down), which it then never gets as far as checking.
func (hs *harness) stamp(at time.Time) string {
	hs.t.Helper()
	key, err := hs.h.keys.Load(context.Background())
	if err != nil {
		return strconv.FormatInt(at.Unix(), 10)
	}
	return renderTime(key, at)
}

// form is a valid submission rendered a minute before now.
func (hs *harness) form(email string, lang i18n.Lang) url.Values {
	return url.Values{
		"type":         {string(dsr.Access)},
		"name":         {"Mette Sørensen"},
		"email":        {email},
		"details":      {"Jeg vil gerne have en kopi af mine oplysninger.\r\nTak."},
		"customer_ref": {"K-10442"},
		"lang":         {string(lang)},
		"ts":           {hs.stamp(hs.clock.Now().Add(-time.Minute))},
		"website":      {""},
	}
}

// postForm posts v through the form fixture.
func (hs *harness) postForm(v url.Values) web.Response {
	hs.t.Helper()
	return hs.do(withForm(event(hs.t, "intake-form-post"), v))
}

// file submits a valid form and returns the token from the verification mail.
func (hs *harness) file(email string, lang i18n.Lang) (tok string) {
	hs.t.Helper()
	resp := hs.postForm(hs.form(email, lang))
	if resp.StatusCode != 303 {
		hs.t.Fatalf("file: status %d, want 303\n%s", resp.StatusCode, resp.Body)
	}
	hs.runAfter()
	mails := hs.env.Mails(hs.t, email)
	if len(mails) == 0 {
		hs.t.Fatalf("file: no verification mail to %s", email)
	}
	return tokenFrom(hs.t, mails[len(mails)-1].Text)
}

var linkRE = regexp.MustCompile(regexp.QuoteMeta(baseURL) + `/verify\?token=([^\s"<>&]+)`)

// tokenFrom finds the confirmation link in a mail and returns its token.
func tokenFrom(t testing.TB, text string) string {
	t.Helper()
	m := linkRE.FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("no confirmation link in:\n%s", text)
	}
	tok, err := url.QueryUnescape(m[1])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func refOf(tok string) string { return strings.SplitN(tok, ".", 2)[0] }

func (hs *harness) verifyGet(tok string) web.Response {
	hs.t.Helper()
	return hs.do(withQuery(event(hs.t, "intake-verify-get"), "token="+url.QueryEscape(tok)))
}

func (hs *harness) verifyPost(tok string, lang i18n.Lang) web.Response {
	hs.t.Helper()
	return hs.do(withForm(event(hs.t, "intake-verify-post"), url.Values{"token": {tok}, "lang": {string(lang)}}))
}

func (hs *harness) request(ref string) *dsr.Request {
	hs.t.Helper()
	r, err := hs.st.GetRequest(context.Background(), ref)
	if err != nil {
		hs.t.Fatalf("get %s: %v", ref, err)
	}
	return r
}

// item reads a request's raw item, to prove a read-only route changed nothing at all.
func (hs *harness) item(ref string) map[string]ddbtypes.AttributeValue {
	hs.t.Helper()
	return rawitem.Request(hs.t, hs.db, hs.cfg.Table, ref)
}

// sameItem compares two raw items by value.
func sameItem(a, b map[string]ddbtypes.AttributeValue) bool {
	var x, y map[string]any
	if attributevalue.UnmarshalMap(a, &x) != nil || attributevalue.UnmarshalMap(b, &y) != nil {
		return false
	}
	return len(x) > 0 && reflect.DeepEqual(x, y)
}

// requests counts the request items in the table.
func (hs *harness) requests() int {
	hs.t.Helper()
	return len(scanRequests(hs.t, hs))
}

// scanRequests lists the references of the request items in the table (not the items kept
// beside them: mail texts, search entries).
func scanRequests(t testing.TB, hs *harness) []string {
	t.Helper()
	out, err := hs.db.Scan(context.Background(), &dynamodb.ScanInput{
		TableName:        aws.String(hs.cfg.Table),
		FilterExpression: aws.String("begins_with(pk, :p) AND sk = :req"),
		ExpressionAttributeValues: map[string]ddbtypes.AttributeValue{
			":p": &ddbtypes.AttributeValueMemberS{Value: "REQ#"}, ":req": &ddbtypes.AttributeValueMemberS{Value: "REQ"},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var refs []string
	for _, it := range out.Items {
		if s, ok := it["ref"].(*ddbtypes.AttributeValueMemberS); ok {
			refs = append(refs, s.Value)
		}
	}
	return refs
}

// missingKey is how i18n.T shows a key it does not know.
var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[A-Za-z0-9_]+)+\]`)

func checkNoMissingKeys(t testing.TB, what, s string) {
	t.Helper()
	if m := missingKey.FindString(s); m != "" {
		t.Errorf("%s shows the missing key %s", what, m)
	}
}

func mustContain(t testing.TB, what, s string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(s, w) {
			t.Errorf("%s does not contain %q:\n%s", what, w, s)
		}
	}
}

func mustNotContain(t testing.TB, what, s string, bad ...string) {
	t.Helper()
	for _, b := range bad {
		if strings.Contains(s, b) {
			t.Errorf("%s contains %q:\n%s", what, b, s)
		}
	}
}

func header(resp web.Response, k string) string { return resp.Headers[k] }

func jsonBody(t testing.TB, resp web.Response) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(resp.Body), &m); err != nil {
		t.Fatalf("response is not JSON (%v): %s", err, resp.Body)
	}
	return m
}

func fmtStatus(resp web.Response) string {
	return fmt.Sprintf("status %d", resp.StatusCode)
}
