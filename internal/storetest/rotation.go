package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Rotation: policies on heads, and the due list the sweep reads.

// withRotation gives s a rotation policy due at next.
func withRotation(s *secrets.Secret, next time.Time) *secrets.Secret {
	last := next.Add(-24 * time.Hour)
	s.Rotation = &secrets.Rotation{Every: "1d", EverySeconds: 86400, Environments: []secrets.Environment{secrets.Production},
		Length: 40, Alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", NextAt: next, LastAt: &last}
	return s
}

func testRotationRoundTrip(t *testing.T, st secrets.Store) {
	org := newOrgID()
	s := withRotation(newSecret(t, org, secrets.Global, "ROTATED"), now().Add(time.Hour))
	mustCreateSecret(t, st, s)
	checkSecret(t, "GetSecret", mustGetSecret(t, st, org, s.ID), s)
	next := nextVersion(t, s, "rotated once")
	next.Rotation = nil
	if err := st.UpdateSecret(t.Context(), next, s.Version); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	checkSecret(t, "GetSecret after clearing the policy", mustGetSecret(t, st, org, s.ID), next)
}

func dueIDs(t *testing.T, st secrets.Store, org string, at time.Time, limit int) []string {
	t.Helper()
	due, err := st.ListDueRotations(t.Context(), org, at, limit)
	if err != nil {
		t.Fatalf("ListDueRotations: %v", err)
	}
	ids := make([]string, 0, len(due))
	for _, s := range due {
		if s.Rotation == nil || s.Rotation.NextAt.After(at) {
			t.Errorf("ListDueRotations returned %s, which is not due at %s", s.ID, at)
		}
		if s.Org != org {
			t.Errorf("ListDueRotations(%s) returned %s of org %s", org, s.ID, s.Org)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

func testListDueRotations(t *testing.T, st secrets.Store) {
	base := now()
	orgA, orgB := mustCreateOrg(t, st), mustCreateOrg(t, st)
	early := withRotation(newSecret(t, orgA, secrets.Layer{App: "web"}, "EARLY"), base.Add(-3*time.Hour))
	middle := withRotation(newSecret(t, orgA, secrets.Global, "MIDDLE"), base.Add(-2*time.Hour))
	late := withRotation(newSecret(t, orgA, secrets.Layer{App: "web", Machine: "m1"}, "LATE"), base.Add(-time.Hour))
	future := withRotation(newSecret(t, orgA, secrets.Global, "FUTURE"), base.Add(time.Hour))
	other := withRotation(newSecret(t, orgB, secrets.Global, "OTHER"), base.Add(-4*time.Hour))
	plain := newSecret(t, orgA, secrets.Global, "NO_POLICY")
	for _, s := range []*secrets.Secret{late, future, plain, other, early, middle} {
		mustCreateSecret(t, st, s)
	}
	if got, want := dueIDs(t, st, orgA, base, 10), []string{early.ID, middle.ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("due = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgA, base, 2), []string{early.ID, middle.ID}; !slices.Equal(got, want) {
		t.Errorf("due with limit 2 = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgB, base, 10), []string{other.ID}; !slices.Equal(got, want) {
		t.Errorf("due in the other org = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgA, future.Rotation.NextAt, 10), []string{early.ID, middle.ID, late.ID, future.ID}; !slices.Equal(got, want) {
		t.Errorf("due at the future policy's time = %v, want %v (NextAt itself is due)", got, want)
	}
	if got := dueIDs(t, st, orgA, base.Add(-4*time.Hour), 10); len(got) != 0 {
		t.Errorf("due before any policy = %v, want none", got)
	}
	if got := dueIDs(t, st, newOrgID(), base, 10); len(got) != 0 {
		t.Errorf("due in an org without secrets = %v, want none", got)
	}
}

func testListRotationOrgs(t *testing.T, st secrets.Store) {
	base := now()
	orgA, orgB := mustCreateOrg(t, st), mustCreateOrg(t, st)
	for i, org := range []string{orgA, orgA, orgB} {
		mustCreateSecret(t, st, withRotation(newSecret(t, org, secrets.Global, fmt.Sprintf("DUE_%d", i)), base.Add(-time.Hour)))
	}
	orgs, err := st.ListRotationOrgs(t.Context(), base)
	if err != nil {
		t.Fatalf("ListRotationOrgs: %v", err)
	}
	for _, org := range []string{orgA, orgB} {
		if n := countOf(orgs, org); n != 1 {
			t.Errorf("ListRotationOrgs = %v: %s listed %d times, want once", orgs, org, n)
		}
	}
}

func testDueRotationsFollowHeads(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	base := now()
	org := mustCreateOrg(t, st)
	a := withRotation(newSecret(t, org, secrets.Global, "A"), base.Add(-time.Hour))
	b := withRotation(newSecret(t, org, secrets.Global, "B"), base.Add(-time.Hour))
	c := withRotation(newSecret(t, org, secrets.Global, "C"), base.Add(-time.Hour))
	for _, s := range []*secrets.Secret{a, b, c} {
		mustCreateSecret(t, st, s)
	}
	// a is rotated: its policy moves a day on.
	a2 := nextVersion(t, a, "rotated")
	a2.Rotation = withRotation(newSecret(t, org, secrets.Global, "X"), base.Add(24*time.Hour)).Rotation
	if err := st.UpdateSecret(ctx, a2, a.Version); err != nil {
		t.Fatalf("UpdateSecret(a): %v", err)
	}
	// b's policy is cleared.
	b2 := nextVersion(t, b, "no more rotation")
	b2.Rotation = nil
	if err := st.UpdateSecret(ctx, b2, b.Version); err != nil {
		t.Fatalf("UpdateSecret(b): %v", err)
	}
	// c is deleted.
	if err := st.DeleteSecret(ctx, org, c.ID, 0); err != nil {
		t.Fatalf("DeleteSecret(c): %v", err)
	}
	if got := dueIDs(t, st, org, base, 10); len(got) != 0 {
		t.Errorf("due = %v, want none", got)
	}
	if got, want := dueIDs(t, st, org, base.Add(25*time.Hour), 10), []string{a.ID}; !slices.Equal(got, want) {
		t.Errorf("due a day later = %v, want %v", got, want)
	}
}
