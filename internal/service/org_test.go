package service_test

import (
	"context"
	"sync"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// TestConcurrentSettingsChangesBothLand: two superadmins changing
// different settings at once never lose either change.
func TestConcurrentSettingsChangesBothLand(t *testing.T) {
	e := newRotationEnv(t)
	ctx := context.Background()
	for trial := range 20 {
		if _, err := e.svc.UpdateOrg(ctx, e.admin, service.OrgUpdate{UserResolveEnvironments: []string{"development"},
			EnvironmentPolicies: map[string]secrets.EnvironmentPolicy{"production": {MinWritePriority: 100}}}); err != nil {
			t.Fatalf("reset: %v", err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if _, err := e.svc.UpdateOrg(ctx, e.admin, service.OrgUpdate{EnvironmentPolicies: map[string]secrets.EnvironmentPolicy{"production": {MinWritePriority: 1000}}}); err != nil {
				t.Errorf("raise production: %v", err)
			}
		})
		wg.Go(func() {
			if _, err := e.svc.UpdateOrg(ctx, e.admin, service.OrgUpdate{UserResolveEnvironments: []string{"development", "staging"}}); err != nil {
				t.Errorf("widen resolve: %v", err)
			}
		})
		wg.Wait()
		org, err := e.svc.Org(ctx, e.admin)
		if err != nil {
			t.Fatal(err)
		}
		if org.WritePolicy(secrets.Production).MinWritePriority != 1000 || len(org.UserResolveEnvironments) != 2 {
			t.Fatalf("trial %d: a change was lost: production %d, resolve %v", trial, org.WritePolicy(secrets.Production).MinWritePriority, org.UserResolveEnvironments)
		}
	}
}
