// Package emulators starts the AWS emulators the local runner needs, from the npm
// packages pinned in infra/package.json: dynalite (DynamoDB) and aws-ses-v2-local (SES).
package emulators

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/proc"
)

// Emulator is a running emulator process.
type Emulator struct {
	Name string
	// Endpoint is the base URL, e.g. http://127.0.0.1:8000.
	Endpoint string
	cmd      *exec.Cmd
	out      *proc.LineWriter
	done     chan struct{}
}

// Options says where the packages are and how to run them.
type Options struct {
	// NodeModules is the node_modules folder holding .bin/dynalite and
	// .bin/aws-ses-v2-local.
	NodeModules string
	// Output receives the emulators' output lines; nil discards it.
	Output *proc.Output
	Logger *slog.Logger
}

// Install runs npm ci in dir (the folder with package.json and its lock) when the
// emulator binaries are missing from nodeModules. Test binaries and the runner may
// start at once on a fresh clone: they take turns on the same lock file as the
// emulator test helper (shared/testkit/emulator), and look again once they hold it.
func Install(ctx context.Context, nodeModules, dir string, logger *slog.Logger) error {
	if installed(nodeModules) {
		return nil
	}
	unlock, err := lockFile(filepath.Join(dir, ".npm-install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if installed(nodeModules) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("the emulators are not installed in %s and npm is not on PATH: install Node.js 18 or later (with npm), then run npm ci --prefix %s", nodeModules, dir)
	}
	if _, err := os.Stat(filepath.Join(dir, "package.json")); err != nil {
		return fmt.Errorf("the emulators are not installed in %s and there is no package.json in %s to install them from: %w", nodeModules, dir, err)
	}
	logger.Info("installing the emulators", "cmd", "npm ci --prefix "+dir)
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", dir, "--no-audit", "--no-fund")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci --prefix %s: %w\n%s", dir, err, out)
	}
	if !installed(nodeModules) {
		return fmt.Errorf("npm ci --prefix %s did not install dynalite and aws-ses-v2-local into %s", dir, nodeModules)
	}
	return nil
}

// installed checks .package-lock.json too: npm writes it last, so it marks a
// complete install.
func installed(nodeModules string) bool {
	for _, p := range []string{".bin/dynalite", ".bin/aws-ses-v2-local", ".package-lock.json"} {
		if _, err := os.Stat(filepath.Join(nodeModules, p)); err != nil {
			return false
		}
	}
	return true
}

// CheckPort fails with a message naming flag when port is taken on 127.0.0.1. Port 0
// (any free port) always passes.
func CheckPort(port int, what, flag string) error {
	if port == 0 {
		return nil
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return fmt.Errorf("%s port 127.0.0.1:%d is busy (another runner, or a test?): choose another with %s: %w", what, port, flag, err)
	}
	return ln.Close()
}

// FreePort returns a port that was free a moment ago. dynalite treats --port 0 as
// "use the default", so free ports have to be picked for it.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// StartDynamoDB starts dynalite on port (0: a free one), in memory or, with persist,
// in a LevelDB under that folder.
func StartDynamoDB(ctx context.Context, o Options, port int, persist string) (*Emulator, error) {
	args := []string{"--host", "127.0.0.1", "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0"}
	if persist != "" {
		if err := os.MkdirAll(persist, 0o755); err != nil {
			return nil, fmt.Errorf("dynalite --path: %w", err)
		}
		args = append(args, "--path", persist)
	}
	return start(ctx, o, "dynalite", port, "-dynamodb-port", "Dynalite listening at", args)
}

// StartSES starts aws-ses-v2-local on port (0: a free one).
func StartSES(ctx context.Context, o Options, port int) (*Emulator, error) {
	return start(ctx, o, "aws-ses-v2-local", port, "-ses-port", "server running at", []string{"--host", "127.0.0.1"})
}

// start runs the package's bin and waits for it to print ready (a line saying it
// listens): a successful connect alone could reach another server that took the port.
func start(ctx context.Context, o Options, name string, port int, flag, ready string, args []string) (*Emulator, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, errors.New("node is not on PATH: the emulators are npm packages, install Node.js 18 or later")
	}
	if port == 0 {
		if port, err = FreePort(); err != nil {
			return nil, err
		}
	}
	bin := filepath.Join(o.NodeModules, ".bin", name)
	cmd := proc.Command(node, append([]string{bin, "--port", strconv.Itoa(port)}, args...)...)
	out := proc.NewLineWriter(o.Output, name, 40)
	cmd.Stdout, cmd.Stderr = out, out
	listening := out.Watch(ready)
	e := &Emulator{Name: name, Endpoint: "http://127.0.0.1:" + strconv.Itoa(port), cmd: cmd, out: out, done: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = cmd.Wait()
		out.Flush()
		close(e.done)
	}()
	select {
	case <-listening:
		return e, nil
	case <-e.done:
		return nil, fmt.Errorf("%s exited at start (%s; if the port is busy, choose another with %s):\n%s",
			name, cmd.ProcessState, flag, out.Tail())
	case <-ctx.Done():
		e.Stop()
		return nil, ctx.Err()
	case <-time.After(20 * time.Second):
		e.Stop()
		return nil, fmt.Errorf("%s did not start listening on port %d within 20s:\n%s", name, port, out.Tail())
	}
}

// Exited is closed when the process has exited.
func (e *Emulator) Exited() <-chan struct{} { return e.done }

// PID is the process id (and process group id).
func (e *Emulator) PID() int { return e.cmd.Process.Pid }

// Stop terminates the emulator and waits for it.
func (e *Emulator) Stop() {
	proc.Terminate(e.cmd, e.done, 3*time.Second)
}
