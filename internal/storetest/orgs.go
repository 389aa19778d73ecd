package storetest

import (
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Orgs.

func testOrgCreateGet(t *testing.T, st secrets.Store) {
	for _, want := range []*secrets.Org{newOrg(), {ID: newOrgID(), CreatedAt: now()}} {
		mustStoreOrg(t, st, want)
		checkOrg(t, "GetOrg", mustGetOrg(t, st, want.ID), want)
	}
}

func testOrgDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newOrg()
	mustStoreOrg(t, st, first)
	dup := &secrets.Org{ID: first.ID, CreatedAt: now().Add(time.Hour)}
	wantErr(t, "CreateOrg of an existing id", st.CreateOrg(ctx, dup), secrets.ErrExists)
	checkOrg(t, "the org after a duplicate create", mustGetOrg(t, st, first.ID), first)
}

func testPutOrgSettings(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	o := newOrg()
	mustStoreOrg(t, st, o)
	settings := &secrets.Org{
		ID:                      o.ID,
		CreatedAt:               o.CreatedAt.Add(24 * time.Hour), // not a setting: ignored
		UserResolveEnvironments: []secrets.Environment{secrets.Development, secrets.Staging, secrets.Production},
		EnvironmentPolicies: map[secrets.Environment]secrets.EnvironmentPolicy{
			secrets.Production: {MinWritePriority: 1000}, secrets.Staging: {MinWritePriority: 100},
		},
		SettingsVersion: 1,
	}
	if err := st.PutOrgSettings(ctx, settings, 0); err != nil {
		t.Fatalf("PutOrgSettings: %v", err)
	}
	got := mustGetOrg(t, st, o.ID)
	want := *settings
	want.CreatedAt = o.CreatedAt
	checkOrg(t, "GetOrg after PutOrgSettings", got, &want)

	// A writer that read the settings before that change loses, and
	// changes nothing.
	stale := &secrets.Org{ID: o.ID, SettingsVersion: 1}
	wantErr(t, "PutOrgSettings at a stale version", st.PutOrgSettings(ctx, stale, 0), secrets.ErrStale)
	got = mustGetOrg(t, st, o.ID)
	checkOrg(t, "GetOrg after a stale PutOrgSettings", got, &want)
	if err := st.PutOrgSettings(ctx, &secrets.Org{ID: o.ID, SettingsVersion: 3}, 1); !secrets.IsCode(err, secrets.CodeInvalid) {
		t.Errorf("PutOrgSettings skipping a version: %v, want invalid", err)
	}

	// Back to the default: empty replaces, too.
	if err := st.PutOrgSettings(ctx, &secrets.Org{ID: o.ID, SettingsVersion: 2}, 1); err != nil {
		t.Fatalf("PutOrgSettings(empty): %v", err)
	}
	got = mustGetOrg(t, st, o.ID)
	checkOrg(t, "GetOrg after PutOrgSettings(empty)", got, &secrets.Org{ID: o.ID, CreatedAt: o.CreatedAt, SettingsVersion: 2})
}

func testOrgAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	_, err := st.GetOrg(ctx, newOrgID())
	wantNotFound(t, "GetOrg of an absent org", err)
	absent := newOrg()
	absent.SettingsVersion = 1
	wantNotFound(t, "PutOrgSettings of an absent org", st.PutOrgSettings(ctx, absent, 0))
}
