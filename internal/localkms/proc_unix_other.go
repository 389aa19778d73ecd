//go:build unix && !linux

package localkms

import "syscall"

func setDeathSignal(*syscall.SysProcAttr) {}
