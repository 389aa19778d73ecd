package httpapi_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// ---------------------------------------------------------------------------
// Rotation policies.

func TestRotationPolicies(t *testing.T) {
	c := newClock()
	e := newEnvWithClock(t, c)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "DB_PASSWORD", "app": "web",
		"values": map[string]string{"development": "dev-password-0123456789", "production": "prod-password-0123456789"}})
	before := e.getSecret(t, super, sec.ID)
	path := "/v1/secrets/" + sec.ID + "/rotation"
	c.Advance(time.Minute) // so that the audit orders each step after the one before

	t.Run("a secret without a policy shows rotation null", func(t *testing.T) {
		d := object(t, e.do(t, "GET", "/v1/secrets/"+sec.ID, super, nil))
		if got, ok := d["rotation"]; !ok || got != nil {
			t.Errorf("rotation = %v (present %v), want null", got, ok)
		}
	})
	t.Run("setting a policy is a new version, due one interval from now, with the values kept", func(t *testing.T) {
		got := e.setRotation(t, super, sec.ID, map[string]any{"every": "30d", "environments": []string{"production", "production"},
			"length": 40, "alphabet": "abcdefghijklmnopqrstuvwxyz0123456789"})
		if got, want := got.Version, int64(2); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		p := got.Rotation
		if p == nil {
			t.Fatal("rotation = null")
		}
		if p.Every != "30d" || !slices.Equal(p.Environments, []string{"production"}) || p.Length != 40 || p.Alphabet != "abcdefghijklmnopqrstuvwxyz0123456789" {
			t.Errorf("rotation = %+v", p)
		}
		if got, want := p.NextAt, c.Now().Add(30*24*time.Hour); !got.Equal(want) {
			t.Errorf("next_at = %v, want %v", got, want)
		}
		if p.LastAt != nil {
			t.Errorf("last_at = %v, want null before the first rotation", p.LastAt)
		}
		if !masksEqual(got.Masked, before.Masked) {
			t.Errorf("masks = %s, want them unchanged: %s", showMasks(got.Masked), showMasks(before.Masked))
		}
		c.Advance(time.Minute)
	})
	t.Run("a new policy replaces the old; length and alphabet default to 32 letters and digits", func(t *testing.T) {
		got := e.setRotation(t, super, sec.ID, map[string]any{"every": "12h", "environments": []string{"staging"}})
		p := got.Rotation
		if p == nil {
			t.Fatal("rotation = null")
		}
		if p.Every != "12h" || !slices.Equal(p.Environments, []string{"staging"}) || p.Length != service.DefaultRotationLength || p.Alphabet != service.DefaultAlphabet {
			t.Errorf("rotation = %+v", p)
		}
		if got, want := p.NextAt, c.Now().Add(12*time.Hour); !got.Equal(want) {
			t.Errorf("next_at = %v, want %v", got, want)
		}
	})
	t.Run("nothing rotates before the policy is due", func(t *testing.T) {
		c.Advance(12*time.Hour - time.Second)
		if got := e.rotateDue(t, "every-5-minutes"); got.Rotated != 0 {
			t.Errorf("report = %+v, want nothing rotated", got)
		}
		if got, want := e.getSecret(t, super, sec.ID).Version, int64(3); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
	t.Run("once due the sweep rotates the policy's environments and the detail shows masks only", func(t *testing.T) {
		c.Advance(time.Second)
		if got := e.rotateDue(t, "every-5-minutes"); got.Rotated != 1 {
			t.Fatalf("report = %+v, want one rotated", got)
		}
		got := e.getSecret(t, super, sec.ID)
		if got, want := got.Version, int64(4); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		if got, want := got.Environments, map[string]bool{"development": true, "staging": true, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want staging filled in by the rotation: %v", got, want)
		}
		if m := got.Masked["staging"]; m == nil || !strings.HasPrefix(*m, "***") || len(*m) != len("***")+4 {
			t.Errorf("staging mask = %v, want *** and 4 characters", showMasks(got.Masked))
		}
		for _, env := range []string{"development", "production"} {
			if !masksEqual(map[string]*string{env: got.Masked[env]}, map[string]*string{env: before.Masked[env]}) {
				t.Errorf("%s changed; the policy rotates staging only: %s", env, showMasks(got.Masked))
			}
		}
		p := got.Rotation
		if p == nil || p.LastAt == nil || !p.LastAt.Equal(c.Now()) || !p.NextAt.Equal(c.Now().Add(12*time.Hour)) {
			t.Errorf("rotation = %+v, want last_at now and next_at 12h on", p)
		}
	})
	t.Run("the new version says rotate and who rotated it: the schedule", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		wantStatus(t, r, http.StatusOK)
		versions := decode[struct {
			Versions []struct {
				Version   int64             `json:"version"`
				Change    string            `json:"change"`
				UpdatedBy secrets.Principal `json:"updated_by"`
			} `json:"versions"`
		}](t, r).Versions
		var changes []string
		for _, v := range versions {
			changes = append(changes, v.Change)
		}
		if want := []string{"rotate", "rotation-policy", "rotation-policy", "create"}; !slices.Equal(changes, want) {
			t.Errorf("changes = %v, want %v", changes, want)
		}
		if got, want := versions[0].UpdatedBy.Subject, "schedule:every-5-minutes"; got != want {
			t.Errorf("updated_by = %q, want %q", got, want)
		}
	})
	t.Run("the audit names the schedule", func(t *testing.T) {
		all, _ := auditAll(t, e, super, 100)
		var records []auditJSON
		var actions []string
		for _, rec := range all {
			if rec.SecretID == sec.ID {
				records = append(records, rec)
				actions = append(actions, rec.Action)
			}
		}
		if want := []string{"secret.rotate", "rotation.set", "rotation.set", "secret.create"}; !slices.Equal(actions, want) {
			t.Fatalf("actions on the secret = %v, want %v", actions, want)
		}
		if got := records[0].Actor; got.Kind != "system" || got.Subject != "schedule:every-5-minutes" {
			t.Errorf("rotation actor = %+v, want the schedule", got)
		}
	})
	t.Run("clearing the policy is a new version and stops rotation", func(t *testing.T) {
		r := e.do(t, "DELETE", path, super, nil)
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Rotation != nil || got.Version != 5 {
			t.Errorf("after DELETE: rotation %+v, version %d; want null, 5", got.Rotation, got.Version)
		}
		c.Advance(48 * time.Hour)
		if got := e.rotateDue(t, "every-5-minutes"); got.Due != 0 || got.Rotated != 0 {
			t.Errorf("report = %+v, want nothing due", got)
		}
		if got, want := e.getSecret(t, super, sec.ID).Version, int64(5); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
	t.Run("clearing a policy that is not there is 404", func(t *testing.T) {
		wantError(t, e.do(t, "DELETE", path, super, nil), http.StatusNotFound, "not_found", "DB_PASSWORD has no rotation policy")
	})
}
