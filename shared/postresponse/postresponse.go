// Package postresponse lets a function answer first and finish its work after: the mails a
// committed write queued go out once the person already has the page.
//
// Lambda freezes an execution environment as soon as its runtime asks for the next event,
// which aws-lambda-go does right after posting the response; a goroutine left running then
// would stop mid-call. An internal extension changes that: the invoke phase ends only when the
// runtime and every extension registered for INVOKE events have asked for their next event,
// while the caller gets the response as soon as the runtime posts it. Register makes this
// process such an extension, and its loop asks for the next event only once the work an
// invocation left has finished. The function's timeout still bounds the whole invocation,
// work after the response included, so work that must not be lost is written down before
// the answer (the outbox's queued mail states) and a run cut short is repaired by the sweep.
//
// Where there is no Extensions API (a test calling the handler directly), Inline runs the
// same work before the answer instead.
package postresponse

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"sync"
	"time"
)

// Handler is what aws-lambda-go runs (lambda.Handler).
type Handler interface {
	Invoke(ctx context.Context, payload []byte) ([]byte, error)
}

// Queue holds the work an invocation leaves for after its response.
type Queue struct {
	inline bool
	held   bool

	mu   sync.Mutex
	work []func()
	// finished gets one value per invocation once its work is done; the extension's loop
	// waits for it before it lets Lambda end the invocation.
	finished chan struct{}
}

// Inline returns a queue that runs work at once, before the handler returns.
func Inline() *Queue { return &Queue{inline: true} }

// Held returns a queue that keeps the work until Run: a test's stand-in for the time after
// the response, to tell the calls a person waits for from the ones after.
func Held() *Queue { return &Queue{held: true} }

// Run does the work a Held queue has kept, in the order it was left.
func (q *Queue) Run() {
	q.mu.Lock()
	work := q.work
	q.work = nil
	q.mu.Unlock()
	for _, fn := range work {
		fn()
	}
}

// Later runs fn after the response of the invocation ctx belongs to (at once, for an Inline
// queue). fn gets a context that keeps ctx's values and deadline but not its cancellation,
// which aws-lambda-go triggers as soon as the handler returns.
func (q *Queue) Later(ctx context.Context, fn func(context.Context)) {
	if q.inline {
		fn(ctx)
		return
	}
	deadline, bounded := ctx.Deadline()
	detached := context.WithoutCancel(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.work = append(q.work, func() {
		ctx, cancel := detached, context.CancelFunc(func() {})
		if bounded {
			ctx, cancel = context.WithDeadline(detached, deadline)
		}
		defer cancel()
		fn(ctx)
	})
}

// Wrap returns h followed by the work each invocation leaves. Once h returns, the work
// starts, and the extension loop holds the environment until it has finished.
func (q *Queue) Wrap(h Handler) Handler {
	if q.inline || q.held {
		return h
	}
	return wrapped{q: q, h: h}
}

type wrapped struct {
	q *Queue
	h Handler
}

func (w wrapped) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	// A panic or a payload the handler cannot decode still ends the invocation's work.
	defer w.q.release()
	return w.h.Invoke(ctx, payload)
}

// release starts the queued work and signals the extension loop when it is done.
func (q *Queue) release() {
	q.mu.Lock()
	work := q.work
	q.work = nil
	q.mu.Unlock()
	go func() {
		defer func() { q.finished <- struct{}{} }()
		for _, fn := range work {
			fn()
		}
	}()
}

// Extensions API paths (version 2020-01-01) under AWS_LAMBDA_RUNTIME_API.
const (
	registerPath = "/2020-01-01/extension/register"
	nextPath     = "/2020-01-01/extension/event/next"
	headerName   = "Lambda-Extension-Name"
	headerID     = "Lambda-Extension-Identifier"
)

// event is the part of an Extensions API event the loop reads.
type event struct {
	EventType  string `json:"eventType"`
	DeadlineMs int64  `json:"deadlineMs"`
}

// Register registers this process as an internal extension named name with the Runtime API
// at runtimeAPI (host:port, as in AWS_LAMBDA_RUNTIME_API) and returns a queue whose work runs
// after each response. It must be called before lambda.Start, during the init phase. fail is
// called if the Extensions API later refuses the loop (the environment is then unusable:
// Lambda would wait for this extension until the function's timeout), and should end the
// process.
func Register(ctx context.Context, runtimeAPI, name string, fail func(error)) (*Queue, error) {
	if runtimeAPI == "" {
		return nil, errors.New("postresponse: AWS_LAMBDA_RUNTIME_API is not set")
	}
	client := &http.Client{} // no timeout: event/next blocks until the next invocation
	base := "http://" + runtimeAPI
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+registerPath, bytes.NewReader([]byte(`{"events":["INVOKE"]}`)))
	if err != nil {
		return nil, fmt.Errorf("postresponse: register: %w", err)
	}
	req.Header.Set(headerName, name)
	req.Header.Set("Content-Type", "application/json")
	res, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("postresponse: register: %w", err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	_ = res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("postresponse: register: %s", res.Status)
	}
	id := res.Header.Get(headerID)
	if id == "" {
		return nil, errors.New("postresponse: register: no " + headerID + " in the answer")
	}
	q := &Queue{finished: make(chan struct{}, 1)}
	go func() { fail(q.loop(client, base+nextPath, id)) }()
	return q, nil
}

// loop asks for each event: the first request ends this extension's init, every later one
// ends the invocation before it, so each waits for that invocation's work.
func (q *Queue) loop(client *http.Client, url, id string) error {
	for {
		ev, err := next(client, url, id)
		if err != nil {
			return err
		}
		if ev.EventType != "INVOKE" {
			return fmt.Errorf("postresponse: unexpected event %q", ev.EventType)
		}
		// Past the deadline Lambda ends the invocation itself; waiting longer than that for
		// work that never finished would only keep the loop from the next event.
		wait := time.Until(time.UnixMilli(ev.DeadlineMs))
		if ev.DeadlineMs == 0 {
			wait = 15 * time.Minute // Lambda's longest timeout
		}
		select {
		case <-q.finished:
		case <-time.After(wait):
			return errors.New("postresponse: the invocation's work outlived its deadline")
		}
	}
}

func next(client *http.Client, url, id string) (event, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	req.Header.Set(headerID, id)
	res, err := client.Do(req)
	if err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	if err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	if res.StatusCode != http.StatusOK {
		return event{}, fmt.Errorf("postresponse: next event: %s", res.Status)
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	return ev, nil
}

// ForLambda is what a function's main calls: the queue of an internal extension registered
// under name, or, where the Runtime API has no Extensions API, an Inline queue (the work then
// runs before each response, as it would without this package) with a warning in the log.
// If the extension's loop fails later, it logs why and ends the process: Lambda starts a new
// one, where an environment left waiting for the extension would time out every invocation.
func ForLambda(log *slog.Logger, name string) *Queue {
	q, err := Register(context.Background(), os.Getenv("AWS_LAMBDA_RUNTIME_API"), name, func(err error) {
		log.Error("post-response extension stopped; ending the process", "error", err.Error())
		os.Exit(1)
	})
	if err != nil {
		log.Warn("no Extensions API: mails go out before each response", "error", err.Error())
		return Inline()
	}
	return q
}
