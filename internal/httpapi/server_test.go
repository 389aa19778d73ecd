package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/httpapi"
)

// ---------------------------------------------------------------------------
// Every route on its happy path.

// TestEveryRouteAnswersItsHappyPath walks every API call once with the
// status and shape the API table promises, then reads the access log to
// prove that each route of httpapi.Routes() served at least one success.
func TestEveryRouteAnswersItsHappyPath(t *testing.T) {
	e, super := newAcme(t)
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
		wantKeys(t, "resolve", object(t, r), "environment", "fingerprint", "secrets", "sources")

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
		wantKeys(t, "resolve as an IAM role", object(t, r), "environment", "fingerprint", "secrets", "sources")
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

// ---------------------------------------------------------------------------
// Request ids and internal errors.

func TestRequestIDs(t *testing.T) {
	e, super := newAcme(t)

	t.Run("a plain X-Request-Id is kept, answered and audited", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "v"}, "X-Request-Id", "req-123.abc_DEF")
		wantStatus(t, r, http.StatusCreated)
		if got, want := r.Header.Get("X-Request-Id"), "req-123.abc_DEF"; got != want {
			t.Errorf("X-Request-Id = %q, want %q", got, want)
		}
		records, _, err := e.store.ListAudit(context.Background(), "acme", "", 1)
		if err != nil || len(records) != 1 {
			t.Fatalf("audit: %v, %d records", err, len(records))
		}
		if got, want := records[0].RequestID, "req-123.abc_DEF"; got != want {
			t.Errorf("audit request_id = %q, want %q", got, want)
		}
	})
	t.Run("an X-Request-Id that could forge log lines is replaced", func(t *testing.T) {
		for _, bad := range []string{`x"y`, "a b", strings.Repeat("a", 65), "é"} {
			r := e.do(t, "GET", "/healthz", "", nil, "X-Request-Id", bad)
			if got := r.Header.Get("X-Request-Id"); got == bad || got == "" {
				t.Errorf("X-Request-Id %q answered as %q", bad, got)
			}
		}
	})
	t.Run("without one, each request gets its own", func(t *testing.T) {
		a := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		b := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		if a == "" || a == b {
			t.Errorf("request ids %q and %q", a, b)
		}
	})
}

// TestInternalErrorsHideTheirCause closes the store under the running API:
// the client gets "internal error" and the request id, never the cause; the
// log gets the cause with that request id.
func TestInternalErrorsHideTheirCause(t *testing.T) {
	e, super := newAcme(t)
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/secrets", super, nil)
	got := wantError(t, r, http.StatusInternalServerError, "internal", "internal error")
	rid := r.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(got.Message, rid) {
		t.Errorf("message %q does not quote the request id %q", got.Message, rid)
	}
	for _, cause := range []string{"database", "bolt", "get token", "not open"} {
		if strings.Contains(strings.ToLower(string(r.Body)), cause) {
			t.Errorf("the answer shows the cause (%q): %s", cause, r.Body)
		}
	}
	e.stop()
	logged := false
	for _, line := range e.logLines(t) {
		if line["msg"] == "request failed" && line["request_id"] == rid {
			logged = true
			if s, _ := line["error"].(string); s == "" {
				t.Errorf("the log line has no error: %v", line)
			}
		}
	}
	if !logged {
		t.Errorf("no \"request failed\" log line with request id %s:\n%s", rid, e.logs.String())
	}
}

func TestHeadAndUncleanPaths(t *testing.T) {
	e := newEnv(t)
	t.Run("HEAD on a GET route answers like GET without a body", func(t *testing.T) {
		resp, err := http.Head(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD /healthz = %d %q, want 200 and no body", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q", got)
		}
	})
	t.Run("an unclean path is a JSON 404, not a redirect", func(t *testing.T) {
		for _, p := range []string{"/v1//secrets", "/v1/org/../secrets", "/v1/./me"} {
			r := e.do(t, "GET", p, "", nil)
			wantStatus(t, r, http.StatusNotFound)
			if got := errorOf(t, r).Code; got != "not_found" {
				t.Errorf("%s: code = %q, want not_found", p, got)
			}
		}
	})
}

func TestABodyThatIsNotUTF8IsRefusedNotRewritten(t *testing.T) {
	e, super := newAcme(t)
	body := "{\"name\":\"LATIN1\",\"value\":\"caf\xe9-pass\"}"
	wantError(t, e.do(t, "POST", "/v1/org/secrets", super, body), http.StatusBadRequest, "invalid", "UTF-8")
	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	if strings.Contains(string(r.Body), "LATIN1") {
		t.Fatalf("the refused secret was stored: %s", r.Body)
	}
}
