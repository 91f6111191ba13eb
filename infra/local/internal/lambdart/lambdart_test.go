package lambdart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/local/internal/proc"
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

func start(t *testing.T, mode string) (*Function, error) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	return Start(context.Background(), Config{
		Name: "Fake", ARN: "arn:aws:lambda:us-east-1:123456789012:function:Fake", Bootstrap: exe,
		Env: []string{"FAKE_FUNCTION=" + mode}, Timeout: 2 * time.Second, Workers: 1, Output: proc.NewOutput(&out),
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
