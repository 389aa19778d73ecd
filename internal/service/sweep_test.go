package service_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

func TestATriggerDeliveredTwiceRotatesOnce(t *testing.T) {
	e := newRotationEnv(t)
	sec := mustCreate(t, e.svc, e.admin, secrets.Global, "TWICE", map[secrets.Environment]string{secrets.Production: "initial-production-value"})
	sec = mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "1h", Environments: prodOnly})
	e.Clock.Advance(time.Hour)

	if got, want := rotateDue(t, e.svc, "sweep"), (service.RotationReport{Due: 1, Rotated: 1}); got != want {
		t.Fatalf("first delivery: report = %+v, want %+v", got, want)
	}
	first := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, "TWICE")
	if got, want := rotateDue(t, e.svc, "sweep"), (service.RotationReport{}); got != want {
		t.Errorf("second delivery at the same instant: report = %+v, want %+v", got, want)
	}
	if got, want := mustGet(t, e, "acme", sec.ID).Version, sec.Version+1; got != want {
		t.Errorf("version = %d, want %d", got, want)
	}
	if got := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, "TWICE"); got != first {
		t.Error("the second delivery changed the value")
	}
}

// TestConcurrentSweepsRotateEachSecretOnce runs the sweep in several
// processes at once (services sharing the store), as overlapping
// deliveries of the trigger would.
func TestConcurrentSweepsRotateEachSecretOnce(t *testing.T) {
	e := newRotationEnv(t)
	const n, sweepers = 8, 4
	var secs []*secrets.Secret
	for i := range n {
		name := "RACED_" + string(rune('A'+i))
		sec := mustCreate(t, e.svc, e.admin, secrets.Global, name, map[secrets.Environment]string{secrets.Production: "initial-production-value"})
		secs = append(secs, mustSetRotation(t, e.svc, e.admin, sec.ID, service.RotationInput{Every: "1h", Environments: prodOnly}))
	}
	e.Clock.Advance(time.Hour)

	reports := make([]service.RotationReport, sweepers)
	errs := make([]error, sweepers)
	var wg sync.WaitGroup
	for i := range sweepers {
		svc := e.NewService(service.Config{}) // another process
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i], errs[i] = svc.RotateDue(context.Background(), "sweep")
		}()
	}
	wg.Wait()

	var rotated, failed int
	for i, rep := range reports {
		if errs[i] != nil {
			t.Fatalf("sweeper %d: %v", i, errs[i])
		}
		if got, want := rep.Rotated+rep.Skipped+rep.Failed, rep.Due; got != want {
			t.Errorf("sweeper %d accounted for %d of %d due: %+v", i, got, want, rep)
		}
		rotated += rep.Rotated
		failed += rep.Failed
	}
	if got, want := rotated, n; got != want {
		t.Errorf("rotations over all sweepers = %d, want %d: %+v", got, want, reports)
	}
	if failed != 0 {
		t.Errorf("%d rotations failed: %+v", failed, reports)
	}
	for _, sec := range secs {
		head := mustGet(t, e, "acme", sec.ID)
		if got, want := head.Version, sec.Version+1; got != want {
			t.Errorf("%s: version = %d, want %d", sec.Name, got, want)
		}
		if got := valueOf(t, e.svc, e.admin, secrets.Global, secrets.Production, sec.Name); got == "initial-production-value" {
			t.Errorf("%s was not rotated", sec.Name)
		}
	}
}

// TestSweepIsFairAcrossOrgs: one org's backlog of due rotations delays
// another org's due rotation by at most one sweep.
func TestSweepIsFairAcrossOrgs(t *testing.T) {
	e := newRotationEnv(t)
	ctx := context.Background()
	busy := e.Superadmin(t, "busy")
	calm := e.admin
	// The busy org's backlog, written straight to the store: a thousand
	// heads without values whose one-minute policy fell due earlier than
	// anything of the calm org's. (A rotation gives each its values.)
	earliest := e.Clock.Now().Add(-time.Hour)
	for i := range 1000 {
		sec := &secrets.Secret{ID: uuid.NewString(), Org: busy.Org, Name: fmt.Sprintf("BACKLOG_%04d", i), Owner: busy.Principal(),
			CreatedAt: earliest, UpdatedAt: earliest, UpdatedBy: busy.Principal(), Version: 1, Change: "create",
			Rotation: &secrets.Rotation{Every: "1m", EverySeconds: 60, Environments: []secrets.Environment{secrets.Development},
				Length: 32, Alphabet: service.DefaultAlphabet, NextAt: earliest.Add(time.Duration(i) * time.Millisecond)}}
		if err := e.Store.CreateSecret(ctx, sec); err != nil {
			t.Fatalf("create backlog %d: %v", i, err)
		}
	}
	sec := mustCreate(t, e.svc, calm, secrets.Global, "CALM", map[secrets.Environment]string{secrets.Development: "before"})
	sec = mustSetRotation(t, e.svc, calm, sec.ID, service.RotationInput{Every: "1m", Environments: []string{"development"}})
	e.Clock.Advance(2 * time.Minute)

	rep := rotateDue(t, e.svc, "sweep")
	if rep.Due != 200 || rep.Rotated != 200 {
		t.Errorf("first sweep = %+v, want a full batch of 200 rotated", rep)
	}
	if got := mustGet(t, e, calm.Org, sec.ID); got.Version != sec.Version+1 || got.Change != "rotate" {
		t.Errorf("the calm org's due secret is at version %d (%s) after the first sweep, want %d (rotate)", got.Version, got.Change, sec.Version+1)
	}
	if v := valueOf(t, e.svc, calm, secrets.Global, secrets.Development, "CALM"); v == "before" {
		t.Error("the calm org's value did not change")
	}
	// The busy org's earliest 199 went in the same sweep.
	if got, err := e.Store.GetSecretByName(ctx, busy.Org, secrets.Global, "BACKLOG_0000"); err != nil || got.Version != 2 {
		t.Errorf("the busy org's earliest secret: %v, %v", got, err)
	}
}

// damagedOrg is a store whose due list of one org cannot be read.
type damagedOrg struct {
	secrets.Store
	org string
}

func (d damagedOrg) ListDueRotations(ctx context.Context, org string, now time.Time, limit int) ([]*secrets.Secret, error) {
	if org == d.org {
		return nil, secrets.Internalf(nil, "integrity error: a damaged record")
	}
	return d.Store.ListDueRotations(ctx, org, now, limit)
}

// TestSweepGoesOnPastAnOrgItCannotList: one org's damaged due list stops
// neither the other orgs' rotations nor the report of the failure.
func TestSweepGoesOnPastAnOrgItCannotList(t *testing.T) {
	e := newRotationEnv(t)
	other := e.Superadmin(t, "evil")
	a := mustCreate(t, e.svc, e.admin, secrets.Global, "A", map[secrets.Environment]string{secrets.Development: "a"})
	a = mustSetRotation(t, e.svc, e.admin, a.ID, service.RotationInput{Every: "1m", Environments: []string{"development"}})
	b := mustCreate(t, e.svc, other, secrets.Global, "B", map[secrets.Environment]string{secrets.Development: "b"})
	mustSetRotation(t, e.svc, other, b.ID, service.RotationInput{Every: "1m", Environments: []string{"development"}})
	e.Clock.Advance(2 * time.Minute)

	svc := e.ServiceOver(damagedOrg{e.Store, "evil"}, service.Config{})
	rep := rotateDue(t, svc, "sweep")
	if rep.Rotated != 1 || rep.UnlistedOrgs != 1 {
		t.Errorf("sweep = %+v, want acme's one rotated and evil counted as unlisted", rep)
	}
	if got := mustGet(t, e, e.admin.Org, a.ID); got.Version != a.Version+1 {
		t.Errorf("acme's due secret is at version %d, want %d", got.Version, a.Version+1)
	}
	if !strings.Contains(e.Logs.String(), `"org":"evil"`) {
		t.Errorf("the failure is not logged with its org: %s", e.Logs.String())
	}
}
