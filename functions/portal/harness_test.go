package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awscount"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/fakeclock"
	"github.com/dsrdesk/dsrdesk/shared/testkit/keyscope"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/testkit/logsink"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

// t0 is Monday 2 March 2026, 10:00 in Copenhagen: received then, a request is due Tuesday
// 7 April 2026 (Easter). now0 is a week later, when the tests look at it.
var (
	t0   = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	now0 = t0.Add(7 * 24 * time.Hour)
)

const (
	baseURL    = "https://dsr.example.dk"
	controller = "Fjordlys ApS"
)

// harness is one handler over its own table, wired exactly as main wires it.
type harness struct {
	t     testing.TB
	env   *emulator.Env
	cfg   config.Portal
	clock *fakeclock.Clock
	h     *Handler
	st    *store.Store
	dpo   string
	logs  *logsink.Buffer
	// held keeps the work after the response until the test runs it; nil when it runs at
	// once (later.Now).
	held *later.Held
}

type harnessOpt func(vars map[string]string, c *harnessClients)

type harnessClients struct {
	db    store.DynamoDB
	ses   notice.SES
	after afterResponse
	held  *later.Held
	// s3 is the S3 endpoint the download URLs point at: none unless a test asks (withS3).
	s3 string
}

// withS3 gives the harness a bucket of its own at the S3 emulator: the files' downloads are
// signed for it and can be fetched.
func withS3(t testing.TB, env *emulator.Env) harnessOpt {
	return func(vars map[string]string, c *harnessClients) {
		c.s3 = env.S3URL(t)
		vars["DELIVERY_BUCKET"] = env.NewBucket(t)
	}
}

func withEnv(k, v string) harnessOpt {
	return func(vars map[string]string, _ *harnessClients) { vars[k] = v }
}

// withHeld keeps the work after each answer until the test runs it, as Lambda does it after
// the answer.
func withHeld() harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.held = &later.Held{}
		c.after = c.held
	}
}

// withRecorder records every AWS call in rec, each delayed by rec.Latency.
func withRecorder(env *emulator.Env, rec *awscount.Recorder) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.db = dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(env.DynamoDBEndpoint)
		}, rec.DynamoDB)
		c.ses = ses.NewFromConfig(env.AWSConfig(), func(o *ses.Options) {
			o.BaseEndpoint = aws.String(env.SESEndpoint)
		}, rec.SES)
	}
}

// deadEndpoint is a loopback port nothing listens on.
const deadEndpoint = "http://127.0.0.1:1"

func withDynamoDBDown(env *emulator.Env) harnessOpt {
	return func(_ map[string]string, c *harnessClients) {
		c.db = dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
			o.BaseEndpoint = aws.String(deadEndpoint)
			o.RetryMaxAttempts = 1
		})
	}
}

func newHarness(t testing.TB, opts ...harnessOpt) *harness {
	t.Helper()
	env := emulator.Get(t)
	dpo := address("dpo")
	vars := map[string]string{
		"CONTROLLER_NAME":    controller,
		"COUNTRY":            "DK",
		"DEFAULT_LANG":       "da",
		"BASE_URL":           baseURL,
		"SENDER_ADDRESS":     "privacy@fjordlys.example",
		"DPO_ADDRESSES":      dpo,
		"CONTROLLER_ADDRESS": "Fjordvej 1, 8000 Aarhus C",
		"PRIVACY_POLICY_URL": "https://fjordlys.example/privatliv",
		"DELIVERY_BUCKET":    "deliveries",
	}
	clients := &harnessClients{db: env.DynamoDB(), ses: env.SES(), after: later.Now{}, s3: deadEndpoint}
	for _, o := range opts {
		o(vars, clients)
	}
	if vars["TABLE_NAME"] == "" {
		vars["TABLE_NAME"] = env.NewTable(t, store.TableDefinition("portal"))
	}
	cfg, err := config.LoadPortal(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	clk := fakeclock.At(now0)
	logs := &logsink.Buffer{}
	// Every call the portal makes goes through keyscope: only what its role allows.
	s3cfg := env.AWSConfig()
	s3cfg.BaseEndpoint = aws.String(clients.s3)
	// Signed on the wall clock, as in production: the emulator checks a URL's expiry against
	// its own.
	files, err := bucket.New(s3cfg, cfg.Deliveries.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	h, err := build(cfg, keyscope.Wrap(t, "PortalFunction", clients.db), clients.ses, files, clients.after, clk.Now, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	h.pace.floor = 0
	hs := &harness{
		t: t, env: env, cfg: cfg, clock: clk, h: h, dpo: dpo, logs: logs, held: clients.held,
		st: store.New(env.DynamoDB(), cfg.Table, store.WithClock(clk.Now), store.WithRetention(cfg.Retention)),
	}
	t.Cleanup(hs.checkLogs)
	return hs
}

// personal matches what must never reach a log line: addresses, tokens, the texts the tests
// write.
var personal = regexp.MustCompile(`@|token=|Mette|Ola|Jane|[Ss]ecret|customer number|kundenummer|[A-Z2-9]{4}-[A-Z2-9]{4}\.[A-Za-z0-9_-]{43}`)

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

// names of the people the tests file requests for, by language.
var names = map[i18n.Lang]string{i18n.DA: "Mette Sørensen", i18n.NB: "Ola Nordmann", i18n.EN: "Jane Doe"}

// seed stores a request from email in lang, received at t0 and confirmed an hour later.
func (hs *harness) seed(lang i18n.Lang, email string) *dsr.Request {
	hs.t.Helper()
	return hs.seedOf(dsr.Access, lang, email)
}

// seedOf is seed for a request of type ty, due as the intake would fix it.
func (hs *harness) seedOf(ty dsr.Type, lang i18n.Lang, email string) *dsr.Request {
	hs.t.Helper()
	ctx := context.Background()
	sub := dsr.Submission{Type: string(ty), Name: names[lang], Email: email, Details: "All my orders.", Lang: string(lang)}
	r := dsr.New(dsr.NewReference(), sub, t0, ty.Due(hs.cfg.Calendar, t0, hs.cfg.PromptWorkingDays), "h")
	if err := hs.st.CreateRequest(ctx, r); err != nil {
		hs.t.Fatal(err)
	}
	ch, err := r.Verify("h", t0.Add(time.Hour))
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.commit(r, ch)
	// The outbox does this after the receipt: the request's search entries, by which the
	// lost-link form finds it.
	if err := hs.st.SyncSiblings(ctx, r); err != nil {
		hs.t.Fatal(err)
	}
	return r
}

func (hs *harness) commit(r *dsr.Request, ch dsr.Change) {
	hs.t.Helper()
	if err := hs.st.Commit(context.Background(), r, ch); err != nil {
		hs.t.Fatal(err)
	}
}

// link issues a status page link for r, as the outbox does for every mail, and returns its
// token.
func (hs *harness) link(r *dsr.Request) string {
	hs.t.Helper()
	tok, hash := token.ForRequest(r.Ref)
	if _, err := hs.st.AddPageLink(context.Background(), r.Ref, dsr.HashEmail(r.Email), dsr.PageLinkKey(hash, r.Email)); err != nil {
		hs.t.Fatal(err)
	}
	return tok
}

// ask has the DPO ask r's requester something, as the workspace does: the message beside
// the request, the change that records it.
func (hs *harness) ask(r *dsr.Request, purpose, text, pause string) dsr.Message {
	hs.t.Helper()
	ch, err := r.Ask(hs.dpo, purpose, text, pause, hs.clock.Now())
	if err != nil {
		hs.t.Fatal(err)
	}
	hs.commit(r, ch) // with the message beside the request
	return *ch.Message
}

func (hs *harness) request(ref string) (*dsr.Request, []dsr.Message) {
	hs.t.Helper()
	r, msgs, err := hs.st.Conversation(context.Background(), ref)
	if err != nil {
		hs.t.Fatal(err)
	}
	return r, msgs
}

// browser is what a browser sends: the cookies the answers set, the Sec-Fetch-Site and
// Origin of a same-origin page.
type browser struct {
	hs      *harness
	cookies map[string]string
	lang    string
	ip      string
}

func (hs *harness) browser() *browser {
	return &browser{hs: hs, cookies: map[string]string{}, ip: "198.51.100.7"}
}

func (b *browser) request(method, target string, body url.Values, site string) web.Request {
	u, err := url.Parse(target)
	if err != nil {
		b.hs.t.Fatal(err)
	}
	req := web.Request{
		Version: "2.0", RouteKey: "ANY /status/{proxy+}", RawPath: u.Path, RawQueryString: u.RawQuery,
		Headers: map[string]string{"accept": "text/html", "sec-fetch-site": site},
	}
	if b.lang != "" {
		req.Headers["accept-language"] = b.lang
	}
	if site == "same-origin" && method == http.MethodPost {
		req.Headers["origin"] = baseURL
	}
	for k, v := range b.cookies {
		req.Cookies = append(req.Cookies, k+"="+v)
	}
	req.RequestContext.HTTP.Method = method
	req.RequestContext.HTTP.Path = u.Path
	req.RequestContext.HTTP.SourceIP = b.ip
	req.RequestContext.Stage = "$default"
	if body != nil {
		req.Headers["content-type"] = web.MediaForm
		req.Body = base64.StdEncoding.EncodeToString([]byte(body.Encode()))
		req.IsBase64Encoded = true
	}
	return req
}

// send makes a request and keeps the cookies the answer sets.
func (b *browser) send(req web.Request) web.Response {
	b.hs.t.Helper()
	resp := b.hs.do(req)
	for _, c := range resp.Cookies {
		kv, _, _ := strings.Cut(c, ";")
		k, v, _ := strings.Cut(kv, "=")
		if strings.Contains(c, "Max-Age=0") {
			delete(b.cookies, k)
		} else {
			b.cookies[k] = v
		}
	}
	return resp
}

// open follows a mail's link: a cross-site navigation from webmail.
func (b *browser) open(tok string) web.Response {
	return b.send(b.request(http.MethodGet, "/status?token="+url.QueryEscape(tok), nil, "cross-site"))
}

func (b *browser) get(path string) web.Response {
	return b.send(b.request(http.MethodGet, path, nil, "same-origin"))
}

func (b *browser) post(path string, form url.Values) web.Response {
	return b.send(b.request(http.MethodPost, path, form, "same-origin"))
}

// reply posts text from the page resp showed, with the form's hidden fields.
func (b *browser) reply(page web.Response, text string) web.Response {
	b.hs.t.Helper()
	return b.post("/status/reply", url.Values{"form": {hidden(b.hs.t, page.Body, "form")}, "text": {text}})
}

// hidden reads a hidden field's value from a page.
func hidden(t testing.TB, body, name string) string {
	t.Helper()
	m := regexp.MustCompile(`name="` + name + `" value="([^"]*)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no hidden %s in the page", name)
	}
	return htmlUnescape(m[1])
}

func htmlUnescape(s string) string {
	return strings.NewReplacer("&amp;", "&", "&#43;", "+", "&#34;", `"`, "&#39;", "'", "&lt;", "<", "&gt;", ">").Replace(s)
}

// htmlEscape is what html/template makes of a text in a page.
func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "'", "&#39;", `"`, "&#34;", "<", "&lt;", ">", "&gt;", "+", "&#43;").Replace(s)
}

// mustContain fails the test for each text that body does not hold, escaped as a page holds it.
func mustContain(t testing.TB, what, body string, texts ...string) {
	t.Helper()
	for _, s := range texts {
		if !strings.Contains(body, htmlEscape(s)) {
			t.Errorf("%s lacks %q", what, s)
		}
	}
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

// missingKey is how i18n.T shows a key that is not in the catalog.
var missingKey = regexp.MustCompile(`\[[a-z_]+\.[a-z_.]+\]`)
