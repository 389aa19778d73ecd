package main

// The CLI's tests run commands in-process through the cobra root, as main
// does, against a real local server (local.Serve on a loopback port, data in
// a temporary directory), with their own streams, environment and
// configuration directory.

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/testkit"
)

// server is a local server and its superadmin token.
type server struct {
	endpoint string
	token    string
}

// startServer runs local.Serve on a free loopback port until the test ends.
func startServer(t *testing.T) *server {
	t.Helper()
	srv := testkit.StartLocal(t, t.TempDir(), nil, local.Tuning{RotateEvery: time.Hour})
	return &server{endpoint: srv.URL(), token: testkit.DevToken(t, srv.Dir)}
}

// serveCLI is a local server and a CLI that uses its superadmin token. It
// marks the test parallel: each test has a server, a configuration
// directory and streams of its own, so every CLI test can run beside the
// others.
func serveCLI(t *testing.T) (*server, *cli) {
	t.Helper()
	t.Parallel()
	srv := startServer(t)
	return srv, newCLI(t, srv)
}

// needSh skips a test that runs commands through sh where there is none.
func needSh(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("needs sh")
	}
}

// cli runs zwrm commands with a given environment and configuration
// directory.
type cli struct {
	t         *testing.T
	mu        sync.Mutex
	env       map[string]string
	environ   []string // what `zwrm run` passes on
	configDir string
	cacheDir  string
	dir       string // the working directory, where .zwrm.yaml is looked for
}

// newCLI is a CLI whose token and endpoint come from ZWRM_ENDPOINT and
// ZWRM_TOKEN (srv's superadmin); nil srv leaves them unset.
func newCLI(t *testing.T, srv *server) *cli {
	c := &cli{t: t, env: map[string]string{}, configDir: t.TempDir(), cacheDir: t.TempDir(), dir: t.TempDir(), environ: []string{"PATH=" + os.Getenv("PATH")}}
	if srv != nil {
		c.env["ZWRM_ENDPOINT"] = srv.endpoint
		c.env["ZWRM_TOKEN"] = srv.token
	}
	return c
}

// as returns a copy of c that uses token.
func (c *cli) as(token string) *cli {
	n := &cli{t: c.t, env: map[string]string{}, environ: c.environ, configDir: c.configDir, cacheDir: c.cacheDir, dir: c.dir}
	for k, v := range c.env {
		n.env[k] = v
	}
	n.env["ZWRM_TOKEN"] = token
	return n
}

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(args ...string) result { return c.runIn("", args...) }

func (c *cli) runIn(stdin string, args ...string) result {
	c.t.Helper()
	var stdout, stderr bytes.Buffer
	a := &app{stdin: strings.NewReader(stdin), stdout: &stdout, stderr: &stderr,
		getenv:     func(k string) string { c.mu.Lock(); defer c.mu.Unlock(); return c.env[k] },
		environ:    func() []string { return append([]string(nil), c.environ...) },
		configDir:  func() (string, error) { return c.configDir, nil },
		cacheDir:   func() (string, error) { return c.cacheDir, nil },
		workDir:    func() (string, error) { return c.dir, nil },
		httpClient: newApp().httpClient}
	code := execute(context.Background(), a, args)
	return result{stdout: stdout.String(), stderr: stderr.String(), code: code}
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	return c.okIn("", args...)
}

func (c *cli) okIn(stdin string, args ...string) string {
	c.t.Helper()
	r := c.runIn(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("zwrm %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// fails runs a command that must exit with code, its stderr saying says.
func (c *cli) fails(code int, says string, args ...string) result {
	c.t.Helper()
	r := c.run(args...)
	if r.code != code || !strings.Contains(r.stderr, says) {
		c.t.Fatalf("zwrm %s: exit %d, stderr %q; want exit %d and %q", strings.Join(args, " "), r.code, r.stderr, code, says)
	}
	return r
}

// noValues fails the test if out holds any of the values.
func noValues(t *testing.T, what, out string, values ...string) {
	t.Helper()
	for _, v := range values {
		if strings.Contains(out, v) {
			t.Errorf("%s prints the value %q:\n%s", what, v, out)
		}
	}
}

// rows splits output into the fields of its non-empty lines.
func rows(out string) [][]string {
	var rs [][]string
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rs = append(rs, f)
		}
	}
	return rs
}

// names returns the first field of each row after the header.
func names(out string) []string {
	var ns []string
	for i, r := range rows(out) {
		if i > 0 {
			ns = append(ns, r[0])
		}
	}
	return ns
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}
