package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/dsrdesk/dsrdesk/infra/proc"
	"github.com/dsrdesk/dsrdesk/shared/postresponse"
)

// The test binary doubles as a function process speaking the Runtime API by hand, so
// the protocol's corners can be checked without aws-lambda-go hiding them.
func TestMain(m *testing.M) {
	if mode := os.Getenv("FAKE_FUNCTION"); mode != "" {
		fakeFunction(mode)
		return
	}
	os.Exit(m.Run())
}

func fakeFunction(mode string) {
	if mode == "after" {
		afterFunction()
		return
	}
	base := "http://" + os.Getenv("AWS_LAMBDA_RUNTIME_API") + "/2018-06-01/runtime/"
	if mode == "init-error" {
		_, _ = http.Post(base+"init/error", "application/json", strings.NewReader(`{"errorMessage":"TABLE_NAME is not set","errorType":"ConfigError"}`))
		fmt.Fprintln(os.Stderr, "fake: cannot start")
		os.Exit(1)
	}
	for {
		res, err := http.Get(base + "invocation/next")
		if err != nil {
			os.Exit(1)
		}
		payload, _ := io.ReadAll(res.Body)
		res.Body.Close()
		id := res.Header.Get("Lambda-Runtime-Aws-Request-Id")
		deadline := res.Header.Get("Lambda-Runtime-Deadline-Ms")
		arn := res.Header.Get("Lambda-Runtime-Invoked-Function-Arn")
		switch string(payload) {
		case `"wrong-id"`:
			r, _ := http.Post(base+"invocation/nope/response", "application/json", strings.NewReader(`1`))
			_, _ = http.Post(base+"invocation/"+id+"/response", "application/json", strings.NewReader(fmt.Sprint(r.StatusCode)))
		case `"error"`:
			_, _ = http.Post(base+"invocation/"+id+"/error", "application/json", strings.NewReader(`{"errorMessage":"boom","errorType":"errorString"}`))
		default:
			body := fmt.Sprintf(`{"deadline":%q,"arn":%q,"payload":%s}`, deadline, arn, payload)
			_, _ = http.Post(base+"invocation/"+id+"/response", "application/json", strings.NewReader(body))
		}
	}
}

// afterFunction is a function built as the product's are, with aws-lambda-go and
// shared/postresponse: it answers at once and then works for work_ms (ignoring its deadline,
// so that the runner's timeout is what ends an overrun), writing AFTER_MARKER when done.
func afterFunction() {
	q, err := postresponse.Register(context.Background(), os.Getenv("AWS_LAMBDA_RUNTIME_API"), "fake", func(err error) {
		fmt.Fprintln(os.Stderr, "fake:", err)
		os.Exit(1)
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "fake:", err)
		os.Exit(1)
	}
	lambda.StartHandler(q.Wrap(lambda.NewHandler(func(ctx context.Context, in struct {
		WorkMS int `json:"work_ms"`
	}) (string, error) {
		q.Later(ctx, func(context.Context) {
			time.Sleep(time.Duration(in.WorkMS) * time.Millisecond)
			// Written aside and renamed: the test reads the marker while a later invocation's
			// work may be writing it, and must never see it truncated and not yet written.
			marker := os.Getenv("AFTER_MARKER")
			if err := os.WriteFile(marker+".tmp", []byte(strconv.Itoa(in.WorkMS)), 0o600); err == nil {
				_ = os.Rename(marker+".tmp", marker)
			}
		})
		return "answered", nil
	})))
}

func start(t *testing.T, mode string, env ...string) (*Function, error) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return Start(context.Background(), Config{
		Name: "Fake", ARN: "arn:aws:lambda:us-east-1:123456789012:function:Fake", Bootstrap: exe,
		Env: append([]string{"FAKE_FUNCTION=" + mode}, env...), Timeout: 2 * time.Second, Workers: 1, Output: proc.NewOutput(&out),
	})
}

func TestProtocol(t *testing.T) {
	f, err := start(t, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()
	before := time.Now()
	out, err := f.Invoke(ctx, []byte(`{"a":1}`))
	if err != nil {
		t.Fatal(err)
	}
	var deadline int64
	if _, err := fmt.Sscanf(string(out), `{"deadline":"%d"`, &deadline); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if d := time.UnixMilli(deadline).Sub(before); d < 1900*time.Millisecond || d > 3*time.Second {
		t.Errorf("deadline %v after the invoke, want the 2s timeout", d)
	}
	if !strings.Contains(string(out), `"arn":"arn:aws:lambda:us-east-1:123456789012:function:Fake"`) || !strings.HasSuffix(string(out), `"payload":{"a":1}}`) {
		t.Errorf("response %s", out)
	}
	if out, err := f.Invoke(ctx, []byte(`"wrong-id"`)); err != nil || string(out) != "400" {
		t.Errorf("a response for an unknown request id: %s %v, want 400", out, err)
	}
	var fe *FunctionError
	if _, err := f.Invoke(ctx, []byte(`"error"`)); !errors.As(err, &fe) || fe.Type != "errorString" || fe.Message != "boom" {
		t.Errorf("error invocation: %v", err)
	}
	if _, err := f.Invoke(ctx, bytes.Repeat([]byte("x"), maxPayload+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("oversized payload: %v", err)
	}
}

func TestInitError(t *testing.T) {
	_, err := start(t, "init-error")
	if err == nil || !strings.Contains(err.Error(), "init error ConfigError: TABLE_NAME is not set") ||
		!strings.Contains(err.Error(), "fake: cannot start") {
		t.Errorf("err = %v", err)
	}
}

func TestClosed(t *testing.T) {
	f, err := start(t, "serve")
	if err != nil {
		t.Fatal(err)
	}
	pids := f.PIDs()
	f.Close()
	if _, err := f.Invoke(context.Background(), []byte(`{}`)); !errors.Is(err, ErrClosed) {
		t.Errorf("Invoke after Close: %v", err)
	}
	for _, pid := range pids {
		if proc.GroupAlive(pid) {
			t.Errorf("process %d survived Close", pid)
		}
	}
}

// TestWorkAfterResponse checks the Extensions API as Lambda runs it: the caller has the
// response while the function still works, the process gets no other invocation until that
// work is done, and work past the timeout costs the process.
func TestWorkAfterResponse(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "done")
	f, err := start(t, "after", "AFTER_MARKER="+marker)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	ctx := context.Background()

	began := time.Now()
	out, err := f.Invoke(ctx, []byte(`{"work_ms":400}`))
	if err != nil || string(out) != `"answered"` {
		t.Fatalf("Invoke = %s, %v", out, err)
	}
	if took := time.Since(began); took >= 400*time.Millisecond {
		t.Errorf("the response took %v: it waited for the work after it", took)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the work was done before the response")
	}

	if _, err := f.Invoke(ctx, []byte(`{"work_ms":0}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(marker); err != nil || string(b) != "400" && string(b) != "0" {
		t.Fatalf("marker after the second invocation: %q, %v", b, err)
	}
	if took := time.Since(began); took < 400*time.Millisecond {
		t.Errorf("the second invocation ran %v after the first, before the first's work was done", took)
	}

	// The second invocation's work is instant; this one overruns the 2 s timeout.
	if _, err := f.Invoke(ctx, []byte(`{"work_ms":10000}`)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for f.Restarts() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("work past the timeout did not cost the process")
		}
		time.Sleep(50 * time.Millisecond)
	}
	if out, err := f.Invoke(ctx, []byte(`{"work_ms":0}`)); err != nil || string(out) != `"answered"` {
		t.Errorf("after the restart: %s, %v", out, err)
	}
}

// TestRegisterRefusals checks what the Extensions API refuses, as Lambda does.
func TestRegisterRefusals(t *testing.T) {
	f, err := start(t, "serve")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	api := "http://" + f.workers[0].addr + "/2020-01-01/extension/"
	tests := []struct {
		name, events, extName string
		want                  int
	}{
		{"after init", `{"events":["INVOKE"]}`, "late", http.StatusForbidden},
		{"shutdown", `{"events":["SHUTDOWN"]}`, "internal", http.StatusForbidden},
		{"no name", `{"events":["INVOKE"]}`, "", http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, api+"register", strings.NewReader(tc.events))
			if tc.extName != "" {
				req.Header.Set("Lambda-Extension-Name", tc.extName)
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != tc.want {
				t.Errorf("register: %s, want %d", res.Status, tc.want)
			}
		})
	}
	res, err := http.Get(api + "event/next")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("event/next without a registration: %s, want 403", res.Status)
	}
}
