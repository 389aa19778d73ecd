package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net"
	"strings"
	"testing"
	"time"
)

func TestSetWithoutEnvRefusesToReplaceDifferentValues(t *testing.T) {
	needSh(t)
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "LOG_LEVEL=debug", "--env", "development")
	c.ok("org", "secrets", "set", "LOG_LEVEL=warn", "--env", "production")
	printed := func(env string) string {
		return c.ok("run", "--env", env, "--", "sh", "-c", `printf %s "${LOG_LEVEL-unset}"`)
	}

	r := c.fails(exitUsage, "pass --env ENV to set one environment, or --all-environments to replace them all", "org", "secrets", "set", "LOG_LEVEL=info")
	if !strings.Contains(r.stderr, "different values in development, production") {
		t.Errorf("the refusal does not say which environments differ: %s", r.stderr)
	}
	noValues(t, "the refusal", r.stderr+r.stdout, "debug", "warn", "info")
	if got := printed("development"); got != "debug" {
		t.Errorf("after the refusal development is %q, want debug: the refusal changed something", got)
	}

	t.Run("one environment can still be set", func(t *testing.T) {
		c.ok("org", "secrets", "set", "LOG_LEVEL=info", "--env", "development")
	})
	t.Run("--all-environments replaces them all", func(t *testing.T) {
		c.fails(exitUsage, "contradict", "org", "secrets", "set", "LOG_LEVEL=x", "--env", "staging", "--all-environments")
		c.ok("org", "secrets", "set", "LOG_LEVEL=error", "--all-environments")
		if got := printed("development"); got != "error" {
			t.Errorf("development is %q, want error", got)
		}
	})
	t.Run("a secret with one value everywhere is set without a flag", func(t *testing.T) {
		c.ok("org", "secrets", "set", "LOG_LEVEL=fatal")
		if got := printed("development"); got != "fatal" {
			t.Errorf("development is %q, want fatal", got)
		}
	})

	t.Run("unset --env clears one environment only", func(t *testing.T) {
		c.ok("org", "settings", "--user-resolve-environments", "development,staging,production")
		out := c.ok("org", "secrets", "unset", "LOG_LEVEL", "--env", "staging")
		if !strings.Contains(out, "Cleared LOG_LEVEL's staging value") {
			t.Errorf("unset --env says %q", out)
		}
		for env, want := range map[string]string{"development": "fatal", "staging": "unset", "production": "fatal"} {
			if got := printed(env); got != want {
				t.Errorf("%s: LOG_LEVEL is %q, want %q", env, got, want)
			}
		}
		c.fails(exitUsage, "has no staging value", "org", "secrets", "unset", "LOG_LEVEL", "--env", "staging")
		if out := c.ok("org", "secrets", "history", "LOG_LEVEL"); !strings.Contains(out, "(current)") {
			t.Errorf("the history is gone after unset --env:\n%s", out)
		}
	})
}

func TestDiffExitCode(t *testing.T) {
	_, c := serveCLI(t)
	c.ok("org", "settings", "--user-resolve-environments", "development,staging,production")
	c.ok("org", "secrets", "set", "SAME=one")
	if r := c.run("diff", "--exit-code", "staging", "production"); r.code != 0 {
		t.Fatalf("diff --exit-code of equal environments exits %d, want 0: %s", r.code, r.stderr)
	}
	c.ok("org", "secrets", "set", "ONLY_PROD=x", "--env", "production")
	r := c.run("diff", "--exit-code", "staging", "production")
	if r.code != 1 || !strings.Contains(r.stdout, "ONLY_PROD") || r.stderr != "" {
		t.Errorf("diff --exit-code of different environments: exit %d, stdout %q, stderr %q; want exit 1, the difference, nothing on stderr", r.code, r.stdout, r.stderr)
	}
	if r := c.run("diff", "staging", "production"); r.code != 0 {
		t.Errorf("diff without --exit-code exits %d, want 0", r.code)
	}
}

func TestHistoryShowsFingerprintsThatTellVersionsApart(t *testing.T) {
	_, c := serveCLI(t)
	for _, v := range []string{"on", "off", "on"} {
		c.ok("org", "secrets", "set", "FLAG="+v, "--all-environments")
	}
	var vl struct {
		Versions []struct {
			Version      int64
			Masked       map[string]*string
			Fingerprints map[string]*string
		}
	}
	if err := json.Unmarshal([]byte(c.ok("org", "secrets", "history", "FLAG", "-o", "json")), &vl); err != nil {
		t.Fatal(err)
	}
	if len(vl.Versions) != 3 {
		t.Fatalf("%d versions, want 3", len(vl.Versions))
	}
	fp := func(i int, env string) string {
		t.Helper()
		p := vl.Versions[i].Fingerprints[env]
		if p == nil || len(*p) != 8 {
			t.Fatalf("version %d has fingerprint %v in %s, want 8 hex digits", vl.Versions[i].Version, p, env)
		}
		return *p
	}
	// Newest first: 3 (on), 2 (off), 1 (on).
	if fp(0, "development") != fp(2, "development") {
		t.Error("the same value has different fingerprints in two versions")
	}
	if fp(0, "development") == fp(1, "development") {
		t.Error("different values have the same fingerprint")
	}
	if fp(0, "development") == fp(0, "production") {
		t.Error("one value has the same fingerprint in two environments: the key is not per environment")
	}
	for _, v := range []string{"on", "off"} {
		sum := sha256.Sum256([]byte(v))
		if plain := hex.EncodeToString(sum[:4]); fp(0, "development") == plain || fp(1, "development") == plain {
			t.Errorf("a fingerprint is the plain SHA-256 of %q", v)
		}
	}
	out := c.ok("org", "secrets", "history", "FLAG")
	if !strings.Contains(out, fp(1, "staging")) || !strings.Contains(out, fp(2, "production")) {
		t.Errorf("the history table does not show the fingerprints:\n%s", out)
	}
	noValues(t, "history", out, "off")
}

func TestVersion(t *testing.T) {
	// Not parallel: it sets what -ldflags would.
	old := [3]string{version, commit, buildDate}
	version, commit, buildDate = "v9.8.7", "0123abc", "2026-01-02T03:04:05Z"
	defer func() { version, commit, buildDate = old[0], old[1], old[2] }()
	c := newCLI(t, nil)
	for _, args := range [][]string{{"--version"}, {"version"}} {
		out := c.ok(args...)
		for _, want := range []string{"v9.8.7", "0123abc", "2026-01-02T03:04:05Z"} {
			if !strings.Contains(out, want) {
				t.Errorf("zwrm %s prints %q, without %s", args[0], out, want)
			}
		}
	}
	version = ""
	if out := c.ok("version"); !strings.Contains(out, "zwrm ") || strings.Contains(out, "v9.8.7") {
		t.Errorf("without -ldflags zwrm version prints %q", out)
	}
}

func TestTimeoutBoundsACallToAServerThatNeverAnswers(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accept, then say nothing
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			defer conn.Close()
		}
	}()
	c := newCLI(t, nil)
	c.env["ZWRM_ENDPOINT"] = "http://" + ln.Addr().String()
	c.env["ZWRM_TOKEN"] = "zw_not-a-real-token"
	start := time.Now()
	r := c.run("--timeout", "300ms", "org", "secrets", "list")
	if took := time.Since(start); took > 10*time.Second || r.code != exitError {
		t.Errorf("--timeout 300ms: exit %d after %s (%s); want exit 1 well within 10s", r.code, took, r.stderr)
	}
	c.fails(exitUsage, "--timeout must be positive", "--timeout", "0s", "whoami")
}

func TestUnknownSubcommandIsSuggestedBeforeFlags(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	for _, args := range [][]string{{"secrets", "lst", "--app", "web"}, {"secrets", "lst"}, {"org", "secrets", "lst", "--env", "x"}} {
		r := c.fails(exitUsage, `unknown command "lst"`, args...)
		if !strings.Contains(r.stderr, `Did you mean "list"?`) || strings.Contains(r.stderr, "unknown flag") {
			t.Errorf("zwrm %s: %s", strings.Join(args, " "), r.stderr)
		}
	}
}

func TestLoginSaysWhenItCannotReachTheEndpoint(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	endpoint := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now
	c := newCLI(t, nil)
	r := c.runIn("zw_some-token", "login", "--endpoint", endpoint)
	if r.code != exitError || !strings.Contains(r.stderr, "cannot reach "+endpoint) || strings.Contains(r.stderr, "not accepted") {
		t.Errorf("login to a closed port: exit %d, %q; want exit 1 and cannot reach %s", r.code, r.stderr, endpoint)
	}
	noValues(t, "login", r.stderr, "zw_some-token")
}

func TestResolveHintsMatchTheTokenKind(t *testing.T) {
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "X=1")
	userHint := "or use a service token in ZWRM_TOKEN"
	t.Run("a user token refused staging is told about settings and service tokens", func(t *testing.T) {
		c.fails(exitAuth, userHint, "run", "--env", "staging", "--", "true")
	})
	t.Run("a service token refused staging is not told to use a service token", func(t *testing.T) {
		svc := strings.TrimSpace(c.ok("tokens", "create", "--kind", "service", "--name", "web-dev", "--app", "web", "--environments", "development"))
		r := c.as(svc).fails(exitAuth, "scope is fixed", "run", "--env", "staging", "--app", "web", "--", "true")
		if strings.Contains(r.stderr, userHint) || strings.Contains(r.stderr, "user-resolve-environments") {
			t.Errorf("a service token gets a user token's hint: %s", r.stderr)
		}
	})
}
