//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
)

// watchSignals are the signals --restart-signal may name.
var watchSignals = map[string]syscall.Signal{
	"SIGHUP": syscall.SIGHUP, "SIGUSR1": syscall.SIGUSR1, "SIGUSR2": syscall.SIGUSR2,
	"SIGINT": syscall.SIGINT, "SIGTERM": syscall.SIGTERM, "SIGQUIT": syscall.SIGQUIT, "SIGWINCH": syscall.SIGWINCH,
}

func signalNames() []string {
	return []string{"SIGHUP", "SIGUSR1", "SIGUSR2", "SIGINT", "SIGTERM", "SIGQUIT", "SIGWINCH"}
}

// parseSignal reads a signal's name, with or without SIG, in any case.
func parseSignal(name string) (os.Signal, bool) {
	name = strings.ToUpper(name)
	if !strings.HasPrefix(name, "SIG") {
		name = "SIG" + name
	}
	s, ok := watchSignals[name]
	return s, ok
}

func signalName(s os.Signal) string {
	for name, v := range watchSignals {
		if v == s {
			return name
		}
	}
	return s.String()
}

// terminate asks the command to stop, as a supervisor does.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }

// isTermination reports whether s, relayed to the command, asks it to stop
// for good: the command is then not restarted.
func isTermination(s os.Signal) bool {
	return s == syscall.SIGINT || s == syscall.SIGTERM || s == syscall.SIGQUIT
}
