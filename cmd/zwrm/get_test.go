package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestGetPrintsTheEffectiveValueOfOneName(t *testing.T) {
	srv, c := serveCLI(t)
	c.ok("org", "secrets", "set", "DB_URL=postgres://global", "OTHER=other-value")
	c.ok("secrets", "set", "--app", "web", "DB_URL=postgres://web")
	c.ok("secrets", "set", "--app", "web", "DB_URL=postgres://web-dev", "--env", "development")
	trailing := writeFile(t, "cert.pem", "-----BEGIN-----\nabc\n")
	c.ok("org", "secrets", "set", "CERT=@"+trailing)

	t.Run("the table names the layer the value came from and its version", func(t *testing.T) {
		got := rows(c.ok("secrets", "get", "DB_URL", "--env", "development", "--app", "web"))
		if len(got) != 2 || strings.Join(got[1], " ") != "DB_URL app web 2 postgres://web-dev" {
			t.Errorf("secrets get DB_URL at app web = %q", got)
		}
		got = rows(c.ok("org", "secrets", "get", "DB_URL", "--env", "development"))
		if len(got) != 2 || strings.Join(got[1], " ") != "DB_URL global 1 postgres://global" {
			t.Errorf("org secrets get DB_URL = %q", got)
		}
		if out := c.ok("secrets", "get", "DB_URL", "--env", "development", "--app", "web", "--machine", "web-1"); !strings.Contains(out, "postgres://web-dev") || strings.Contains(out, "OTHER") {
			t.Errorf("a machine without a value falls back to its app: %q", out)
		}
	})

	t.Run("--plain prints the value, with a newline unless it ends with one", func(t *testing.T) {
		if out := c.ok("secrets", "get", "DB_URL", "--env", "development", "--app", "web", "--plain"); out != "postgres://web-dev\n" {
			t.Errorf("--plain printed %q", out)
		}
		if out := c.ok("org", "secrets", "get", "CERT", "--env", "development", "--plain"); out != "-----BEGIN-----\nabc\n" {
			t.Errorf("--plain of a value ending in a newline printed %q", out)
		}
	})

	t.Run("-o json has the name, layer, version and value", func(t *testing.T) {
		var got gotSecret
		if err := json.Unmarshal([]byte(c.ok("secrets", "get", "DB_URL", "--env", "development", "--app", "web", "-o", "json")), &got); err != nil {
			t.Fatal(err)
		}
		if want := (gotSecret{Name: "DB_URL", Environment: "development", Layer: "app web", Version: 2, Value: "postgres://web-dev"}); got != want {
			t.Errorf("json = %+v, want %+v", got, want)
		}
	})

	t.Run("a name without a value exits 4 and says so", func(t *testing.T) {
		c.fails(exitNotFound, "MISSING has no value in development at the app web layer", "secrets", "get", "MISSING", "--env", "development", "--app", "web")
		c.fails(exitUsage, "name", "secrets", "get", "not-a-name", "--env", "development")
	})

	t.Run("the rules of resolve hold: a user token resolves development only", func(t *testing.T) {
		r := c.fails(exitAuth, "user tokens may resolve development only", "org", "secrets", "get", "DB_URL", "--env", "production")
		noValues(t, "a refused get", r.stdout+r.stderr, "postgres://")
		svc := strings.TrimSpace(c.ok("tokens", "create", "--kind", "service", "--name", "web-prod", "--app", "web", "--environments", "production"))
		if out := c.as(svc).ok("secrets", "get", "DB_URL", "--env", "production", "--plain"); out != "postgres://web\n" {
			t.Errorf("a service token resolves at its scope: %q", out)
		}
		c.as(svc).fails(exitAuth, "may not resolve development", "secrets", "get", "DB_URL", "--env", "development")
	})

	t.Run("the read is audited as a resolve of that one name", func(t *testing.T) {
		audit := rows(c.as(srv.token).ok("audit"))
		var found bool
		for _, r := range audit {
			line := strings.Join(r, " ")
			if strings.Contains(line, "resolve") && strings.Contains(line, "DB_URL v2") {
				found = true
				if strings.Contains(line, "OTHER") || strings.Contains(line, "CERT") {
					t.Errorf("the audit of a get names other secrets: %s", line)
				}
			}
		}
		if !found {
			t.Errorf("no resolve of DB_URL v2 in the audit:\n%q", audit)
		}
	})
}
