package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Concurrency: racing writers, each landing once or failing cleanly.

func testConcurrentUpdates(t *testing.T, st secrets.Store) {
	const (
		writers  = 16
		maxTries = 200
	)
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, s)

	var (
		mu        sync.Mutex
		wrote     = map[int64]string{} // version → the writer's marker
		conflicts int
		wg        sync.WaitGroup
	)
	for w := range writers {
		marker := fmt.Sprintf("writer %d", w)
		wg.Go(func() {
			for range maxTries {
				head, err := st.GetSecret(ctx, s.Org, s.ID)
				if err != nil {
					t.Errorf("%s: GetSecret: %v", marker, err)
					return
				}
				if err := st.PutVersion(ctx, head); err != nil {
					t.Errorf("%s: PutVersion(%d): %v", marker, head.Version, err)
					return
				}
				next := *head
				next.Description = marker
				next.Version = head.Version + 1
				next.UpdatedAt = head.UpdatedAt.Add(time.Second)
				next.Change = "update"
				err = st.UpdateSecret(ctx, &next, head.Version)
				if errors.Is(err, secrets.ErrStale) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					t.Errorf("%s: UpdateSecret(%d): %v", marker, next.Version, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if other, ok := wrote[next.Version]; ok {
					t.Errorf("version %d was written by %s and by %s", next.Version, other, marker)
				}
				wrote[next.Version] = marker
				return
			}
			t.Errorf("%s: still stale after %d tries", marker, maxTries)
		})
	}
	wg.Wait()
	t.Logf("%d writers, %d stale conflicts retried", writers, conflicts)
	if t.Failed() {
		return
	}

	head := mustGetSecret(t, st, s.Org, s.ID)
	if got, want := head.Version, int64(1+writers); got != want {
		t.Fatalf("head version = %d, want %d", got, want)
	}
	history, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	wantVersions := make([]int64, writers)
	for i := range wantVersions {
		wantVersions[i] = int64(writers - i)
	}
	if got := versions(history); !slices.Equal(got, wantVersions) {
		t.Fatalf("ListVersions = %v, want %v", got, wantVersions)
	}
	checkSecret(t, "version 1", history[len(history)-1], s)

	// Every version after the first is one writer's, and every writer's
	// marker is in exactly one version: no update was lost or doubled.
	seen := map[string]int{}
	for _, v := range slices.Concat(history[:len(history)-1], []*secrets.Secret{head}) {
		if got, want := v.Description, wrote[v.Version]; got != want {
			t.Errorf("version %d holds %q, but %q wrote it", v.Version, got, want)
		}
		seen[v.Description]++
	}
	for w := range writers {
		marker := fmt.Sprintf("writer %d", w)
		if got, want := seen[marker], 1; got != want {
			t.Errorf("%s's update is in %d versions, want %d", marker, got, want)
		}
	}
}

// oneWins creates every candidate at once and returns the one created,
// failing t unless exactly one was and create refused each other one with
// ErrExists; who names a candidate in messages.
func oneWins[T any](t *testing.T, who string, candidates []T, create func(T) error) T {
	t.Helper()
	errs := make([]error, len(candidates))
	var wg sync.WaitGroup
	for i := range candidates {
		wg.Go(func() { errs[i] = create(candidates[i]) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner < 0:
			winner = i
		case err == nil:
			t.Errorf("%s %d succeeded too, after %s %d", who, i, who, winner)
		case !errors.Is(err, secrets.ErrExists):
			t.Errorf("%s %d: got error %v, want %v", who, i, err, secrets.ErrExists)
		}
	}
	if winner < 0 {
		t.Fatalf("no %s succeeded", who)
	}
	return candidates[winner]
}

func testConcurrentCreates(t *testing.T, st secrets.Store) {
	const creators = 8
	ctx := t.Context()
	org := newOrgID()
	layer := secrets.Layer{App: "billing", Machine: "web-1"}
	candidates := make([]*secrets.Secret, creators)
	for i := range candidates {
		candidates[i] = newSecret(t, org, layer, "DB_URL")
	}
	winner := oneWins(t, "creator", candidates, func(s *secrets.Secret) error { return st.CreateSecret(ctx, s) })
	got := mustGetSecretByName(t, st, org, layer, "DB_URL")
	checkSecret(t, "the winner", got, winner)
	for _, c := range candidates {
		if c == winner {
			continue
		}
		_, err := st.GetSecret(ctx, org, c.ID)
		wantNotFound(t, "GetSecret of a losing creator's id", err)
	}
	list, err := st.ListSecrets(ctx, org, layer)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := len(list), 1; got != want {
		t.Errorf("len(ListSecrets) = %d, want %d", got, want)
	}
}

func testConcurrentDataKeys(t *testing.T, st secrets.Store) {
	const writers = 8
	ctx := t.Context()
	org := newOrgID()
	keys := make([]*secrets.DataKey, writers)
	for i := range keys {
		keys[i] = newDataKey(t, org, secrets.Production, 1)
	}
	winner := oneWins(t, "writer", keys, func(k *secrets.DataKey) error { return st.CreateDataKey(ctx, k) })
	// Every loser reads the winner's key.
	got := mustGetDataKey(t, st, org, secrets.Production, 1)
	checkDataKey(t, "the key every writer reads", got, winner)
}

func testConcurrentAudit(t *testing.T, st secrets.Store) {
	const distinct, sharing = 40, 8
	ctx := t.Context()
	org := newOrgID()
	base := now().Add(-time.Hour)
	var records []*secrets.AuditRecord
	for i := range distinct {
		records = append(records, newAudit(org, base.Add(time.Duration(i)*time.Millisecond), i))
	}
	// Records that differ but take one id: one lands, the rest are refused.
	shared := secrets.NewAuditID(base.Add(time.Minute))
	for i := range sharing {
		r := newAudit(org, base.Add(time.Minute), distinct+i)
		r.ID = shared
		records = append(records, r)
	}
	errs := make([]error, len(records))
	var wg sync.WaitGroup
	for i := range records {
		wg.Go(func() { errs[i] = st.AppendAudit(ctx, records[i]) })
	}
	wg.Wait()

	want := map[string]*secrets.AuditRecord{}
	for i, err := range errs[:distinct] {
		if err != nil {
			t.Errorf("AppendAudit(%d): %v", i, err)
		}
		want[records[i].ID] = records[i]
	}
	for i, err := range errs[distinct:] {
		r := records[distinct+i]
		switch {
		case err == nil && want[shared] == nil:
			want[shared] = r
		case err == nil:
			t.Errorf("AppendAudit(%d) of a taken id landed too", distinct+i)
		case !errors.Is(err, secrets.ErrExists):
			t.Errorf("AppendAudit(%d) of a taken id: got error %v, want %v", distinct+i, err, secrets.ErrExists)
		}
	}
	if want[shared] == nil {
		t.Errorf("no record with the shared id landed")
	}

	got, _, err := st.ListAudit(ctx, org, "", 2*len(records))
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if g, w := len(got), len(want); g != w {
		t.Errorf("len(ListAudit) = %d, want %d", g, w)
	}
	for _, r := range got {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("ListAudit holds %s, which was not appended", r.ID)
			continue
		}
		checkAudit(t, "ListAudit "+r.ID, r, w)
	}
}
