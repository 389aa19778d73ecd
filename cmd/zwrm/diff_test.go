package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

func TestDiffComparesEnvironmentsByHash(t *testing.T) {
	_, c := serveCLI(t)
	set := func(layer []string, env string, pairs ...string) {
		t.Helper()
		c.ok(append(append(layer, pairs...), "--env", env)...)
	}
	global := []string{"org", "secrets", "set"}
	web := []string{"secrets", "set", "--app", "web"}
	set(global, "staging", "SAME=same-value-91", "DIFFERS=staging-value-91", "ONLY_STAGING=only-staging-value-91")
	set(global, "production", "SAME=same-value-91", "DIFFERS=production-value-91", "ONLY_PRODUCTION=only-production-value-91")
	// At the app, an app value makes DIFFERS the same and SAME different.
	set(web, "staging", "DIFFERS=app-value-91", "SAME=app-staging-value-91")
	set(web, "production", "DIFFERS=app-value-91")
	values := []string{"same-value-91", "staging-value-91", "production-value-91", "only-staging-value-91", "only-production-value-91", "app-value-91", "app-staging-value-91", "-91"}

	r := c.fails(exitAuth, "user tokens may resolve development only", "diff", "staging", "production")
	if !strings.Contains(r.stderr, "zwrm org settings --user-resolve-environments") {
		t.Errorf("the refusal does not say what to do: %s", r.stderr)
	}
	c.ok("org", "settings", "--user-resolve-environments", "development,staging,production")

	out := c.ok("diff", "staging", "production")
	want := [][]string{
		{"NAME", "DIFFERENCE"},
		{"DIFFERS", "values", "differ"},
		{"ONLY_PRODUCTION", "only", "in", "production"},
		{"ONLY_STAGING", "only", "in", "staging"},
		{"1", "only", "in", "staging,", "1", "only", "in", "production,", "1", "differ,", "1", "the", "same", "(global", "layer)"},
	}
	if got := rows(out); !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("diff staging production:\n%s", out)
	}
	noValues(t, "diff", out, values...)

	var app struct {
		OnlyIn    map[string][]string `json:"only_in"`
		Different []string            `json:"different"`
		Same      []string            `json:"same"`
	}
	js := c.ok("diff", "--app", "web", "staging", "production", "-o", "json")
	if err := json.Unmarshal([]byte(js), &app); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(app.Different, []string{"SAME"}) || !slices.Equal(app.Same, []string{"DIFFERS"}) ||
		!slices.Equal(app.OnlyIn["staging"], []string{"ONLY_STAGING"}) || !slices.Equal(app.OnlyIn["production"], []string{"ONLY_PRODUCTION"}) {
		t.Errorf("diff --app web -o json = %s", js)
	}
	noValues(t, "diff -o json", js, values...)

	if out := c.ok("diff", "--app", "api", "development", "staging"); !strings.Contains(out, "0 only in development, 3 only in staging, 0 differ, 0 the same (api layer)") {
		t.Errorf("diff at an app without secrets of its own:\n%s", out)
	}
	c.fails(exitUsage, "name two different environments", "diff", "staging", "stage")
	c.fails(exitUsage, "accepts 2 arg(s)", "diff", "staging")
}
