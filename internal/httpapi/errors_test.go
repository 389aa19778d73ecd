package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/service"
)

// ---------------------------------------------------------------------------
// Error paths.

func TestValidationErrors(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "EXISTING", "values": map[string]string{"development": "d"}})
	patch := "/v1/secrets/" + sec.ID
	rotation := patch + "/rotation"
	big := strings.Repeat("v", 64*1024+1)

	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		field        string // "" when the error is about the whole body
		contains     string
	}{
		{"a name that starts with a digit", "POST", "/v1/org/secrets", map[string]string{"name": "1ABC", "value": "v"}, "name", "letter or underscore"},
		{"a name with a hyphen", "POST", "/v1/secrets", map[string]any{"name": "MY-SECRET"}, "name", "letter or underscore"},
		{"a missing name", "POST", "/v1/secrets", map[string]any{"description": "d"}, "name", "required"},
		{"a name over 128 characters", "POST", "/v1/apps/web/secrets", map[string]string{"name": strings.Repeat("A", 129), "value": "v"}, "name", "128"},
		{"a bad name in a delete path", "DELETE", "/v1/org/secrets/1ABC", nil, "name", "letter or underscore"},
		{"an app id with capitals in the path", "POST", "/v1/apps/Web/secrets", map[string]string{"name": "A", "value": "v"}, "app", "lowercase"},
		{"an app id with an underscore in a body", "POST", "/v1/secrets", map[string]any{"name": "A", "app": "my_app"}, "app", "lowercase"},
		{"an app id in a query", "GET", "/v1/secrets?app=-web", nil, "app", "lowercase"},
		{"a machine id with capitals", "POST", "/v1/apps/web/machines/VM1/secrets", map[string]string{"name": "A", "value": "v"}, "machine", "lowercase"},
		{"a machine without an app in a body", "POST", "/v1/secrets", map[string]any{"name": "A", "machine": "m1"}, "app", "machine"},
		{"a machine without an app in a query", "GET", "/v1/secrets?machine=m1", nil, "app", "machine"},
		{"a machine without an app in a resolve", "POST", "/v1/resolve", map[string]any{"environment": "development", "machine": "m1"}, "app", "machine"},
		{"an unknown environment on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": "v", "environment": "prod"}, "environment", "development, staging or production"},
		{"an unknown environment in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"qa": "v"}}, "values", "development, staging or production"},
		{"an unknown environment in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"Production": "v"}}, "values", "development, staging or production"},
		{"an unknown environment to resolve", "POST", "/v1/resolve", map[string]string{"environment": "qa"}, "environment", "development, staging or production"},
		{"a resolve without an environment", "POST", "/v1/resolve", map[string]string{}, "environment", "required"},
		{"an empty value on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": ""}, "value", "empty"},
		{"a missing value on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A"}, "value", "empty"},
		{"an empty value in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"staging": ""}}, "values.staging", "empty"},
		{"an empty value in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"staging": ""}}, "values.staging", "null"},
		{"a value over 64 KiB on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": big}, "value", "64 KiB"},
		{"a value over 64 KiB in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"production": big}}, "values.production", "64 KiB"},
		{"a value over 64 KiB in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"production": big}}, "values.production", "64 KiB"},
		{"a description over 1000 characters", "POST", "/v1/secrets", map[string]any{"name": "A", "description": strings.Repeat("d", 1001)}, "description", "1000"},
		{"a description over 1000 characters in a PATCH", "PATCH", patch, map[string]any{"version": 1, "description": strings.Repeat("d", 1001)}, "description", "1000"},
		{"an unknown field", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": "v", "colour": "blue"}, "colour", "not a field"},
		{"an unknown field in a PATCH", "PATCH", patch, map[string]any{"version": 1, "owner": "me"}, "owner", "not a field"},
		{"a number for a name", "POST", "/v1/secrets", `{"name": 12}`, "name", "a string"},
		{"a string for a version", "PATCH", patch, `{"version": "1", "description": "x"}`, "version", "an integer"},
		{"a number for a value", "POST", "/v1/secrets", `{"name": "A", "values": {"development": 5}}`, "values", "a string"},
		{"an object for values", "POST", "/v1/secrets", `{"name": "A", "values": "x"}`, "values", "an object"},
		{"a string for environments", "POST", "/v1/tokens", `{"kind":"service","name":"s","environments":"production"}`, "environments", "an array"},
		{"invalid JSON", "POST", "/v1/secrets", `{"name": "A",`, "", "not valid JSON"},
		{"JSON with a syntax error", "POST", "/v1/org/secrets", `{"name" "A"}`, "", "not valid JSON"},
		{"a JSON array for a body", "POST", "/v1/secrets", `[{"name":"A"}]`, "", "JSON object"},
		{"two JSON objects", "POST", "/v1/org/secrets", `{"name":"A","value":"v"} {"name":"B","value":"v"}`, "", "single JSON object"},
		{"an empty body", "POST", "/v1/secrets", "", "", "JSON body is required"},
		{"a PATCH without a version", "PATCH", patch, map[string]any{"description": "x"}, "version", "required"},
		{"a PATCH with version 0", "PATCH", patch, map[string]any{"version": 0, "description": "x"}, "version", "required"},
		{"a PATCH that renames", "PATCH", patch, map[string]any{"version": 1, "name": "RENAMED"}, "name", "cannot be changed"},
		{"a PATCH with nothing to change", "PATCH", patch, map[string]any{"version": 1}, "", "nothing to change"},
		{"a PATCH with an empty object", "PATCH", patch, map[string]any{}, "version", "required"},
		{"a PATCH without a body", "PATCH", patch, "", "", "JSON body is required"},
		{"a restore of version zero", "POST", patch + "/versions/0/restore", nil, "n", "version number"},
		{"a restore of a version that is not a number", "POST", patch + "/versions/latest/restore", nil, "n", "version number"},
		{"a restore with an unknown field", "POST", patch + "/versions/1/restore", map[string]any{"force": true}, "force", "not a field"},
		{"an audit limit of zero", "GET", "/v1/audit?limit=0", nil, "limit", "1 to 500"},
		{"an audit limit over 500", "GET", "/v1/audit?limit=501", nil, "limit", "500"},
		{"a token of an unknown kind", "POST", "/v1/tokens", map[string]any{"kind": "robot", "name": "r"}, "kind", "user, service or iam"},
		{"a user token with an unknown role", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "root"}, "role", "member, admin or superadmin"},
		{"a user token without a subject", "POST", "/v1/tokens", map[string]any{"kind": "user", "name": "X", "role": "member"}, "subject", "required"},
		{"a token without a name", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "role": "member"}, "name", "required"},
		{"a service token without environments", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s"}, "environments", "required"},
		{"a service token with an unknown environment", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "environments": []string{"prod"}}, "environments", "development, staging or production"},
		{"a service token with a role", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "role": "admin", "environments": []string{"production"}}, "role", "service tokens"},
		{"a token that expired before it was made", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "member", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "future"},
		{"an org setting with an unknown environment", "PATCH", "/v1/org", map[string]any{"user_resolve_environments": []string{"prod"}}, "user_resolve_environments", "development, staging or production"},
		{"an iam token with an ARN of a short account", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::12345:role/web", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token for a group", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::123456789012:group/devs", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token for something that is not an ARN", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "web-prod", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token without a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token without environments", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::123456789012:role/web"}, "environments", "required"},
		{"an iam token with a role", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "role": "admin", "principal_arn": "arn:aws:iam::123456789012:role/web", "environments": []string{"production"}}, "role", "user tokens"},
		{"a user token with a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "member", "principal_arn": "arn:aws:iam::123456789012:role/web"}, "principal_arn", "iam tokens"},
		{"a service token with a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "environments": []string{"production"}, "principal_arn": "arn:aws:iam::123456789012:role/web"}, "principal_arn", "iam tokens"},
		{"a rotation every 0 days", "PUT", rotation, map[string]any{"every": "0d", "environments": []string{"production"}}, "every", "between 1m and 366d"},
		{"a rotation in an unknown unit", "PUT", rotation, map[string]any{"every": "5x", "environments": []string{"production"}}, "every", "unit d, h, m or s"},
		{"a rotation with an empty interval", "PUT", rotation, map[string]any{"every": "", "environments": []string{"production"}}, "every", "e.g. \"30d\""},
		{"a rotation without an interval", "PUT", rotation, map[string]any{"environments": []string{"production"}}, "every", "e.g. \"30d\""},
		{"a rotation every 400 days", "PUT", rotation, map[string]any{"every": "400d", "environments": []string{"production"}}, "every", "366d"},
		{"a rotation every 30 seconds", "PUT", rotation, map[string]any{"every": "30s", "environments": []string{"production"}}, "every", "between 1m"},
		{"a rotation of 8 characters", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 8}, "length", "16 to 4096"},
		{"a rotation of 5000 characters", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 5000}, "length", "16 to 4096"},
		{"a rotation of too little entropy", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 20, "alphabet": "ab"}, "length", "16 bits of entropy"},
		{"a rotation alphabet with a space", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghij klmnopqrstuvwxyz"}, "alphabet", "no spaces"},
		{"a rotation alphabet with a character twice", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghijklmnopqrstuvwxyza"}, "alphabet", "'a' twice"},
		{"a rotation alphabet of one character", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 4096, "alphabet": "a"}, "alphabet", "2 to 95"},
		{"a rotation alphabet beyond ASCII", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghijklmnopqrstuvwxyzé"}, "alphabet", "printable ASCII"},
		{"a rotation without environments", "PUT", rotation, map[string]any{"every": "30d"}, "environments", "required"},
		{"a rotation of no environments", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{}}, "environments", "required"},
		{"a rotation of an unknown environment", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"prod"}}, "environments", "development, staging or production"},
		{"a rotation with an unknown field", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "jitter": "1h"}, "jitter", "not a field"},
		{"a rotation with a string for a length", "PUT", rotation, `{"every":"30d","environments":["production"],"length":"32"}`, "length", "an integer"},
		{"a rotation without a body", "PUT", rotation, "", "", "JSON body is required"},
	} {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, super, tc.body)
			got := wantError(t, r, http.StatusBadRequest, "invalid", tc.contains)
			if got.Field != tc.field {
				t.Errorf("field = %q, want %q (message %q)", got.Field, tc.field, got.Message)
			}
			if tc.field != "" && !strings.Contains(got.Message, tc.field) {
				t.Errorf("message %q does not name the field %q", got.Message, tc.field)
			}
		})
	}

	t.Run("nothing was written by the rejected requests", func(t *testing.T) {
		if got := e.getSecret(t, super, sec.ID); got.Version != 1 {
			t.Errorf("version = %d, want 1", got.Version)
		}
		r := e.do(t, "GET", "/v1/secrets", super, nil)
		rows := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets
		if len(rows) != 1 || rows[0].Name != "EXISTING" {
			t.Errorf("secrets = %s, want EXISTING only", r.Body)
		}
		if got := len(decode[struct {
			Tokens []tokenJSON `json:"tokens"`
		}](t, e.do(t, "GET", "/v1/tokens", super, nil)).Tokens); got != 1 {
			t.Errorf("%d tokens, want the bootstrap token only", got)
		}
	})
}

func TestUnauthorized(t *testing.T) {
	c := newClock()
	e := newEnvWithClock(t, c)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	revoked := e.mint(t, super, map[string]any{"kind": "user", "subject": "r@acme.test", "name": "R", "role": "admin"})
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+revoked.ID, super, nil), http.StatusNoContent)
	expiring := e.mint(t, super, map[string]any{"kind": "user", "subject": "x@acme.test", "name": "X", "role": "admin", "expires_at": c.Now().Add(time.Hour)})
	expiringSvc := e.mint(t, super, map[string]any{"kind": "service", "name": "s", "environments": []string{"development"}, "expires_at": c.Now().Add(time.Hour)})

	t.Run("a token works until it expires", func(t *testing.T) {
		wantStatus(t, e.do(t, "GET", "/v1/me", expiring.Token, nil), http.StatusOK)
		c.Advance(59 * time.Minute)
		wantStatus(t, e.do(t, "GET", "/v1/me", expiring.Token, nil), http.StatusOK)
		c.Advance(time.Minute)
	})

	forged := service.UserTokenPrefix + strings.Repeat("A", 43)
	for _, tc := range []struct {
		name     string
		header   string
		contains string
	}{
		{"a missing Authorization header", "", "missing token"},
		{"a Basic header", "Basic cm9vdDpyb290", "Bearer <token>"},
		{"a Bearer header without a token", "Bearer", "Bearer <token>"},
		{"a Bearer header with a blank token", "Bearer    ", "Bearer <token>"},
		{"a token without a known prefix", "Bearer not-a-token", "not valid"},
		{"an unknown token", "Bearer " + forged, "not valid"},
		{"a token of another kind's prefix", "Bearer " + service.ServiceTokenPrefix + super[len(service.UserTokenPrefix):], "not valid"},
		{"a revoked token", "Bearer " + revoked.Token, "revoked"},
		{"an expired user token", "Bearer " + expiring.Token, "expired"},
		{"an expired service token", "Bearer " + expiringSvc.Token, "expired"},
	} {
		t.Run(tc.name+" is 401", func(t *testing.T) {
			for _, call := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/v1/me", nil},
				{"GET", "/v1/org/secrets", nil},
				{"POST", "/v1/secrets", map[string]string{"name": "A"}},
				{"POST", "/v1/resolve", map[string]string{"environment": "development"}},
				{"GET", "/v1/audit", nil},
				{"PUT", "/v1/secrets/8f0c6a4e-2b1d-4c3e-9f7a-5d6b8e9c0a1b/rotation", map[string]any{"every": "30d", "environments": []string{"production"}}},
			} {
				r := e.do(t, call.method, call.path, "", call.body, "Authorization", tc.header)
				wantError(t, r, http.StatusUnauthorized, "unauthorized", tc.contains)
				if got, want := r.Header.Get("WWW-Authenticate"), `Bearer realm="zwrm"`; got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		wantStatus(t, e.do(t, "GET", "/v1/me", "", nil, "Authorization", "bearer "+super), http.StatusOK)
	})
	t.Run("nothing was written with a bad token", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets", super, nil)
		if got, want := strings.TrimSpace(string(r.Body)), `{"secrets":[]}`; got != want {
			t.Errorf("secrets = %s, want %s", got, want)
		}
	})
}

func TestForbiddenNamesTheOwner(t *testing.T) {
	e, super := newAcme(t)
	ann := e.mintUser(t, super, "ann@acme.test", "Ann Owner", "member")
	bob := e.mintUser(t, super, "bob@acme.test", "Bob", "member")
	sec := e.createSecret(t, ann, map[string]any{"name": "ANNS", "values": map[string]string{"development": "a"}})
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", ann, map[string]string{"name": "ANNS_APP", "value": "a", "environment": "development"}), http.StatusCreated)

	for _, tc := range []struct {
		name         string
		method, path string
		body         any
	}{
		{"a PATCH", "PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 1, "description": "mine now"}},
		{"a stale PATCH", "PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 7, "description": "mine now"}},
		{"a DELETE", "DELETE", "/v1/secrets/" + sec.ID, nil},
		{"a restore", "POST", "/v1/secrets/" + sec.ID + "/versions/1/restore", nil},
		{"a set by name", "POST", "/v1/apps/web/secrets", map[string]string{"name": "ANNS_APP", "value": "b"}},
		{"a delete by name", "DELETE", "/v1/apps/web/secrets/ANNS_APP", nil},
		{"a rotation policy", "PUT", "/v1/secrets/" + sec.ID + "/rotation", map[string]any{"every": "30d", "environments": []string{"production"}}},
		{"clearing a rotation policy", "DELETE", "/v1/secrets/" + sec.ID + "/rotation", nil},
	} {
		t.Run(tc.name+" by a non-owner member is 403 with the owner's name", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, bob, tc.body)
			got := wantError(t, r, http.StatusForbidden, "forbidden")
			if want := "Only Ann Owner can modify this secret"; got.Message != want {
				t.Errorf("message = %q, want %q", got.Message, want)
			}
		})
	}
	if got := e.getSecret(t, ann, sec.ID); got.Version != 1 || got.Description != "" {
		t.Errorf("the secret changed: version %d, description %q", got.Version, got.Description)
	}
}

func TestNotFound(t *testing.T) {
	e, super := newAcme(t)
	absent := uuid.NewString()
	unrotated := e.createSecret(t, super, map[string]any{"name": "UNROTATED"})
	policy := map[string]any{"every": "30d", "environments": []string{"production"}}
	for _, tc := range []struct {
		name         string
		method, path string
		token        string
		body         any
	}{
		{"an absent id", "GET", "/v1/secrets/" + absent, super, nil},
		{"an id that is not a UUID", "GET", "/v1/secrets/not-a-uuid", super, nil},
		{"a PATCH of an absent id", "PATCH", "/v1/secrets/" + absent, super, map[string]any{"version": 1, "description": "x"}},
		{"a DELETE of an absent id", "DELETE", "/v1/secrets/" + absent, super, nil},
		{"a DELETE of a non-UUID id", "DELETE", "/v1/secrets/DATADOG_API_KEY", super, nil},
		{"the versions of an absent id", "GET", "/v1/secrets/" + absent + "/versions", super, nil},
		{"a restore of an absent id", "POST", "/v1/secrets/" + absent + "/versions/1/restore", super, nil},
		{"a rotation policy for an absent id", "PUT", "/v1/secrets/" + absent + "/rotation", super, policy},
		{"clearing the rotation policy of an absent id", "DELETE", "/v1/secrets/" + absent + "/rotation", super, nil},
		{"clearing a rotation policy that was never set", "DELETE", "/v1/secrets/" + unrotated.ID + "/rotation", super, nil},
		{"a delete by an absent name", "DELETE", "/v1/org/secrets/NOPE", super, nil},
		{"a delete by an absent name at an app", "DELETE", "/v1/apps/web/secrets/NOPE", super, nil},
		{"a delete by an absent name at a machine", "DELETE", "/v1/apps/web/machines/m1/secrets/NOPE", super, nil},
		{"a revoke of an absent token", "DELETE", "/v1/tokens/nope", super, nil},
		{"an unknown path", "GET", "/v1/nothing-here", super, nil},
		{"an unknown path without a token", "GET", "/v2/secrets", "", nil},
		{"the root", "GET", "/", "", nil},
		{"a path below a route", "GET", "/v1/secrets/" + absent + "/versions/1", super, nil},
	} {
		t.Run(tc.name+" is 404", func(t *testing.T) {
			wantError(t, e.do(t, tc.method, tc.path, tc.token, tc.body), http.StatusNotFound, "not_found")
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e, super := newAcme(t)
	id := "8f0c6a4e-2b1d-4c3e-9f7a-5d6b8e9c0a1b" // fixed, so that subtest names are stable
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"PUT", "/v1/secrets/" + id, "DELETE, GET, PATCH"},
		{"DELETE", "/v1/org/secrets", "GET, POST"},
		{"PATCH", "/v1/apps/web/secrets", "GET, POST"},
		{"GET", "/v1/apps/web/machines/m1/secrets/X", "DELETE"},
		{"GET", "/v1/resolve", "POST"},
		{"POST", "/healthz", "GET"},
		{"DELETE", "/v1/secrets", "GET, POST"},
		{"GET", "/v1/secrets/" + id + "/versions/1/restore", "POST"},
		{"PUT", "/v1/org", "GET, PATCH"},
		{"PATCH", "/v1/tokens", "GET, POST"},
		{"GET", "/v1/secrets/" + id + "/rotation", "DELETE, PUT"},
		{"POST", "/v1/secrets/" + id + "/rotation", "DELETE, PUT"},
		{"GET", "/v1/resolve/iam", "POST"},
	} {
		t.Run(tc.method+" "+tc.path+" is 405 and says what is allowed", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, super, nil)
			wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", tc.method)
			if got := r.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "STRIPE_API_KEY", "values": map[string]string{"development": "x"}})

	t.Run("a duplicate name is 409 saying the name is taken in this organization", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "STRIPE_API_KEY", "description": "again"})
		got := wantError(t, r, http.StatusConflict, "conflict", "STRIPE_API_KEY", "already taken in this organization")
		if got.Field != "name" {
			t.Errorf("field = %q, want name", got.Field)
		}
	})
	t.Run("a duplicate name at an app layer is 409 too", func(t *testing.T) {
		e.createSecret(t, super, map[string]any{"name": "APP_KEY", "app": "web"})
		wantError(t, e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "APP_KEY", "app": "web"}), http.StatusConflict, "conflict", "taken")
	})
	t.Run("a stale version is 409 and changes nothing", func(t *testing.T) {
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": "first"}), http.StatusOK)
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": "second"})
		got := wantError(t, r, http.StatusConflict, "conflict", "stale", "version 2")
		if got.Field != "version" {
			t.Errorf("field = %q, want version", got.Field)
		}
		if d := e.getSecret(t, super, sec.ID); d.Version != 2 || d.Description != "first" {
			t.Errorf("after a stale PATCH: version %d, description %q", d.Version, d.Description)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "A"})
	huge := `{"name":"B","description":"` + strings.Repeat("x", 256<<10) + `"}`

	t.Run("a body over 256 KiB is 413", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"POST", "/v1/secrets"}, {"POST", "/v1/org/secrets"}, {"PATCH", "/v1/secrets/" + sec.ID},
			{"POST", "/v1/resolve"}, {"POST", "/v1/tokens"}, {"PATCH", "/v1/org"},
			{"POST", "/v1/secrets/" + sec.ID + "/versions/1/restore"}, {"PUT", "/v1/secrets/" + sec.ID + "/rotation"},
		} {
			wantError(t, e.do(t, c.method, c.path, super, huge), http.StatusRequestEntityTooLarge, "too_large", "256 KiB")
		}
	})
	t.Run("a body of exactly 256 KiB is read", func(t *testing.T) {
		body := `{"name":"B","description":""}`
		body = body + strings.Repeat(" ", 256<<10-len(body))
		wantStatus(t, e.do(t, "POST", "/v1/secrets", super, body), http.StatusCreated)
	})
	t.Run("a body sent as text/plain is 415", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/v1/org/secrets", `{"name":"C","value":"v"}`},
			{"POST", "/v1/secrets", `{"name":"C"}`},
			{"PATCH", "/v1/secrets/" + sec.ID, `{"version":1,"description":"x"}`},
			{"POST", "/v1/resolve", `{"environment":"development"}`},
			{"POST", "/v1/secrets/" + sec.ID + "/versions/1/restore", `{}`},
			{"PUT", "/v1/secrets/" + sec.ID + "/rotation", `{"every":"30d","environments":["production"]}`},
		} {
			r := e.do(t, c.method, c.path, super, c.body, "Content-Type", "text/plain")
			wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "application/json")
		}
	})
	t.Run("a body without a Content-Type is 415", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `{"name":"C","value":"v"}`, "Content-Type", "")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("a form post is 415", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `name=C&value=v`, "Content-Type", "application/x-www-form-urlencoded")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("the IAM resolve bounds and types its body too", func(t *testing.T) {
		const role = "arn:aws:iam::123456789012:role/limits"
		e.mintIAM(t, super, "limits", role, "", "", "development")
		wantError(t, e.resolveIAM(t, role, huge), http.StatusRequestEntityTooLarge, "too_large", "256 KiB")
		r := e.resolveIAM(t, role, `{"environment":"development"}`, "Content-Type", "text/plain")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "application/json")
	})
	t.Run("application/json with a charset is accepted", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `{"name":"C","value":"v"}`, "Content-Type", "application/json; charset=utf-8")
		wantStatus(t, r, http.StatusCreated)
	})
}

// TestEveryResponseIsNoStore lists answers of every kind; do checks
// Cache-Control on each, and this test checks that the list was answered.
func TestEveryResponseIsNoStore(t *testing.T) {
	e, super := newAcme(t)
	for _, tc := range []struct {
		method, path string
		token        string
		body         any
		status       int
	}{
		{"GET", "/healthz", "", nil, 200},
		{"GET", "/v1/openapi.json", "", nil, 200},
		{"POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "v"}, 201},
		{"DELETE", "/v1/org/secrets/A", super, nil, 204},
		{"GET", "/v1/org/secrets", "", nil, 401},
		{"GET", "/v1/nowhere", "", nil, 404},
		{"PUT", "/v1/org/secrets", super, nil, 405},
		{"POST", "/v1/secrets", super, "{", 400},
		{"POST", "/v1/secrets", super, `{"name":"A","description":"` + strings.Repeat("x", 300<<10) + `"}`, 413},
		{"POST", "/v1/secrets", super, `{"name":"A"}`, 415},
	} {
		hdr := []string{}
		if tc.status == 415 {
			hdr = []string{"Content-Type", "text/plain"}
		}
		r := e.do(t, tc.method, tc.path, tc.token, tc.body, hdr...)
		if r.Status != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, r.Status, tc.status)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control = %q", tc.method, tc.path, r.Status, got)
		}
	}
}
