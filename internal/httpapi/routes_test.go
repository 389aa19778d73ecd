package httpapi_test

import (
	"slices"
	"testing"

	"github.com/zwrm/secrets/internal/httpapi"
)

// ---------------------------------------------------------------------------
// Every route on its happy path.

// TestEveryRouteAnswersItsHappyPath walks every API call once with the
// status and shape the API table promises, then reads the access log to
// prove that each route of httpapi.Routes() served at least one success.
func TestEveryRouteAnswersItsHappyPath(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	layerKeys := []string{"name", "version", "created_at", "updated_at"}
	rowKeys := []string{"id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version"}

	t.Run("health answers without a token", func(t *testing.T) {
		r := e.do(t, "GET", "/healthz", "", nil)
		wantStatus(t, r, 200)
		wantKeys(t, "health", object(t, r), "status")
	})
	t.Run("the OpenAPI document is served without a token", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/openapi.json", "", nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "openapi document", object(t, r), "openapi", "paths")
	})
	t.Run("me describes the caller", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "me", object(t, r), "org", "subject", "name", "kind", "role", "role_priority")
	})
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets"} {
		t.Run("the layer API sets, lists and deletes at "+base, func(t *testing.T) {
			r := e.do(t, "POST", base, super, map[string]string{"name": "TOUR", "value": "tour-value"})
			wantStatus(t, r, 201)
			wantKeys(t, "set", object(t, r), layerKeys...)
			r = e.do(t, "GET", base, super, nil)
			wantStatus(t, r, 200)
			wantKeys(t, "list", object(t, r), "secrets")
			r = e.do(t, "DELETE", base+"/TOUR", super, nil)
			wantStatus(t, r, 204)
		})
	}
	var id string
	t.Run("the grid API creates, reads, lists, updates, versions, restores and deletes", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "GRID", "description": "d", "app": "web",
			"values": map[string]string{"development": "grid-dev-value"}})
		wantStatus(t, r, 201)
		wantHasKeys(t, "created row", object(t, r), rowKeys...)
		id = decode[secretJSON](t, r).ID

		r = e.do(t, "GET", "/v1/layers", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "layers", object(t, r), "layers")

		r = e.do(t, "GET", "/v1/secrets?app=web", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "list", object(t, r), "secrets")

		r = e.do(t, "GET", "/v1/secrets/"+id, super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "detail", object(t, r), append(rowKeys, "masked", "rotation", "can_modify")...)

		r = e.do(t, "PATCH", "/v1/secrets/"+id, super, map[string]any{"version": 1, "description": "e"})
		wantStatus(t, r, 200)
		wantHasKeys(t, "patched row", object(t, r), rowKeys...)

		r = e.do(t, "GET", "/v1/secrets/"+id+"/versions", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "versions", object(t, r), "versions")

		r = e.do(t, "POST", "/v1/secrets/"+id+"/versions/1/restore", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "restored row", object(t, r), rowKeys...)

		r = e.do(t, "PUT", "/v1/secrets/"+id+"/rotation", super, map[string]any{"every": "30d", "environments": []string{"production"}})
		wantStatus(t, r, 200)
		detail := object(t, r)
		wantHasKeys(t, "detail with a policy", detail, append(rowKeys, "masked", "rotation", "can_modify")...)
		policy, _ := detail["rotation"].(map[string]any)
		wantKeys(t, "rotation", policy, "every", "environments", "length", "alphabet", "next_at", "last_at")

		r = e.do(t, "DELETE", "/v1/secrets/"+id+"/rotation", super, nil)
		wantStatus(t, r, 200)
		detail = object(t, r)
		wantHasKeys(t, "detail without a policy", detail, append(rowKeys, "masked", "rotation", "can_modify")...)
		if got := detail["rotation"]; got != nil {
			t.Errorf("rotation after DELETE = %v, want null", got)
		}

		r = e.do(t, "POST", "/v1/resolve", super, map[string]string{"environment": "development", "app": "web"})
		wantStatus(t, r, 200)
		wantKeys(t, "resolve", object(t, r), "environment", "secrets")

		r = e.do(t, "GET", "/v1/effective?environment=development&app=web", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "effective", object(t, r), "environment", "app", "machine", "secrets")

		r = e.do(t, "DELETE", "/v1/secrets/"+id, super, nil)
		wantStatus(t, r, 204)
	})
	t.Run("the admin API mints, lists and revokes tokens, reads the audit and the org", func(t *testing.T) {
		tok := e.mint(t, super, map[string]any{"kind": "user", "subject": "m@acme.test", "name": "M", "role": "member"})
		r := e.do(t, "GET", "/v1/tokens", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "tokens", object(t, r), "tokens")
		r = e.do(t, "DELETE", "/v1/tokens/"+tok.ID, super, nil)
		wantStatus(t, r, 204)
		r = e.do(t, "GET", "/v1/audit", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "audit", object(t, r), "records", "next_cursor")
		r = e.do(t, "GET", "/v1/org", super, nil)
		wantStatus(t, r, 200)
		r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development"}})
		wantStatus(t, r, 200)
	})
	t.Run("an admin registers an IAM role, which resolves with SigV4 and no token", func(t *testing.T) {
		const role = "arn:aws:iam::123456789012:role/web-tour"
		r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "web-tour", "principal_arn": role, "app": "web", "environments": []string{"development"}})
		wantStatus(t, r, 201)
		created := object(t, r)
		wantHasKeys(t, "created iam token", created, "id", "kind", "name", "principal_arn", "prefix", "created_at", "expires_at")
		if _, ok := created["token"]; ok {
			t.Errorf("an iam token was answered with a token: %s", r.Body)
		}
		r = e.resolveIAM(t, role, map[string]string{"environment": "development"})
		wantStatus(t, r, 200)
		wantKeys(t, "resolve as an IAM role", object(t, r), "environment", "secrets")
	})

	e.stop()
	served := map[string][]int{}
	for _, line := range e.logLines(t) {
		if line["msg"] != "request" {
			continue
		}
		route, _ := line["route"].(string)
		status, _ := line["status"].(float64)
		served[route] = append(served[route], int(status))
	}
	for _, rt := range httpapi.Routes() {
		ok := slices.ContainsFunc(served[rt.Name], func(s int) bool { return s >= 200 && s < 300 })
		if !ok {
			t.Errorf("route %s (%s %s) never answered a success; statuses %v", rt.Name, rt.Method, rt.Pattern, served[rt.Name])
		}
	}
}
