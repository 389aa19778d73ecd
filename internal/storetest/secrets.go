package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// Secrets: create, get, update and delete of a head.

func testCreateGet(t *testing.T, st secrets.Store) {
	for _, layer := range []secrets.Layer{secrets.Global, {App: "billing"}, {App: "billing", Machine: "web-1"}} {
		want := newSecret(t, newOrgID(), layer, "STRIPE_KEY")
		mustCreateSecret(t, st, want)

		checkSecret(t, "GetSecret at "+layer.String(), mustGetSecret(t, st, want.Org, want.ID), want)
		checkSecret(t, "GetSecretByName at "+layer.String(), mustGetSecretByName(t, st, want.Org, layer, want.Name), want)
	}
}

func testLegacyMaskTightened(t *testing.T, st secrets.Store) {
	s := newSecret(t, newOrgID(), secrets.Global, "LEGACY")
	s.Values[secrets.Production] = secrets.SealedValue{Ciphertext: randomBytes(t, 40), Mask: "Winter-***pass"}
	s.Values[secrets.Development] = secrets.SealedValue{Ciphertext: randomBytes(t, 40), Mask: "***"}
	mustCreateSecret(t, st, s)
	for what, got := range map[string]*secrets.Secret{"by id": mustGetSecret(t, st, s.Org, s.ID)} {
		if m := got.Values[secrets.Production]; m.Mask != "***pass" || m.MaskRule != secrets.MaskRule {
			t.Errorf("production mask read %s = %q (rule %d), want %q (rule %d)", what, m.Mask, m.MaskRule, "***pass", secrets.MaskRule)
		}
		if m := got.Values[secrets.Development]; m.Mask != "***" {
			t.Errorf("development mask read %s = %q, want ***", what, m.Mask)
		}
	}
	list, err := st.ListSecrets(t.Context(), s.Org, secrets.Global)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListSecrets = %d records, %v", len(list), err)
	}
	if m := list[0].Values[secrets.Production].Mask; m != "***pass" {
		t.Errorf("production mask listed = %q, want ***pass", m)
	}
}

func testCreateDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, first)

	dup := newSecret(t, first.Org, first.Layer, first.Name)
	wantErr(t, "CreateSecret of a duplicate name", st.CreateSecret(ctx, dup), secrets.ErrExists)

	checkSecret(t, "the first secret after the duplicate", mustGetSecret(t, st, first.Org, first.ID), first)
	_, err := st.GetSecret(ctx, dup.Org, dup.ID)
	wantNotFound(t, "GetSecret of the refused duplicate", err)
}

func testSameNameElsewhere(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	all := []*secrets.Secret{
		newSecret(t, org, secrets.Global, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "billing"}, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "shop"}, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "billing", Machine: "web-1"}, "API_KEY"),
		newSecret(t, otherOrg, secrets.Global, "API_KEY"),
		newSecret(t, otherOrg, secrets.Layer{App: "billing"}, "API_KEY"),
	}
	for _, s := range all {
		mustCreateSecret(t, st, s)
	}
	for _, want := range all {
		got, err := st.GetSecretByName(ctx, want.Org, want.Layer, want.Name)
		if err != nil {
			t.Fatalf("GetSecretByName(%s, %s): %v", want.Org, want.Layer, err)
		}
		checkSecret(t, fmt.Sprintf("GetSecretByName in %s at %s", want.Org, want.Layer), got, want)
	}
}

func testSecretAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	_, err := st.GetSecret(ctx, org, uuid.NewString())
	wantNotFound(t, "GetSecret of an absent id", err)
	_, err = st.GetSecretByName(ctx, org, secrets.Global, "NOPE")
	wantNotFound(t, "GetSecretByName of an absent name", err)

	s := newSecret(t, org, secrets.Layer{App: "billing"}, "PRESENT")
	mustCreateSecret(t, st, s)
	_, err = st.GetSecretByName(ctx, org, secrets.Layer{App: "billing", Machine: "web-1"}, s.Name)
	wantNotFound(t, "GetSecretByName at a layer below the secret's", err)
	_, err = st.GetSecretByName(ctx, org, secrets.Global, s.Name)
	wantNotFound(t, "GetSecretByName at a layer above the secret's", err)
}

func testSecretOtherOrg(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, s)
	other := newOrgID()

	_, err := st.GetSecret(ctx, other, s.ID)
	wantNotFound(t, "GetSecret of another org's id", err)
	_, err = st.GetSecretByName(ctx, other, s.Layer, s.Name)
	wantNotFound(t, "GetSecretByName in another org", err)

	moved := nextVersion(t, s, "moved")
	moved.Org = other
	wantNotFound(t, "UpdateSecret of another org's id", st.UpdateSecret(ctx, moved, s.Version))
	wantNotFound(t, "DeleteSecret of another org's id", st.DeleteSecret(ctx, other, s.ID, 0))

	checkSecret(t, "the secret after another org's writes", mustGetSecret(t, st, s.Org, s.ID), s)
}

func testUpdate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing", Machine: "web-1"}, "DB_URL")
	mustCreateSecret(t, st, s)

	v2 := nextVersion(t, s, "second")
	if err := st.UpdateSecret(ctx, v2, 1); err != nil {
		t.Fatalf("UpdateSecret(v2, 1): %v", err)
	}
	checkSecret(t, "GetSecret after one update", mustGetSecret(t, st, s.Org, s.ID), v2)

	v3 := nextVersion(t, v2, "third")
	v3.Change, v3.RestoredFrom = "restore", 1
	if err := st.UpdateSecret(ctx, v3, 2); err != nil {
		t.Fatalf("UpdateSecret(v3, 2): %v", err)
	}
	checkSecret(t, "GetSecret after two updates", mustGetSecret(t, st, s.Org, s.ID), v3)
	got := mustGetSecretByName(t, st, s.Org, s.Layer, s.Name)
	checkSecret(t, "GetSecretByName after two updates", got, v3)
}

func testUpdateStale(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 3)
	head := all[2]

	// A writer that read version 2 is too late, and so is one that claims
	// a version not yet written.
	late := nextVersion(t, all[1], "late")
	wantErr(t, "UpdateSecret expecting version 2 of 3", st.UpdateSecret(ctx, late, 2), secrets.ErrStale)
	early := nextVersion(t, head, "early")
	early.Version = 5
	wantErr(t, "UpdateSecret expecting version 4 of 3", st.UpdateSecret(ctx, early, 4), secrets.ErrStale)

	checkSecret(t, "the head after stale updates", mustGetSecret(t, st, s.Org, s.ID), head)
}

func testUpdateAbsent(t *testing.T, st secrets.Store) {
	s := newSecret(t, newOrgID(), secrets.Global, "NEVER_CREATED")
	wantNotFound(t, "UpdateSecret of an absent secret", st.UpdateSecret(t.Context(), nextVersion(t, s, "x"), 1))
}

func testDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	s := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_URL")
	createWithHistory(t, st, s, 3)
	neighbour := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_USER")
	neighbourAll := createWithHistory(t, st, neighbour, 2)

	if err := st.DeleteSecret(ctx, org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret(expected 0): %v", err)
	}

	_, err := st.GetSecret(ctx, org, s.ID)
	wantNotFound(t, "GetSecret after delete", err)
	_, err = st.GetSecretByName(ctx, org, s.Layer, s.Name)
	wantNotFound(t, "GetSecretByName after delete", err)
	for n := int64(1); n <= 3; n++ {
		_, err = st.GetVersion(ctx, org, s.ID, n)
		wantNotFound(t, fmt.Sprintf("GetVersion(%d) after delete", n), err)
	}
	wantNone(t, "ListVersions after delete")(st.ListVersions(ctx, org, s.ID))
	list, err := st.ListSecrets(ctx, org, s.Layer)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := names(list), []string{neighbour.Name}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets after delete = %v, want %v", got, want)
	}

	// The neighbour keeps its head and its history.
	checkSecret(t, "the neighbour's head", mustGetSecret(t, st, org, neighbour.ID), neighbourAll[1])
	v1, err := st.GetVersion(ctx, org, neighbour.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion of the neighbour: %v", err)
	}
	checkSecret(t, "the neighbour's version 1", v1, neighbourAll[0])

	wantNotFound(t, "DeleteSecret again", st.DeleteSecret(ctx, org, s.ID, 0))
}

func testDeleteExpected(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 2)

	wantErr(t, "DeleteSecret expecting version 1 of 2", st.DeleteSecret(ctx, s.Org, s.ID, 1), secrets.ErrStale)
	wantErr(t, "DeleteSecret expecting version 3 of 2", st.DeleteSecret(ctx, s.Org, s.ID, 3), secrets.ErrStale)
	checkSecret(t, "the head after stale deletes", mustGetSecret(t, st, s.Org, s.ID), all[1])
	v1, err := st.GetVersion(ctx, s.Org, s.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion(1) after stale deletes: %v", err)
	}
	checkSecret(t, "version 1 after stale deletes", v1, all[0])

	if err := st.DeleteSecret(ctx, s.Org, s.ID, 2); err != nil {
		t.Fatalf("DeleteSecret expecting the stored version: %v", err)
	}
	_, err = st.GetSecret(ctx, s.Org, s.ID)
	wantNotFound(t, "GetSecret after delete", err)
}

func testDeleteAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	wantNotFound(t, "DeleteSecret of an absent id", st.DeleteSecret(ctx, org, uuid.NewString(), 0))
	wantNotFound(t, "DeleteSecret of an absent id expecting a version", st.DeleteSecret(ctx, org, uuid.NewString(), 3))
}

func testDeleteThenRecreate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	old := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	createWithHistory(t, st, old, 2)
	if err := st.DeleteSecret(ctx, old.Org, old.ID, 2); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}

	again := newSecret(t, old.Org, old.Layer, old.Name)
	if err := st.CreateSecret(ctx, again); err != nil {
		t.Fatalf("CreateSecret of the deleted name: %v", err)
	}
	checkSecret(t, "GetSecret of the new id", mustGetSecret(t, st, again.Org, again.ID), again)
	got := mustGetSecretByName(t, st, again.Org, again.Layer, again.Name)
	checkSecret(t, "GetSecretByName of the name", got, again)

	// An id index must not lead the old id to the new head.
	_, err := st.GetSecret(ctx, old.Org, old.ID)
	wantNotFound(t, "GetSecret of the deleted id", err)
	viaOld := nextVersion(t, again, "via the old id")
	viaOld.ID = old.ID
	wantNotFound(t, "UpdateSecret of the deleted id", st.UpdateSecret(ctx, viaOld, 1))
	wantNone(t, "ListVersions of the new id (the old secret's history must not leak)")(st.ListVersions(ctx, again.Org, again.ID))
}
