//go:build unix && !linux

package emulator

import "syscall"

// sysProcAttr puts the emulator in its own process group, so stopping it also stops anything
// it spawned. Without Linux's Pdeathsig an emulator outlives a test binary that dies before
// Run stops it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
