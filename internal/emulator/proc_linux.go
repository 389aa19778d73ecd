package emulator

import "syscall"

// setDeathSignal has Linux kill the emulator if the test binary dies without
// running its cleanups (a -timeout panic, a SIGKILL).
func setDeathSignal(attr *syscall.SysProcAttr) { attr.Pdeathsig = syscall.SIGKILL }
