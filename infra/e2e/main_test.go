package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/runner"
	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// The deployment the tests run: infra/env.json with these on top. Country and language are
// set rather than left to the template's defaults because the tests' expectations (the
// calendar, the DPO's language) depend on them.
const (
	controller = "Eksempel ApS"
	country    = "DK"
	// dpoLang is DEFAULT_LANG: the language of the DPO's mails and workspace.
	dpoLang = i18n.DA
	// dpoNotified is the first DPO address: it gets the notifications and the digest, and is
	// what env.json and the README name.
	dpoNotified = "dpo@example.dk"
	// The other DPO addresses may sign in; each test that signs in uses its own, so its
	// sign-in mail is the only one there. The workspace sends one address five links an
	// hour, which bounds -count to 5 (the runner, and so its table, lives as long as the
	// test binary).
	dpoHTTP         = "dpo.http@example.dk"
	dpoBrowser      = "dpo.browser@example.dk"
	dpoLaw          = "dpo.law@example.dk"
	dpoConversation = "dpo.conversation@example.dk"
	dpoChannels     = "dpo.channels@example.dk"
	dpoDelivery     = "dpo.delivery@example.dk"
	// inbox is InboundAddress: the privacy address the desk receives mail at.
	inbox = "privacy@example.dk"
)

// overrides are the variables the tests change. Every request comes from 127.0.0.1, so the
// per-IP limit must not stop the suite; the form's minimum fill time would otherwise make a
// test wait or, worse, silently drop a post as a bot's.
func overrides(baseURL string) map[string]string {
	return map[string]string{
		"BASE_URL":             baseURL,
		"CONTROLLER_NAME":      controller,
		"COUNTRY":              country,
		"DEFAULT_LANG":         string(dpoLang),
		"DPO_ADDRESSES":        strings.Join([]string{dpoNotified, dpoHTTP, dpoBrowser, dpoLaw, dpoConversation, dpoChannels, dpoDelivery}, ","),
		"MIN_FILL_SECONDS":     "0",
		"RATE_LIMIT_PER_IP":    "100000",
		"RATE_LIMIT_PER_EMAIL": "1000",
	}
}

// root is the repository root, where template.yaml is.
var root = func() string {
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		panic(err)
	}
	return abs
}()

// stack is the running desk the tests share.
type stack struct {
	*runner.Runner
	// base is BASE_URL: the runner's URL, known before it started.
	base string
	// aws reads the emulators the runner started: mails, and the table through the store.
	aws   *emulator.Env
	store *store.Store
	cal   *deadline.Calendar
	out   *logTail
}

var (
	sharedOnce  sync.Once
	sharedStack *stack
	sharedErr   error
)

func TestMain(m *testing.M) {
	// emulator.Run stops the emulators a test started for itself (the cost test's).
	code := emulator.Run(m)
	if sharedStack != nil {
		sharedStack.Stop()
	}
	os.Exit(code)
}

// desk returns the runner the tests share, starting it on first use. Starting one costs the
// functions' builds and two Node.js processes, so every test that only uses the desk as a
// person would shares one; each keeps to its own addresses and requests.
func desk(t *testing.T) *stack {
	t.Helper()
	sharedOnce.Do(func() {
		sharedStack, sharedErr = start()
	})
	if sharedErr != nil {
		t.Fatalf("start the local runner: %v", sharedErr)
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("last lines of the runner's output:\n%s", sharedStack.out.String())
		}
	})
	return sharedStack
}

func start() (*stack, error) {
	// BASE_URL goes into every function's environment before the HTTP API listens, so the
	// port is chosen here rather than by the runner.
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	base := "http://" + addr
	dir, err := os.MkdirTemp("", "dsrdesk-e2e-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir) // read once, at start
	envFile, err := writeEnvFile(dir, overrides(base), nil)
	if err != nil {
		return nil, err
	}
	out := newLogTail(200)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute) // a fresh clone builds everything
	defer cancel()
	r, err := runner.Start(ctx, runner.Options{
		Template:    filepath.Join(root, "template.yaml"),
		EnvFile:     envFile,
		Addr:        addr,
		Workers:     1,
		NoSchedules: true, // the sweep runs when a test fires it, never on its own
		// The desk receives mail, as make dev runs it: POST /_local/inbound plays SES.
		Parameters: map[string]string{"InboundAddress": inbox},
		Output:     out,
		Logger:     slog.New(slog.NewTextHandler(out, nil)),
	})
	if err != nil {
		return nil, err
	}
	if r.URL != base {
		r.Stop()
		return nil, fmt.Errorf("runner listens on %s, BASE_URL is %s", r.URL, base)
	}
	// The intake and the workspace send their mails after the answer through an internal
	// extension (shared/postresponse); without the runner's Extensions API they would fall
	// back to sending first, and these tests would not run the desk as Lambda does.
	if strings.Contains(out.String(), "no Extensions API") {
		r.Stop()
		return nil, fmt.Errorf("a function found no Extensions API in the runner:\n%s", out.String())
	}
	if len(r.Tables) != 1 {
		r.Stop()
		return nil, fmt.Errorf("tables %v, want the template's one", r.Tables)
	}
	cal, err := deadline.ForCountry(country)
	if err != nil {
		r.Stop()
		return nil, err
	}
	aws := emulator.Around(r.Endpoints)
	return &stack{
		Runner: r,
		base:   base,
		aws:    aws,
		store:  store.New(aws.DynamoDB(), r.Tables[0]),
		cal:    cal,
		out:    out,
	}, nil
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// writeEnvFile writes infra/env.json with vars added to its "Parameters" (every function)
// and perFunction to the functions' own sections, as sam local --env-vars reads it, and
// returns its path.
func writeEnvFile(dir string, vars map[string]string, perFunction map[string]map[string]string) (string, error) {
	data, err := os.ReadFile(filepath.Join(root, "infra", "env.json"))
	if err != nil {
		return "", err
	}
	var doc map[string]map[string]string
	if err := json.Unmarshal(data, &doc); err != nil {
		return "", fmt.Errorf("infra/env.json: %w", err)
	}
	if doc["Parameters"] == nil {
		doc["Parameters"] = map[string]string{}
	}
	for k, v := range vars {
		doc["Parameters"][k] = v
	}
	for fn, fvars := range perFunction {
		if doc[fn] == nil {
			doc[fn] = map[string]string{}
		}
		for k, v := range fvars {
			doc[fn][k] = v
		}
	}
	out, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "env.json")
	return path, os.WriteFile(path, out, 0o600)
}

// logTail keeps the last lines the runner and its processes wrote, to show when a test
// fails: a 500 or a missing mail is explained there, in the functions' own logs.
type logTail struct {
	mu    sync.Mutex
	max   int
	lines []string
	part  string
}

func newLogTail(max int) *logTail { return &logTail{max: max} }

func (l *logTail) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.part + string(p)
	parts := strings.Split(s, "\n")
	l.part = parts[len(parts)-1]
	l.lines = append(l.lines, parts[:len(parts)-1]...)
	if over := len(l.lines) - l.max; over > 0 {
		l.lines = append(l.lines[:0], l.lines[over:]...)
	}
	return len(p), nil
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}
