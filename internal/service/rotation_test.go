package service_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

// rotationEnv is the kit on a clock a test moves, with a superadmin of
// acme who may resolve every environment.
type rotationEnv struct {
	*testkit.Kit
	svc   *service.Service
	admin secrets.Identity
}

func newRotationEnv(t *testing.T) *rotationEnv {
	t.Helper()
	k := testkit.New(t, testkit.Options{Clock: testkit.NewClock(testkit.Start)})
	e := &rotationEnv{Kit: k, svc: k.Service}
	e.admin = e.resolvingSuperadmin(t, "acme")
	return e
}

// resolvingSuperadmin bootstraps org and lets its users resolve every
// environment, so that tests can read production values back.
func (e *rotationEnv) resolvingSuperadmin(t *testing.T, org string) secrets.Identity {
	t.Helper()
	id := e.Superadmin(t, org)
	e.ResolveEverywhere(t, id)
	return id
}

func mustCreate(t *testing.T, svc *service.Service, id secrets.Identity, layer secrets.Layer, name string, values map[secrets.Environment]string) *secrets.Secret {
	t.Helper()
	sec, err := svc.Create(context.Background(), id, service.CreateInput{Layer: layer, Name: name, Values: values})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	return sec
}

func mustSetRotation(t *testing.T, svc *service.Service, id secrets.Identity, secretID string, in service.RotationInput) *secrets.Secret {
	t.Helper()
	sec, err := svc.SetRotation(context.Background(), id, secretID, in)
	if err != nil {
		t.Fatalf("SetRotation %+v: %v", in, err)
	}
	return sec
}

func rotateDue(t *testing.T, svc *service.Service, schedule string) service.RotationReport {
	t.Helper()
	rep, err := svc.RotateDue(context.Background(), schedule)
	if err != nil {
		t.Fatalf("RotateDue: %v", err)
	}
	return rep
}

func mustGet(t *testing.T, e *rotationEnv, org, id string) *secrets.Secret {
	t.Helper()
	sec, err := e.Store.GetSecret(context.Background(), org, id)
	if err != nil {
		t.Fatalf("GetSecret %s: %v", id, err)
	}
	return sec
}

// valueOf resolves name at layer for env.
func valueOf(t *testing.T, svc *service.Service, id secrets.Identity, layer secrets.Layer, env secrets.Environment, name string) string {
	t.Helper()
	res, err := svc.Resolve(context.Background(), id, service.ResolveInput{Environment: env, Layer: layer})
	if err != nil {
		t.Fatalf("resolve %s at %s: %v", env, layer, err)
	}
	v, ok := res.Values[name]
	if !ok {
		t.Fatalf("resolve %s at %s: no %s in %v", env, layer, name, res.Values)
	}
	return v
}

var prodOnly = []string{"production"}

func TestAPolicyIsDueOneIntervalAfterItIsSet(t *testing.T) {
	e := newRotationEnv(t)
	sec := mustCreate(t, e.svc, e.admin, secrets.Global, "TOKEN", map[secrets.Environment]string{secrets.Production: "initial-production-value"})
	set := mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "30d", Environments: prodOnly})

	t.Run("setting a policy is a version of its own, due one interval on, never rotated yet", func(t *testing.T) {
		if got, want := set.Version, sec.Version+1; got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		if got, want := set.Change, "rotation-policy"; got != want {
			t.Errorf("change = %q, want %q", got, want)
		}
		p := set.Rotation
		if p == nil {
			t.Fatal("no rotation policy")
		}
		if got, want := p.NextAt, e.Clock.Now().Add(30*24*time.Hour); !got.Equal(want) {
			t.Errorf("NextAt = %v, want %v", got, want)
		}
		if got, want := p.EverySeconds, int64(30*24*3600); got != want {
			t.Errorf("EverySeconds = %d, want %d", got, want)
		}
		if p.LastAt != nil {
			t.Errorf("LastAt = %v, want nil", p.LastAt)
		}
		if got, want := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, "TOKEN"), "initial-production-value"; got != want {
			t.Errorf("value = %q, want %q: setting a policy keeps the values", got, want)
		}
	})
	t.Run("a sweep before it is due rotates nothing", func(t *testing.T) {
		e.Clock.Advance(30*24*time.Hour - time.Second)
		if got, want := rotateDue(t, e.svc, "sweep"), (service.RotationReport{}); got != want {
			t.Errorf("report = %+v, want %+v", got, want)
		}
		if got, want := mustGet(t, e, "acme", sec.ID).Version, set.Version; got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
	t.Run("a sweep at the due time rotates it", func(t *testing.T) {
		e.Clock.Advance(time.Second)
		if got, want := rotateDue(t, e.svc, "sweep"), (service.RotationReport{Due: 1, Rotated: 1}); got != want {
			t.Errorf("report = %+v, want %+v", got, want)
		}
		if got := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, "TOKEN"); got == "initial-production-value" {
			t.Error("the value did not change")
		}
	})
}

func TestRotateDueRotatesEveryDueSecretOfEveryOrgInItsEnvironmentsOnly(t *testing.T) {
	e := newRotationEnv(t)
	ctx := context.Background()
	globex := e.resolvingSuperadmin(t, "globex")
	web := secrets.Layer{App: "web"}
	all := map[secrets.Environment]string{secrets.Development: "dev-value-0123456789", secrets.Staging: "stg-value-0123456789", secrets.Production: "prd-value-0123456789"}

	type fixture struct {
		id    secrets.Identity
		layer secrets.Layer
		sec   *secrets.Secret
		envs  []secrets.Environment // rotated; nil: not due
	}
	fixtures := map[string]*fixture{
		"PROD_ONLY": {id: e.admin, layer: web},
		"DEV_PROD":  {id: e.admin, layer: secrets.Global},
		"NO_POLICY": {id: e.admin, layer: secrets.Global},
		"NOT_DUE":   {id: e.admin, layer: web},
		"GLOBEX":    {id: globex, layer: secrets.Global},
	}
	for name, f := range fixtures {
		f.sec = mustCreate(t, e.svc, f.id, f.layer, name, all)
	}
	for name, p := range map[string]struct {
		every string
		envs  []secrets.Environment
	}{
		"PROD_ONLY": {"1h", []secrets.Environment{secrets.Production}},
		"DEV_PROD":  {"2h", []secrets.Environment{secrets.Development, secrets.Production}},
		"NOT_DUE":   {"3h", nil},
		"GLOBEX":    {"90m", []secrets.Environment{secrets.Production}},
	} {
		f := fixtures[name]
		envs := []string{"staging"}
		if p.envs != nil {
			envs = nil
			for _, env := range p.envs {
				envs = append(envs, string(env))
			}
		}
		f.sec = mustSetRotation(t, e.svc, f.id, f.sec.ID, service.RotationInput{Every: p.every, Environments: envs})
		f.envs = p.envs
	}
	before := map[string]map[secrets.Environment]string{}
	for name, f := range fixtures {
		before[name] = map[secrets.Environment]string{}
		for _, env := range secrets.Environments {
			before[name][env] = valueOf(t, e.svc, f.id, f.layer, env, name)
		}
	}

	e.Clock.Advance(2 * time.Hour)
	now := e.Clock.Now()
	if got, want := rotateDue(t, e.svc, "every-5-minutes"), (service.RotationReport{Due: 3, Rotated: 3}); got != want {
		t.Fatalf("report = %+v, want %+v", got, want)
	}

	for name, f := range fixtures {
		t.Run(name+" changed in its policy's environments only", func(t *testing.T) {
			for _, env := range secrets.Environments {
				got := valueOf(t, e.svc, f.id, f.layer, env, name)
				rotated := false
				for _, r := range f.envs {
					rotated = rotated || r == env
				}
				if changed := got != before[name][env]; changed != rotated {
					t.Errorf("%s changed = %v, want %v", env, changed, rotated)
				}
			}
			head := mustGet(t, e, f.id.Org, f.sec.ID)
			if f.envs == nil {
				if got, want := head.Version, f.sec.Version; got != want {
					t.Errorf("version = %d, want %d: not rotated", got, want)
				}
				return
			}
			if got, want := head.Version, f.sec.Version+1; got != want {
				t.Errorf("version = %d, want %d", got, want)
			}
			if got, want := head.Change, "rotate"; got != want {
				t.Errorf("change = %q, want %q", got, want)
			}
			if got, want := head.UpdatedBy.Subject, "schedule:every-5-minutes"; got != want {
				t.Errorf("updated by %q, want %q", got, want)
			}
			p := head.Rotation
			if p == nil || p.LastAt == nil || !p.LastAt.Equal(now) {
				t.Fatalf("rotation = %+v, want LastAt %v", p, now)
			}
			if got, want := p.NextAt, now.Add(time.Duration(p.EverySeconds)*time.Second); !got.Equal(want) {
				t.Errorf("NextAt = %v, want one interval on: %v", got, want)
			}
			// The version before the rotation is kept, values and all.
			versions, err := e.svc.Versions(ctx, f.id, f.sec.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(versions) < 2 {
				t.Fatalf("%d versions, want the one before the rotation kept", len(versions))
			}
			if got, want := versions[1].Version, f.sec.Version; got != want {
				t.Errorf("the previous version kept is %d, want %d", got, want)
			}
		})
	}
}

func TestRotatedValuesFollowThePolicyAndNeverRepeat(t *testing.T) {
	e := newRotationEnv(t)
	const alphabet = "0123456789abcdef"
	const length = 36 // 128 bits of hex besides the 4 characters the mask shows
	sec := mustCreate(t, e.svc, e.admin, secrets.Global, "HEX", nil)
	sec = mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "1m", Environments: []string{"staging", "production"}, Length: length, Alphabet: alphabet})

	seen := map[string]bool{}
	const rounds = 20
	for range rounds {
		e.Clock.Advance(time.Minute)
		if got := rotateDue(t, e.svc, "sweep"); got.Rotated != 1 {
			t.Fatalf("report = %+v, want one rotated", got)
		}
		for _, env := range []secrets.Environment{secrets.Staging, secrets.Production} {
			v := valueOf(t, e.svc, e.admin, secrets.Global, env, "HEX")
			if got, want := len(v), length; got != want {
				t.Errorf("%s value of %d characters, want %d", env, got, want)
			}
			if strings.Trim(v, alphabet) != "" {
				t.Errorf("%s value holds characters outside %q", env, alphabet)
			}
			if seen[v] {
				t.Errorf("a %s value repeated an earlier one", env)
			}
			seen[v] = true
		}
	}
	if got, want := len(seen), 2*rounds; got != want {
		t.Errorf("%d distinct values, want %d", got, want)
	}
	if got, want := mustGet(t, e, "acme", sec.ID).Version, sec.Version+rounds; got != want {
		t.Errorf("version = %d, want %d", got, want)
	}

	t.Run("without a length or alphabet a value is 32 letters and digits", func(t *testing.T) {
		def := mustCreate(t, e.svc, e.admin, secrets.Global, "DEFAULT", nil)
		def = mustSetRotation(t, e.svc, e.admin, def.ID, service.RotationInput{Every: "1m", Environments: []string{"development"}})
		if p := def.Rotation; p.Length != service.DefaultRotationLength || p.Alphabet != service.DefaultAlphabet {
			t.Errorf("policy = %+v, want the defaults", p)
		}
		e.Clock.Advance(time.Minute)
		rotateDue(t, e.svc, "sweep")
		v := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Development, "DEFAULT")
		if len(v) != service.DefaultRotationLength || strings.Trim(v, service.DefaultAlphabet) != "" {
			t.Errorf("value of %d characters, or outside the default alphabet", len(v))
		}
	})
}

func TestARotationIsAuditedWithTheScheduleAndNoValue(t *testing.T) {
	e := newRotationEnv(t)
	ctx := context.Background()
	const old = "old-production-value-0123456789"
	sec := mustCreate(t, e.svc, e.admin, secrets.Layer{App: "web"}, "AUDITED", map[secrets.Environment]string{secrets.Production: old})
	sec = mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "1h", Environments: prodOnly})
	e.Clock.Advance(time.Hour)
	rotateDue(t, e.svc, "eventbridge-rotation")
	rotated := valueOf(t, e.svc, e.admin, secrets.Layer{App: "web"}, secrets.Production, "AUDITED")

	records, _, err := e.svc.Audit(ctx, e.admin, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	var rec *secrets.AuditRecord
	for _, r := range records {
		if r.Action == secrets.ActionSecretRotate {
			if rec != nil {
				t.Fatal("two rotation records for one rotation")
			}
			rec = r
		}
	}
	if rec == nil {
		t.Fatalf("no %s record", secrets.ActionSecretRotate)
	}
	if got, want := rec.Actor.Kind, secrets.TokenSystem; got != want {
		t.Errorf("actor kind = %q, want %q", got, want)
	}
	if got, want := rec.Actor.Subject, "schedule:eventbridge-rotation"; got != want {
		t.Errorf("actor subject = %q, want %q", got, want)
	}
	if !strings.Contains(rec.Detail, "schedule eventbridge-rotation") || !strings.Contains(rec.Detail, "production") {
		t.Errorf("detail = %q, want the schedule and the environments", rec.Detail)
	}
	if got, want := rec.Org, "acme"; got != want {
		t.Errorf("org = %q, want %q", got, want)
	}
	if rec.SecretID != sec.ID || len(rec.Secrets) != 1 || rec.Secrets[0].Name != "AUDITED" || rec.Secrets[0].Version != sec.Version+1 {
		t.Errorf("record names %s %+v, want AUDITED at version %d", rec.SecretID, rec.Secrets, sec.Version+1)
	}
	all, err := json.Marshal(records)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{old, rotated} {
		if strings.Contains(string(all), v[:16]) {
			t.Error("an audit record holds a value")
		}
		if strings.Contains(e.Logs.String(), v[:16]) {
			t.Error("the log holds a value")
		}
	}
}

func TestClearRotationStopsIt(t *testing.T) {
	e := newRotationEnv(t)
	const value = "kept-production-value-0123456789"
	sec := mustCreate(t, e.svc, e.admin, secrets.Global, "STOPPED", map[secrets.Environment]string{secrets.Production: value})
	sec = mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "1h", Environments: prodOnly})
	cleared, err := e.svc.ClearRotation(context.Background(), e.admin, sec.ID)
	if err != nil {
		t.Fatalf("ClearRotation: %v", err)
	}
	if cleared.Rotation != nil || cleared.Version != sec.Version+1 || cleared.Change != "rotation-policy" {
		t.Errorf("cleared: rotation %+v, version %d, change %q", cleared.Rotation, cleared.Version, cleared.Change)
	}
	e.Clock.Advance(24 * time.Hour)
	if got, want := rotateDue(t, e.svc, "sweep"), (service.RotationReport{}); got != want {
		t.Errorf("report = %+v, want %+v", got, want)
	}
	if got := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, "STOPPED"); got != value {
		t.Errorf("value = %q, want it kept", got)
	}
	if _, err := e.svc.ClearRotation(context.Background(), e.admin, sec.ID); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("clearing again: %v, want not found", err)
	}
}

func TestParseEvery(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration // 0: invalid
	}{
		{"30d", 30 * 24 * time.Hour},
		{"1d", 24 * time.Hour},
		{"366d", 366 * 24 * time.Hour},
		{"12h", 12 * time.Hour},
		{"8784h", 366 * 24 * time.Hour},
		{"90m", 90 * time.Minute},
		{"1m", time.Minute},
		{"60s", time.Minute},
		{"86400s", 24 * time.Hour},
		{"", 0},
		{"d", 0},
		{"30", 0},
		{"0d", 0},
		{"-1d", 0},
		{"5x", 0},
		{"30D", 0},
		{"1.5d", 0},
		{"30 d", 0},
		{"1w", 0},
		{"59s", 0},
		{"367d", 0},
		{"400d", 0},
		{"8785h", 0},
		{"99999999999999999999d", 0},
	} {
		got, err := service.ParseEvery(tc.in)
		if tc.want == 0 {
			if !invalidOn(err, "every") {
				t.Errorf("ParseEvery(%q) = %v, %v; want an invalid error on every", tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseEvery(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}
