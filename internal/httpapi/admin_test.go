package httpapi_test

import (
	"bytes"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// ---------------------------------------------------------------------------
// Identity: /v1/me and tokens.

func TestMe(t *testing.T) {
	e, super := newAcme(t)
	member := e.mintUser(t, super, "ann@acme.test", "Ann", "member")
	svc := e.mintService(t, super, "web-deployer", "web", "", "production")

	t.Run("a user sees org, subject, name, kind, role and priority", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", member, nil)
		wantStatus(t, r, http.StatusOK)
		m := object(t, r)
		want := map[string]any{"org": "acme", "subject": "ann@acme.test", "name": "Ann", "kind": "user", "role": "member", "role_priority": 10.0}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if bytes.Contains(r.Body, []byte(member)) {
			t.Error("/v1/me shows the token")
		}
	})
	t.Run("a superadmin has priority 1000", func(t *testing.T) {
		m := object(t, e.do(t, "GET", "/v1/me", super, nil))
		if m["role"] != "superadmin" || m["role_priority"] != 1000.0 {
			t.Errorf("role, priority = %v, %v", m["role"], m["role_priority"])
		}
	})
	t.Run("a service token sees its kind and no role", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", svc, nil)
		wantStatus(t, r, http.StatusOK)
		m := object(t, r)
		wantHasKeys(t, "me", m, "org", "subject", "name", "kind", "role", "role_priority")
		if m["org"] != "acme" || m["kind"] != "service" || m["name"] != "web-deployer" || m["role"] != nil {
			t.Errorf("me = %v", m)
		}
	})
}

func TestTokens(t *testing.T) {
	e, super := newAcme(t)

	r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "user", "subject": "ann@acme.test", "name": "Ann", "role": "member"})
	wantStatus(t, r, http.StatusCreated)
	wantHasKeys(t, "created token", object(t, r), "id", "token", "kind", "name", "subject", "role", "prefix", "created_at", "expires_at")
	user := decode[tokenJSON](t, r)

	t.Run("a user token is shown once with its prefix", func(t *testing.T) {
		if !strings.HasPrefix(user.Token, service.UserTokenPrefix) || len(user.Token) < len(service.UserTokenPrefix)+43 {
			t.Errorf("token %q: want %s and 256 bits", user.Token[:10], service.UserTokenPrefix)
		}
		if !strings.HasPrefix(user.Token, user.Prefix) || len(user.Prefix) >= len(user.Token)/2 {
			t.Errorf("prefix %q does not begin the token, or shows too much", user.Prefix)
		}
		if user.Kind != "user" || user.Role != "member" || user.RolePriority != 10 || user.Subject != "ann@acme.test" || user.ExpiresAt != nil {
			t.Errorf("token record = %+v", user)
		}
		if got := object(t, e.do(t, "GET", "/v1/me", user.Token, nil))["subject"]; got != "ann@acme.test" {
			t.Errorf("the new token authenticates as %v", got)
		}
	})

	svc := e.mint(t, super, map[string]any{"kind": "service", "name": "web-prod", "app": "web", "machine": "m1", "environments": []string{"production", "staging", "production"}})
	t.Run("a service token carries its scope", func(t *testing.T) {
		if !strings.HasPrefix(svc.Token, service.ServiceTokenPrefix) {
			t.Errorf("service token prefix: %q", svc.Token[:8])
		}
		if svc.Kind != "service" || svc.App != "web" || svc.Machine != "m1" || !slices.Equal(svc.Environments, []string{"production", "staging"}) || svc.Role != "" {
			t.Errorf("service token record = %+v", svc)
		}
	})

	t.Run("the list holds every token but never a token itself", func(t *testing.T) {
		r, tokens := e.listTokens(t, super)
		if got, want := len(tokens), 3; got != want {
			t.Fatalf("listed %d tokens, want %d (bootstrap, user, service)", got, want)
		}
		ids := map[any]bool{}
		for _, tk := range tokens {
			if _, ok := tk["token"]; ok {
				t.Errorf("a listed token has its token: %v", tk["id"])
			}
			if _, ok := tk["hash"]; ok {
				t.Errorf("a listed token has its hash: %v", tk["id"])
			}
			ids[tk["id"]] = true
		}
		if !ids[user.ID] || !ids[svc.ID] {
			t.Errorf("list lacks a created token: %v", ids)
		}
		for _, tok := range []string{user.Token, svc.Token, super} {
			if bytes.Contains(r.Body, []byte(tok[len(tok)-20:])) {
				t.Error("the list shows a token")
			}
		}
	})

	t.Run("a revoked token answers 401 and is listed as revoked", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+user.ID, super, nil), http.StatusNoContent)
		wantError(t, e.do(t, "GET", "/v1/me", user.Token, nil), http.StatusUnauthorized, "unauthorized", "revoked")
		list := decode[struct {
			Tokens []tokenJSON `json:"tokens"`
		}](t, e.do(t, "GET", "/v1/tokens", super, nil))
		for _, tk := range list.Tokens {
			if tk.ID == user.ID && tk.RevokedAt == nil {
				t.Error("the revoked token is listed without revoked_at")
			}
			if tk.ID == svc.ID && tk.RevokedAt != nil {
				t.Error("the service token is listed as revoked")
			}
		}
	})

	t.Run("revoking an unknown token is 404", func(t *testing.T) {
		wantError(t, e.do(t, "DELETE", "/v1/tokens/00000000000000000000000000000000", super, nil), http.StatusNotFound, "not_found")
	})

	t.Run("a token with an expiry shows it", func(t *testing.T) {
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		tk := e.mint(t, super, map[string]any{"kind": "user", "subject": "tmp@acme.test", "name": "Tmp", "role": "member", "expires_at": exp})
		if tk.ExpiresAt == nil || !tk.ExpiresAt.Equal(exp) {
			t.Errorf("expires_at = %v, want %v", tk.ExpiresAt, exp)
		}
	})
}

func TestIAMTokens(t *testing.T) {
	e, super := newAcme(t)
	const (
		role    = "arn:aws:iam::123456789012:role/web-prod"
		session = "arn:aws:sts::123456789012:assumed-role/web-prod/i-0abc1234"
	)
	r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "web-prod", "principal_arn": session, "app": "web", "environments": []string{"production"}})
	wantStatus(t, r, http.StatusCreated)
	created := object(t, r)
	iam := decode[tokenJSON](t, r)

	t.Run("an IAM token has no token and is registered under its role", func(t *testing.T) {
		if _, ok := created["token"]; ok {
			t.Errorf("the answer has a token: %s", r.Body)
		}
		if got, want := iam.PrincipalARN, role; got != want {
			t.Errorf("principal_arn = %q, want the session's role %q", got, want)
		}
		if got, want := iam.ID, secrets.IAMTokenID("acme", role); got != want {
			t.Errorf("id = %q, want %q, derived from the role", got, want)
		}
		if got, want := iam.Prefix, "iam"; got != want {
			t.Errorf("prefix = %q, want %q", got, want)
		}
		if iam.Kind != "iam" || iam.App != "web" || iam.Machine != "" || !slices.Equal(iam.Environments, []string{"production"}) || iam.Role != "" {
			t.Errorf("iam token record = %+v", iam)
		}
	})
	t.Run("a role registered with a path is registered by its name, as sessions name it", func(t *testing.T) {
		tk := e.mintIAM(t, super, "batch", "arn:aws:iam::123456789012:role/service-role/batch", "", "", "staging")
		if got, want := tk.PrincipalARN, "arn:aws:iam::123456789012:role/batch"; got != want {
			t.Errorf("principal_arn = %q, want %q", got, want)
		}
	})
	t.Run("an IAM user is registered as it is", func(t *testing.T) {
		const user = "arn:aws:iam::123456789012:user/ci"
		if got, want := e.mintIAM(t, super, "ci", user, "", "", "development").PrincipalARN, user; got != want {
			t.Errorf("principal_arn = %q, want %q", got, want)
		}
	})
	t.Run("registering a principal twice is 409 naming principal_arn", func(t *testing.T) {
		for _, arn := range []string{role, session, "arn:aws:iam::123456789012:role/some/path/web-prod"} {
			r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "again", "principal_arn": arn, "environments": []string{"development"}})
			got := wantError(t, r, http.StatusConflict, "conflict", "already registered")
			if got.Field != "principal_arn" {
				t.Errorf("%s: field = %q, want principal_arn", arn, got.Field)
			}
		}
	})
	t.Run("the list shows the principal and never a token", func(t *testing.T) {
		r, tokens := e.listTokens(t, super)
		found := false
		for _, tk := range tokens {
			if _, ok := tk["token"]; ok {
				t.Errorf("a listed token has its token: %v", tk["id"])
			}
			if tk["id"] == iam.ID {
				found = true
				if got, want := tk["principal_arn"], role; got != want {
					t.Errorf("listed principal_arn = %v, want %q", got, want)
				}
			}
		}
		if !found {
			t.Errorf("the iam token %s is not listed: %s", iam.ID, r.Body)
		}
	})
	t.Run("a revoked registration no longer resolves", func(t *testing.T) {
		wantStatus(t, e.resolveIAM(t, role, map[string]string{"environment": "production"}), http.StatusOK)
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+iam.ID, super, nil), http.StatusNoContent)
		wantError(t, e.resolveIAM(t, session, map[string]string{"environment": "production"}), http.StatusUnauthorized, "unauthorized", "revoked")
	})
	t.Run("a revoked registration can be registered again, with a new scope", func(t *testing.T) {
		again := e.mintIAM(t, super, "web-prod again", role, "", "", "development")
		if got, want := again.ID, iam.ID; got != want {
			t.Errorf("id = %q, want the derived id %q", got, want)
		}
		wantStatus(t, e.resolveIAM(t, session, map[string]string{"environment": "development"}), http.StatusOK)
		wantStatus(t, e.resolveIAM(t, session, map[string]string{"environment": "production"}), http.StatusForbidden)
		r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "third", "principal_arn": role, "environments": []string{"development"}})
		wantError(t, r, http.StatusConflict, "conflict", "already registered")
	})
}

// ---------------------------------------------------------------------------
// Audit, layers, org.

type auditJSON struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Actor  struct {
		Kind    string `json:"kind"`
		TokenID string `json:"token_id"`
		Subject string `json:"subject"`
		Name    string `json:"name"`
	} `json:"actor"`
	SecretID    string `json:"secret_id"`
	Environment string `json:"environment"`
	TokenID     string `json:"token_id"`
	Detail      string `json:"detail"`
	Secrets     []struct {
		Name    string `json:"name"`
		Layer   string `json:"layer"`
		Version int64  `json:"version"`
	} `json:"secrets"`
}

// auditAll reads the whole audit trail page by page.
func auditAll(tb testing.TB, e *env, token string, limit int) (records []auditJSON, pages int) {
	tb.Helper()
	cursor := ""
	for {
		path := fmt.Sprintf("/v1/audit?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do(tb, "GET", path, token, nil)
		wantStatus(tb, r, http.StatusOK)
		page := decode[struct {
			Records    []auditJSON `json:"records"`
			NextCursor *string     `json:"next_cursor"`
		}](tb, r)
		if page.NextCursor == nil {
			tb.Fatalf("no next_cursor in %s", r.Body)
		}
		if len(page.Records) > limit {
			tb.Fatalf("a page of %d records, limit %d", len(page.Records), limit)
		}
		pages++
		records = append(records, page.Records...)
		if *page.NextCursor == "" {
			return records, pages
		}
		if pages > 100 {
			tb.Fatal("the audit trail does not end")
		}
		cursor = *page.NextCursor
	}
}

func TestAudit(t *testing.T) {
	e, super := newAcme(t)
	ann := e.mint(t, super, map[string]any{"kind": "user", "subject": "ann@acme.test", "name": "Ann", "role": "member"})
	sec := e.createSecret(t, ann.Token, map[string]any{"name": "API_KEY", "values": map[string]string{"development": "audited-value-1"}})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann.Token, map[string]any{"version": 1, "values": map[string]any{"development": "audited-value-2"}}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "OTHER", "value": "audited-value-3"}), 201)
	e.resolve(t, ann.Token, map[string]any{"environment": "development"})
	wantStatus(t, e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/1/restore", super, nil), 200)
	wantStatus(t, e.do(t, "DELETE", "/v1/org/secrets/OTHER", super, nil), 204)
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+ann.ID, super, nil), 204)
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "staging"}}), 200)

	records, pages := auditAll(t, e, super, 3)
	t.Run("records come newest first over several pages", func(t *testing.T) {
		var actions []string
		for _, r := range records {
			actions = append(actions, r.Action)
		}
		want := []string{"org.update", "token.revoke", "secret.delete", "secret.restore", "resolve", "secret.create", "secret.update", "secret.create", "token.create", "token.create"}
		if !slices.Equal(actions, want) {
			t.Errorf("actions = %v\nwant      %v", actions, want)
		}
		if pages < 4 {
			t.Errorf("read %d pages of 3 for %d records", pages, len(records))
		}
		for i := 1; i < len(records); i++ {
			if records[i].Time.After(records[i-1].Time) || records[i].ID >= records[i-1].ID {
				t.Errorf("record %d (%s) is newer than record %d (%s)", i, records[i].ID, i-1, records[i-1].ID)
			}
		}
	})

	byAction := func(action string) auditJSON {
		for _, r := range records {
			if r.Action == action {
				return r
			}
		}
		t.Fatalf("no %s record", action)
		return auditJSON{}
	}
	t.Run("a resolve names the secrets and versions it returned", func(t *testing.T) {
		r := byAction("resolve")
		if r.Actor.Name != "Ann" || r.Actor.Subject != "ann@acme.test" || r.Actor.Kind != "user" || r.Environment != "development" {
			t.Errorf("resolve record = %+v", r)
		}
		got := map[string]int64{}
		for _, s := range r.Secrets {
			got[s.Name] = s.Version
		}
		if want := map[string]int64{"API_KEY": 2, "OTHER": 1}; !mapsEqual(got, want) {
			t.Errorf("resolved names and versions = %v, want %v", got, want)
		}
	})
	t.Run("writes name the secret and its new version", func(t *testing.T) {
		r := byAction("secret.restore")
		if r.SecretID != sec.ID || len(r.Secrets) != 1 || r.Secrets[0].Name != "API_KEY" || r.Secrets[0].Version != 3 || r.Actor.Name != "Root" {
			t.Errorf("restore record = %+v", r)
		}
		r = byAction("secret.update")
		if len(r.Secrets) != 1 || r.Secrets[0].Name != "API_KEY" || r.Secrets[0].Version != 2 || r.Actor.Name != "Ann" {
			t.Errorf("update record = %+v", r)
		}
		r = byAction("secret.delete")
		if len(r.Secrets) != 1 || r.Secrets[0].Name != "OTHER" || r.Secrets[0].Layer != "g" {
			t.Errorf("delete record = %+v", r)
		}
	})
	t.Run("token changes name the token", func(t *testing.T) {
		if r := byAction("token.revoke"); r.TokenID != ann.ID || r.Actor.Name != "Root" {
			t.Errorf("revoke record = %+v", r)
		}
		if r := records[len(records)-2]; r.Action != "token.create" || r.TokenID != ann.ID {
			t.Errorf("mint record = %+v", r)
		}
	})
	t.Run("an admin reads the audit, other orgs see none of it", func(t *testing.T) {
		admin := e.mintUser(t, super, "adm@acme.test", "Adm", "admin")
		if got, _ := auditAll(t, e, admin, 50); len(got) != len(records)+1 {
			t.Errorf("an admin read %d records, want %d", len(got), len(records)+1)
		}
		other := e.bootstrap(t, "globex", "root@globex.test", "G")
		got, _ := auditAll(t, e, other, 50)
		if len(got) != 1 || got[0].Action != "token.create" {
			t.Errorf("another org's audit holds %d records: %+v", len(got), got)
		}
	})
}

func TestLayers(t *testing.T) {
	e, super := newAcme(t)
	r := e.do(t, "GET", "/v1/layers", super, nil)
	wantStatus(t, r, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.Body)), `{"layers":[]}`; got != want {
		t.Errorf("no layers = %s, want %s", got, want)
	}
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets", "/v1/apps/api/secrets"} {
		wantStatus(t, e.do(t, "POST", base, super, map[string]string{"name": "X", "value": "x"}), http.StatusCreated)
	}
	r = e.do(t, "GET", "/v1/layers", super, nil)
	wantStatus(t, r, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.Body)), `{"layers":[{"app":"api","machine":null},{"app":"web","machine":null},{"app":"web","machine":"m1"}]}`; got != want {
		t.Errorf("layers = %s\nwant       %s", got, want)
	}
}

func TestOrgSettings(t *testing.T) {
	e, super := newAcme(t)
	r := e.do(t, "GET", "/v1/org", super, nil)
	wantStatus(t, r, http.StatusOK)
	org := object(t, r)
	wantHasKeys(t, "org", org, "id", "created_at", "user_resolve_environments")
	if org["id"] != "acme" || fmt.Sprint(org["user_resolve_environments"]) != "[development]" {
		t.Errorf("org = %v", org)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "production"}})
	wantStatus(t, r, http.StatusOK)
	if got := fmt.Sprint(object(t, r)["user_resolve_environments"]); got != "[development production]" {
		t.Errorf("after PATCH user_resolve_environments = %s", got)
	}
	if got := fmt.Sprint(object(t, e.do(t, "GET", "/v1/org", super, nil))["user_resolve_environments"]); got != "[development production]" {
		t.Errorf("GET after PATCH user_resolve_environments = %s", got)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{}})
	wantStatus(t, r, http.StatusBadRequest)
	if got := errorOf(t, r).Field; got != "user_resolve_environments" {
		t.Errorf("an empty list: error field = %q, want user_resolve_environments", got)
	}

	if got := fmt.Sprint(org["audit_retention_days"]); got != "400" {
		t.Errorf("audit_retention_days = %s, want the default 400", got)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"audit_retention_days": 90})
	wantStatus(t, r, http.StatusOK)
	if got := fmt.Sprint(object(t, r)["audit_retention_days"]); got != "90" {
		t.Errorf("after PATCH audit_retention_days = %s, want 90", got)
	}
	r = e.do(t, "GET", "/v1/audit?limit=1", super, nil)
	wantStatus(t, r, http.StatusOK)
	page := decode[struct {
		Records []struct {
			Action, Detail string
			Time           time.Time
			ExpiresAt      time.Time `json:"expires_at"`
		} `json:"records"`
	}](t, r)
	if len(page.Records) != 1 {
		t.Fatalf("audit page: %s", r.Body)
	}
	// Shortening the retention keeps its own record for the old one.
	if rec := page.Records[0]; rec.Detail != "audit_retention_days: 400→90" || !rec.ExpiresAt.Equal(rec.Time.Add(400*24*time.Hour).Truncate(time.Second)) {
		t.Errorf("the change's record: %q, expires %s (at %s); want it kept 400 days", rec.Detail, rec.ExpiresAt, rec.Time)
	}
	for _, days := range []any{0, 3651, "400"} {
		r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"audit_retention_days": days})
		wantStatus(t, r, http.StatusBadRequest)
		if got := errorOf(t, r).Field; got != "audit_retention_days" {
			t.Errorf("audit_retention_days %v: error field = %q, want audit_retention_days", days, got)
		}
	}
}
