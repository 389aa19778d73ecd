package httpapi_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

// effectiveJSON is the answer of GET /v1/effective.
type effectiveJSON struct {
	Environment string  `json:"environment"`
	App         *string `json:"app"`
	Machine     *string `json:"machine"`
	Secrets     []struct {
		Name      string            `json:"name"`
		ID        string            `json:"id"`
		Layer     string            `json:"layer"`
		Version   int64             `json:"version"`
		Mask      string            `json:"mask"`
		Owner     secrets.Principal `json:"owner"`
		Overrides []struct {
			Layer   string            `json:"layer"`
			Version int64             `json:"version"`
			Owner   secrets.Principal `json:"owner"`
		} `json:"overrides"`
	} `json:"secrets"`
}

// effectiveFixture holds, at global, app web and machine web/m1 (Ann owns
// all but the machine's DB_URL, which the admin Cat set):
//
//	DB_URL     staging at all three (the app's at version 2)
//	LOG_LEVEL  staging at global; development only at the machine
//	APP_ONLY   staging at the app
//	OTHER      staging at app api (outside web's chain)
var effectiveValues = []string{
	"global-db-url-value-7", "app-db-url-value-7", "app-db-url-value-7-v2", "machine-db-url-value-7",
	"global-log-level-7", "machine-dev-log-level-7", "app-only-value-7", "other-app-value-7",
}

func effectiveFixture(t *testing.T, e *env, ids identities) (dbApp secretJSON) {
	t.Helper()
	stg := func(v string) map[string]string { return map[string]string{"staging": v} }
	e.createSecret(t, ids.owner, map[string]any{"name": "DB_URL", "values": stg("global-db-url-value-7")})
	dbApp = e.createSecret(t, ids.owner, map[string]any{"name": "DB_URL", "app": "web", "values": stg("app-db-url-value-7")})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+dbApp.ID, ids.owner, map[string]any{"version": 1, "values": stg("app-db-url-value-7-v2")}), 200)
	e.createSecret(t, ids.admin, map[string]any{"name": "DB_URL", "app": "web", "machine": "m1", "values": stg("machine-db-url-value-7")})
	e.createSecret(t, ids.owner, map[string]any{"name": "LOG_LEVEL", "values": stg("global-log-level-7")})
	e.createSecret(t, ids.owner, map[string]any{"name": "LOG_LEVEL", "app": "web", "machine": "m1", "values": map[string]string{"development": "machine-dev-log-level-7"}})
	e.createSecret(t, ids.owner, map[string]any{"name": "APP_ONLY", "app": "web", "values": stg("app-only-value-7")})
	e.createSecret(t, ids.owner, map[string]any{"name": "OTHER", "app": "api", "values": stg("other-app-value-7")})
	return dbApp
}

func TestEffectiveExplainsWhatAWorkloadReceives(t *testing.T) {
	e, ids := newAccessEnv(t)
	dbApp := effectiveFixture(t, e, ids)

	t.Run("at a machine, the machine value wins and overrides the app, then global", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/effective?environment=staging&app=web&machine=m1", ids.member, nil)
		wantStatus(t, r, http.StatusOK)
		top := object(t, r)
		wantKeys(t, "effective", top, "environment", "app", "machine", "secrets")
		got := decode[effectiveJSON](t, r)
		if got.Environment != "staging" || got.App == nil || *got.App != "web" || got.Machine == nil || *got.Machine != "m1" {
			t.Errorf("environment, app, machine = %q, %v, %v", got.Environment, got.App, got.Machine)
		}
		var names []string
		for _, s := range got.Secrets {
			names = append(names, s.Name)
		}
		if got, want := strings.Join(names, ","), "APP_ONLY,DB_URL,LOG_LEVEL"; got != want {
			t.Fatalf("names = %s, want %s (sorted, nothing of app api)", got, want)
		}
		entries := top["secrets"].([]any)
		wantKeys(t, "an entry", entries[0].(map[string]any), "name", "id", "layer", "version", "mask", "owner", "overrides")
		db := got.Secrets[1]
		if db.Layer != "machine" || db.Version != 1 || db.Owner.Name != "Cat" || db.Mask == "" {
			t.Errorf("DB_URL = %+v, want the machine's version 1 by Cat with a mask", db)
		}
		if len(db.Overrides) != 2 || db.Overrides[0].Layer != "app" || db.Overrides[0].Version != 2 || db.Overrides[0].Owner.Name != "Ann" ||
			db.Overrides[1].Layer != "global" || db.Overrides[1].Version != 1 || db.Overrides[1].Owner.Name != "Ann" {
			t.Errorf("DB_URL overrides %+v, want app v2 by Ann, then global v1 by Ann", db.Overrides)
		}
		wantKeys(t, "an override", entries[1].(map[string]any)["overrides"].([]any)[0].(map[string]any), "layer", "version", "owner")
	})

	t.Run("a layer without a value for the environment overrides nothing", func(t *testing.T) {
		got := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=staging&app=web&machine=m1", ids.member, nil))
		log := got.Secrets[2]
		if log.Name != "LOG_LEVEL" || log.Layer != "global" || log.Overrides == nil || len(log.Overrides) != 0 {
			t.Errorf("LOG_LEVEL = %+v, want global's, overriding nothing", log)
		}
		r := e.do(t, "GET", "/v1/effective?environment=staging&app=web&machine=m1", ids.member, nil)
		if strings.Contains(string(r.Body), `"overrides":null`) {
			t.Errorf("overrides is null somewhere, want []: %s", r.Body)
		}
		dev := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=development&app=web&machine=m1", ids.member, nil))
		if len(dev.Secrets) != 1 || dev.Secrets[0].Name != "LOG_LEVEL" || dev.Secrets[0].Layer != "machine" || len(dev.Secrets[0].Overrides) != 0 {
			t.Errorf("development = %+v, want only the machine's LOG_LEVEL", dev.Secrets)
		}
	})

	t.Run("at an app, the app value wins and names its secret", func(t *testing.T) {
		got := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=staging&app=web", ids.owner, nil))
		if got.Machine != nil {
			t.Errorf("machine = %v, want null", *got.Machine)
		}
		db := got.Secrets[1]
		if db.Name != "DB_URL" || db.Layer != "app" || db.ID != dbApp.ID || db.Version != 2 || len(db.Overrides) != 1 || db.Overrides[0].Layer != "global" {
			t.Errorf("DB_URL at app web = %+v", db)
		}
		if got, want := db.Mask, e.getSecret(t, ids.owner, dbApp.ID).Masked["staging"]; want == nil || got != *want {
			t.Errorf("mask = %q, want the detail's %v", got, want)
		}
	})

	t.Run("at global, global values only", func(t *testing.T) {
		got := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=staging", ids.member, nil))
		if got.App != nil || got.Machine != nil || len(got.Secrets) != 2 || got.Secrets[0].Layer != "global" || got.Secrets[1].Layer != "global" {
			t.Errorf("global = %+v", got)
		}
	})

	for _, who := range []string{asOwner, asMember, asAdmin, asSuper} {
		t.Run("the "+who+" may read every environment, though users resolve development only", func(t *testing.T) {
			for _, env := range secrets.Environments {
				wantStatus(t, e.do(t, "GET", "/v1/effective?environment="+string(env)+"&app=web", ids.token(who), nil), http.StatusOK)
			}
		})
	}

	t.Run("a service token reads within its scope, which supplies the layer", func(t *testing.T) {
		for _, path := range []string{"/v1/effective?environment=staging&app=web&machine=m1", "/v1/effective?environment=staging"} {
			wantStatus(t, e.do(t, "GET", path, ids.service, nil), http.StatusOK)
		}
		got := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=staging", ids.service, nil))
		if len(got.Secrets) != 3 || got.Secrets[1].Layer != "machine" {
			t.Errorf("a web/m1 token without app or machine = %+v, want its machine's chain", got.Secrets)
		}
	})
	t.Run("a service token outside its scope or environments is forbidden", func(t *testing.T) {
		devOnly := e.mintService(t, ids.super, "web-dev", "web", "", "development")
		for _, c := range []struct{ token, path string }{
			{ids.service, "/v1/effective?environment=staging&app=api"},
			{ids.service, "/v1/effective?environment=staging&app=web&machine=m2"},
			{devOnly, "/v1/effective?environment=staging&app=web"},
		} {
			wantError(t, e.do(t, "GET", c.path, c.token, nil), http.StatusForbidden, "forbidden")
		}
	})

	t.Run("another organization sees none of it", func(t *testing.T) {
		got := decode[effectiveJSON](t, e.do(t, "GET", "/v1/effective?environment=staging&app=web&machine=m1", ids.otherOrg, nil))
		if len(got.Secrets) != 0 {
			t.Errorf("another org sees %+v", got.Secrets)
		}
	})

	t.Run("a bad environment or layer is 400 naming the field", func(t *testing.T) {
		for _, c := range []struct{ query, field string }{
			{"", "environment"},
			{"environment=prod", "environment"},
			{"environment=staging&app=Web", "app"},
			{"environment=staging&machine=m1", "app"},
		} {
			e := wantError(t, e.do(t, "GET", "/v1/effective?"+c.query, ids.member, nil), http.StatusBadRequest, "invalid")
			if e.Field != c.field {
				t.Errorf("?%s: field = %q, want %q", c.query, e.Field, c.field)
			}
		}
	})

	t.Run("no answer holds a plaintext value", func(t *testing.T) {
		e.mu.Lock()
		defer e.mu.Unlock()
		n := 0
		for _, x := range e.exchanges {
			if !strings.HasPrefix(x.path, "/v1/effective") {
				continue
			}
			n++
			for _, v := range effectiveValues {
				if strings.Contains(string(x.body), v) {
					t.Errorf("GET %s holds the value %q", x.path, v)
				}
			}
		}
		if n < 10 {
			t.Errorf("scanned %d answers of /v1/effective", n)
		}
	})
}
