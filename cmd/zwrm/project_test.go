package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestSetupWritesProjectDefaultsThatCommandsBelowUse(t *testing.T) {
	needSh(t)
	srv, c := serveCLI(t)
	c.ok("org", "settings", "--user-resolve-environments", "development,staging,production")
	c.ok("org", "secrets", "set", "WHERE=global")
	c.ok("secrets", "set", "--app", "web", "WHERE=web")
	c.ok("secrets", "set", "--app", "web", "--machine", "web-1", "--env", "staging", "WHERE=web-1 staging")

	t.Run("run without --env fails before setup", func(t *testing.T) {
		r := c.fails(exitUsage, `required flag(s) "env" not set`, "run", "--", "sh", "-c", "true")
		if !strings.Contains(r.stderr, "zwrm setup --env ENV") {
			t.Errorf("the refusal does not point at zwrm setup: %s", r.stderr)
		}
	})

	out := c.ok("setup", "--app", "web", "--env", "dev")
	path := filepath.Join(c.dir, ".zwrm.yaml")
	if !strings.Contains(out, path) {
		t.Errorf("setup says %q, want the file's path %s", out, path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := string(b); !strings.Contains(got, `app: "web"`) || !strings.Contains(got, `environment: "development"`) || strings.Contains(got, srv.token) {
		t.Errorf(".zwrm.yaml is\n%s\nwant app and environment, never the token", got)
	}

	// Commands run in a directory below the project's use its defaults.
	sub := filepath.Join(c.dir, "src", "deep")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	below := c.as(srv.token)
	below.dir = sub

	t.Run("run needs no --env or --app once set up", func(t *testing.T) {
		if out := below.ok("run", "--", "sh", "-c", `printf %s "$WHERE"`); out != "web" {
			t.Errorf("run printed %q, want the app's development value", out)
		}
	})
	t.Run("flags override the file", func(t *testing.T) {
		if out := below.ok("run", "--env", "staging", "--machine", "web-1", "--", "sh", "-c", `printf %s "$WHERE"`); out != "web-1 staging" {
			t.Errorf("run printed %q, want the machine's staging value", out)
		}
	})
	t.Run("ZWRM_ variables override the file", func(t *testing.T) {
		env := below.as(srv.token)
		env.env["ZWRM_ENV"] = "staging"
		env.env["ZWRM_MACHINE"] = "web-1"
		if out := env.ok("run", "--", "sh", "-c", `printf %s "$WHERE"`); out != "web-1 staging" {
			t.Errorf("run printed %q, want the machine's staging value", out)
		}
		out := env.ok("whoami")
		for _, want := range []string{"project", path, "app", "web (from " + path + ")", "environment", "staging (from ZWRM_ENV)", "machine", "web-1 (from ZWRM_MACHINE)"} {
			if !strings.Contains(out, want) {
				t.Errorf("whoami does not say %q:\n%s", want, out)
			}
		}
	})
	t.Run("a machine from the file is not put beside another --app", func(t *testing.T) {
		c.ok("setup", "--app", "web", "--machine", "web-1", "--env", "staging")
		if out := below.ok("run", "--app", "api", "--", "sh", "-c", `printf %s "$WHERE"`); out != "global" {
			t.Errorf("run printed %q, want api's (the global) value", out)
		}
	})
	t.Run("set without --env still writes every environment", func(t *testing.T) {
		below.ok("secrets", "set", "ALL=one")
		for _, env := range []string{"development", "staging", "production"} {
			if out := below.ok("run", "--env", env, "--", "sh", "-c", `printf %s "$ALL"`); out != "one" {
				t.Errorf("%s: ALL is %q, want one", env, out)
			}
		}
	})
}

func TestProjectFileIsStrict(t *testing.T) {
	_, c := serveCLI(t)
	write := func(content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(c.dir, ".zwrm.yaml"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct{ name, content, says string }{
		{"an unknown key is refused", "app: web\nenviroment: staging\n", `unknown key "enviroment" (allowed: app, machine, environment, endpoint)`},
		{"a token is refused", "app: web\ntoken: zw_abc\n", "a token does not belong in .zwrm.yaml"},
		{"a bad environment is refused", "environment: prod2\n", `environment "prod2"`},
		{"a key given twice is refused", "app: web\napp: api\n", "app is given twice"},
		{"nesting is refused", "app:\n  name: web\n", "nested values are not supported"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			write(tc.content)
			r := c.fails(exitUsage, tc.says, "secrets", "list")
			if !strings.Contains(r.stderr, filepath.Join(c.dir, ".zwrm.yaml")+": ") {
				t.Errorf("the refusal does not name the file and line: %s", r.stderr)
			}
			if strings.Contains(r.stderr, "zw_abc") {
				t.Errorf("the refusal prints the token: %s", r.stderr)
			}
		})
	}
	t.Run("a file every user may write is refused", func(t *testing.T) {
		write("app: web\n")
		path := filepath.Join(c.dir, ".zwrm.yaml")
		if err := os.Chmod(path, 0o666); err != nil {
			t.Fatal(err)
		}
		c.fails(exitUsage, "writable by every user", "secrets", "list")
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("import names its environment itself", func(t *testing.T) {
		write("app: web\nenvironment: production\n")
		env := filepath.Join(c.dir, "x.env")
		if err := os.WriteFile(env, []byte("A=1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		c.fails(exitUsage, `"env" not set`, "import", env)
	})
	t.Run("quotes and comments are read", func(t *testing.T) {
		write("# defaults\napp: 'web' # the app\nenvironment: \"staging\"\n")
		c.ok("secrets", "set", "X=1")
		if out := c.ok("secrets", "list", "--app", "web"); !strings.Contains(out, "X") {
			t.Errorf("list --app web:\n%s", out)
		}
	})
}

func TestProjectEndpointOnlySelectsALoggedInProfile(t *testing.T) {
	srv, admin := serveCLI(t)
	c := newCLI(t, nil)
	c.dir = admin.dir
	c.okIn(srv.token, "login", "--profile", "local", "--endpoint", srv.endpoint)
	if err := os.WriteFile(filepath.Join(c.dir, ".zwrm.yaml"), []byte("endpoint: "+srv.endpoint+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("the profile logged in to the project's endpoint is used", func(t *testing.T) {
		if out := c.ok("whoami"); !strings.Contains(out, "local") {
			t.Errorf("whoami:\n%s", out)
		}
	})
	t.Run("a token is not sent to an endpoint nobody logged in to", func(t *testing.T) {
		if err := os.WriteFile(filepath.Join(c.dir, ".zwrm.yaml"), []byte("endpoint: http://127.0.0.1:1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		c.fails(exitAuth, "no profile is logged in to it", "whoami")
		withToken := c.as(srv.token)
		withToken.fails(exitAuth, "no profile is logged in to it", "whoami")
	})
}

func TestSetupWithoutATerminalNeedsFlags(t *testing.T) {
	c := newCLI(t, nil)
	c.fails(exitUsage, "name at least one of --app, --env or --endpoint", "setup")
	c.fails(exitUsage, "needs an app", "setup", "--machine", "web-1", "--env", "dev")
	if _, err := os.Stat(filepath.Join(c.dir, ".zwrm.yaml")); err == nil {
		t.Error("a refused setup wrote .zwrm.yaml")
	}
}
