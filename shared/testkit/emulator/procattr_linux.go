package emulator

import "syscall"

// sysProcAttr puts the emulator in its own process group, so stopping it also stops anything
// it spawned, and has the kernel kill it when the test binary dies without running Run's
// cleanup (a panic, a -timeout, a SIGKILL): a leftover emulator would hold its port and memory.
// Pdeathsig follows the thread that started the child, which is safe here: the Go runtime ends
// a thread only when a goroutine exits while locked to it, and ours do not lock.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
