package runner

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/dsrdesk/dsrdesk/infra/emulators"
	"github.com/dsrdesk/dsrdesk/infra/proc"
	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// These tests start the real thing: the emulators from infra/node_modules and the
// echo function under testdata, built and run through the Runtime API.

var (
	sharedOnce   sync.Once
	sharedRunner *Runner
	sharedErr    error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if sharedRunner != nil {
		sharedRunner.Stop()
	}
	os.Exit(code)
}

func nodeModules(t *testing.T) string {
	t.Helper()
	if nm := os.Getenv("DSR_NODE_MODULES"); nm != "" {
		return nm
	}
	infra, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	nm := filepath.Join(infra, "node_modules")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if err := emulators.Install(ctx, infra, nil); err != nil {
		t.Fatal(err)
	}
	return nm
}

// testOptions runs the echo fixture on free ports with output in the test log.
func testOptions(t *testing.T) Options {
	w := &testWriter{t: t}
	return Options{
		Template:    "../testdata/template.yaml",
		NodeModules: nodeModules(t),
		Workers:     2,
		NoSchedules: true,
		Output:      w,
		Logger:      slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
}

// testWriter sends output to the log of the test that is running, or drops it once
// that test has ended (the shared runner outlives the first test).
type testWriter struct {
	mu sync.Mutex
	t  *testing.T
}

func (w *testWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.t != nil && !w.t.Failed() {
		func() {
			defer func() { _ = recover() }() // Log after the test ended panics.
			w.t.Log(strings.TrimRight(string(p), "\n"))
		}()
	}
	return len(p), nil
}

// shared is a runner the read-only tests share, with an env file and a parameter
// override, started once.
func shared(t *testing.T) *Runner {
	t.Helper()
	sharedOnce.Do(func() {
		opts := testOptions(t)
		opts.Output, opts.Logger = io.Discard, slog.New(slog.DiscardHandler)
		envFile := filepath.Join(os.TempDir(), fmt.Sprintf("dsrdesk-runner-env-%d.json", os.Getpid()))
		_ = os.WriteFile(envFile, []byte(`{"Parameters": {"GREETING": "hej", "NOT_DECLARED": "x"}}`), 0o600)
		defer os.Remove(envFile)
		opts.EnvFile = envFile
		opts.Parameters = map[string]string{"Greeting": "overridden by the env file"}
		opts.OwnBaseURL = true
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		sharedRunner, sharedErr = Start(ctx, opts)
	})
	if sharedErr != nil {
		t.Fatal(sharedErr)
	}
	return sharedRunner
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func do(t *testing.T, method, u string, body string, header map[string]string) reply {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	client := &http.Client{Timeout: 30 * time.Second}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return reply{res.StatusCode, res.Header, b}
}

type echoed struct {
	Event events.APIGatewayV2HTTPRequest
	Env   map[string]string
	PID   int
}

func echo(t *testing.T, r reply) echoed {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("status %d: %s", r.status, r.body)
	}
	var e echoed
	if err := json.Unmarshal(r.body, &e); err != nil {
		t.Fatalf("%v: %s", err, r.body)
	}
	return e
}

func TestEventShape(t *testing.T) {
	r := shared(t)
	for _, tc := range []struct {
		name, method, path, contentType, body string
		routeKey                              string
		pathParams                            map[string]string
		query                                 map[string]string
		wantBody                              string
		wantB64                               bool
	}{
		{name: "root", method: "GET", path: "/", routeKey: "GET /"},
		{name: "path parameter and query", method: "GET", path: "/items/AB%20CD?a=1&a=2&lang=da", routeKey: "ANY /items/{id}",
			pathParams: map[string]string{"id": "AB CD"}, query: map[string]string{"a": "1,2", "lang": "da"}},
		{name: "greedy", method: "GET", path: "/files/a/b.txt", routeKey: "GET /files/{proxy+}",
			pathParams: map[string]string{"proxy": "a/b.txt"}},
		{name: "form body", method: "POST", path: "/items", routeKey: "POST /items",
			contentType: "application/x-www-form-urlencoded", body: "name=%C3%86sa&kind=access",
			wantBody: "bmFtZT0lQzMlODZzYSZraW5kPWFjY2Vzcw==", wantB64: true},
		{name: "json body", method: "POST", path: "/items", routeKey: "POST /items",
			contentType: "application/json", body: `{"kind":"access"}`, wantBody: `{"kind":"access"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := map[string]string{"Cookie": "sid=abc; lang=da", "X-Custom-Header": "Yes", "User-Agent": "runner-test"}
			if tc.contentType != "" {
				hdr["Content-Type"] = tc.contentType
			}
			ev := echo(t, do(t, tc.method, r.URL+tc.path, tc.body, hdr)).Event
			u, _ := url.Parse(tc.path)
			if ev.Version != "2.0" || ev.RouteKey != tc.routeKey || ev.RequestContext.RouteKey != tc.routeKey ||
				ev.RawPath != u.EscapedPath() || ev.RawQueryString != u.RawQuery {
				t.Errorf("version %q routeKey %q rawPath %q rawQuery %q", ev.Version, ev.RouteKey, ev.RawPath, ev.RawQueryString)
			}
			if fmt.Sprint(ev.Cookies) != "[sid=abc lang=da]" {
				t.Errorf("cookies = %v", ev.Cookies)
			}
			if _, ok := ev.Headers["cookie"]; ok {
				t.Error("cookie also in headers")
			}
			if ev.Headers["x-custom-header"] != "Yes" || ev.Headers["user-agent"] != "runner-test" || ev.Headers["host"] != r.Addr {
				t.Errorf("headers = %v", ev.Headers)
			}
			if fmt.Sprint(ev.PathParameters) != fmt.Sprint(tc.pathParams) || fmt.Sprint(ev.QueryStringParameters) != fmt.Sprint(tc.query) {
				t.Errorf("pathParameters %v queryStringParameters %v", ev.PathParameters, ev.QueryStringParameters)
			}
			if ev.Body != tc.wantBody || ev.IsBase64Encoded != tc.wantB64 {
				t.Errorf("body %q base64 %v, want %q %v", ev.Body, ev.IsBase64Encoded, tc.wantBody, tc.wantB64)
			}
			rc := ev.RequestContext
			if rc.Stage != "$default" || rc.AccountID != "123456789012" || rc.HTTP.Method != tc.method ||
				rc.HTTP.SourceIP != "127.0.0.1" || rc.HTTP.UserAgent != "runner-test" || rc.HTTP.Protocol != "HTTP/1.1" ||
				rc.DomainName != "127.0.0.1" || rc.RequestID == "" || time.Since(time.UnixMilli(rc.TimeEpoch)) > time.Minute {
				t.Errorf("requestContext = %+v", rc)
			}
		})
	}
}

func TestEnvironment(t *testing.T) {
	r := shared(t)
	env := echo(t, do(t, "GET", r.URL+"/", "", nil)).Env
	for k, v := range map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "EchoFunction",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_REGION":                      "us-east-1",
		"AWS_ACCESS_KEY_ID":               emulators.AccessKeyID,
		"AWS_ENDPOINT_URL_DYNAMODB":       r.Endpoints[emulators.DynamoDB],
		"AWS_ENDPOINT_URL_SES":            r.Endpoints[emulators.SES],
		"AWS_ENDPOINT_URL_SESV2":          r.Endpoints[emulators.SES],
		"AWS_ENDPOINT_URL_S3":             r.Endpoints[emulators.S3],
		"_HANDLER":                        "bootstrap",
		"TZ":                              "UTC",
		"TABLE_NAME":                      "local-echo",
		"GREETING":                        "hej", // the env file wins over the parameter
		"BASE_URL":                        r.URL, // the runner's own, not the parameter's port
		"ECHO_MODE":                       "normal",
	} {
		if env[k] != v {
			t.Errorf("%s = %q, want %q", k, env[k], v)
		}
	}
}

func TestTableCreated(t *testing.T) {
	r := shared(t)
	db := emulators.DynamoDBClient(r.Endpoints[emulators.DynamoDB])
	out, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: aws.String("local-echo")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Table.GlobalSecondaryIndexes) != 1 || *out.Table.GlobalSecondaryIndexes[0].IndexName != "sweep" {
		t.Errorf("table = %+v", out.Table)
	}
	if fmt.Sprint(r.Tables) != "[local-echo]" {
		t.Errorf("Tables = %v", r.Tables)
	}
	// The bucket is there, under the name !Ref gives the function.
	if fmt.Sprint(r.Buckets) != "[local-uploads]" {
		t.Errorf("Buckets = %v", r.Buckets)
	}
	if _, err := emulators.S3Client(r.Endpoints[emulators.S3]).HeadBucket(context.Background(),
		&s3.HeadBucketInput{Bucket: aws.String("local-uploads")}); err != nil {
		t.Errorf("bucket local-uploads: %v", err)
	}
	if env := echo(t, do(t, "GET", r.URL+"/", "", nil)).Env; env["BUCKET"] != "local-uploads" {
		t.Errorf("BUCKET = %q", env["BUCKET"])
	}
}

func TestResponseRelay(t *testing.T) {
	r := shared(t)
	res := do(t, "GET", r.URL+"/items/1", "", nil)
	if res.status != 200 || res.header.Get("X-Echo") != "yes" || res.header.Get("Content-Type") != "application/json" ||
		fmt.Sprint(res.header.Values("X-Multi")) != "[a b]" ||
		fmt.Sprint(res.header.Values("Set-Cookie")) != "[echo=1; Path=/; HttpOnly second=2; Path=/]" {
		t.Errorf("relay: %d %v", res.status, res.header)
	}
	for _, tc := range []struct {
		mode, contentType, body string
		status                  int
	}{
		{"base64", "application/octet-stream", "\x00\xff\xfeecho", 201},
		{"string", "application/json", "plain string", 200},
		{"object", "application/json", `{"no":"statusCode"}`, 200},
		{"error", "application/json", `{"message":"Internal Server Error"}`, 500},
		{"panic", "application/json", `{"message":"Internal Server Error"}`, 500},
	} {
		t.Run(tc.mode, func(t *testing.T) {
			res := do(t, "GET", r.URL+"/items/1?mode="+tc.mode, "", nil)
			if res.status != tc.status || res.header.Get("Content-Type") != tc.contentType || string(res.body) != tc.body {
				t.Errorf("%d %q %q, want %d %q %q", res.status, res.header.Get("Content-Type"), res.body, tc.status, tc.contentType, tc.body)
			}
		})
	}
}

func TestNotFound(t *testing.T) {
	r := shared(t)
	for _, path := range []string{"/nope", "/files/"} {
		res := do(t, "GET", r.URL+path, "", nil)
		if res.status != 404 || string(res.body) != `{"message":"Not Found"}` {
			t.Errorf("%s: %d %s", path, res.status, res.body)
		}
	}
	if res := do(t, "DELETE", r.URL+"/", "", nil); res.status != 404 {
		t.Errorf("DELETE / (only GET routed): %d", res.status)
	}
}

func TestTimeout(t *testing.T) {
	r := shared(t)
	start := time.Now()
	res := do(t, "GET", r.URL+"/items/1?mode=slow&ms=5000", "", nil)
	if res.status != 504 {
		t.Errorf("status %d %s, want 504", res.status, res.body)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("took %v; the Timeout is 1s", d)
	}
	// The killed worker comes back.
	waitOK(t, r.URL+"/items/1")
}

func waitOK(t *testing.T, u string) echoed {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		res := do(t, "GET", u, "", nil)
		if res.status == 200 {
			return echo(t, res)
		}
		if time.Now().After(deadline) {
			t.Fatalf("still %d: %s", res.status, res.body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCrashRestartsWorker(t *testing.T) {
	base := shared(t)
	opts := testOptions(t)
	opts.Workers = 1
	opts.Endpoints = base.Endpoints
	r, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Stop()
	before := echo(t, do(t, "GET", r.URL+"/", "", nil)).PID
	res := do(t, "GET", r.URL+"/items/1?mode=crash", "", nil)
	if res.status != 502 || string(res.body) != `{"message":"Bad Gateway"}` {
		t.Errorf("crash: %d %s, want 502", res.status, res.body)
	}
	after := waitOK(t, r.URL+"/").PID
	if after == before {
		t.Errorf("same pid %d after a crash", after)
	}
	if n := r.functions["EchoFunction"].rt.Restarts(); n != 1 {
		t.Errorf("%d restarts, want 1", n)
	}
}

func TestInvokeOnDemand(t *testing.T) {
	r := shared(t)
	var out struct {
		Received map[string]any
	}
	res := do(t, "POST", r.URL+"/_local/invoke/EchoFunction", "", nil)
	if err := json.Unmarshal(res.body, &out); res.status != 200 || err != nil {
		t.Fatalf("%d %s", res.status, res.body)
	}
	ev := out.Received
	for k, v := range map[string]any{"version": "0", "detail-type": "Scheduled Event", "source": "aws.scheduler",
		"account": "123456789012", "region": "us-east-1"} {
		if ev[k] != v {
			t.Errorf("%s = %v, want %v", k, ev[k], v)
		}
	}
	if fmt.Sprint(ev["resources"]) != "[arn:aws:scheduler:us-east-1:123456789012:schedule/default/EchoFunctionTick]" {
		t.Errorf("resources = %v", ev["resources"])
	}
	res = do(t, "POST", r.URL+"/_local/invoke/EchoFunction", `{"custom":true}`, nil)
	if !bytes.Contains(res.body, []byte(`"received":{"custom":true}`)) {
		t.Errorf("custom event: %s", res.body)
	}
	if res := do(t, "POST", r.URL+"/_local/invoke/Nope", "", nil); res.status != 404 {
		t.Errorf("unknown function: %d", res.status)
	}
	if !strings.Contains(r.Banner(), "/_local/invoke/<LogicalId>") || !strings.Contains(r.Banner(), r.Endpoints[emulators.SES]+"/") {
		t.Errorf("banner:\n%s", r.Banner())
	}
}

func TestBusyPort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	for _, tc := range []struct {
		name string
		set  func(*Options)
		flag string
	}{
		{"dynamodb", func(o *Options) { o.Ports = map[*emulators.Emulator]int{emulators.DynamoDB: port} }, "-dynamodb-port"},
		{"ses", func(o *Options) { o.Ports = map[*emulators.Emulator]int{emulators.SES: port} }, "-ses-port"},
		{"s3", func(o *Options) { o.Ports = map[*emulators.Emulator]int{emulators.S3: port} }, "-s3-port"},
		{"addr", func(o *Options) { o.Addr = ln.Addr().String() }, "-addr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := testOptions(t)
			tc.set(&opts)
			_, err := Start(context.Background(), opts)
			if err == nil || !strings.Contains(err.Error(), tc.flag) {
				t.Errorf("err = %v, want one naming %s", err, tc.flag)
			}
		})
	}
}

func TestBuildFailure(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"go.mod":          "module broken\n\ngo 1.22\n",
		"broken/main.go":  "package main\n\nfunc main() { undefinedThing() }\n",
		"template.yaml":   "Resources:\n  Broken:\n    Type: AWS::Serverless::Function\n    Properties: {CodeUri: broken, Handler: bootstrap}\n",
		"infra/.keep":     "",
		"infra/README.md": "no emulators needed: the build fails first",
	}
	for name, content := range files {
		p := filepath.Join(dir, name)
		_ = os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	opts := testOptions(t)
	opts.Template = filepath.Join(dir, "template.yaml")
	_, err := Start(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "function Broken does not build") || !strings.Contains(err.Error(), "undefined: undefinedThing") {
		t.Errorf("err = %v", err)
	}
}

func TestCrashAtStart(t *testing.T) {
	base := shared(t)
	opts := testOptions(t)
	opts.Endpoints = base.Endpoints
	opts.Parameters = map[string]string{"EchoMode": "crash-at-start"}
	_, err := Start(context.Background(), opts)
	if err == nil || !strings.Contains(err.Error(), "refusing to start because ECHO_MODE=crash-at-start") ||
		!strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("err = %v", err)
	}
}

func TestStopLeavesNoProcesses(t *testing.T) {
	opts := testOptions(t)
	opts.Persist = t.TempDir()
	r, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	pids := r.pids()
	if len(pids) != 5 { // dynalite, aws-ses-v2-local, s3rver, two echo workers
		t.Errorf("pids = %v", pids)
	}
	buildDir := r.buildDir
	r.Stop()
	r.Stop() // idempotent
	for _, pid := range pids {
		if proc.GroupAlive(pid) {
			out, _ := exec.Command("ps", "-o", "pid,pgid,args", "-g", fmt.Sprint(pid)).CombinedOutput()
			t.Errorf("process group %d survived Stop:\n%s", pid, out)
		}
	}
	if _, err := os.Stat(buildDir); !os.IsNotExist(err) {
		t.Errorf("build folder %s left behind", buildDir)
	}
	select {
	case <-r.Done():
	default:
		t.Error("Done not closed after Stop")
	}
	if r.Err() != nil {
		t.Errorf("Err = %v after a plain Stop", r.Err())
	}
	// Persisted data: a second runner on the same folder finds the table.
	r2, err := Start(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	r2.Stop()
}

// TestEmptyVariables: a parameter without a value is worth a warning only through the
// variables it leaves empty once the env file is applied.
func TestEmptyVariables(t *testing.T) {
	r := &Runner{
		order: []string{"Intake", "Sweep"},
		functions: map[string]*function{
			"Intake": {def: &samtemplate.Function{Environment: map[string]string{
				"BASE_URL": "", "COUNTRY": "DK", "AWS_ENDPOINT_URL_SES": "",
			}}},
			"Sweep": {def: &samtemplate.Function{Environment: map[string]string{"BASE_URL": "", "DPO_ADDRESSES": ""}}},
		},
	}
	for _, tc := range []struct {
		name string
		ev   samtemplate.EnvVars
		want []string
	}{
		{name: "no env file", want: []string{"Intake.BASE_URL", "Sweep.BASE_URL", "Sweep.DPO_ADDRESSES"}},
		{name: "env file sets them for all", ev: samtemplate.EnvVars{All: map[string]string{"BASE_URL": "http://x", "DPO_ADDRESSES": "d@x"}}},
		{name: "env file sets one function's", ev: samtemplate.EnvVars{Functions: map[string]map[string]string{"Sweep": {"BASE_URL": "http://x", "DPO_ADDRESSES": "d@x"}}},
			want: []string{"Intake.BASE_URL"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := r.emptyVariables(tc.ev); !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// -base-url sets BASE_URL for every function that has one, over the template and the env
// file; without it, OwnBaseURL makes it the runner's own URL; a function without a BASE_URL
// gets none.
func TestBaseURL(t *testing.T) {
	for _, tc := range []struct {
		opts Options
		vars map[string]string
		want string
	}{
		{Options{BaseURL: "https://proxy.example"}, map[string]string{"BASE_URL": "http://127.0.0.1:3000"}, "https://proxy.example"},
		{Options{OwnBaseURL: true}, map[string]string{"BASE_URL": "http://127.0.0.1:3000"}, "http://127.0.0.1:4000"},
		{Options{}, map[string]string{"BASE_URL": "http://127.0.0.1:3000"}, "http://127.0.0.1:3000"},
		{Options{OwnBaseURL: true}, map[string]string{}, ""},
	} {
		r := &Runner{opts: tc.opts, URL: "http://127.0.0.1:4000"}
		got, ok := r.withBaseURL(tc.vars)["BASE_URL"]
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("%+v: BASE_URL %q (set %v), want %q", tc.opts, got, ok, tc.want)
		}
	}
}
