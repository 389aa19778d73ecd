//go:build unix && !linux

package emulator

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
