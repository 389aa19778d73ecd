//go:build !unix

package main

import "os"

// Without unix signals, a change can only restart the command.
func signalNames() []string { return nil }

func parseSignal(string) (os.Signal, bool) { return nil, false }

func signalName(s os.Signal) string { return s.String() }

func terminate(p *os.Process) error { return p.Kill() }

func isTermination(s os.Signal) bool { return s == os.Interrupt }
