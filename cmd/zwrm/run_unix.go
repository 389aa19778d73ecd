//go:build unix

package main

import (
	"os"
	"syscall"
)

// replaceProcess replaces zwrm with the command (execve): the command keeps
// zwrm's process id, so signals reach it directly and its exit code is the
// one zwrm's caller sees.
func replaceProcess(path string, argv, env []string) error { return syscall.Exec(path, argv, env) }

var relayedSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGWINCH}

// exitCodeOf is the process's exit code, or 128+N if signal N ended it, as
// a shell reports it.
func exitCodeOf(ps *os.ProcessState) int {
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}
