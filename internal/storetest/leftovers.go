package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Leftovers: the history a writer racing a delete leaves, and finishing
// a delete that it interrupted.

func testDeleteClearsLeftoverHistory(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "RACED")
	mustCreateSecret(t, st, s)
	if err := st.DeleteSecret(ctx, s.Org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	// A writer that read the head before the delete keeps it in history
	// after the delete, then finds its update has nothing to update.
	if err := st.PutVersion(ctx, s); err != nil {
		t.Fatalf("PutVersion: %v", err)
	}
	wantNotFound(t, "DeleteSecret of the deleted id", st.DeleteSecret(ctx, s.Org, s.ID, 0))
	versions, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if len(versions) != 0 {
		t.Fatalf("history of the deleted id after deleting again = %d records, want none", len(versions))
	}
}

func testFinishDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "RACED")
	mustCreateSecret(t, st, s)
	if _, err := st.FinishDelete(ctx, s.Org, s.ID); !errors.Is(err, secrets.ErrExists) {
		t.Errorf("FinishDelete of a live secret = %v, want %v", err, secrets.ErrExists)
	}
	mustGetSecret(t, st, s.Org, s.ID) // and it is still there
	if err := st.DeleteSecret(ctx, s.Org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, err := st.FinishDelete(ctx, s.Org, s.ID); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("FinishDelete of a delete that finished = %v, want %v", err, secrets.ErrNotFound)
	}
	// A writer that read the head before the delete keeps it in history.
	if err := st.PutVersion(ctx, s); err != nil {
		t.Fatalf("PutVersion: %v", err)
	}
	left, err := st.FinishDelete(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("FinishDelete of a racing writer's history: %v", err)
	}
	if left.ID != s.ID || left.Name != s.Name || left.Layer != s.Layer || left.Deleted {
		t.Errorf("FinishDelete = %+v, want id %s, %s at %s, and no interrupted delete (the delete was done)", *left, s.ID, s.Name, s.Layer)
	}
	if versions, err := st.ListVersions(ctx, s.Org, s.ID); err != nil || len(versions) != 0 {
		t.Errorf("history after FinishDelete = %d records (%v), want none", len(versions), err)
	}
	if ids, err := st.InterruptedDeletes(ctx, s.Org, s.Layer, s.Name); err != nil || len(ids) != 0 {
		t.Errorf("InterruptedDeletes with nothing left = %v, %v; want none", ids, err)
	}
	if removed, err := st.SweepLeftovers(ctx, s.Org, time.Now().Add(time.Hour), 10); err != nil || len(removed) != 0 {
		t.Errorf("SweepLeftovers with nothing left = %v, %v; want nothing", removed, err)
	}
}
