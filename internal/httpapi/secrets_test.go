package httpapi_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// ---------------------------------------------------------------------------
// The grid's API.

func TestGridSecrets(t *testing.T) {
	e, super := newAcme(t)
	ann := e.mintUser(t, super, "ann@acme.test", "Ann", "member")
	bob := e.mintUser(t, super, "bob@acme.test", "Bob", "member")
	cat := e.mintUser(t, super, "cat@acme.test", "Cat", "admin")
	// The grid's flow has members own production values: this org lets
	// members write production (the default needs an admin).
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": 10}}}), http.StatusOK)

	r := e.do(t, "POST", "/v1/secrets", ann, map[string]any{
		"name": "STRIPE_API_KEY", "description": "Stripe, live mode",
		"values": map[string]any{"production": "sk_live_51H8xyzQWERTYRgA1", "development": "sk_test_short", "staging": nil},
	})
	wantStatus(t, r, http.StatusCreated)
	created := object(t, r)
	wantHasKeys(t, "created", created, "id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version")
	for _, k := range []string{"values", "value"} {
		if _, ok := created[k]; ok {
			t.Errorf("the created row has %q: %s", k, r.Body)
		}
	}
	sec := decode[secretJSON](t, r)

	t.Run("the created row says who owns it and which environments hold a value", func(t *testing.T) {
		if err := uuid.Validate(sec.ID); err != nil || uuid.MustParse(sec.ID).Version() != 4 {
			t.Errorf("id %q is not a UUID v4", sec.ID)
		}
		if sec.App != nil || sec.Machine != nil {
			t.Errorf("app, machine = %v, %v, want null, null", sec.App, sec.Machine)
		}
		if got, want := sec.Environments, map[string]bool{"development": true, "staging": false, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
		if got, want := sec.Owner, (secrets.Principal{Subject: "ann@acme.test", Name: "Ann"}); got != want {
			t.Errorf("owner = %+v, want %+v", got, want)
		}
		if got, want := sec.Version, int64(1); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		if sec.CreatedAt.IsZero() || !sec.CreatedAt.Equal(sec.UpdatedAt) {
			t.Errorf("created_at %v, updated_at %v: want both set and equal", sec.CreatedAt, sec.UpdatedAt)
		}
		if got, want := sec.Description, "Stripe, live mode"; got != want {
			t.Errorf("description = %q, want %q", got, want)
		}
	})

	t.Run("the detail masks each value and says null where there is none", func(t *testing.T) {
		d := e.getSecret(t, ann, sec.ID)
		want := map[string]*string{"development": ptr("***"), "staging": nil, "production": ptr("sk_live_***RgA1")}
		if got := d.Masked; !masksEqual(got, want) {
			t.Errorf("masked = %s, want %s", showMasks(got), showMasks(want))
		}
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID, ann, nil)
		masked, _ := object(t, r)["masked"].(map[string]any)
		wantKeys(t, "masked", masked, "development", "staging", "production")
		if bytes.Contains(r.Body, []byte("51Hxyzabcd")) || bytes.Contains(r.Body, []byte("sk_test_short")) {
			t.Errorf("the detail shows a value: %s", r.Body)
		}
	})

	t.Run("can_modify is true for the owner and admins, false for other members", func(t *testing.T) {
		for _, tc := range []struct {
			who   string
			token string
			want  bool
		}{{"the owner", ann, true}, {"another member", bob, false}, {"an admin", cat, true}, {"a superadmin", super, true}} {
			d := e.getSecret(t, tc.token, sec.ID)
			if d.CanModify == nil || *d.CanModify != tc.want {
				t.Errorf("%s: can_modify = %v, want %v", tc.who, d.CanModify, tc.want)
			}
		}
	})

	t.Run("the list holds rows without values or masks", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets", bob, nil)
		wantStatus(t, r, http.StatusOK)
		list := decode[struct {
			Secrets []map[string]any `json:"secrets"`
		}](t, r)
		if got, want := len(list.Secrets), 1; got != want {
			t.Fatalf("listed %d rows, want %d", got, want)
		}
		for _, k := range []string{"masked", "values", "value"} {
			if _, ok := list.Secrets[0][k]; ok {
				t.Errorf("a listed row has %q", k)
			}
		}
		wantHasKeys(t, "listed row", list.Secrets[0], "id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version")
		envs, _ := list.Secrets[0]["environments"].(map[string]any)
		wantKeys(t, "environments", envs, "development", "staging", "production")
		owner, _ := list.Secrets[0]["owner"].(map[string]any)
		wantKeys(t, "owner", owner, "subject", "name")
	})

	t.Run("a PATCH changes only what it sends and returns the new version", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann, map[string]any{"version": 1, "values": map[string]any{"staging": "staging-value-0000"}})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 2 || got.Description != "Stripe, live mode" || !mapsEqual(got.Environments, map[string]bool{"development": true, "staging": true, "production": true}) {
			t.Errorf("after setting staging: version %d, description %q, environments %v", got.Version, got.Description, got.Environments)
		}
		if got.Masked["production"] == nil || *got.Masked["production"] != "sk_live_***RgA1" {
			t.Errorf("production mask changed: %s", showMasks(got.Masked))
		}
		if !got.CreatedAt.Equal(sec.CreatedAt) || got.UpdatedAt.Before(sec.UpdatedAt) {
			t.Errorf("created_at %v (was %v), updated_at %v (was %v)", got.CreatedAt, sec.CreatedAt, got.UpdatedAt, sec.UpdatedAt)
		}
	})

	t.Run("a null value clears that environment only", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann, map[string]any{"version": 2, "values": map[string]any{"development": nil}})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 3 || !mapsEqual(got.Environments, map[string]bool{"development": false, "staging": true, "production": true}) {
			t.Errorf("after clearing development: version %d, environments %v", got.Version, got.Environments)
		}
		if got.Masked["development"] != nil {
			t.Errorf("development mask = %q, want null", *got.Masked["development"])
		}
	})

	t.Run("an admin may change the description and the owner stays", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, cat, map[string]any{"version": 3, "description": "rotated quarterly"})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 4 || got.Description != "rotated quarterly" || got.Owner.Subject != "ann@acme.test" {
			t.Errorf("after an admin's description change: version %d, description %q, owner %+v", got.Version, got.Description, got.Owner)
		}
		if !mapsEqual(got.Environments, map[string]bool{"development": false, "staging": true, "production": true}) {
			t.Errorf("environments changed with the description: %v", got.Environments)
		}
	})

	t.Run("the same name may live at another layer", func(t *testing.T) {
		s := e.createSecret(t, ann, map[string]any{"name": "STRIPE_API_KEY", "app": "web", "machine": "m1", "values": map[string]string{"development": "x"}})
		if s.App == nil || *s.App != "web" || s.Machine == nil || *s.Machine != "m1" {
			t.Errorf("app, machine = %v, %v, want web, m1", s.App, s.Machine)
		}
		r := e.do(t, "GET", "/v1/secrets?app=web&machine=m1", ann, nil)
		wantStatus(t, r, http.StatusOK)
		rows := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets
		if len(rows) != 1 || rows[0].ID != s.ID {
			t.Errorf("GET ?app=web&machine=m1 = %s, want the one machine secret", r.Body)
		}
		r = e.do(t, "GET", "/v1/secrets?app=web", ann, nil)
		if got := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets; len(got) != 0 {
			t.Errorf("GET ?app=web lists the machine layer's secrets: %s", r.Body)
		}
	})

	t.Run("a description of exactly 1000 characters is accepted", func(t *testing.T) {
		e.createSecret(t, ann, map[string]any{"name": "LONG_DESCRIPTION", "description": strings.Repeat("é", 1000)})
	})
}

func masksEqual(a, b map[string]*string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v == nil) != (w == nil) || (v != nil && *v != *w) {
			return false
		}
	}
	return true
}

func showMasks(m map[string]*string) string {
	var parts []string
	for _, k := range []string{"development", "staging", "production"} {
		v := "null"
		if m[k] != nil {
			v = fmt.Sprintf("%q", *m[k])
		}
		parts = append(parts, k+":"+v)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func TestVersionsAndRestore(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "DB_PASSWORD", "description": "first",
		"values": map[string]string{"development": "dev-password-one"}})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "values": map[string]any{"development": "dev-password-two-is-long"}, "description": "second"}), 200)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 2, "values": map[string]any{"production": "prod-password-x"}}), 200)

	type versionJSON struct {
		Version      int64              `json:"version"`
		Change       string             `json:"change"`
		RestoredFrom int64              `json:"restored_from"`
		Description  string             `json:"description"`
		Environments map[string]bool    `json:"environments"`
		Masked       map[string]*string `json:"masked"`
		Current      bool               `json:"current"`
	}
	type versionsJSON struct {
		ID       string        `json:"id"`
		Name     string        `json:"name"`
		Versions []versionJSON `json:"versions"`
	}

	t.Run("versions are listed newest first with masks only", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		wantStatus(t, r, http.StatusOK)
		v := decode[versionsJSON](t, r)
		if v.ID != sec.ID || v.Name != "DB_PASSWORD" {
			t.Errorf("id, name = %s, %s", v.ID, v.Name)
		}
		var got []int64
		for _, x := range v.Versions {
			got = append(got, x.Version)
		}
		if want := []int64{3, 2, 1}; !slices.Equal(got, want) {
			t.Fatalf("versions = %v, want %v", got, want)
		}
		if !v.Versions[0].Current || v.Versions[1].Current {
			t.Errorf("current flags = %v, %v: want only the newest", v.Versions[0].Current, v.Versions[1].Current)
		}
		if got, want := v.Versions[2].Change, "create"; got != want {
			t.Errorf("change of version 1 = %q, want %q", got, want)
		}
		if got, want := v.Versions[1].Description, "second"; got != want {
			t.Errorf("description of version 2 = %q, want %q", got, want)
		}
		if m := v.Versions[1].Masked["development"]; m == nil || *m != "dev-***long" {
			t.Errorf("development mask of version 2 = %s, want dev-***long", showMasks(v.Versions[1].Masked))
		}
		if bytes.Contains(r.Body, []byte("password")) {
			t.Errorf("versions show a value: %s", r.Body)
		}
	})

	t.Run("restoring a version makes its content current as a new version", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/1/restore", super, nil)
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 4 || got.Description != "first" || !mapsEqual(got.Environments, map[string]bool{"development": true, "staging": false, "production": false}) {
			t.Errorf("restored: version %d, description %q, environments %v", got.Version, got.Description, got.Environments)
		}
		if v := e.resolve(t, super, map[string]any{"environment": "development"}); v["DB_PASSWORD"] != "dev-password-one" {
			t.Errorf("resolved after restore = %q, want the value of version 1", v["DB_PASSWORD"])
		}
		r = e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		v := decode[versionsJSON](t, r)
		if len(v.Versions) != 4 || v.Versions[0].Change != "restore" || v.Versions[0].RestoredFrom != 1 {
			t.Errorf("after restore the newest version is %+v of %d", v.Versions[0], len(v.Versions))
		}
	})

	t.Run("a restore with an empty JSON object as its body works too", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/2/restore", super, "{}")
		wantStatus(t, r, http.StatusOK)
		if got := decode[secretJSON](t, r); got.Version != 5 || got.Description != "second" {
			t.Errorf("restored version 2: version %d, description %q", got.Version, got.Description)
		}
	})

	t.Run("restoring a version that never existed is 404", func(t *testing.T) {
		wantError(t, e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/99/restore", super, nil), http.StatusNotFound, "not_found", "99")
	})

	t.Run("deleting removes the secret and its history", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/secrets/"+sec.ID, super, nil), http.StatusNoContent)
		wantError(t, e.do(t, "GET", "/v1/secrets/"+sec.ID, super, nil), http.StatusNotFound, "not_found")
		wantError(t, e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil), http.StatusNotFound, "not_found")
		wantError(t, e.do(t, "DELETE", "/v1/secrets/"+sec.ID, super, nil), http.StatusNotFound, "not_found")
	})
}

func TestVersionsAreKeptUpToTheLimit(t *testing.T) {
	e, super := newAcme(t)
	for i := 0; i < 23; i++ {
		e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "ROTATED", "value": fmt.Sprint("value-", i)})
	}
	row := findRow(t, e, super, "", "ROTATED")
	v := e.versionNumbers(t, super, row.ID)
	if got, want := len(v), 20; got != want {
		t.Fatalf("kept %d versions, want %d", got, want)
	}
	if got, want := v[19], int64(4); got != want {
		t.Errorf("oldest kept version = %d, want %d", got, want)
	}
	wantError(t, e.do(t, "POST", "/v1/secrets/"+row.ID+"/versions/3/restore", super, nil), http.StatusNotFound, "not_found", "no longer kept")
}

// ---------------------------------------------------------------------------
// Concurrency through HTTP.

func TestConcurrentSetsOfOneNameAllSucceed(t *testing.T) {
	e, super := newAcme(t)
	const n = 100
	type result struct {
		status  int
		version int64
	}
	results := make([]result, n)
	race(n, func(i int) {
		r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "RACED", "value": fmt.Sprintf("value-%02d", i)})
		var v layerSecretJSON
		_ = json.Unmarshal(r.Body, &v)
		results[i] = result{r.Status, v.Version}
	})

	created := 0
	var versions []int64
	for i, r := range results {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("writer %d: status %d", i, r.status)
		}
		versions = append(versions, r.version)
	}
	if created != 1 {
		t.Errorf("%d writers got 201, want exactly 1", created)
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions = %v, want 1 to %d, each once", versions, n)
		}
	}

	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	list := decode[struct {
		Secrets []layerSecretJSON `json:"secrets"`
	}](t, r)
	if len(list.Secrets) != 1 || list.Secrets[0].Version != n {
		t.Fatalf("list = %s, want RACED at version %d", r.Body, n)
	}

	row := findRow(t, e, super, "", "RACED")
	history := e.versionNumbers(t, super, row.ID)
	want := make([]int64, 20) // the versions kept
	for i := range want {
		want[i] = int64(n - i)
	}
	if !slices.Equal(history, want) {
		t.Errorf("history = %v, want %v", history, want)
	}
}

func TestConcurrentPatchesWithOneVersion(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "CONTENDED", "values": map[string]string{"development": "v0"}})
	const n = 10
	statuses := make([]int, n)
	race(n, func(i int) {
		statuses[i] = e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": fmt.Sprint("writer ", i)}).Status
	})
	ok, conflict := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		default:
			t.Errorf("writer %d: status %d", i, s)
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Errorf("%d × 200 and %d × 409, want 1 and %d", ok, conflict, n-1)
	}
	if got := e.getSecret(t, super, sec.ID); got.Version != 2 {
		t.Errorf("version = %d, want 2", got.Version)
	}
}
