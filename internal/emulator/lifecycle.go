package emulator

import (
	"net"
	"net/url"
	"testing"
	"time"
)

// RunStopsWithItsTest runs start as the subtest name: it starts an
// emulator, checks what the emulator serves and returns its URL. Then it
// checks that the URL is on loopback, where tests speak to emulators, and
// that once the subtest has ended (and its cleanups have run) nothing
// listens there. A start that skips ends the check.
func RunStopsWithItsTest(t *testing.T, name string, start func(t *testing.T) string) {
	t.Helper()
	var addr string
	t.Run(name, func(t *testing.T) {
		raw := start(t)
		u, err := url.Parse(raw)
		if err != nil {
			t.Fatalf("server URL %q: %v", raw, err)
		}
		if got, want := u.Hostname(), "127.0.0.1"; got != want {
			t.Errorf("server host = %q, want %q (tests speak on loopback only)", got, want)
		}
		addr = u.Host
	})
	if addr == "" {
		return // skipped, or failed before it started
	}
	conn, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		conn.Close()
		t.Errorf("the emulator still accepts connections on %s after its test ended", addr)
	}
}
