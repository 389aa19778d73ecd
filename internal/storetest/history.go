package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// History: the versions kept behind a head.

func testPutVersionTwice(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	mustCreateSecret(t, st, s)
	for i := range 2 {
		if err := st.PutVersion(ctx, s); err != nil {
			t.Fatalf("PutVersion #%d: %v", i+1, err)
		}
	}
	got, err := st.GetVersion(ctx, s.Org, s.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion(1): %v", err)
	}
	checkSecret(t, "GetVersion(1)", got, s)
	history, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{1}; !slices.Equal(got, want) {
		t.Errorf("ListVersions = %v, want %v", got, want)
	}
	checkSecret(t, "the head after PutVersion", mustGetSecret(t, st, s.Org, s.ID), s)
}

func testListVersions(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	// Twelve versions, so that a store sorting numbers as text ("10" < "9")
	// shows.
	s := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_URL")
	all := createWithHistory(t, st, s, 12)
	other := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_USER")
	createWithHistory(t, st, other, 3)

	history, err := st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("ListVersions = %v, want %v", got, want)
	}
	for _, h := range history {
		checkSecret(t, fmt.Sprintf("ListVersions version %d", h.Version), h, all[h.Version-1])
	}
	for _, n := range []int64{1, 5, 11} {
		got, err := st.GetVersion(ctx, org, s.ID, n)
		if err != nil {
			t.Fatalf("GetVersion(%d): %v", n, err)
		}
		checkSecret(t, fmt.Sprintf("GetVersion(%d)", n), got, all[n-1])
	}

	wantNone(t, "ListVersions in another org")(st.ListVersions(ctx, newOrgID(), s.ID))
}

func testVersionAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	createWithHistory(t, st, s, 3)

	// Version 3 is the head, which is not history.
	for _, n := range []int64{3, 4} {
		_, err := st.GetVersion(ctx, s.Org, s.ID, n)
		wantNotFound(t, fmt.Sprintf("GetVersion(%d) of 3", n), err)
	}
	_, err := st.GetVersion(ctx, newOrgID(), s.ID, 1)
	wantNotFound(t, "GetVersion in another org", err)
	_, err = st.GetVersion(ctx, s.Org, uuid.NewString(), 1)
	wantNotFound(t, "GetVersion of an absent secret", err)
}

func testPruneVersions(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	s := newSecret(t, org, secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 8)
	other := newSecret(t, org, secrets.Global, "DB_USER")
	createWithHistory(t, st, other, 4)

	if err := st.PruneVersions(ctx, org, s.ID, 5); err != nil {
		t.Fatalf("PruneVersions(5): %v", err)
	}
	history, err := st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{7, 6, 5}; !slices.Equal(got, want) {
		t.Errorf("ListVersions after PruneVersions(5) = %v, want %v", got, want)
	}
	_, err = st.GetVersion(ctx, org, s.ID, 4)
	wantNotFound(t, "GetVersion(4) after PruneVersions(5)", err)
	v5, err := st.GetVersion(ctx, org, s.ID, 5)
	if err != nil {
		t.Fatalf("GetVersion(5) after PruneVersions(5): %v", err)
	}
	checkSecret(t, "GetVersion(5) after PruneVersions(5)", v5, all[4])
	checkSecret(t, "the head after pruning", mustGetSecret(t, st, org, s.ID), all[7])

	otherHistory, err := st.ListVersions(ctx, org, other.ID)
	if err != nil {
		t.Fatalf("ListVersions of another secret: %v", err)
	}
	if got, want := versions(otherHistory), []int64{3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("ListVersions of another secret = %v, want %v", got, want)
	}

	// Pruning from a version at or below the oldest kept deletes nothing;
	// pruning an absent secret is no error.
	if err := st.PruneVersions(ctx, org, s.ID, 5); err != nil {
		t.Fatalf("PruneVersions(5) again: %v", err)
	}
	if err := st.PruneVersions(ctx, org, s.ID, 1); err != nil {
		t.Fatalf("PruneVersions(1): %v", err)
	}
	history, err = st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{7, 6, 5}; !slices.Equal(got, want) {
		t.Errorf("ListVersions after pruning again = %v, want %v", got, want)
	}
	if err := st.PruneVersions(ctx, org, uuid.NewString(), 5); err != nil {
		t.Errorf("PruneVersions of an absent secret: %v", err)
	}
}
