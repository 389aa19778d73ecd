package httpapi_test

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

// ---------------------------------------------------------------------------
// The org, app and machine secrets API.

func TestLayerSecretsKeepSeed000sContract(t *testing.T) {
	for _, tc := range []struct{ layer, base string }{
		{"global", "/v1/org/secrets"},
		{"app", "/v1/apps/web/secrets"},
		{"machine", "/v1/apps/web/machines/vm-1/secrets"},
	} {
		t.Run("the "+tc.layer+" layer", func(t *testing.T) {
			e, token := newAcme(t)

			r := e.do(t, "POST", tc.base, token, map[string]string{"name": "DATADOG_API_KEY", "value": "your-key-here"})
			wantStatus(t, r, http.StatusCreated)
			first := object(t, r)
			wantKeys(t, "set answer", first, "name", "version", "created_at", "updated_at")
			if got, want := first["name"], "DATADOG_API_KEY"; got != want {
				t.Errorf("name = %v, want %v", got, want)
			}
			if got, want := first["version"], 1.0; got != want {
				t.Errorf("version = %v, want %v", got, want)
			}

			r = e.do(t, "POST", tc.base, token, map[string]string{"name": "DATADOG_API_KEY", "value": "another-key-here"})
			wantStatus(t, r, http.StatusOK)
			second := object(t, r)
			wantKeys(t, "update answer", second, "name", "version", "created_at", "updated_at")
			if got, want := second["version"], 2.0; got != want {
				t.Errorf("version after an update = %v, want %v", got, want)
			}
			if got, want := second["created_at"], first["created_at"]; got != want {
				t.Errorf("created_at changed on update: %v, want %v", got, want)
			}

			r = e.do(t, "GET", tc.base, token, nil)
			wantStatus(t, r, http.StatusOK)
			list := decode[struct {
				Secrets []map[string]any `json:"secrets"`
			}](t, r)
			if got, want := len(list.Secrets), 1; got != want {
				t.Fatalf("listed %d secrets, want %d: %s", got, want, r.Body)
			}
			wantKeys(t, "listed secret", list.Secrets[0], "name", "version", "created_at", "updated_at")
			if got, want := list.Secrets[0]["version"], 2.0; got != want {
				t.Errorf("listed version = %v, want %v", got, want)
			}
			if bytes.Contains(r.Body, []byte("key-here")) {
				t.Errorf("the list shows a value: %s", r.Body)
			}

			r = e.do(t, "DELETE", tc.base+"/DATADOG_API_KEY", token, nil)
			wantStatus(t, r, http.StatusNoContent)
			r = e.do(t, "DELETE", tc.base+"/DATADOG_API_KEY", token, nil)
			wantError(t, r, http.StatusNotFound, "not_found", "DATADOG_API_KEY")

			r = e.do(t, "GET", tc.base, token, nil)
			wantStatus(t, r, http.StatusOK)
			if got, want := strings.TrimSpace(string(r.Body)), `{"secrets":[]}`; got != want {
				t.Errorf("empty list = %s, want %s", got, want)
			}
		})
	}
}

func TestLayerSecretsStayInTheirLayer(t *testing.T) {
	e, token := newAcme(t)
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets", "/v1/apps/api/secrets"} {
		wantStatus(t, e.do(t, "POST", base, token, map[string]string{"name": "SHARED", "value": "v-" + base}), http.StatusCreated)
	}
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", token, map[string]string{"name": "WEB_ONLY", "value": "w"}), http.StatusCreated)

	for _, tc := range []struct {
		base  string
		names []string
	}{
		{"/v1/org/secrets", []string{"SHARED"}},
		{"/v1/apps/web/secrets", []string{"SHARED", "WEB_ONLY"}},
		{"/v1/apps/web/machines/m1/secrets", []string{"SHARED"}},
		{"/v1/apps/api/secrets", []string{"SHARED"}},
		{"/v1/apps/web/machines/m2/secrets", nil},
	} {
		r := e.do(t, "GET", tc.base, token, nil)
		wantStatus(t, r, http.StatusOK)
		var names []string
		for _, s := range decode[struct {
			Secrets []layerSecretJSON `json:"secrets"`
		}](t, r).Secrets {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tc.names) {
			t.Errorf("GET %s lists %v, want %v", tc.base, names, tc.names)
		}
	}

	t.Run("deleting at one layer leaves the others", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/apps/web/secrets/SHARED", token, nil), http.StatusNoContent)
		got := e.resolve(t, token, map[string]any{"environment": "development", "app": "web", "machine": "m1"})
		if got, want := got["SHARED"], "v-/v1/apps/web/machines/m1/secrets"; got != want {
			t.Errorf("SHARED at web/m1 = %q, want %q", got, want)
		}
		got = e.resolve(t, token, map[string]any{"environment": "development", "app": "web"})
		if got, want := got["SHARED"], "v-/v1/org/secrets"; got != want {
			t.Errorf("SHARED at web = %q, want %q", got, want)
		}
	})
}

type layerSecretJSON struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func TestLayerSecretEnvironment(t *testing.T) {
	e, token := newAcme(t)

	t.Run("without an environment the value is set for all three", func(t *testing.T) {
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ALL", "value": "v"}), http.StatusCreated)
		row := findRow(t, e, token, "", "ALL")
		if got, want := row.Environments, map[string]bool{"development": true, "staging": true, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
	})
	t.Run("with an environment only that one is set, and an update keeps the others", func(t *testing.T) {
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ONE", "value": "s", "environment": "staging"}), http.StatusCreated)
		row := findRow(t, e, token, "", "ONE")
		if got, want := row.Environments, map[string]bool{"development": false, "staging": true, "production": false}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
		r := e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ONE", "value": "d", "environment": "development"})
		wantStatus(t, r, http.StatusOK)
		row = findRow(t, e, token, "", "ONE")
		if got, want := row.Environments, map[string]bool{"development": true, "staging": true, "production": false}; !mapsEqual(got, want) {
			t.Errorf("environments after setting development = %v, want %v", got, want)
		}
		if got, want := row.Version, int64(2); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// findRow returns the row of name in GET /v1/secrets?app=app.
func findRow(tb testing.TB, e *env, token, app, name string) secretJSON {
	tb.Helper()
	path := "/v1/secrets"
	if app != "" {
		path += "?app=" + app
	}
	r := e.do(tb, "GET", path, token, nil)
	wantStatus(tb, r, http.StatusOK)
	for _, s := range decode[struct {
		Secrets []secretJSON `json:"secrets"`
	}](tb, r).Secrets {
		if s.Name == name {
			return s
		}
	}
	tb.Fatalf("no row %s in %s", name, r.Body)
	return secretJSON{}
}

// ---------------------------------------------------------------------------
// Resolve.

// emptyDevelopmentGlobal is the fingerprint of a resolve of every name at
// the global layer for development that finds none: pinned, so a change
// of how fingerprints are computed (which makes every watching workload
// resolve again once) is a decision.
const emptyDevelopmentGlobal = "e91455dd53027141e01e03408504567e7e227cf663825ce31f709b49e56d0a0b"

func TestResolvePrecedence(t *testing.T) {
	e, super := newAcme(t)
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
		// The fingerprint of an empty answer still names its environment and layer.
		if got, want := strings.TrimSpace(string(r.Body)), `{"environment":"development","fingerprint":"`+emptyDevelopmentGlobal+`","secrets":{},"sources":{}}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
}
