package proc

import "syscall"

// sysProcAttr has the kernel kill the child when its parent dies without cleaning up (a
// panic, a test -timeout, SIGKILL): a leftover emulator or worker would hold its port and
// memory. Pdeathsig follows the thread that started the child, which is safe here: the Go
// runtime ends a thread only when a goroutine exits while locked to it, and ours do not lock.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
