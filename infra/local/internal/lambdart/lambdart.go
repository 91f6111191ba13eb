// Package lambdart runs a Lambda function locally: it serves the Lambda Runtime API
// that lambda.Start polls and supervises the function's processes.
//
// Each worker process gets its own loopback port for the Runtime API (all of a
// function's ports share one invocation queue). That way an invocation is always
// attributable to the process that took it: when a process dies, exactly its in-flight
// invocation fails, and a timeout kills exactly the process that overran.
package lambdart

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/proc"
)

// Errors an invocation can end with besides a FunctionError.
var (
	// ErrTimeout: the function ran past its Timeout; its process was killed.
	ErrTimeout = errors.New("function timed out")
	// ErrCrashed: the process handling the invocation exited before answering.
	ErrCrashed = errors.New("function process exited during the invocation")
	// ErrTooLarge: the payload or the response is over Lambda's 6 MB limit.
	ErrTooLarge = errors.New("payload larger than 6 MB")
	// ErrClosed: the function is shutting down.
	ErrClosed = errors.New("function stopped")
)

// maxPayload is Lambda's limit for a synchronous request and its response.
const maxPayload = 6 * 1024 * 1024

// FunctionError is what the handler reported through …/invocation/{id}/error.
type FunctionError struct {
	Type    string
	Message string
	// Payload is the error document as the function sent it.
	Payload []byte
}

func (e *FunctionError) Error() string {
	return fmt.Sprintf("function error %s: %s", e.Type, e.Message)
}

// Config describes one function.
type Config struct {
	// Name labels log and output lines (the logical id).
	Name string
	// ARN is sent as Lambda-Runtime-Invoked-Function-Arn.
	ARN       string
	Bootstrap string
	Dir       string
	// Env is the process environment; AWS_LAMBDA_RUNTIME_API is added per worker.
	Env     []string
	Timeout time.Duration
	// Workers is the number of processes (concurrency); at least 1.
	Workers int
	// InitTimeout bounds a cold start (process start to first poll); default 10s.
	InitTimeout time.Duration
	// Output receives the processes' stdout and stderr lines, prefixed with Name.
	Output *proc.Output
	Logger *slog.Logger
}

// Function is a running function: its Runtime API servers and worker processes.
type Function struct {
	cfg     Config
	queue   chan *invocation
	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
	workers []*worker
}

type invocation struct {
	id        string
	payload   []byte
	abandoned atomic.Bool
	deadline  time.Time // set when a worker takes it

	once   sync.Once
	done   chan struct{}
	result []byte
	err    error
}

// finish records the outcome; the first caller wins (a response racing a timeout or a
// crash), and reports whether it did.
func (i *invocation) finish(result []byte, err error) bool {
	won := false
	i.once.Do(func() {
		i.result, i.err, won = result, err, true
		close(i.done)
	})
	return won
}

// Start starts the workers and waits until every one has polled for its first
// invocation. A worker that exits or reports an init error first fails Start with
// what it wrote to stderr.
func Start(ctx context.Context, cfg Config) (*Function, error) {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.InitTimeout == 0 {
		cfg.InitTimeout = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	f := &Function{cfg: cfg, queue: make(chan *invocation, 1024), closing: make(chan struct{})}
	for n := 1; n <= cfg.Workers; n++ {
		w, err := newWorker(f, n)
		if err != nil {
			f.Close()
			return nil, err
		}
		f.workers = append(f.workers, w)
	}
	startup := make(chan error, len(f.workers))
	for _, w := range f.workers {
		f.wg.Add(1)
		go func() {
			defer f.wg.Done()
			w.run(startup)
		}()
	}
	timer := time.NewTimer(cfg.InitTimeout)
	defer timer.Stop()
	for range f.workers {
		select {
		case err := <-startup:
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("function %s: %w", cfg.Name, err)
			}
		case <-timer.C:
			f.Close()
			return nil, fmt.Errorf("function %s: no poll of the Runtime API within %v of starting (is it calling lambda.Start?)", cfg.Name, cfg.InitTimeout)
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		}
	}
	return f, nil
}

// Invoke runs one invocation and returns the function's response payload. Errors are
// *FunctionError, ErrTimeout, ErrCrashed (wrapped with details), ErrTooLarge, ErrClosed
// or the context's error. Abandoning an invocation through ctx does not stop it once a
// worker has taken it, as in Lambda.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	if len(payload) > maxPayload {
		return nil, ErrTooLarge
	}
	inv := &invocation{id: newRequestID(), payload: payload, done: make(chan struct{})}
	select {
	case f.queue <- inv:
	case <-f.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	select {
	case <-inv.done:
		return inv.result, inv.err
	case <-f.closing:
		return nil, ErrClosed
	case <-ctx.Done():
		inv.abandoned.Store(true)
		return nil, ctx.Err()
	}
}

// Close kills the workers, stops the Runtime API servers and fails queued invocations.
func (f *Function) Close() {
	f.once.Do(func() {
		close(f.closing)
		for _, w := range f.workers {
			w.stop()
		}
		f.wg.Wait()
		for _, w := range f.workers {
			_ = w.srv.Close()
		}
		for {
			select {
			case inv := <-f.queue:
				inv.finish(nil, ErrClosed)
			default:
				return
			}
		}
	})
}

// PIDs returns the worker processes' ids (for tests that check nothing is left).
func (f *Function) PIDs() []int {
	var pids []int
	for _, w := range f.workers {
		if pid := w.pid(); pid != 0 {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Restarts counts worker restarts since Start.
func (f *Function) Restarts() int {
	n := 0
	for _, w := range f.workers {
		n += int(w.restarts.Load())
	}
	return n
}

func newRequestID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

func newTraceID() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return fmt.Sprintf("Root=1-%08x-%x;Parent=%x;Sampled=0", time.Now().Unix(), b[:12], b[12:])
}

// errorDoc is the body aws-lambda-go posts to …/error and …/init/error.
type errorDoc struct {
	Message string `json:"errorMessage"`
	Type    string `json:"errorType"`
}

func parseErrorDoc(body []byte, typeHeader string) *FunctionError {
	var doc errorDoc
	_ = json.Unmarshal(body, &doc)
	fe := &FunctionError{Type: doc.Type, Message: doc.Message, Payload: body}
	if fe.Type == "" {
		fe.Type = typeHeader
	}
	if fe.Type == "" {
		fe.Type = "Unhandled"
	}
	return fe
}

func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxPayload+1))
	if err == nil && len(b) > maxPayload {
		return nil, ErrTooLarge
	}
	return b, err
}
