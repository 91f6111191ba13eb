package lambdart

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/proc"
)

const (
	minBackoff = 100 * time.Millisecond
	maxBackoff = 5 * time.Second
	// A process that lived this long was healthy: its successor restarts without delay.
	healthyAfter = 10 * time.Second
	stderrLines  = 40
)

// worker is one function process and the Runtime API port it polls. The port outlives
// the process: a restarted process polls the same one.
type worker struct {
	f    *Function
	n    int
	addr string
	srv  *http.Server

	mu       sync.Mutex
	cmd      *exec.Cmd
	gen      int           // process generation, bumped on every exit
	ready    chan struct{} // closed at the current process's first poll
	current  *invocation
	initErr  *FunctionError
	stderr   *proc.LineWriter
	restarts atomic.Int32
	// ext is the internal extension the current process registered (shared/postresponse), if any.
	ext *extension
}

// extension is a process's registration with the Extensions API. As in Lambda, an invocation
// ends only when the runtime and the extension have both asked for their next event, so the
// process gets no new invocation while the extension still works on the last one, even though
// that one's caller already has its response.
type extension struct {
	id string
	// idle holds a value while the extension waits in event/next, done with the invocation
	// before: the runtime may be handed the next one.
	idle chan struct{}
	// events carries the invocation the runtime took to the extension's waiting event/next.
	events chan *invocation
	// busy is the invocation whose work the extension is doing.
	busy atomic.Pointer[invocation]
}

func newWorker(f *Function, n int) (*worker, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("function %s: Runtime API listener: %w", f.cfg.Name, err)
	}
	w := &worker{f: f, n: n, addr: ln.Addr().String()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", w.next)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", w.response)
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", w.invocationError)
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", w.initError)
	mux.HandleFunc("POST /2020-01-01/extension/register", w.register)
	mux.HandleFunc("GET /2020-01-01/extension/event/next", w.extensionNext)
	w.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = w.srv.Serve(ln) }()
	return w, nil
}

func (w *worker) label() string {
	if w.f.cfg.Workers == 1 {
		return w.f.cfg.Name
	}
	return fmt.Sprintf("%s#%d", w.f.cfg.Name, w.n)
}

// run starts the process and restarts it whenever it exits, until the function closes.
// The first outcome (first poll, or exit before it) is sent on startup; a process that
// fails its first start is not restarted, since Start gives up on the function.
func (w *worker) run(startup chan<- error) {
	log := w.f.cfg.Logger.With("function", w.label())
	backoff := minBackoff
	first := true
	for {
		started := time.Now()
		exited, err := w.spawn()
		if errors.Is(err, ErrClosed) {
			return
		}
		if err != nil {
			if first {
				startup <- err
				return
			}
			log.Error("cannot restart the function process", "err", err)
		} else {
			w.mu.Lock()
			ready := w.ready
			w.mu.Unlock()
			if first {
				select {
				case <-ready:
					startup <- nil
				case <-exited:
					startup <- w.startFailure()
					return
				}
				first = false
			}
			<-exited
		}
		w.mu.Lock()
		inv, status := w.current, ""
		if w.cmd != nil && w.cmd.ProcessState != nil {
			status = w.cmd.ProcessState.String()
		}
		w.current = nil
		w.gen++
		w.mu.Unlock()
		tail := w.stderr.Tail()
		if inv != nil {
			inv.finish(nil, fmt.Errorf("%w (%s): %s", ErrCrashed, status, lastLine(tail)))
		}
		select {
		case <-w.f.closing:
			return
		default:
		}
		if time.Since(started) > healthyAfter {
			backoff = minBackoff
		}
		log.Warn("function process exited; restarting", "status", status, "in", backoff)
		select {
		case <-w.f.closing:
			return
		case <-time.After(backoff):
		}
		backoff = min(backoff*2, maxBackoff)
		w.restarts.Add(1)
	}
}

// spawn starts one process generation; exited is closed once it has been waited for.
func (w *worker) spawn() (exited chan struct{}, err error) {
	cmd := proc.Command(w.f.cfg.Bootstrap)
	cmd.Dir = w.f.cfg.Dir
	cmd.Env = append(append([]string(nil), w.f.cfg.Env...), "AWS_LAMBDA_RUNTIME_API="+w.addr)
	stdout := proc.NewLineWriter(w.f.cfg.Output, w.label(), 0)
	stderr := proc.NewLineWriter(w.f.cfg.Output, w.label(), stderrLines)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	// Holding the lock across Start means stop either sees this process or runs
	// before it, in which case closing is already visible here.
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.f.closing:
		return nil, ErrClosed
	default:
	}
	w.cmd, w.stderr, w.ready, w.initErr, w.ext = cmd, stderr, make(chan struct{}), nil, nil
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", w.f.cfg.Bootstrap, err)
	}
	exited = make(chan struct{})
	go func() {
		_ = cmd.Wait()
		stdout.Flush()
		stderr.Flush()
		close(exited)
	}()
	return exited, nil
}

func (w *worker) startFailure() error {
	w.mu.Lock()
	status := w.cmd.ProcessState.String()
	initErr := w.initErr
	w.mu.Unlock()
	msg := fmt.Sprintf("the function process exited before polling for an invocation (%s)", status)
	if initErr != nil {
		msg += fmt.Sprintf("; init error %s: %s", initErr.Type, initErr.Message)
	}
	if tail := w.stderr.Tail(); tail != "" {
		msg += "; its output:\n" + tail
	}
	return errors.New(msg)
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	if s == "" {
		return "no output"
	}
	return s
}

func (w *worker) pid() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.cmd == nil || w.cmd.Process == nil {
		return 0
	}
	return w.cmd.Process.Pid
}

// kill stops the process of generation gen, if it is still the current one.
func (w *worker) kill(gen int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gen == gen {
		proc.Kill(w.cmd)
	}
}

func (w *worker) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	proc.Kill(w.cmd)
}

// next hands the process its next invocation, blocking until there is one.
func (w *worker) next(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	gen, ext := w.gen, w.ext
	select {
	case <-w.ready:
	default:
		close(w.ready)
	}
	w.mu.Unlock()
	if ext != nil {
		select {
		case <-ext.idle:
		case <-r.Context().Done():
			return
		case <-w.f.closing:
			http.Error(rw, "shutting down", http.StatusGone)
			return
		}
	}
	for {
		var inv *invocation
		select {
		case inv = <-w.f.queue:
		case <-r.Context().Done():
			return
		case <-w.f.closing:
			http.Error(rw, "shutting down", http.StatusGone)
			return
		}
		if inv.abandoned.Load() {
			inv.finish(nil, errors.New("abandoned before a worker took it"))
			continue
		}
		w.mu.Lock()
		if r.Context().Err() != nil || w.gen != gen {
			// The poll came from a process that has since died: leave the invocation
			// to a live one.
			w.mu.Unlock()
			go func() { w.f.queue <- inv }()
			return
		}
		w.current = inv
		timeout := w.f.cfg.Timeout
		// The timer is not stopped on an answer: finish makes a late firing a no-op.
		time.AfterFunc(timeout, func() {
			switch {
			case inv.finish(nil, fmt.Errorf("%w after %v", ErrTimeout, timeout)):
				w.f.cfg.Logger.Warn("function timed out; killing its process", "function", w.label(), "timeout", timeout)
				w.kill(gen)
			case ext != nil && ext.busy.Load() == inv:
				// The timeout bounds the whole invocation, the work after its response too.
				w.f.cfg.Logger.Warn("function's work after its response ran past the timeout; killing its process", "function", w.label(), "timeout", timeout)
				w.kill(gen)
			}
		})
		w.mu.Unlock()
		deadline := time.Now().Add(timeout)
		inv.deadline = deadline
		if ext != nil {
			ext.events <- inv
		}
		h := rw.Header()
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", w.f.cfg.ARN)
		h.Set("Lambda-Runtime-Trace-Id", newTraceID())
		h.Set("Content-Type", "application/json")
		rw.WriteHeader(http.StatusOK)
		_, _ = rw.Write(inv.payload)
		return
	}
}

// take detaches the in-flight invocation id, or nil if id is not the one in flight.
func (w *worker) take(id string) *invocation {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.current == nil || w.current.id != id {
		return nil
	}
	inv := w.current
	w.current = nil
	return inv
}

func (w *worker) response(rw http.ResponseWriter, r *http.Request) {
	body, err := readLimited(r.Body)
	inv := w.take(r.PathValue("id"))
	if inv == nil {
		http.Error(rw, `{"errorMessage":"unknown or finished request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	// aws-lambda-go reports an error while streaming the body in trailers.
	switch {
	case errors.Is(err, ErrTooLarge):
		inv.finish(nil, &FunctionError{Type: "Function.ResponseSizeTooLarge", Message: "response payload larger than 6 MB"})
	case err != nil:
		inv.finish(nil, fmt.Errorf("%w: reading the response: %v", ErrCrashed, err))
	case r.Trailer.Get("Lambda-Runtime-Function-Error-Type") != "":
		inv.finish(nil, &FunctionError{Type: r.Trailer.Get("Lambda-Runtime-Function-Error-Type"), Message: "error while streaming the response"})
	default:
		inv.finish(body, nil)
	}
	rw.WriteHeader(http.StatusAccepted)
}

func (w *worker) invocationError(rw http.ResponseWriter, r *http.Request) {
	body, _ := readLimited(r.Body)
	inv := w.take(r.PathValue("id"))
	if inv == nil {
		http.Error(rw, `{"errorMessage":"unknown or finished request id","errorType":"InvalidRequestID"}`, http.StatusBadRequest)
		return
	}
	inv.finish(nil, parseErrorDoc(body, r.Header.Get("Lambda-Runtime-Function-Error-Type")))
	rw.WriteHeader(http.StatusAccepted)
}

func (w *worker) initError(rw http.ResponseWriter, r *http.Request) {
	body, _ := readLimited(r.Body)
	fe := parseErrorDoc(body, r.Header.Get("Lambda-Runtime-Function-Error-Type"))
	w.mu.Lock()
	w.initErr = fe
	w.mu.Unlock()
	w.f.cfg.Logger.Error("function init error", "function", w.label(), "type", fe.Type, "message", fe.Message)
	rw.WriteHeader(http.StatusAccepted)
}

// Extensions API (2020-01-01), the part an internal extension uses.
const extensionIDHeader = "Lambda-Extension-Identifier"

// register takes the current process's registration as an internal extension. Like Lambda it
// accepts one only during init (before the runtime's first poll), and only for INVOKE events:
// an internal extension cannot register for SHUTDOWN.
func (w *worker) register(rw http.ResponseWriter, r *http.Request) {
	body, err := readLimited(r.Body)
	var req struct {
		Events []string `json:"events"`
	}
	if err == nil {
		err = json.Unmarshal(body, &req)
	}
	if err != nil || r.Header.Get("Lambda-Extension-Name") == "" {
		extensionError(rw, http.StatusBadRequest, "InvalidRequest", "a JSON body and a Lambda-Extension-Name header are required")
		return
	}
	for _, e := range req.Events {
		if e != "INVOKE" {
			extensionError(rw, http.StatusForbidden, "Extension.InvalidEventType", "an internal extension registers for INVOKE only, not "+e)
			return
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	select {
	case <-w.ready:
		extensionError(rw, http.StatusForbidden, "Extension.RegistrationClosed", "extensions register during init, before the runtime's first poll")
		return
	default:
	}
	if w.ext != nil {
		extensionError(rw, http.StatusForbidden, "Extension.AlreadyRegistered", "this process registered an extension already")
		return
	}
	w.ext = &extension{id: newRequestID(), idle: make(chan struct{}, 1), events: make(chan *invocation, 1)}
	rw.Header().Set(extensionIDHeader, w.ext.id)
	rw.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(rw).Encode(map[string]string{"functionName": w.f.cfg.Name, "functionVersion": "$LATEST", "handler": "bootstrap"})
}

// extensionNext ends the extension's part of the invocation before (or of init) and waits
// for the next invocation the runtime takes.
func (w *worker) extensionNext(rw http.ResponseWriter, r *http.Request) {
	w.mu.Lock()
	ext := w.ext
	w.mu.Unlock()
	if ext == nil || r.Header.Get(extensionIDHeader) != ext.id {
		extensionError(rw, http.StatusForbidden, "Extension.UnknownExtensionIdentifier", "unknown extension identifier")
		return
	}
	ext.busy.Store(nil)
	select {
	case ext.idle <- struct{}{}:
	default: // asked twice without an invocation between: still idle
	}
	select {
	case inv := <-ext.events:
		ext.busy.Store(inv)
		rw.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(rw).Encode(map[string]any{
			"eventType":          "INVOKE",
			"deadlineMs":         inv.deadline.UnixMilli(),
			"requestId":          inv.id,
			"invokedFunctionArn": w.f.cfg.ARN,
		})
	case <-r.Context().Done():
	case <-w.f.closing:
		http.Error(rw, "shutting down", http.StatusGone)
	}
}

func extensionError(rw http.ResponseWriter, status int, typ, msg string) {
	rw.Header().Set("Content-Type", "application/json")
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]string{"errorType": typ, "errorMessage": msg})
}
