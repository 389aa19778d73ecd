package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// TestEnvironmentPolicies: the org's write policies are read by every user,
// changed by superadmins only (audited), and each change takes effect at
// once on every write path; a refusal changes nothing.
func TestEnvironmentPolicies(t *testing.T) {
	e, ids := newAccessEnv(t)

	t.Run("the defaults are development 10, staging 10, production 100, readable by every user", func(t *testing.T) {
		for _, who := range []string{asOwner, asAdmin, asSuper} {
			r := e.do(t, "GET", "/v1/org", ids.token(who), nil)
			wantStatus(t, r, http.StatusOK)
			got := decode[struct {
				Policies map[string]struct {
					Min int `json:"min_write_priority"`
				} `json:"environment_policies"`
			}](t, r).Policies
			if got["development"].Min != 10 || got["staging"].Min != 10 || got["production"].Min != 100 || len(got) != 3 {
				t.Errorf("%s reads environment_policies %+v", who, got)
			}
		}
	})
	t.Run("a member's writable environments leave out production; an admin's do not", func(t *testing.T) {
		for who, want := range map[string]string{asOwner: "[development staging]", asAdmin: "[development staging production]", asService: "[]"} {
			got := object(t, e.do(t, "GET", "/v1/me", ids.token(who), nil))["writable_environments"]
			if fmt.Sprint(got) != want {
				t.Errorf("%s: writable_environments = %v, want %s", who, got, want)
			}
		}
		own := e.createSecret(t, ids.owner, map[string]any{"name": "OWN", "values": map[string]string{"development": "d"}})
		for who, want := range map[string]string{asOwner: "[development staging]", asMember: "[]", asAdmin: "[development staging production]"} {
			r := e.do(t, "GET", "/v1/secrets/"+own.ID, ids.token(who), nil)
			if got := fmt.Sprint(object(t, r)["writable_environments"]); got != want {
				t.Errorf("%s: the secret's writable_environments = %s, want %s", who, got, want)
			}
		}
	})
	t.Run("a refused write changes nothing", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", ids.owner, map[string]string{"name": "STRIPE_API_KEY", "value": "sk_live_member_value_0123456789"})
		wantError(t, r, http.StatusForbidden, "forbidden", "setting a production value needs role admin (priority 100) in this organization")
		wantStatus(t, e.do(t, "GET", "/v1/org/secrets", ids.owner, nil), http.StatusOK)
		if strings.Contains(string(e.do(t, "GET", "/v1/org/secrets", ids.owner, nil).Body), "STRIPE_API_KEY") {
			t.Error("a refused create left a secret")
		}
		for _, rec := range auditOf(t, e, ids.super) {
			if rec.Action == "secret.create" && len(rec.Secrets) > 0 && rec.Secrets[0].Name == "STRIPE_API_KEY" {
				t.Error("a refused create was audited as a create")
			}
		}
	})
	t.Run("only a superadmin changes the policy, and the change is audited", func(t *testing.T) {
		body := map[string]any{"environment_policies": map[string]any{"staging": map[string]int{"min_write_priority": 100}}}
		for _, who := range []string{asOwner, asAdmin, asService} {
			wantError(t, e.do(t, "PATCH", "/v1/org", ids.token(who), body), http.StatusForbidden, "forbidden")
		}
		r := e.do(t, "PATCH", "/v1/org", ids.super, body)
		wantStatus(t, r, http.StatusOK)
		if got := fmt.Sprint(object(t, r)["environment_policies"]); !strings.Contains(got, "staging:map[min_write_priority:100]") || !strings.Contains(got, "production:map[min_write_priority:100]") {
			t.Errorf("after PATCH environment_policies = %s", got)
		}
		var found bool
		for _, rec := range auditOf(t, e, ids.super) {
			if rec.Action == "org.update" && strings.Contains(rec.Detail, "staging 10→100") {
				found = true
			}
		}
		if !found {
			t.Error("no org.update audit record names the staging change")
		}
		wantError(t, e.do(t, "POST", "/v1/org/secrets", ids.owner, map[string]string{"name": "STG", "value": "s", "environment": "staging"}),
			http.StatusForbidden, "forbidden", "setting a staging value needs role admin (priority 100)")
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.admin, map[string]string{"name": "STG", "value": "s", "environment": "staging"}), http.StatusCreated)
	})
	t.Run("production can be opened to members and closed to all but superadmins", func(t *testing.T) {
		set := func(p int) {
			wantStatus(t, e.do(t, "PATCH", "/v1/org", ids.super, map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": p}}}), http.StatusOK)
		}
		set(10)
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.owner, map[string]string{"name": "OPEN", "value": "p", "environment": "production"}), http.StatusCreated)
		set(1000)
		wantError(t, e.do(t, "POST", "/v1/org/secrets", ids.admin, map[string]string{"name": "CLOSED", "value": "p", "environment": "production"}),
			http.StatusForbidden, "forbidden", "setting a production value needs role superadmin (priority 1000)")
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.super, map[string]string{"name": "CLOSED", "value": "p", "environment": "production"}), http.StatusCreated)
	})
	t.Run("policies out of range or naming no environment are 400", func(t *testing.T) {
		for _, tc := range []struct {
			body  any
			field string
		}{
			{map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": 0}}}, "environment_policies.production.min_write_priority"},
			{map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": 1001}}}, "environment_policies.production.min_write_priority"},
			{map[string]any{"environment_policies": map[string]any{"qa": map[string]int{"min_write_priority": 10}}}, "environment_policies"},
			{map[string]any{"environment_policies": map[string]any{"production": map[string]any{}}}, "environment_policies.production.min_write_priority"},
			{map[string]any{}, ""},
			{map[string]any{"environment_policies": map[string]any{}}, "environment_policies"},
		} {
			r := e.do(t, "PATCH", "/v1/org", ids.super, tc.body)
			if got := wantError(t, r, http.StatusBadRequest, "invalid"); got.Field != tc.field {
				t.Errorf("PATCH %v: field = %q, want %q", tc.body, got.Field, tc.field)
			}
		}
	})
}

// TestValuesWithNULAreRefused: every write path refuses a NUL byte, names
// the environment and the rule, and quotes no value.
func TestValuesWithNULAreRefused(t *testing.T) {
	e, ids := newAccessEnv(t)
	sec := e.createSecret(t, ids.super, map[string]any{"name": "HAS_VALUES", "values": map[string]string{"development": "d"}})
	const bad = "secret-part\x00after"
	for _, c := range []struct {
		what   string
		call   call
		field  string
		saying string
	}{
		{"the org API", call{"POST", "/v1/org/secrets", map[string]string{"name": "N1", "value": bad, "environment": "staging"}}, "value", "staging"},
		{"the org API for all environments", call{"POST", "/v1/org/secrets", map[string]string{"name": "N1", "value": bad}}, "value", "every environment"},
		{"the app API", call{"POST", "/v1/apps/web/secrets", map[string]string{"name": "N2", "value": bad, "environment": "production"}}, "value", "production"},
		{"the machine API", call{"POST", "/v1/apps/web/machines/m1/secrets", map[string]string{"name": "N3", "value": bad, "environment": "development"}}, "value", "development"},
		{"a create", call{"POST", "/v1/secrets", map[string]any{"name": "N4", "values": map[string]string{"production": bad}}}, "values.production", "production"},
		{"an update", call{"PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 1, "values": map[string]string{"staging": bad}}}, "values.staging", "staging"},
	} {
		t.Run(c.what+" refuses it", func(t *testing.T) {
			r := e.do(t, c.call.method, c.call.path, ids.super, c.call.body)
			got := wantError(t, r, http.StatusBadRequest, "invalid", "NUL", c.saying)
			if got.Field != c.field {
				t.Errorf("field = %q, want %q", got.Field, c.field)
			}
			if strings.Contains(string(r.Body), "secret-part") {
				t.Errorf("the refusal quotes the value: %s", r.Body)
			}
		})
	}
	if got := e.getSecret(t, ids.super, sec.ID); got.Version != 1 {
		t.Errorf("a refused update changed the secret: version %d", got.Version)
	}
	if got := e.resolve(t, ids.super, map[string]any{"environment": "development", "app": "web", "machine": "m1"}); len(got) != 1 {
		t.Errorf("refused writes left values: %v", keysOf(got))
	}
}

// TestMasksRevealLittle: masks follow the rule for every new value.
func TestMasksRevealLittle(t *testing.T) {
	e, super := newAcme(t)
	for value, want := range map[string]string{
		"sk_live_51H8xyzQWERTYRgA1": "sk_live_***RgA1",
		"Winter-2024-pass":          "***pass",
		"abcdefg_hijk1234":          "***1234",
		"abcdefghij12":              "***",
	} {
		name := "M_" + strings.NewReplacer("-", "_").Replace(value)
		s := e.createSecret(t, super, map[string]any{"name": name, "values": map[string]string{"staging": value}})
		if got := s.Masked["staging"]; got == nil || *got != want {
			t.Errorf("mask of %q = %v, want %q", value, got, want)
		}
	}
}

// auditOf returns the org's whole audit trail.
func auditOf(t *testing.T, e *env, token string) []auditJSON {
	t.Helper()
	records, _ := auditAll(t, e, token, 500)
	return records
}

// TestOverrideRuleHoldsForLaterValues: a secret created at an app layer
// before a global one of the same name existed cannot gain values once
// it would override that global secret, unless its writer may modify it.
func TestOverrideRuleHoldsForLaterValues(t *testing.T) {
	e, ids := newAccessEnv(t)
	early := e.createSecret(t, ids.owner, map[string]any{"name": "DATABASE_URL", "app": "web", "values": map[string]string{"staging": "s1"}})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+early.ID, ids.owner, map[string]any{"version": 1, "values": map[string]any{"staging": nil}}), http.StatusOK)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.admin, map[string]string{"name": "DATABASE_URL", "value": "admins", "environment": "development"}), http.StatusCreated)
	const rule = "DATABASE_URL at global is owned by Cat; only its owner or an admin may override it"

	for _, c := range []struct {
		what string
		call call
	}{
		{"a PATCH that sets a value", call{"PATCH", "/v1/secrets/" + early.ID, map[string]any{"version": 2, "values": map[string]any{"development": "mine"}}}},
		{"a set by name", call{"POST", "/v1/apps/web/secrets", map[string]string{"name": "DATABASE_URL", "value": "mine", "environment": "development"}}},
		{"a restore of a version with values", call{"POST", "/v1/secrets/" + early.ID + "/versions/1/restore", nil}},
		{"a rotation policy", call{"PUT", "/v1/secrets/" + early.ID + "/rotation", devRotation}},
	} {
		t.Run(c.what+" is refused", func(t *testing.T) {
			wantError(t, e.do(t, c.call.method, c.call.path, ids.owner, c.call.body), http.StatusForbidden, "forbidden", rule)
		})
	}
	if got := e.getSecret(t, ids.owner, early.ID); got.Version != 2 || got.Environments["development"] || got.Environments["staging"] {
		t.Errorf("refused writes changed the secret: version %d, environments %v", got.Version, got.Environments)
	}
	t.Run("clearing and changing the description still work", func(t *testing.T) {
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+early.ID, ids.owner, map[string]any{"version": 2, "description": "mine"}), http.StatusOK)
	})
	t.Run("an admin may give it values", func(t *testing.T) {
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+early.ID, ids.admin, map[string]any{"version": 3, "values": map[string]any{"development": "ok"}}), http.StatusOK)
	})
}
