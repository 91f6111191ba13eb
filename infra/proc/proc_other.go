//go:build !unix

package proc

import "syscall"

// Without process groups only the direct child is stopped.

func sysProcAttr() *syscall.SysProcAttr { return nil }

func killGroup(int, bool) {}

func groupAlive(int) bool { return false }
