//go:build unix

package proc

import "syscall"

func killGroup(pid int, force bool) {
	sig := syscall.SIGTERM
	if force {
		sig = syscall.SIGKILL
	}
	_ = syscall.Kill(-pid, sig)
}

func groupAlive(pid int) bool {
	return syscall.Kill(-pid, 0) == nil
}
