package postresponse

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

type handlerFunc func(ctx context.Context, payload []byte) ([]byte, error)

func (f handlerFunc) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	return f(ctx, payload)
}

type ctxKey struct{}

// Without an Extensions API to register with, ForLambda's queue runs the work at once, before
// the answer, and the handler is served as it is.
func TestForLambdaWithoutExtensionsRunsInline(t *testing.T) {
	t.Setenv("AWS_LAMBDA_RUNTIME_API", "")
	var logs strings.Builder
	q := ForLambda(slog.New(slog.NewJSONHandler(&logs, nil)), "test")
	h := handlerFunc(func(context.Context, []byte) ([]byte, error) { return nil, nil })
	if _, ok := q.Wrap(h).(handlerFunc); !ok {
		t.Error("Wrap wrapped the handler of a queue that runs its work inline")
	}
	ran := false
	q.Later(context.Background(), func(context.Context) { ran = true })
	if !ran {
		t.Fatal("the work did not run at once")
	}
	if !strings.Contains(logs.String(), "no Extensions API") {
		t.Errorf("no warning logged: %s", logs.String())
	}
}

// TestWrapRunsAfterTheAnswer checks the extension mode's side of an invocation: the handler
// answers without waiting for its work, the work outlives the cancellation aws-lambda-go
// applies when the handler returns but keeps its deadline and values, and the loop is told
// when it is done, even after a panic.
func TestWrapRunsAfterTheAnswer(t *testing.T) {
	tests := []struct {
		name  string
		panic bool
	}{{"answer", false}, {"panic", true}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			q := &Queue{finished: make(chan struct{}, 1)}
			deadline := time.Now().Add(time.Minute)
			ctx, cancel := context.WithDeadline(context.WithValue(context.Background(), ctxKey{}, "v"), deadline)
			gate := make(chan struct{})
			type seen struct {
				err      error
				deadline time.Time
				value    any
			}
			got := make(chan seen, 1)
			h := q.Wrap(handlerFunc(func(ctx context.Context, _ []byte) ([]byte, error) {
				q.Later(ctx, func(ctx context.Context) {
					<-gate
					dl, _ := ctx.Deadline()
					got <- seen{ctx.Err(), dl, ctx.Value(ctxKey{})}
				})
				if tc.panic {
					panic("boom")
				}
				return []byte("answer"), nil
			}))
			func() {
				defer func() { _ = recover() }()
				out, err := h.Invoke(ctx, nil)
				if err != nil || string(out) != "answer" {
					t.Errorf("Invoke = %q, %v", out, err)
				}
			}()
			cancel() // what aws-lambda-go does once the handler has returned
			select {
			case <-q.finished:
				t.Fatal("finished before the work ran")
			default:
			}
			close(gate)
			s := <-got
			if s.err != nil || !s.deadline.Equal(deadline) || s.value != "v" {
				t.Errorf("the work's context: err %v, deadline %v, value %v; want live, %v, v", s.err, s.deadline, s.value, deadline)
			}
			select {
			case <-q.finished:
			case <-time.After(5 * time.Second):
				t.Fatal("the loop was not told the work is done")
			}
		})
	}
}

// TestRegister checks the registration against Extensions API answers; the local runner's own
// API, which the functions meet in make dev and the e2e tests, is tested in
// infra/local/internal/lambdart.
func TestRegister(t *testing.T) {
	tests := []struct {
		name    string
		answer  func(w http.ResponseWriter)
		wantErr string
	}{
		{"registered", func(w http.ResponseWriter) { w.Header().Set(headerID, "ext-1") }, ""},
		{"refused", func(w http.ResponseWriter) { w.WriteHeader(http.StatusForbidden) }, "403"},
		{"no identifier", func(http.ResponseWriter) {}, headerID},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			nexts := make(chan string, 1)
			mux := http.NewServeMux()
			mux.HandleFunc("POST "+registerPath, func(w http.ResponseWriter, r *http.Request) {
				if r.Header.Get(headerName) != "test" || !strings.Contains(readAll(r), `"INVOKE"`) {
					w.WriteHeader(http.StatusBadRequest)
					return
				}
				tc.answer(w)
			})
			mux.HandleFunc("GET "+nextPath, func(w http.ResponseWriter, r *http.Request) {
				nexts <- r.Header.Get(headerID)
				<-r.Context().Done()
			})
			srv := httptest.NewServer(mux)
			defer srv.Close()
			defer srv.CloseClientConnections() // the loop's event/next waits for ever
			q, err := Register(t.Context(), strings.TrimPrefix(srv.URL, "http://"), "test", func(error) {})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Register error = %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if q.inline {
				t.Error("Register returned a queue that does not wait for the extension loop")
			}
			select {
			case id := <-nexts:
				if id != "ext-1" {
					t.Errorf("event/next with identifier %q, want ext-1", id)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the loop never asked for its first event (the end of its init)")
			}
		})
	}
	if _, err := Register(t.Context(), "", "test", func(error) {}); err == nil {
		t.Error("Register without AWS_LAMBDA_RUNTIME_API succeeded")
	}
}

// TestLoopFailsOnRefusal checks that the loop reports an Extensions API that stops answering,
// so that the process ends instead of leaving Lambda waiting for it.
func TestLoopFailsOnRefusal(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == registerPath {
			w.Header().Set(headerID, "ext-1")
			return
		}
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	failed := make(chan error, 1)
	if _, err := Register(t.Context(), strings.TrimPrefix(srv.URL, "http://"), "test", func(err error) { failed <- err }); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-failed:
		if err == nil || !strings.Contains(err.Error(), "500") {
			t.Errorf("fail(%v), want the 500", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not report the refusal")
	}
}

func readAll(r *http.Request) string {
	b, _ := io.ReadAll(r.Body)
	return string(b)
}
