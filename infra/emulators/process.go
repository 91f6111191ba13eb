package emulators

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/proc"
)

const (
	readyTimeout = 20 * time.Second
	stopGrace    = 3 * time.Second
	// A port picked free can be taken by another process before the emulator binds it.
	freePortAttempts = 3
)

// Options says how to start one emulator.
type Options struct {
	// NodeModules holds the installed packages (see Install): infra/node_modules.
	NodeModules string
	// Port is where it listens; 0 picks a free port.
	Port int
	// Dir keeps its data in this folder; empty: in memory, or in a temporary folder removed
	// by Stop for an emulator that always writes to disk.
	Dir string
	// Output receives its output lines, prefixed with the package name; nil drops them.
	// The last lines are kept either way, for the error when it fails to start.
	Output *proc.Output
	// Env is its environment; nil: this process's.
	Env []string
}

// Process is a running emulator.
type Process struct {
	Emulator *Emulator
	// Endpoint is its base URL, e.g. http://127.0.0.1:8000.
	Endpoint string

	cmd    *exec.Cmd
	out    *proc.LineWriter
	done   chan struct{}
	tmpDir string
}

// Start starts e and returns once it serves. ctx bounds the start only.
func Start(ctx context.Context, e *Emulator, o Options) (*Process, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return nil, errNoNode
	}
	dir, tmpDir := o.Dir, ""
	if dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("%s data folder: %w", e.Bin, err)
		}
	} else if e.needsDir {
		var err error
		if tmpDir, err = os.MkdirTemp("", "dsrdesk-"+e.ID+"-"); err != nil {
			return nil, fmt.Errorf("%s data folder: %w", e.Bin, err)
		}
		dir = tmpDir
	}
	attempts := 1
	if o.Port == 0 {
		attempts = freePortAttempts
	}
	var errs []error
	for range attempts {
		port := o.Port
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				errs = append(errs, err)
				break
			}
		}
		p, err := launch(ctx, e, o, port, dir)
		if err == nil {
			p.tmpDir = tmpDir
			return p, nil
		}
		errs = append(errs, err)
		if !errors.Is(err, errExited) {
			break // a timeout or a cancelled start would only repeat
		}
	}
	if tmpDir != "" {
		_ = os.RemoveAll(tmpDir)
	}
	return nil, fmt.Errorf("start %s (%s): %w", e.Bin, e.Service, errors.Join(errs...))
}

// freePort returns a port that was free a moment ago. dynalite treats --port 0 as "use
// the default", so free ports have to be picked for it.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

var (
	errExited = errors.New("exited before serving")
	errNoNode = errors.New("node is not on PATH: the emulators are npm packages, install Node.js 18 or later")
)

// launch runs the package's command on port and waits until it serves.
func launch(ctx context.Context, e *Emulator, o Options, port int, dir string) (*Process, error) {
	// node runs the script itself rather than through its #!/usr/bin/env line, so a
	// missing Node.js is reported by Start and named.
	script := filepath.Join(o.NodeModules, ".bin", e.Bin)
	pre, env, cleanup, err := preload(e, o)
	if err != nil {
		return nil, err
	}
	cmd := proc.Command("node", slices.Concat(pre, []string{script, "--port", strconv.Itoa(port)}, e.args(dir))...)
	cmd.Env = env
	out := proc.NewLineWriter(o.Output, e.Bin, 40)
	cmd.Stdout, cmd.Stderr = out, out
	// Announcing comes before a connection is tried: a port picked free may meanwhile have
	// been taken by another process, which a connection alone would reach while ours
	// fails to bind and exits.
	announced := out.Watch(e.ready)
	p := &Process{Emulator: e, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, fmt.Errorf("start %s: %w", e.Bin, err)
	}
	go func() {
		_ = cmd.Wait() // the exit status is read from ProcessState when it matters
		out.Flush()
		cleanup()
		close(p.done)
	}()
	if err := p.waitReady(ctx, announced, port); err != nil {
		p.Stop()
		return nil, err
	}
	return p, nil
}

func (p *Process) waitReady(ctx context.Context, announced <-chan struct{}, port int) error {
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	deadline := time.After(readyTimeout)
	for {
		select {
		case <-p.done:
			return fmt.Errorf("port %d: %w (%s; is the port busy?):\n%s", port, errExited, p.cmd.ProcessState, p.out.Tail())
		case <-deadline:
			return fmt.Errorf("not serving on %s after %s:\n%s", addr, readyTimeout, p.out.Tail())
		case <-ctx.Done():
			return ctx.Err()
		case <-announced:
			c, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				c.Close()
				return nil
			}
			announced = retryAfter(25 * time.Millisecond)
		}
	}
}

func retryAfter(d time.Duration) <-chan struct{} {
	c := make(chan struct{})
	time.AfterFunc(d, func() { close(c) })
	return c
}

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.done }

// PID is the process id, which is also its process group's.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Stop asks the emulator and everything it started to stop, kills them if they have not
// after a grace period (dynalite may be writing its LevelDB), waits for it, and removes
// its temporary data folder. It is safe to call more than once.
func (p *Process) Stop() {
	proc.Terminate(p.cmd, p.done, stopGrace)
	if p.tmpDir != "" {
		_ = os.RemoveAll(p.tmpDir)
	}
}

//go:embed *.js
var preloads embed.FS

// preload returns node's arguments that load e's preload script before the package's code,
// and the environment to run it in: the script is written to a file of its own, removed by
// cleanup, and finds the packages it hooks through NODE_PATH, wherever node_modules is.
func preload(e *Emulator, o Options) (args, env []string, cleanup func(), err error) {
	if e.preload == "" {
		return nil, o.Env, func() {}, nil
	}
	src, err := preloads.ReadFile(e.preload)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s preload: %w", e.Bin, err)
	}
	f, err := os.CreateTemp("", "dsrdesk-"+e.ID+"-*.js")
	if err != nil {
		return nil, nil, nil, fmt.Errorf("%s preload: %w", e.Bin, err)
	}
	_, werr := f.Write(src)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	cleanup = func() { _ = os.Remove(f.Name()) }
	if werr != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("%s preload: %w", e.Bin, werr)
	}
	env = o.Env
	if env == nil {
		env = os.Environ()
	}
	modules, err := filepath.Abs(o.NodeModules)
	if err != nil {
		cleanup()
		return nil, nil, nil, fmt.Errorf("%s preload: %w", e.Bin, err)
	}
	env = append(slices.Clone(env), "NODE_PATH="+modules)
	return []string{"--require", f.Name()}, env, cleanup, nil
}
