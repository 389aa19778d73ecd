package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/zwrm/secrets/client"
)

func TestExitCodesSayWhatKindOfError(t *testing.T) {
	srv, c := serveCLI(t)
	c.ok("org", "secrets", "set", "TAKEN=1")
	member := strings.TrimSpace(c.ok("tokens", "create", "--name", "Bob", "--subject", "bob@dev.local", "--role", "member"))
	invalidUTF8 := writeFile(t, "bad-utf8", "\xff\xfe")
	arn := "arn:aws:iam::123456789012:role/web"
	c.ok("tokens", "create", "--kind", "iam", "--name", "web", "--principal-arn", arn, "--environments", "production")
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprint(w, `{"error": {"code": "internal", "message": "internal error; quote request id r-1 when reporting it", "request_id": "r-1"}}`)
	}))
	t.Cleanup(down.Close)
	broken := c.as(srv.token)
	broken.env["ZWRM_ENDPOINT"] = down.URL
	unreachable := c.as(srv.token)
	unreachable.env["ZWRM_ENDPOINT"] = "http://127.0.0.1:1"
	nobody := newCLI(t, nil)

	for _, tt := range []struct {
		name string
		cli  *cli
		args []string
		code int
		says string
	}{
		{"an unknown command is a usage error", c, []string{"secrets", "frobnicate"}, exitUsage, `unknown command "frobnicate"`},
		{"an unknown flag is a usage error", c, []string{"org", "secrets", "list", "--bogus"}, exitUsage, "unknown flag: --bogus"},
		{"a missing argument is a usage error", c, []string{"org", "secrets", "unset"}, exitUsage, "requires at least 1 arg"},
		{"a missing required flag is a usage error", c, []string{"export"}, exitUsage, `required flag(s) "env" not set`},
		{"a bad --output is a usage error", c, []string{"whoami", "-o", "yaml"}, exitUsage, "--output must be table or json"},
		{"a bad app id is a usage error", c, []string{"secrets", "list", "--app", "Web"}, exitUsage, "app:"},
		{"a value that is not UTF-8 is a usage error", c, []string{"org", "secrets", "set", "X=@" + invalidUTF8}, exitUsage, "not UTF-8"},
		{"a request the API refuses (400) is a usage error", c, []string{"tokens", "create", "--name", "x", "--role", "member"}, exitUsage, "subject"},
		{"not logged in is an auth error", nobody, []string{"org", "secrets", "list"}, exitAuth, "not logged in"},
		{"a bad token (401) is an auth error", c.as("zwrm_u_" + strings.Repeat("z", 43)), []string{"org", "secrets", "list"}, exitAuth, "token"},
		{"a forbidden call (403) is an auth error", c.as(member), []string{"tokens", "list"}, exitAuth, "admin"},
		{"another's secret (403) is an auth error", c.as(member), []string{"org", "secrets", "set", "TAKEN=2"}, exitAuth, "Only Dev Superadmin can modify this secret"},
		{"an absent secret (404) is not found", c, []string{"org", "secrets", "unset", "ABSENT"}, exitNotFound, "ABSENT not found"},
		{"an absent token (404) is not found", c, []string{"tokens", "revoke", "00000000000000000000000000000000"}, exitNotFound, ""},
		{"a taken registration (409) is a conflict", c, []string{"tokens", "create", "--kind", "iam", "--name", "web", "--principal-arn", arn, "--environments", "production"}, exitConflict, "already registered"},
		{"a server error (500) is an error", broken, []string{"whoami"}, exitError, "quote request id r-1"},
		{"an unreachable server is an error", unreachable, []string{"whoami"}, exitError, "cannot reach the API"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.cli.run(tt.args...)
			if r.code != tt.code || !strings.Contains(r.stderr, tt.says) || !strings.HasPrefix(r.stderr, "zwrm: ") {
				t.Errorf("zwrm %v: exit %d, stderr %q; want exit %d and %q", tt.args, r.code, r.stderr, tt.code, tt.says)
			}
			if r.stdout != "" && tt.code != exitUsage {
				t.Errorf("an error printed on stdout: %q", r.stdout)
			}
		})
	}

	t.Run("with --output json the error is JSON on stderr", func(t *testing.T) {
		r := c.run("org", "secrets", "unset", "ABSENT", "-o", "json")
		var body struct {
			Error client.Error `json:"error"`
		}
		if err := json.Unmarshal([]byte(r.stderr), &body); err != nil || r.code != exitNotFound {
			t.Fatalf("exit %d, stderr %q (%v)", r.code, r.stderr, err)
		}
		if body.Error.Status != 404 || body.Error.Code != "not_found" || body.Error.RequestID == "" || !strings.Contains(body.Error.Message, "ABSENT") {
			t.Errorf("error = %+v", body.Error)
		}
	})
}

func TestExitCodeOfStatus(t *testing.T) {
	for status, want := range map[int]int{
		400: exitUsage, 413: exitUsage, 401: exitAuth, 403: exitAuth, 404: exitNotFound, 409: exitConflict,
		405: exitError, 415: exitError, 500: exitError, 502: exitError, 503: exitError,
	} {
		if got := exitCodeOfStatus(status); got != want {
			t.Errorf("exitCodeOfStatus(%d) = %d, want %d", status, got, want)
		}
	}
	for _, tt := range []struct {
		err  error
		want int
	}{
		{errors.New("from cobra"), exitUsage},
		{&runError{errors.New("from a command")}, exitError},
		{&runError{usagef("bad")}, exitUsage},
		{&runError{&notLoggedIn{"x"}}, exitAuth},
		{&runError{fmt.Errorf("wrapped: %w", &client.Error{Status: 409})}, exitConflict},
		{&runError{&exitStatus{code: 42}}, 42},
		{&runError{context.Canceled}, 130},
	} {
		if got := exitCode(tt.err); got != tt.want {
			t.Errorf("exitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
}
