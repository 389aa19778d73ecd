//go:build !unix

package main

import "os"

// replaceProcess is nil where there is no execve: zwrm runs the command as
// a child instead.
var replaceProcess func(path string, argv, env []string) error

var relayedSignals = []os.Signal{os.Interrupt}

func exitCodeOf(ps *os.ProcessState) int { return ps.ExitCode() }
