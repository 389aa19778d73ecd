package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// Resolve.

func TestResolvePrecedence(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "staging", "production"}}), 200)

	// DB_URL: global has all three; the app overrides development only;
	// the machine overrides staging only.
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "values": map[string]string{"development": "g-dev", "staging": "g-stg", "production": "g-prd"}})
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "app": "web", "values": map[string]string{"development": "a-dev"}})
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "app": "web", "machine": "m1", "values": map[string]string{"staging": "m-stg"}})
	// LOG_LEVEL lives at the app only; GLOBAL_ONLY at the global layer only.
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", super, map[string]string{"name": "LOG_LEVEL", "value": "debug"}), 201)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "GLOBAL_ONLY", "value": "g"}), 201)
	// An app secret without a production value overrides nothing there.
	e.createSecret(t, super, map[string]any{"name": "GLOBAL_ONLY", "app": "web", "values": map[string]string{"staging": "a-stg"}})

	for _, tc := range []struct {
		name            string
		env, app, mach  string
		want            map[string]string
		wantEnvironment string
	}{
		{"the global layer alone", "development", "", "", map[string]string{"DB_URL": "g-dev", "GLOBAL_ONLY": "g"}, "development"},
		{"an app overrides where it has a value", "development", "web", "", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"an app without a value for the environment overrides nothing", "staging", "web", "", map[string]string{"DB_URL": "g-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}, "staging"},
		{"a machine wins where it has a value", "staging", "web", "m1", map[string]string{"DB_URL": "m-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}, "staging"},
		{"a machine without a value falls back to the app", "development", "web", "m1", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"a machine and app without values fall back to global", "production", "web", "m1", map[string]string{"DB_URL": "g-prd", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "production"},
		{"another machine of the app sees the app and global layers", "development", "web", "m2", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"another app sees the global layer only", "staging", "api", "", map[string]string{"DB_URL": "g-stg", "GLOBAL_ONLY": "g"}, "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"environment": tc.env}
			if tc.app != "" {
				body["app"] = tc.app
			}
			if tc.mach != "" {
				body["machine"] = tc.mach
			}
			r := e.do(t, "POST", "/v1/resolve", super, body)
			wantStatus(t, r, http.StatusOK)
			got := decode[struct {
				Environment string            `json:"environment"`
				Secrets     map[string]string `json:"secrets"`
			}](t, r)
			if got.Environment != tc.wantEnvironment {
				t.Errorf("environment = %q, want %q", got.Environment, tc.wantEnvironment)
			}
			if !mapsEqual(got.Secrets, tc.want) {
				t.Errorf("secrets = %v, want %v", got.Secrets, tc.want)
			}
		})
	}

	t.Run("a service token scoped to a machine resolves at its machine without naming it", func(t *testing.T) {
		svc := e.mintService(t, super, "web-m1", "web", "m1", "staging", "production")
		got := e.resolve(t, svc, map[string]any{"environment": "staging"})
		if want := map[string]string{"DB_URL": "m-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}; !mapsEqual(got, want) {
			t.Errorf("secrets = %v, want %v", got, want)
		}
	})

	t.Run("an empty layer resolves to an empty object", func(t *testing.T) {
		e2 := newEnv(t)
		tok := e2.bootstrap(t, "empty", "root@empty.test", "Root")
		r := e2.do(t, "POST", "/v1/resolve", tok, map[string]string{"environment": "development"})
		wantStatus(t, r, http.StatusOK)
		if got, want := strings.TrimSpace(string(r.Body)), `{"environment":"development","secrets":{}}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
}
