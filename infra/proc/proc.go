// Package proc starts child processes so that none outlives its parent: each child leads
// its own process group (so its own children are stopped with it) and, on Linux, is killed
// by the kernel if the parent dies without cleaning up. The emulator launcher
// (infra/emulators) and the local runner's function workers start theirs through it.
package proc

import (
	"bytes"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// Command is exec.Command with the process-group and parent-death settings applied.
func Command(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = sysProcAttr()
	// A grandchild holding our pipes must not keep Wait blocked after the child is gone.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Kill stops the process and its group at once. It is safe to call on a command that
// has exited or never started.
func Kill(cmd *exec.Cmd) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	killGroup(cmd.Process.Pid, true)
	_ = cmd.Process.Kill()
}

// Terminate asks the process group to stop and kills it if it has not exited after
// grace. done must be closed when cmd.Wait has returned.
func Terminate(cmd *exec.Cmd, done <-chan struct{}, grace time.Duration) {
	if cmd == nil || cmd.Process == nil {
		return
	}
	killGroup(cmd.Process.Pid, false)
	select {
	case <-done:
		killGroup(cmd.Process.Pid, true) // stragglers in the group
	case <-time.After(grace):
		Kill(cmd)
		<-done
	}
}

// GroupAlive reports whether any process of the group led by pid still exists.
func GroupAlive(pid int) bool { return groupAlive(pid) }

// Output is a writer shared by every child: whole lines only, one Write at a time.
type Output struct {
	mu sync.Mutex
	w  io.Writer
}

// NewOutput wraps w for concurrent line writers.
func NewOutput(w io.Writer) *Output { return &Output{w: w} }

func (o *Output) writeLine(b []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	_, _ = o.w.Write(b)
}

// LineWriter prefixes every line a child writes and keeps the last lines, so that a
// process that dies can be reported with what it said.
type LineWriter struct {
	out    *Output
	prefix string
	keep   int

	mu      sync.Mutex
	buf     []byte
	tail    []string
	watches []watch
}

type watch struct {
	substr string
	seen   chan struct{}
}

// Watch returns a channel closed at the first line containing substr, so a caller can
// wait for a child to say it is ready.
func (l *LineWriter) Watch(substr string) <-chan struct{} {
	l.mu.Lock()
	defer l.mu.Unlock()
	w := watch{substr, make(chan struct{})}
	l.watches = append(l.watches, w)
	return w.seen
}

// NewLineWriter writes "<prefix> | <line>" to out (nil: discard) and keeps the last
// keep lines.
func NewLineWriter(out *Output, prefix string, keep int) *LineWriter {
	return &LineWriter{out: out, prefix: prefix, keep: keep}
}

func (l *LineWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		l.emit(string(bytes.TrimRight(l.buf[:i], "\r")))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

// Flush emits a last line that had no newline.
func (l *LineWriter) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}

func (l *LineWriter) emit(line string) {
	kept := l.watches[:0]
	for _, w := range l.watches {
		if strings.Contains(line, w.substr) {
			close(w.seen)
		} else {
			kept = append(kept, w)
		}
	}
	l.watches = kept
	if l.keep > 0 {
		l.tail = append(l.tail, line)
		if len(l.tail) > l.keep {
			l.tail = l.tail[len(l.tail)-l.keep:]
		}
	}
	if l.out != nil {
		l.out.writeLine([]byte(l.prefix + " | " + line + "\n"))
	}
}

// Tail returns the kept lines, joined, and forgets them.
func (l *LineWriter) Tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
	s := strings.Join(l.tail, "\n")
	l.tail = nil
	return s
}
