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
// Where there is no Extensions API, ForLambda's queue runs the same work before the answer
// instead.
package postresponse

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
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
	// inline runs the work at once, before the answer: where there is no Extensions API.
	inline bool

	mu   sync.Mutex
	work []func()
	// finished gets one value per invocation once its work is done; the extension's loop
	// waits for it before it lets Lambda end the invocation.
	finished chan struct{}
	// registered is closed once ForLambda's registration has settled the queue's mode.
	registered chan struct{}
}

// Later runs fn after the response of the invocation ctx belongs to (at once, where there is
// no Extensions API). fn gets a context that keeps ctx's values and deadline but not its cancellation,
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
// starts, and the extension loop holds the environment until it has finished. For a queue
// from ForLambda it first waits for the registration, so call it right before lambda.Start
// and use the queue only in the handler.
func (q *Queue) Wrap(h Handler) Handler {
	if q.registered != nil {
		<-q.registered
	}
	if q.inline {
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
	q := &Queue{finished: make(chan struct{}, 1)}
	if err := q.register(ctx, runtimeAPI, name, fail); err != nil {
		return nil, err
	}
	return q, nil
}

// register registers q with the Extensions API and starts its loop.
func (q *Queue) register(ctx context.Context, runtimeAPI, name string, fail func(error)) error {
	if runtimeAPI == "" {
		return errors.New("postresponse: AWS_LAMBDA_RUNTIME_API is not set")
	}
	req, err := http.NewRequest(http.MethodPost, "http://"+runtimeAPI+registerPath, bytes.NewReader([]byte(`{"events":["INVOKE"]}`)))
	if err != nil {
		return fmt.Errorf("postresponse: register: %w", err)
	}
	api, err := dialAPI(ctx, runtimeAPI)
	if err != nil {
		return fmt.Errorf("postresponse: register: %w", err)
	}
	req.Header.Set(headerName, name)
	req.Header.Set("Content-Type", "application/json")
	res, _, err := api.do(req)
	if err != nil {
		api.close()
		return fmt.Errorf("postresponse: register: %w", err)
	}
	id := res.Header.Get(headerID)
	if id == "" {
		api.close()
		return errors.New("postresponse: register: no " + headerID + " in the answer")
	}
	go func() {
		defer api.close()
		fail(q.loop(api, "http://"+runtimeAPI+nextPath, id))
	}()
	return nil
}

// loop asks for each event: the first request ends this extension's init, every later one
// ends the invocation before it, so each waits for that invocation's work.
func (q *Queue) loop(api *apiConn, url, id string) error {
	for {
		ev, err := next(api, url, id)
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

func next(api *apiConn, url, id string) (event, error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	req.Header.Set(headerID, id)
	_, body, err := api.do(req)
	if err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	var ev event
	if err := json.Unmarshal(body, &ev); err != nil {
		return event{}, fmt.Errorf("postresponse: next event: %w", err)
	}
	return ev, nil
}

// apiConn is one kept-alive HTTP/1.1 connection to the Runtime API, used by one goroutine at a
// time. The registration is on the cold start's path, and an http.Transport's connection
// goroutines and hand-offs cost it about a tenth of a millisecond more than writing the
// request and reading the answer here; event/next then reuses the connection.
type apiConn struct {
	conn net.Conn
	r    *bufio.Reader
}

func dialAPI(ctx context.Context, addr string) (*apiConn, error) {
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	return &apiConn{conn: conn, r: bufio.NewReader(conn)}, nil
}

// do sends req and returns the answer with its body read; anything but 200 is an error.
func (c *apiConn) do(req *http.Request) (*http.Response, []byte, error) {
	if err := req.Write(c.conn); err != nil {
		return nil, nil, err
	}
	res, err := http.ReadResponse(c.r, req)
	if err != nil {
		return nil, nil, err
	}
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<10))
	_ = res.Body.Close()
	if err != nil {
		return nil, nil, err
	}
	if res.StatusCode != http.StatusOK {
		return nil, nil, errors.New(res.Status)
	}
	return res, body, nil
}

func (c *apiConn) close() { _ = c.conn.Close() }

// ForLambda is what a function's main calls: the queue of an internal extension registered
// under name, or, where the Runtime API has no Extensions API, a queue that runs the work before
// each response, as it would without this package, with a warning in the log.
// The registration runs while main builds its clients and handler, since it is a round trip
// to the Runtime API on the cold start's path; Wrap waits for it. If the extension's loop
// fails later, it logs why and ends the process: Lambda starts a new one, where an
// environment left waiting for the extension would time out every invocation.
func ForLambda(log *slog.Logger, name string) *Queue {
	q := &Queue{finished: make(chan struct{}, 1), registered: make(chan struct{})}
	go func() {
		defer close(q.registered)
		err := q.register(context.Background(), os.Getenv("AWS_LAMBDA_RUNTIME_API"), name, func(err error) {
			log.Error("post-response extension stopped; ending the process", "error", err.Error())
			os.Exit(1)
		})
		if err != nil {
			log.Warn("no Extensions API: mails go out before each response", "error", err.Error())
			q.inline = true
		}
	}()
	return q
}
