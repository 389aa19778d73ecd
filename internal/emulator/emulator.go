// Package emulator runs a third-party emulator (dynalite, local-kms) as a
// process for the duration of a test: on a free port, in a process group of
// its own that dies with the test binary, with its output kept for failure
// messages, stopped when the test ends. An emulator that cannot run skips
// the test, unless CI=true, where that is a failure.
//
// It is the shared part of the packages that wrap one emulator each; they
// say how to find and run theirs.
package emulator

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"testing"
	"time"
)

const (
	// startTimeout bounds the wait for an emulator to accept connections.
	startTimeout = 20 * time.Second
	// stopTimeout is how long a stopping emulator gets after SIGTERM
	// before it is killed.
	stopTimeout = 5 * time.Second
	// startAttempts covers the race between picking a free port and the
	// emulator binding it.
	startAttempts = 3
)

// Emulator describes one emulator.
type Emulator struct {
	// Name names it in messages: "dynalite".
	Name string
	// Hint says what to do when it cannot run.
	Hint string
	// Host is the address it binds, where its port must be free:
	// "127.0.0.1", or "" for every interface. Tests connect on loopback.
	Host string
}

// Command returns the command that runs the emulator on port, and a
// cleanup (or nil) that is called once the process has exited or failed
// to start.
type Command func(port int) (cmd *exec.Cmd, cleanup func(), err error)

// Unavailable ends tb: a skip on a developer's machine, a failure in CI.
func (e Emulator) Unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("%s is required when CI=true but cannot run: %v; %s", e.Name, err, e.Hint)
		return
	}
	tb.Skipf("%s cannot run: %v; %s", e.Name, err, e.Hint)
}

// Start runs command on a free port for the duration of tb and returns
// once the process accepts connections on loopback. It stops the process
// (and anything it started) with tb.Cleanup. When it does not start, it
// ends tb with Unavailable.
func (e Emulator) Start(tb testing.TB, command Command) *Process {
	tb.Helper()
	var lastErr error
	for range startAttempts {
		p, err := e.start(command)
		if err == nil {
			tb.Cleanup(p.stop)
			return p
		}
		lastErr = err
	}
	e.Unavailable(tb, lastErr)
	return nil
}

// Process is a running emulator.
type Process struct {
	// Addr is where it accepts connections: 127.0.0.1:PORT.
	Addr string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	waitMu sync.Mutex
	output *syncBuffer
}

// Output returns what the process has printed so far, for failure messages.
func (p *Process) Output() string { return p.output.String() }

func (e Emulator) start(command Command) (*Process, error) {
	port, err := freePort(e.Host)
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	cmd, cleanup, err := command(port)
	if err != nil {
		return nil, err
	}
	if cleanup == nil {
		cleanup = func() {}
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		cleanup()
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &Process{Addr: addr, cmd: cmd, done: make(chan struct{}), output: out}
	go func() {
		_ = cmd.Wait()
		cleanup()
		close(p.done)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return p, nil
		}
		select {
		case <-p.done:
			return nil, fmt.Errorf("%s exited at start (%s): %s", e.Name, cmd.ProcessState, bytes.TrimSpace(out.Bytes()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			p.stop()
			return nil, fmt.Errorf("%s did not accept connections on %s within %s: %s", e.Name, addr, startTimeout, bytes.TrimSpace(out.Bytes()))
		}
	}
}

// freePort returns a port that was free on host a moment ago. Not every
// emulator can pick one itself (dynalite reads port 0 as its default port).
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// stop ends the process group: SIGTERM, then SIGKILL if it lingers.
func (p *Process) stop() {
	p.waitMu.Lock()
	defer p.waitMu.Unlock()
	select {
	case <-p.done:
		return
	default:
	}
	terminate(p.cmd, false)
	select {
	case <-p.done:
	case <-time.After(stopTimeout):
		terminate(p.cmd, true)
		<-p.done
	}
}

// syncBuffer collects the process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the first 64 KiB: enough to say why it failed.
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }
