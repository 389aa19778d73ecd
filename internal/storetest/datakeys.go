package storetest

import (
	"fmt"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

// Data keys.

func testDataKeyCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	var keys []*secrets.DataKey
	for _, env := range secrets.Environments {
		for gen := 1; gen <= 2; gen++ {
			k := newDataKey(t, org, env, gen)
			if err := st.CreateDataKey(ctx, k); err != nil {
				t.Fatalf("CreateDataKey(%s, %d): %v", env, gen, err)
			}
			keys = append(keys, k)
		}
	}
	for _, want := range keys {
		got, err := st.GetDataKey(ctx, org, want.Environment, want.Generation)
		if err != nil {
			t.Fatalf("GetDataKey(%s, %d): %v", want.Environment, want.Generation, err)
		}
		checkDataKey(t, fmt.Sprintf("GetDataKey(%s, %d)", want.Environment, want.Generation), got, want)
	}
}

func testDataKeyDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newDataKey(t, newOrgID(), secrets.Production, 1)
	if err := st.CreateDataKey(ctx, first); err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}
	second := newDataKey(t, first.Org, first.Environment, first.Generation)
	wantErr(t, "CreateDataKey at a taken place", st.CreateDataKey(ctx, second), secrets.ErrExists)
	got := mustGetDataKey(t, st, first.Org, first.Environment, first.Generation)
	checkDataKey(t, "the first key after a duplicate", got, first)
}

func testDataKeyNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	k := newDataKey(t, newOrgID(), secrets.Staging, 2)
	if err := st.CreateDataKey(ctx, k); err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}
	for _, c := range []struct {
		what string
		org  string
		env  secrets.Environment
		gen  int
	}{
		{"another environment", k.Org, secrets.Production, 2},
		{"an earlier generation", k.Org, secrets.Staging, 1},
		{"a later generation", k.Org, secrets.Staging, 3},
		{"another org", newOrgID(), secrets.Staging, 2},
	} {
		_, err := st.GetDataKey(ctx, c.org, c.env, c.gen)
		wantNotFound(t, "GetDataKey at "+c.what, err)
	}
}
