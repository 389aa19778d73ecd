package main

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestTokensAndAudit(t *testing.T) {
	_, c := serveCLI(t)

	r := c.run("tokens", "create", "--name", "Bob", "--subject", "bob@dev.local", "--role", "member", "--expires", "30d")
	if r.code != 0 || !regexp.MustCompile(`^zwrm_u_[A-Za-z0-9_-]{43}\n$`).MatchString(r.stdout) || !strings.Contains(r.stderr, "shown this once") {
		t.Fatalf("tokens create: %+v; want the token alone on stdout", r)
	}
	bob := c.as(strings.TrimSpace(r.stdout))
	if out := bob.ok("whoami"); !strings.Contains(out, "member (10)") {
		t.Errorf("the new token's whoami:\n%s", out)
	}
	svc := strings.TrimSpace(c.ok("tokens", "create", "--kind", "service", "--name", "web-prod", "--app", "web", "--environments", "production"))
	c.ok("secrets", "set", "--app", "web", "K=prod-value", "--env", "production")
	if out := c.as(svc).ok("export", "--env", "production"); out != "K=prod-value\n" {
		t.Errorf("a service token exports its scope: %q", out)
	}
	c.as(svc).fails(exitAuth, "may not resolve development", "export", "--env", "development")

	list := c.ok("tokens", "list")
	for _, want := range []string{"Bob", "bob@dev.local, member", "web-prod", "web layer, resolves production", "active"} {
		if !strings.Contains(list, want) {
			t.Errorf("tokens list lacks %q:\n%s", want, list)
		}
	}
	noValues(t, "tokens list", list, bob.env["ZWRM_TOKEN"][8:], svc[8:])
	var tokens struct {
		Tokens []struct {
			ID    string `json:"id"`
			Name  string `json:"name"`
			Token string `json:"token"`
		} `json:"tokens"`
	}
	if err := json.Unmarshal([]byte(c.ok("tokens", "list", "-o", "json")), &tokens); err != nil || len(tokens.Tokens) != 3 {
		t.Fatalf("tokens list -o json: %+v (%v)", tokens, err)
	}
	var bobID string
	for _, tk := range tokens.Tokens {
		if tk.Token != "" {
			t.Errorf("tokens list -o json shows a token")
		}
		if tk.Name == "Bob" {
			bobID = tk.ID
		}
	}
	if out := c.ok("tokens", "revoke", bobID); !strings.Contains(out, "Revoked token "+bobID) {
		t.Errorf("revoke says %q", out)
	}
	bob.fails(exitAuth, "revoked", "whoami")
	if out := c.ok("tokens", "list"); !strings.Contains(out, "revoked") {
		t.Errorf("tokens list after revoke:\n%s", out)
	}
	c.fails(exitUsage, "--expires", "tokens", "create", "--name", "x", "--subject", "x@y", "--role", "member", "--expires", "soon")

	audit := c.ok("audit")
	for _, want := range []string{"token.create", "token.revoke", "secret.create", "resolve", "Dev Superadmin"} {
		if !strings.Contains(audit, want) {
			t.Errorf("audit lacks %q:\n%s", want, audit)
		}
	}
	noValues(t, "audit", audit, "prod-value")
	r = c.run("audit", "--limit", "1")
	if r.code != 0 || len(rows(r.stdout)) != 2 || !strings.Contains(r.stderr, "More: zwrm audit --cursor ") {
		t.Fatalf("audit --limit 1: %+v", r)
	}
	cursor := strings.TrimSpace(strings.TrimPrefix(r.stderr, "More: zwrm audit --cursor "))
	var page struct {
		Records []struct {
			Time   time.Time `json:"time"`
			Action string    `json:"action"`
		} `json:"records"`
		NextCursor string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(c.ok("audit", "--limit", "2", "--cursor", cursor, "-o", "json")), &page); err != nil || len(page.Records) != 2 || page.NextCursor == "" {
		t.Errorf("the next page: %+v (%v)", page, err)
	}
	c.as(svc).fails(exitAuth, "", "audit")
}

func TestCompletion(t *testing.T) {
	t.Parallel()
	c := newCLI(t, nil)
	for shell, says := range map[string]string{"bash": "bash completion", "zsh": "#compdef zwrm", "fish": "fish completion"} {
		if out := c.ok("completion", shell); !strings.Contains(out, says) {
			t.Errorf("completion %s lacks %q", shell, says)
		}
	}
	// Dynamic completion of flag values, as the shells ask for it.
	if out := c.ok("__complete", "run", "--env", ""); !strings.Contains(out, "production") {
		t.Errorf("--env completes to %q", out)
	}
}
