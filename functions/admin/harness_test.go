package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/bucket"
	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/fakeclock"
	"github.com/dsrdesk/dsrdesk/shared/testkit/keyscope"
	"github.com/dsrdesk/dsrdesk/shared/testkit/later"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
	"github.com/dsrdesk/dsrdesk/shared/testkit/sigcheck"
	"github.com/dsrdesk/dsrdesk/shared/token"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

func TestMain(m *testing.M) { os.Exit(emulator.Run(m)) }

const baseURL = "https://dsr.example.dk"

// Tuesday 10 March 2026, 10:15 in Copenhagen.
var now0 = time.Date(2026, 3, 10, 9, 15, 0, 0, time.UTC)

// received0 is Monday 2 March 2026, 10:00 in Copenhagen: due Tuesday 7 April 2026 (Easter),
// extended to Tuesday 2 June 2026.
var received0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// clock is a settable time source shared by the handler, its store and the test.
// tenv is one test's world: its own table, its own DPO addresses, a handler over the emulators.
type tenv struct {
	t     testing.TB
	h     *handler
	st    *store.Store
	db    *dynamodb.Client
	table string
	clock *fakeclock.Clock
	env   *emulator.Env
	cfg   config.Admin
	// after is the handler's queue of work after the response: later.Now unless a test holds
	// it (later.Held).
	after afterResponse
	// held is the queue a test holds the work after the response in, if it does.
	held *later.Held
	// own is the browser requestLink and confirm use (signin_test.go).
	own *browser
}

// uniq returns a short random tag; tests share the SES emulator, so every address is unique.
func uniq() string {
	var b [5]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

var calendarDK = func() *deadline.Calendar {
	cal, err := deadline.ForCountry("DK")
	if err != nil {
		panic(err)
	}
	return cal
}()

func setup(t testing.TB, opts ...func(*config.Admin)) *tenv {
	t.Helper()
	env := emulator.Get(t)
	db := env.DynamoDB()
	table := env.NewTable(t, store.TableDefinition("admin"))
	tag := uniq()
	cfg := config.Admin{
		Common: config.Common{
			Table:          table,
			ControllerName: "Fjordlys ApS",
			Calendar:       calendarDK,
			DefaultLang:    i18n.DA,
			BaseURL:        baseURL,
			Sender:         "noreply@dsr.example.dk",
			DPOAddresses:   []string{"dpo." + tag + "@fjordlys.dk", "Jura." + tag + "@Fjordlys.dk"},

			ControllerAddress: "Strandvejen 12, 2900 Hellerup",
			PrivacyPolicyURL:  "https://fjordlys.example.dk/privatliv",
			PromptWorkingDays: 2,
		},
		Retention:  365 * 24 * time.Hour,
		SessionTTL: 8 * time.Hour,
		// The bucket's name, at no endpoint, unless a test asks for one at the S3 emulator
		// (withDeliveries): pages only name it; an upload form is signed without a call.
		Deliveries:       config.Deliveries{Bucket: "deliveries", Retention: config.DefaultDeliveryRetention},
		MaxFile:          200 << 20,
		MaxTotal:         1000 << 20,
		DeliveryReminder: 7 * 24 * time.Hour,
		Thresholds:       []int{5, 2},
	}
	s3 := deadEndpoint
	for _, o := range opts {
		o(&cfg)
	}
	if cfg.Deliveries.Bucket != "deliveries" {
		s3 = env.S3URL(t)
	}
	s3cfg := env.AWSConfig()
	s3cfg.BaseEndpoint = aws.String(s3)
	// Signed on the wall clock, as in production: the emulator checks a form's expiry
	// against its own.
	files, err := bucket.New(s3cfg, cfg.Deliveries.Bucket)
	if err != nil {
		t.Fatal(err)
	}
	c := &fakeclock.Clock{}
	c.Set(now0)
	log := slog.New(slog.NewJSONHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	after := later.Now{}
	// Every call the workspace makes goes through keyscope: only what its role allows.
	hopts := []handlerOption{withFiles(files)}
	if cfg.InboundBucket != "" {
		// The raw mails' bucket at the emulator, behind a proxy that checks a presigned
		// link's signature as S3 does (s3rver does not).
		raw := env.AWSConfig()
		raw.BaseEndpoint = aws.String(sigcheck.Start(t, env.S3URL(t), raw))
		mails, err := bucket.New(raw, cfg.InboundBucket)
		if err != nil {
			t.Fatal(err)
		}
		hopts = append(hopts, withRawMails(mails))
	}
	h, err := newHandler(cfg, keyscope.Wrap(t, "AdminFunction", db), env.SES(), after, c.Now, log, hopts...)
	if err != nil {
		t.Fatal(err)
	}
	h.signinFloor = 0
	st := store.New(db, table, store.WithClock(c.Now), store.WithRetention(cfg.Retention))
	return &tenv{t: t, h: h, st: st, db: db, table: table, clock: c, env: env, cfg: cfg, after: after}
}

// deadEndpoint is a loopback port nothing listens on.
const deadEndpoint = "http://127.0.0.1:1"

// withInbound gives the workspace an inbound bucket of its own at the S3 emulator.
func withInbound(t testing.TB) func(*config.Admin) {
	return func(cfg *config.Admin) { cfg.InboundBucket = emulator.Get(t).NewBucket(t) }
}

// withDeliveries gives the workspace a deliveries bucket of its own at the S3 emulator.
func withDeliveries(t testing.TB) func(*config.Admin) {
	return func(cfg *config.Admin) { cfg.Deliveries.Bucket = emulator.Get(t).NewBucket(t) }
}

// fixture loads an event from events/, the same file `sam local invoke -e` takes.
func fixture(t testing.TB, name string) web.Request {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "events", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var req web.Request
	if err := json.Unmarshal(b, &req); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return req
}

// at points a fixture at another path and query.
func at(req web.Request, method, target string) web.Request {
	p, q, _ := strings.Cut(target, "?")
	req.RawPath, req.RawQueryString = p, q
	req.RequestContext.HTTP.Method, req.RequestContext.HTTP.Path = method, p
	req.QueryStringParameters = nil
	if v, err := url.ParseQuery(q); err == nil && len(v) > 0 {
		req.QueryStringParameters = map[string]string{}
		for k := range v {
			req.QueryStringParameters[k] = v.Get(k)
		}
	}
	return req
}

// withForm replaces a fixture's body, encoded as API Gateway encodes form posts.
func withForm(req web.Request, form url.Values) web.Request {
	req.Body = base64.StdEncoding.EncodeToString([]byte(form.Encode()))
	req.IsBase64Encoded = true
	return req
}

func formOf(t testing.TB, req web.Request) url.Values {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(req.Body)
	if err != nil {
		t.Fatal(err)
	}
	v, err := url.ParseQuery(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func (e *tenv) do(req web.Request) web.Response {
	e.t.Helper()
	resp, err := e.h.Handle(context.Background(), req)
	if err != nil {
		e.t.Fatalf("Handle returned an error: %v", err)
	}
	return resp
}

// get builds a page request from the worklist fixture, with the given cookies.
func (e *tenv) get(target string, cookies ...string) web.Request {
	req := at(fixture(e.t, "admin-worklist-get"), "GET", target)
	req.Cookies = cookies
	return req
}

// post builds a form post from the action fixture, with the given cookies.
func (e *tenv) post(target string, form url.Values, cookies ...string) web.Request {
	req := withForm(at(fixture(e.t, "admin-action-post"), "POST", target), form)
	req.Cookies = cookies
	return req
}

// dpo is a signed-in browser.
type dpo struct {
	e                *tenv
	email, sid, csrf string
}

// session signs email in directly in the store (the sign-in flow has its own tests).
func (e *tenv) session(email string) *dpo {
	e.t.Helper()
	d := &dpo{e: e, email: email, sid: token.New(), csrf: token.New()}
	now := e.clock.Now()
	if err := e.st.CreateSession(context.Background(), d.sid, store.Session{Email: email, CSRF: d.csrf, Created: now, Expires: now.Add(e.cfg.SessionTTL)}); err != nil {
		e.t.Fatal(err)
	}
	return d
}

func (d *dpo) cookie() string { return sessionCookieName + "=" + d.sid }

func (d *dpo) get(target string) web.Response {
	d.e.t.Helper()
	return d.e.do(d.e.get(target, d.cookie()))
}

// post sends a form with this session's CSRF token and the request's current version.
func (d *dpo) post(target string, form url.Values) web.Response {
	d.e.t.Helper()
	form = clone(form)
	if _, ok := form["csrf"]; !ok {
		form.Set("csrf", d.csrf)
	}
	return d.e.do(d.e.post(target, form, d.cookie()))
}

// act posts an action on ref from a freshly loaded page (so with the current version).
func (d *dpo) act(ref, action string, form url.Values) web.Response {
	d.e.t.Helper()
	r := d.e.request(ref)
	form = clone(form)
	if _, ok := form["version"]; !ok {
		form.Set("version", strconv.Itoa(r.Version))
	}
	return d.post(requestPath(ref)+"/"+action, form)
}

func clone(v url.Values) url.Values {
	out := url.Values{}
	for k, vs := range v {
		out[k] = append([]string(nil), vs...)
	}
	return out
}

// submission is a request as a requester would file it.
func submission(lang, email string) dsr.Submission {
	return dsr.Submission{Type: "access", Name: "Karen Blixen", Email: email, Details: "Alt om mig,\ntak.", CustomerRef: "C-1042", Lang: lang}
}

// seed stores a request received at `received` and walks it through steps, with every mail
// marked sent as the outbox would.
func (e *tenv) seed(ref string, s dsr.Submission, received time.Time, steps ...func(*dsr.Request, time.Time) (dsr.Change, error)) *dsr.Request {
	e.t.Helper()
	ctx := context.Background()
	due := dsr.Type(s.Type).Due(e.cfg.Calendar, received, e.cfg.PromptWorkingDays)
	// The history happens at its own time: the store checks expiry against its clock.
	saved := e.clock.Now()
	defer e.clock.Set(saved)
	e.clock.Set(received)
	r := dsr.New(ref, s, received, due, "hash")
	if err := e.st.CreateRequest(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	at := received
	for _, step := range steps {
		at = at.Add(time.Hour)
		e.clock.Set(at)
		ch, err := step(r, at)
		if err != nil {
			e.t.Fatalf("seed %s: %v", ref, err)
		}
		if err := e.st.Commit(ctx, r, ch); err != nil {
			e.t.Fatalf("seed %s: %v", ref, err)
		}
	}
	sent := map[dsr.MailKind]dsr.MailState{}
	for k, m := range r.Mails {
		if m.State == dsr.MailQueued {
			sent[k] = dsr.MailState{State: dsr.MailSent, At: m.At, Attempts: 1}
		}
	}
	if len(sent) > 0 {
		if err := e.st.RecordMails(ctx, r, sent); err != nil {
			e.t.Fatal(err)
		}
	}
	// The outbox writes the search entries after a mail; a seeded request gets them too.
	if err := e.st.SyncSiblings(ctx, r); err != nil {
		e.t.Fatal(err)
	}
	e.clock.Set(saved)
	return e.request(ref)
}

func verify(r *dsr.Request, at time.Time) (dsr.Change, error) { return r.Verify(r.TokenHash, at) }
func start(r *dsr.Request, at time.Time) (dsr.Change, error)  { return r.Start("seed@fjordlys.dk", at) }
func complete(r *dsr.Request, at time.Time) (dsr.Change, error) {
	return r.Complete("seed@fjordlys.dk", "Done.", at)
}
func reject(r *dsr.Request, at time.Time) (dsr.Change, error) {
	return r.Reject("seed@fjordlys.dk", "identity_not_confirmed", "None.", at)
}
func expire(r *dsr.Request, at time.Time) (dsr.Change, error) { return r.Expire(at) }

// closeAt returns a step that completes the request at a fixed time.
func closeAt(t time.Time) func(*dsr.Request, time.Time) (dsr.Change, error) {
	return func(r *dsr.Request, _ time.Time) (dsr.Change, error) {
		return r.Complete("seed@fjordlys.dk", "Done.", t)
	}
}

func itoa64(n int64) string { return strconv.FormatInt(n, 10) }

func (e *tenv) request(ref string) *dsr.Request {
	e.t.Helper()
	r, err := e.st.GetRequest(context.Background(), ref)
	if err != nil {
		e.t.Fatalf("get %s: %v", ref, err)
	}
	return r
}

// raw reads the stored item as DynamoDB holds it, for the index and TTL attributes.
func (e *tenv) raw(ref string) map[string]ddbtypes.AttributeValue {
	e.t.Helper()
	it := rawitem.Request(e.t, e.db, e.table, ref)
	if it == nil {
		e.t.Fatalf("no item %s", ref)
	}
	return it
}

var missingKey = regexp.MustCompile(`\[[a-z_]+(\.[a-zA-Z0-9_]+)+\]`)

// page checks a response is an HTML page with the given status and every message translated.
func page(t testing.TB, resp web.Response, status int) string {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("status %d, want %d; body:\n%s", resp.StatusCode, status, resp.Body)
	}
	if ct := resp.Headers["Content-Type"]; ct != "text/html; charset=utf-8" {
		t.Fatalf("content type %q", ct)
	}
	if resp.Headers["Content-Security-Policy"] == "" || resp.Headers["Cache-Control"] != "no-store" {
		t.Fatalf("security headers missing: %v", resp.Headers)
	}
	if m := missingKey.FindString(resp.Body); m != "" {
		t.Fatalf("untranslated key %s on the page", m)
	}
	return resp.Body
}

func redirect(t testing.TB, resp web.Response) string {
	t.Helper()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("status %d, want 303; body:\n%s", resp.StatusCode, resp.Body)
	}
	return resp.Headers["Location"]
}

// cookieValue finds a cookie set by a response.
func cookieValue(resp web.Response, name string) (string, string, bool) {
	for _, c := range resp.Cookies {
		if v, ok := strings.CutPrefix(c, name+"="); ok {
			value, _, _ := strings.Cut(v, ";")
			return value, c, true
		}
	}
	return "", "", false
}
