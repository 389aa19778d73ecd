package testkit

// The local server (local.Serve), as `zwrm dev` runs it: on a free
// loopback port, with its data in a directory the test names, stopped when
// the test ends.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/local"
)

// LocalServer is a running local server.
type LocalServer struct {
	Addr string // host:port it listens on
	Dir  string // its data directory
	stop func()
}

// URL is the server's base URL.
func (s *LocalServer) URL() string { return "http://" + s.Addr }

// Stop stops the server and waits for it; stopping again does nothing.
func (s *LocalServer) Stop() { s.stop() }

// StartLocal runs local.Serve on 127.0.0.1:0 with data in dir, writing what it
// prints to out (io.Discard when nil), until Stop or the end of the test.
func StartLocal(tb testing.TB, dir string, out io.Writer, tuning local.Tuning) *LocalServer {
	tb.Helper()
	if out == nil {
		out = io.Discard
	}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- local.Serve(ctx, local.Options{Addr: "127.0.0.1:0", DataDir: dir, Out: out, Tuning: tuning,
			Logger: Quiet(), Ready: func(a string) { ready <- a }})
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
	return &LocalServer{Addr: addr, Dir: dir, stop: stop}
}

// DevToken reads the dev organization's superadmin token from the
// token file the first start writes, checking its shape.
func DevToken(tb testing.TB, dir string) string {
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

// Call sends method to url with a bearer token (none when empty) and a
// JSON body (none when empty), and returns the status and the body.
func Call(tb testing.TB, method, url, token, body string) (int, []byte) {
	tb.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp.StatusCode, b
}

// Perm is the permission bits of the file at path.
func Perm(tb testing.TB, path string) os.FileMode {
	tb.Helper()
	info, err := os.Stat(path)
	if err != nil {
		tb.Fatal(err)
	}
	return info.Mode().Perm()
}
