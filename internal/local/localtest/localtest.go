// Package localtest runs the local server (local.Serve) for tests: on a free
// loopback port, with its data in a directory the test names, stopped when
// the test ends.
package localtest

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/local"
)

// Server is a running local server.
type Server struct {
	Addr string // host:port it listens on
	Dir  string // its data directory
	stop func()
}

// URL is the server's base URL.
func (s *Server) URL() string { return "http://" + s.Addr }

// Stop stops the server and waits for it; stopping again does nothing.
func (s *Server) Stop() { s.stop() }

// Start runs local.Serve on 127.0.0.1:0 with data in dir, writing what it
// prints to out (io.Discard when nil), until Stop or the end of the test.
func Start(tb testing.TB, dir string, out io.Writer, tuning local.Tuning) *Server {
	tb.Helper()
	if out == nil {
		out = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- local.Serve(ctx, local.Options{Addr: "127.0.0.1:0", DataDir: dir, Out: out, Tuning: tuning,
			Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		cancel()
		tb.Fatalf("the local server stopped: %v", err)
	case <-time.After(10 * time.Second):
		cancel()
		tb.Fatal("the local server did not start within 10s")
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				tb.Errorf("local server: %v", err)
			}
		})
	}
	tb.Cleanup(stop)
	return &Server{Addr: addr, Dir: dir, stop: stop}
}

// SuperadminToken reads the dev organization's superadmin token from the
// token file the first start writes, checking its shape.
func SuperadminToken(tb testing.TB, dir string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(dir, local.TokenFile))
	if err != nil {
		tb.Fatal(err)
	}
	var tokens map[string]string
	if err := json.Unmarshal(b, &tokens); err != nil {
		tb.Fatalf("token file is not JSON: %v", err)
	}
	if len(tokens) != 1 || tokens["superadmin"] == "" {
		tb.Fatalf("token file = %s, want {\"superadmin\": token}", b)
	}
	return tokens["superadmin"]
}
