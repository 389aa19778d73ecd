package httpapi_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"
)

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
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
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
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
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
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
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
	var page struct {
		Records []struct {
			Action, Detail string
			Time           time.Time
			ExpiresAt      time.Time `json:"expires_at"`
		} `json:"records"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Records) != 1 {
		t.Fatalf("audit page: %v %s", err, r.Body)
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
