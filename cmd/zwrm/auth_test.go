package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/zwrm/secrets/internal/testkit"
)

func readConfig(t *testing.T, path string) config {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var cfg config
	if err := json.Unmarshal(b, &cfg); err != nil {
		t.Fatal(err)
	}
	return cfg
}

func TestLoginSavesAProfileThatLaterCommandsUse(t *testing.T) {
	t.Parallel()
	srv := startServer(t)
	c := newCLI(t, nil)
	path := filepath.Join(c.configDir, "zwrm", "config.json")

	c.fails(exitAuth, "not logged in: run zwrm login", "whoami")

	out := c.okIn(srv.token+"\n", "login", "--endpoint", srv.endpoint+"/")
	if !strings.Contains(out, "Dev Superadmin") || !strings.Contains(out, `profile "default"`) || !strings.Contains(out, path) {
		t.Errorf("login says %q", out)
	}
	noValues(t, "login", out, srv.token)
	if got := testkit.Perm(t, path); got != 0o600 {
		t.Errorf("config file mode = %#o, want 0600", got)
	}
	if got := testkit.Perm(t, filepath.Dir(path)); got != 0o700 {
		t.Errorf("config directory mode = %#o, want 0700", got)
	}
	if got := readConfig(t, path).Profiles["default"]; got.Endpoint != srv.endpoint || got.Token != srv.token {
		t.Errorf("saved profile = %+v", got)
	}

	who := c.ok("whoami")
	for _, want := range []string{srv.endpoint, "default", "dev", "superadmin@dev.local", "superadmin (1000)"} {
		if !strings.Contains(who, want) {
			t.Errorf("whoami lacks %q:\n%s", want, who)
		}
	}
	c.ok("org", "secrets", "set", "FROM_PROFILE=yes")

	t.Run("a refused token is not saved", func(t *testing.T) {
		r := c.runIn("zwrm_u_"+strings.Repeat("x", 43), "login", "--profile", "bad", "--endpoint", srv.endpoint)
		if r.code != exitAuth || !strings.Contains(r.stderr, "nothing saved") {
			t.Errorf("login with a bad token: exit %d, %q", r.code, r.stderr)
		}
		if _, ok := readConfig(t, path).Profiles["bad"]; ok {
			t.Error("the refused token was saved")
		}
		c.fails(exitUsage, "no token given", "login", "--endpoint", srv.endpoint)
		c.fails(exitUsage, "--endpoint is required", "login", "--profile", "new")
	})

	t.Run("a profile's token is never sent to another ZWRM_ENDPOINT", func(t *testing.T) {
		var got []string
		var mu sync.Mutex
		trap := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			got = append(got, r.Header.Get("Authorization"))
			mu.Unlock()
			http.Error(w, `{"error":{"code":"unauthorized","message":"no"}}`, http.StatusUnauthorized)
		}))
		defer trap.Close()
		elsewhere := c.as("")
		delete(elsewhere.env, "ZWRM_TOKEN")
		elsewhere.env["ZWRM_ENDPOINT"] = trap.URL
		elsewhere.fails(exitAuth, "is not profile \"default\"'s endpoint", "whoami")
		mu.Lock()
		defer mu.Unlock()
		if len(got) != 0 {
			t.Fatalf("the trap server received %d requests (Authorization %q)", len(got), got)
		}
	})

	t.Run("profiles are chosen with --profile or ZWRM_PROFILE", func(t *testing.T) {
		member := strings.TrimSpace(c.ok("tokens", "create", "--name", "Bob", "--subject", "bob@dev.local", "--role", "member"))
		c.okIn(member, "login", "--profile", "bob", "--endpoint", srv.endpoint)
		if out := c.ok("whoami", "--profile", "bob"); !strings.Contains(out, "bob@dev.local") {
			t.Errorf("whoami --profile bob = %q", out)
		}
		bob := c.as("")
		delete(bob.env, "ZWRM_TOKEN")
		bob.env["ZWRM_PROFILE"] = "bob"
		if out := bob.ok("whoami"); !strings.Contains(out, "bob@dev.local") {
			t.Errorf("ZWRM_PROFILE=bob whoami = %q", out)
		}
		c.fails(exitAuth, `no profile "nobody"`, "whoami", "--profile", "nobody")
		c.fails(exitUsage, "profile", "whoami", "--profile", "../etc")
	})

	t.Run("ZWRM_ENDPOINT and ZWRM_TOKEN override the profile", func(t *testing.T) {
		bad := c.as("zwrm_u_" + strings.Repeat("y", 43))
		bad.fails(exitAuth, "token", "whoami")
		elsewhere := c.as(srv.token)
		elsewhere.env["ZWRM_ENDPOINT"] = "http://127.0.0.1:1"
		elsewhere.fails(exitError, "cannot reach the API at http://127.0.0.1:1", "whoami")
	})

	t.Run("logout forgets the profile", func(t *testing.T) {
		c.ok("logout", "--profile", "bob")
		c.fails(exitAuth, `no profile "bob"`, "whoami", "--profile", "bob")
		c.ok("whoami")
	})

	t.Run("a configuration others may read is refused", func(t *testing.T) {
		if runtime.GOOS == "windows" {
			t.Skip("no permission bits")
		}
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		c.fails(exitError, "chmod 600", "whoami")
		if err := os.Chmod(path, 0o600); err != nil {
			t.Fatal(err)
		}
	})
}

func TestLoginWritesToTheUserConfigDirectory(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("XDG_CONFIG_HOME names the configuration directory on Linux")
	}
	srv := startServer(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg"))
	t.Setenv("ZWRM_ENDPOINT", "")
	t.Setenv("ZWRM_TOKEN", "")
	t.Setenv("ZWRM_API_TOKEN", "")
	t.Setenv("ZWRM_PROFILE", "")
	a := newApp()
	var stdout, stderr strings.Builder
	a.stdin, a.stdout, a.stderr = strings.NewReader(srv.token), &stdout, &stderr
	if code := execute(t.Context(), a, []string{"login", "--endpoint", srv.endpoint}); code != 0 {
		t.Fatalf("login: exit %d: %s", code, stderr.String())
	}
	path := filepath.Join(home, "xdg", "zwrm", "config.json")
	if got := testkit.Perm(t, path); got != 0o600 {
		t.Errorf("%s mode = %#o, want 0600", path, got)
	}
}
