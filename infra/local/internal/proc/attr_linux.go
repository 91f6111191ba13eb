package proc

import "syscall"

func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig covers the runner being killed with SIGKILL, when no cleanup runs.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
