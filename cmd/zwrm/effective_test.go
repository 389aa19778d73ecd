package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

func TestSecretsEffectiveShowsWhereEachValueComesFrom(t *testing.T) {
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "DB_URL=global-db-value-44", "LOG_LEVEL=global-log-value-44", "--env", "production")
	c.ok("secrets", "set", "--app", "web", "DB_URL=app-db-value-44", "--env", "production")
	c.ok("secrets", "set", "--app", "web", "DB_URL=app-db-value-44-v2", "--env", "production")
	c.ok("secrets", "set", "--app", "web", "--machine", "web-1", "DB_URL=machine-db-value-44", "--env", "production")
	// Development only at the machine: in production it overrides nothing.
	c.ok("secrets", "set", "--app", "web", "--machine", "web-1", "LOG_LEVEL=machine-dev-log-value-44", "--env", "development")
	values := []string{"global-db-value-44", "global-log-value-44", "app-db-value-44", "machine-db-value-44", "machine-dev-log-value-44", "value-44"}

	out := c.ok("secrets", "effective", "--env", "prod", "--app", "web", "--machine", "web-1")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if got, want := strings.Fields(lines[0]), []string{"NAME", "FROM", "VERSION", "MASK", "OVERRIDES"}; !slices.Equal(got, want) {
		t.Errorf("header = %v, want %v", got, want)
	}
	rs := rows(out)
	if len(rs) != 3 {
		t.Fatalf("effective at web/web-1:\n%s", out)
	}
	db, log := rs[1], rs[2]
	if db[0] != "DB_URL" || strings.Join(db[1:3], " ") != "machine web/web-1" || db[3] != "1" || !strings.Contains(out, "app web v2, global v1") {
		t.Errorf("DB_URL row = %v, want from machine web/web-1 v1 overriding app web v2, global v1:\n%s", db, out)
	}
	if got, want := strings.Join(log, " "), "LOG_LEVEL global 1 "+log[3]+" -"; got != want {
		t.Errorf("LOG_LEVEL row = %q, want %q", got, want)
	}
	noValues(t, "secrets effective", out, values...)

	js := c.ok("secrets", "effective", "--env", "production", "--app", "web", "-o", "json")
	var res struct {
		Environment string  `json:"environment"`
		App         *string `json:"app"`
		Machine     *string `json:"machine"`
		Secrets     []struct {
			Name      string            `json:"name"`
			Layer     string            `json:"layer"`
			Version   int64             `json:"version"`
			Overrides []json.RawMessage `json:"overrides"`
		} `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(js), &res); err != nil {
		t.Fatal(err)
	}
	if res.Environment != "production" || res.App == nil || *res.App != "web" || res.Machine != nil || len(res.Secrets) != 2 ||
		res.Secrets[0].Layer != "app" || res.Secrets[0].Version != 2 || len(res.Secrets[0].Overrides) != 1 || res.Secrets[1].Overrides == nil {
		t.Errorf("effective -o json = %s", js)
	}
	noValues(t, "secrets effective -o json", js, values...)

	if r := c.run("secrets", "effective", "--env", "staging", "--app", "web"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No secrets reach the app web layer in staging") {
		t.Errorf("nothing in staging: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	c.fails(exitUsage, `required flag(s) "env" not set`, "secrets", "effective", "--app", "web")
	c.fails(exitUsage, "must be development, staging or production", "secrets", "effective", "--env", "qa")
	c.fails(exitUsage, "app", "secrets", "effective", "--env", "production", "--machine", "web-1")
}

func TestEffectiveLayerNames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ app, machine, kind, want string }{
		{"web", "web-1", "global", "global"},
		{"web", "web-1", "app", "app web"},
		{"web", "web-1", "machine", "machine web/web-1"},
		{"", "", "app", "app"}, // a service token's scope chose the app
	} {
		l := secrets.Layer{App: tc.app, Machine: tc.machine}
		if got := layerOfKind(l, tc.kind); got != tc.want {
			t.Errorf("layerOfKind(%v, %s) = %q, want %q", l, tc.kind, got, tc.want)
		}
	}
}
