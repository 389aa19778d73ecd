package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

const fallbackValue = "offline value 7f3c!"

// fallbackFiles lists the fallback files in c's cache directory.
func fallbackFiles(t *testing.T, c *cli) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(c.cacheDir, "zwrm", "fallback-*"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// fallbackPath is where c's fallback for development at the global layer
// lives for endpoint and token.
func fallbackPath(t *testing.T, c *cli, endpoint, token string) *fallbackFile {
	t.Helper()
	a := &app{cacheDir: func() (string, error) { return c.cacheDir, nil }}
	fb, err := a.fallbackFile(&target{endpoint: endpoint, token: token}, atLayer{env: secrets.Development})
	if err != nil {
		t.Fatal(err)
	}
	return fb
}

// createToken makes a member token and returns it and its id.
func createToken(t *testing.T, c *cli, name string) (token, id string) {
	t.Helper()
	token = strings.TrimSpace(c.ok("tokens", "create", "--name", name, "--subject", strings.ToLower(name)+"@dev.local", "--role", "member", "--expires", "30d"))
	var list struct {
		Tokens []struct{ ID, Name string } `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(c.ok("tokens", "list", "-o", "json")), &list); err != nil {
		t.Fatal(err)
	}
	for _, tk := range list.Tokens {
		if tk.Name == name {
			return token, tk.ID
		}
	}
	t.Fatalf("no token %s in the list", name)
	return "", ""
}

func TestRunFallsBackWhenTheAPICannotBeReached(t *testing.T) {
	needSh(t)
	t.Parallel()
	dev := testkit.StartLocal(t, t.TempDir(), nil, local.Tuning{RotateEvery: time.Hour})
	srv := &server{endpoint: dev.URL(), token: testkit.DevToken(t, dev.Dir)}
	c := newCLI(t, srv)
	c.ok("org", "secrets", "set", "FB_SECRET="+fallbackValue)
	printSecret := []string{"--", "sh", "-c", `printf %s "$FB_SECRET"`}
	run := func(c *cli, flags ...string) result {
		t.Helper()
		return c.run(append(append([]string{"run", "--env", "development"}, flags...), printSecret...)...)
	}

	// Online: the child gets the value and the fallback is saved, sealed.
	if r := run(c); r.code != 0 || r.stdout != fallbackValue || r.stderr != "" {
		t.Fatalf("online run: %+v", r)
	}
	files := fallbackFiles(t, c)
	if len(files) != 1 {
		t.Fatalf("fallback files after one run: %q, want one", files)
	}
	mine := files[0]
	if got, want := testkit.Perm(t, mine), os.FileMode(0o600); got != want {
		t.Errorf("the fallback's mode is %#o, want %#o", got, want)
	}
	if got, want := testkit.Perm(t, filepath.Dir(mine)), os.FileMode(0o700); got != want {
		t.Errorf("the fallback directory's mode is %#o, want %#o", got, want)
	}
	sealed, err := os.ReadFile(mine)
	if err != nil {
		t.Fatal(err)
	}
	for _, plain := range []string{fallbackValue, "FB_SECRET", srv.token, strings.TrimPrefix(srv.token, "zwrm_u_")} {
		if bytes.Contains(sealed, []byte(plain)) || strings.Contains(filepath.Base(mine), plain) {
			t.Errorf("the fallback file holds %q in plaintext", plain)
		}
	}
	if got, want := mine, fallbackPath(t, c, srv.endpoint, srv.token).path; got != want {
		t.Errorf("the fallback is %s, want %s", got, want)
	}

	// Another token has a file of its own and cannot open this one.
	bobToken, bobID := createToken(t, c, "Bob")
	bob := c.as(bobToken)
	if r := run(bob); r.code != 0 || r.stdout != fallbackValue {
		t.Fatalf("bob's online run: %+v", r)
	}
	if n := len(fallbackFiles(t, c)); n != 2 {
		t.Errorf("after another token's run there are %d fallback files, want 2", n)
	}
	carolToken, _ := createToken(t, c, "Carol")
	carol := c.as(carolToken)
	carol.fails(exitError, "no offline fallback is saved for development", "run", "--env", "development", "--fallback-only", "--", "true")
	carolFile := fallbackPath(t, c, srv.endpoint, carolToken).path
	if err := os.WriteFile(carolFile, sealed, 0o600); err != nil {
		t.Fatal(err)
	}
	carol.fails(exitError, "integrity check", "run", "--env", "development", "--fallback-only", "--", "true")
	os.Remove(carolFile)

	t.Run("--fallback-only reads it without calling the API", func(t *testing.T) {
		r := run(c, "--fallback-only")
		if r.code != 0 || r.stdout != fallbackValue || !strings.Contains(r.stderr, "resolved 0s ago") {
			t.Errorf("--fallback-only: %+v", r)
		}
		c.fails(exitUsage, "cannot be used together", "run", "--env", "development", "--no-fallback", "--fallback-only", "--", "true")
		c.fails(exitUsage, "positive duration", "run", "--env", "development", "--fallback-max-age", "0s", "--", "true")
	})

	t.Run("a revoked token (401) does not fall back and loses its fallback", func(t *testing.T) {
		bobFile := fallbackPath(t, c, srv.endpoint, bobToken).path
		if _, err := os.Stat(bobFile); err != nil {
			t.Fatalf("bob's fallback: %v", err)
		}
		c.ok("tokens", "revoke", bobID)
		r := bob.fails(exitAuth, "revoked", append([]string{"run", "--env", "development"}, printSecret...)...)
		if r.stdout != "" {
			t.Errorf("a revoked token's run printed %q", r.stdout)
		}
		if _, err := os.Stat(bobFile); !os.IsNotExist(err) {
			t.Errorf("after a 401 bob's fallback is still there (%v)", err)
		}
	})

	t.Run("a 5xx answer falls back", func(t *testing.T) {
		up, _ := url.Parse(srv.endpoint)
		var failing atomic.Bool
		proxy := httputil.NewSingleHostReverseProxy(up)
		front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if failing.Load() {
				http.Error(w, "unavailable", http.StatusServiceUnavailable)
				return
			}
			proxy.ServeHTTP(w, r)
		}))
		defer front.Close()
		viaFront := c.as(srv.token)
		viaFront.env["ZWRM_ENDPOINT"] = front.URL
		if r := run(viaFront); r.code != 0 || r.stdout != fallbackValue {
			t.Fatalf("run through the proxy: %+v", r)
		}
		failing.Store(true)
		r := run(viaFront)
		if r.code != 0 || r.stdout != fallbackValue || !strings.Contains(r.stderr, "the API could not be reached") {
			t.Errorf("run against a 503: %+v", r)
		}
		viaFront.fails(exitError, "", append([]string{"run", "--env", "development", "--no-fallback"}, printSecret...)...)
	})

	// The API is down: connection refused.
	dev.Stop()

	t.Run("the child gets the saved values and the warning names their age", func(t *testing.T) {
		r := run(c)
		if r.code != 0 || r.stdout != fallbackValue {
			t.Fatalf("offline run: %+v", r)
		}
		if want := "zwrm: the API could not be reached (cannot reach the API at " + srv.endpoint; !strings.HasPrefix(r.stderr, want) ||
			!strings.HasSuffix(r.stderr, "running with the secrets resolved 0s ago\n") {
			t.Errorf("offline run's warning: %q", r.stderr)
		}
		fb := fallbackPath(t, c, srv.endpoint, srv.token)
		if err := fb.write(srv.token, map[string]string{"FB_SECRET": fallbackValue}, time.Now().Add(-2*time.Hour-time.Minute)); err != nil {
			t.Fatal(err)
		}
		r = run(c)
		if r.code != 0 || r.stdout != fallbackValue || !strings.HasSuffix(r.stderr, "running with the secrets resolved 2h ago\n") {
			t.Errorf("offline run with a 2h old fallback: %+v", r)
		}
		noValues(t, "the warning", r.stderr, fallbackValue, srv.token)
	})

	t.Run("--no-fallback fails as before", func(t *testing.T) {
		r := c.fails(exitError, "cannot reach the API", append([]string{"run", "--env", "development", "--no-fallback"}, printSecret...)...)
		if r.stdout != "" {
			t.Errorf("--no-fallback ran the command: %q", r.stdout)
		}
	})

	t.Run("a fallback older than --fallback-max-age is refused", func(t *testing.T) {
		r := c.fails(exitError, "over --fallback-max-age 1ns", append([]string{"run", "--env", "development", "--fallback-max-age", "1ns"}, printSecret...)...)
		if r.stdout != "" || !strings.Contains(r.stderr, "cannot reach the API") {
			t.Errorf("a too old fallback: %+v", r)
		}
		if r := run(c, "--fallback-max-age", "3h"); r.code != 0 {
			t.Errorf("a 2h old fallback under --fallback-max-age 3h: %+v", r)
		}
	})

	t.Run("a changed file is refused and kept", func(t *testing.T) {
		b, err := os.ReadFile(mine)
		if err != nil {
			t.Fatal(err)
		}
		b[len(b)-5] ^= 1
		if err := os.WriteFile(mine, b, 0o600); err != nil {
			t.Fatal(err)
		}
		r := c.fails(exitError, "integrity check", append([]string{"run", "--env", "development"}, printSecret...)...)
		if r.stdout != "" {
			t.Errorf("a tampered fallback ran the command: %q", r.stdout)
		}
		if _, err := os.Stat(mine); err != nil {
			t.Errorf("the refused file is gone: %v", err)
		}
	})
}

// A resolve that times out (a server that accepts and never answers) falls
// back; an interrupt does not.
func TestFallbackOnATimeout(t *testing.T) {
	t.Parallel()
	hang := make(chan struct{})
	stuck := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	defer stuck.Close()
	defer close(hang)
	c := newCLI(t, &server{endpoint: stuck.URL, token: "zwrm_u_" + strings.Repeat("a", 43)})
	var stderr bytes.Buffer
	a := &app{stderr: &stderr, getenv: func(k string) string { return c.env[k] },
		configDir:  func() (string, error) { return c.configDir, nil },
		cacheDir:   func() (string, error) { return c.cacheDir, nil },
		httpClient: &http.Client{Timeout: 200 * time.Millisecond}}
	fb := fallbackPath(t, c, stuck.URL, c.env["ZWRM_TOKEN"])
	if err := fb.write(c.env["ZWRM_TOKEN"], map[string]string{"A": "b"}, time.Now()); err != nil {
		t.Fatal(err)
	}
	at := atLayer{env: secrets.Development}
	values, err := a.resolveForRun(context.Background(), at, &fallbackFlags{maxAge: time.Hour})
	if err != nil || values["A"] != "b" || !strings.Contains(stderr.String(), "could not be reached") {
		t.Errorf("a client timeout: %v %v %q", values, err, stderr.String())
	}
	a.httpClient = &http.Client{}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if values, err := a.resolveForRun(ctx, at, &fallbackFlags{maxAge: time.Hour}); err != nil || values["A"] != "b" {
		t.Errorf("a deadline: %v %v", values, err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	go func() { time.Sleep(100 * time.Millisecond); cancel() }()
	if _, err := a.resolveForRun(ctx, at, &fallbackFlags{maxAge: time.Hour}); err == nil {
		t.Errorf("an interrupted resolve fell back")
	}
}

func TestFallbackAge(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{-time.Minute, "0s"}, {45 * time.Second, "45s"}, {12*time.Minute + 5*time.Second, "12m"},
		{2*time.Hour + 59*time.Minute, "2h"}, {47 * time.Hour, "47h"}, {72 * time.Hour, "3d"}, {76 * time.Hour, "3d4h"},
	} {
		if got := fallbackAge(tt.d); got != tt.want {
			t.Errorf("fallbackAge(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestRunStillRunsWhenTheFallbackCannotBeSaved(t *testing.T) {
	needSh(t)
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "A=b")
	if out := c.ok("run", "--env", "development", "--no-fallback", "--", "true"); out != "" || len(fallbackFiles(t, c)) != 0 {
		t.Errorf("--no-fallback saved a fallback (%q)", out)
	}
	// A cache directory that cannot be written (a read-only home in a
	// container): the command runs, and stderr says the fallback is off.
	c.cacheDir = filepath.Join(t.TempDir(), "not-a-directory")
	if err := os.WriteFile(c.cacheDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r := c.run("run", "--env", "development", "--", "sh", "-c", `printf %s "$A"`)
	if r.code != 0 || r.stdout != "b" || !strings.Contains(r.stderr, "the offline fallback was not saved (--no-fallback turns this off)") {
		t.Errorf("run with an unwritable cache: %+v", r)
	}
	if r := c.run("run", "--env", "development", "--no-fallback", "--", "true"); r.code != 0 || r.stderr != "" {
		t.Errorf("--no-fallback with an unwritable cache: %+v", r)
	}
}
