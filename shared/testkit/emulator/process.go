package emulator

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	readyTimeout = 20 * time.Second
	// A port picked free can be taken by another process before the emulator binds it.
	startAttempts = 3
)

type binaries struct{ dynalite, ses string }

// installed returns the emulator scripts, installing infra/node_modules first when a fresh
// clone has none.
func installed() (binaries, error) {
	if _, err := exec.LookPath("node"); err != nil {
		return binaries{}, errors.New("node not found: install Node.js (with npm) to run the DynamoDB and SES emulators the tests need, " +
			"or set " + EnvDynamoDBEndpoint + " and " + EnvSESEndpoint + " to running ones")
	}
	root, err := repoRoot()
	if err != nil {
		return binaries{}, err
	}
	infra := filepath.Join(root, "infra")
	bin := filepath.Join(infra, "node_modules", ".bin")
	b := binaries{dynalite: filepath.Join(bin, "dynalite"), ses: filepath.Join(bin, "aws-ses-v2-local")}
	if err := ensureNodeModules(infra, b); err != nil {
		return binaries{}, err
	}
	return b, nil
}

// repoRoot walks up from the working directory (a test runs in its package's folder) to go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("find repository root: no go.mod above the working directory")
		}
		dir = parent
	}
}

// ensureNodeModules runs npm ci when the emulators are not installed. go test starts several
// test binaries at once, so they take turns on a lock: the first installs, the others wait and
// then find the result. The check is made under the lock too, because a half-finished install
// already has some of the files.
func ensureNodeModules(infra string, b binaries) error {
	lockPath := filepath.Join(infra, ".npm-install.lock")
	lock, err := os.OpenFile(lockPath, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock %s: %w", lockPath, err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway

	if exists(b.dynalite) && exists(b.ses) && exists(filepath.Join(infra, "node_modules", ".package-lock.json")) {
		return nil
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return errors.New("npm not found: install Node.js (with npm) so the tests can install the DynamoDB and SES emulators " +
			"(npm ci --prefix infra)")
	}
	cmd := exec.Command("npm", "ci", "--no-audit", "--no-fund")
	cmd.Dir = infra
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %w\n%s", infra, err, out)
	}
	if !exists(b.dynalite) || !exists(b.ses) {
		return fmt.Errorf("npm ci in %s installed no %s or %s: check infra/package.json", infra, b.dynalite, b.ses)
	}
	return nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// process is one running emulator.
type process struct {
	name string
	cmd  *exec.Cmd
	done chan struct{} // closed when the process has exited
}

// launch starts script on a free loopback port and returns its base URL once it serves.
func launch(name, script string, args ...string) (string, error) {
	var errs []error
	for attempt := 1; attempt <= startAttempts; attempt++ {
		port, err := freePort()
		if err != nil {
			return "", err
		}
		p, out, err := startProcess(name, script, port, args)
		if err != nil {
			return "", err
		}
		err = waitReady(p, port, out)
		if err == nil {
			procsMu.Lock()
			procs = append(procs, p)
			procsMu.Unlock()
			return "http://127.0.0.1:" + strconv.Itoa(port), nil
		}
		p.stop()
		errs = append(errs, fmt.Errorf("attempt %d on port %d: %w", attempt, port, err))
		if !errors.Is(err, errExited) {
			break // a timeout would only repeat
		}
	}
	return "", fmt.Errorf("start %s: %w", name, errors.Join(errs...))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func startProcess(name, script string, port int, args []string) (*process, *output, error) {
	// node runs the script itself rather than through its #!/usr/bin/env line, so the error
	// for a missing Node.js comes from installed() and names it.
	cmd := exec.Command("node", slices.Concat([]string{script, "--port", strconv.Itoa(port)}, args)...)
	cmd.Env = emulatorEnv()
	cmd.Stdin = nil
	out := newOutput(":" + strconv.Itoa(port))
	cmd.Stdout = &out.stdout
	cmd.Stderr = &out.stderr
	cmd.SysProcAttr = sysProcAttr()
	// The copy goroutines end when the process does; the bound only matters if it left a
	// child holding the pipes.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, done: make(chan struct{})}
	go func() {
		_ = cmd.Wait() // the exit status is read from ProcessState when it matters
		close(p.done)
	}()
	return p, out, nil
}

// emulatorEnv is the test's environment without SMTP_TRANSPORT, with which aws-ses-v2-local
// would forward every test mail to a real SMTP server.
func emulatorEnv() []string {
	return slices.DeleteFunc(os.Environ(), func(kv string) bool {
		return strings.HasPrefix(kv, "SMTP_TRANSPORT=")
	})
}

var errExited = errors.New("exited before serving")

// waitReady waits for the emulator to announce its port and accept a connection. Announcing
// comes first because a port picked free may meanwhile have been taken by another process: a
// connection alone could reach that one, while our emulator fails to bind and exits.
func waitReady(p *process, port int, out *output) error {
	deadline := time.After(readyTimeout)
	tick := time.NewTicker(25 * time.Millisecond)
	defer tick.Stop()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	for {
		select {
		case <-p.done:
			return fmt.Errorf("%w (%s)%s", errExited, p.cmd.ProcessState, out)
		case <-deadline:
			return fmt.Errorf("not serving on %s after %s%s", addr, readyTimeout, out)
		case <-tick.C:
		}
		if !out.announced() {
			continue
		}
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
	}
}

// stop kills the emulator and anything it started: it holds only in-memory test data, so
// there is nothing to shut down gracefully.
func (p *process) stop() {
	killGroup(p.cmd.Process.Pid)
	<-p.done
}

func killGroup(pid int) {
	_ = syscall.Kill(-pid, syscall.SIGKILL) // an already-gone group is what we want
}

func stopAll() {
	procsMu.Lock()
	defer procsMu.Unlock()
	for _, p := range procs {
		p.stop()
	}
	procs = nil
}

// output keeps what an emulator printed, for the error when it fails to start, and notices
// the line in which it announces its address.
type output struct {
	stdout, stderr capped
	port           string
}

func newOutput(port string) *output {
	o := &output{port: port}
	o.stdout.limit, o.stderr.limit = 16<<10, 16<<10
	return o
}

func (o *output) announced() bool { return strings.Contains(o.stdout.String(), o.port) }

func (o *output) String() string {
	s := ""
	for _, part := range []struct{ name, text string }{{"stdout", o.stdout.String()}, {"stderr", o.stderr.String()}} {
		if text := strings.TrimSpace(part.text); text != "" {
			s += "\n" + part.name + ":\n" + text
		}
	}
	if s == "" {
		return " (no output)"
	}
	return s
}

// capped is a goroutine-safe buffer that keeps the first limit bytes: the start-up messages
// are what explain a failure, and a chatty emulator must not grow the test's memory.
type capped struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	limit int
}

func (c *capped) Write(b []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := c.limit - c.buf.Len(); room > 0 {
		c.buf.Write(b[:min(len(b), room)])
	}
	return len(b), nil
}

func (c *capped) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
