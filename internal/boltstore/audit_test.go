package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storetest"
)

// auditRecord is an audit record of org at at, expiring at expires.
func auditRecord(org string, at, expires time.Time, i int) *secrets.AuditRecord {
	return &secrets.AuditRecord{
		ID: secrets.NewAuditID(at), Org: org, Time: at, ExpiresAt: expires,
		Actor:  secrets.AuditActor{Kind: secrets.TokenUser, Subject: "ada@example.com", Name: "Ada"},
		Action: secrets.ActionSecretUpdate, Detail: fmt.Sprintf("record %d", i),
		Secrets: []secrets.AuditEntry{{Name: fmt.Sprintf("SECRET_%d", i), Layer: "g", Version: 1}},
	}
}

func listAll(t *testing.T, st secrets.Store, org string) []*secrets.AuditRecord {
	t.Helper()
	list, _, err := st.ListAudit(t.Context(), org, "", 100000)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func TestTheSweepDeletesExpiredAuditRecordsAndManifestsOnly(t *testing.T) {
	ctx := t.Context()
	st := openNew(t)
	now := time.Now().UTC().Truncate(time.Second)
	// More expired records than one sweep transaction deletes.
	const expired, live = 2500, 7
	for i := range expired {
		if err := st.AppendAudit(ctx, auditRecord("acme", now.Add(-time.Hour+time.Duration(i)), now.Add(-time.Minute+time.Duration(i)), i)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range live {
		if err := st.AppendAudit(ctx, auditRecord("acme", now.Add(time.Duration(i)), now.Add(time.Hour), i)); err != nil {
			t.Fatal(err)
		}
	}
	legacy := auditRecord("acme", now.Add(-24*time.Hour), time.Time{}, 99) // no expiry: kept
	if err := st.AppendAudit(ctx, legacy); err != nil {
		t.Fatal(err)
	}
	gone := secrets.NewAuditManifest("acme", now.Add(-72*time.Hour), []secrets.AuditEntry{{Name: "A", Layer: "g", Version: 1}})
	kept := secrets.NewAuditManifest("acme", now, []secrets.AuditEntry{{Name: "B", Layer: "g", Version: 1}})
	for _, m := range []*secrets.AuditManifest{gone, kept} {
		if err := st.PutAuditManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	n, err := st.DeleteExpiredAudit(ctx, now)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := n, expired+1; got != want {
		t.Errorf("DeleteExpiredAudit deleted %d, want %d records and a manifest", got, want)
	}
	if got, want := len(listAll(t, st, "acme")), live+1; got != want {
		t.Errorf("%d records left, want %d", got, want)
	}
	if _, err := st.GetAuditManifest(ctx, "acme", gone.Day, gone.Hash); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("the expired manifest: %v, want not found", err)
	}
	if _, err := st.GetAuditManifest(ctx, "acme", kept.Day, kept.Hash); err != nil {
		t.Errorf("the manifest of records not yet expired: %v", err)
	}
	if n, err := st.DeleteExpiredAudit(ctx, now); err != nil || n != 0 {
		t.Errorf("a second sweep deleted %d (%v), want 0", n, err)
	}
}

func TestRecordsWrittenBeforeTheExpiryIndexExpireUnderTheirOrgsRetention(t *testing.T) {
	ctx := t.Context()
	path, st := openTemp(t)
	if err := st.CreateOrg(ctx, &secrets.Org{ID: "acme", CreatedAt: time.Now(), AuditRetentionDays: 30, SettingsVersion: 0}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	old := auditRecord("acme", now.AddDate(0, 0, -31), time.Time{}, 1)    // past acme's 30 days
	recent := auditRecord("acme", now.AddDate(0, 0, -29), time.Time{}, 2) // within them
	other := auditRecord("other", now.AddDate(0, 0, -31), time.Time{}, 3) // no org settings: 400 days
	for _, r := range []*secrets.AuditRecord{old, recent, other} {
		if err := st.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	if err := boltstore.DropAuditExpiryIndex(st); err != nil {
		t.Fatal(err)
	}
	st.Close()

	st = open(t, path)
	if n, err := st.DeleteExpiredAudit(ctx, now); err != nil || n != 1 {
		t.Fatalf("DeleteExpiredAudit = %d, %v; want the one record past its org's retention", n, err)
	}
	if list := listAll(t, st, "acme"); len(list) != 1 || list[0].ID != recent.ID {
		t.Errorf("acme keeps %d records, want only the recent one", len(list))
	}
	if list := listAll(t, st, "other"); len(list) != 1 {
		t.Errorf("other keeps %d records, want 1", len(list))
	}
}

func TestCompactShrinksTheFileAndKeepsWhatIsLive(t *testing.T) {
	ctx := context.Background()
	path, st := openTemp(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	if err := st.CreateOrg(ctx, &secrets.Org{ID: "acme", CreatedAt: now}); err != nil {
		t.Fatal(err)
	}
	sec := &secrets.Secret{ID: "5f0c7a52-8d57-4a8e-9d3e-0e8c2a1d6b11", Org: "acme", Name: "DB_PASSWORD", Version: 1, Change: "create",
		Values:    map[secrets.Environment]secrets.SealedValue{secrets.Development: {Ciphertext: []byte("sealed"), Mask: "***"}},
		CreatedAt: now, UpdatedAt: now}
	if err := st.CreateSecret(ctx, sec); err != nil {
		t.Fatal(err)
	}
	keep := auditRecord("acme", now, now.Add(time.Hour), 0)
	if err := st.AppendAudit(ctx, keep); err != nil {
		t.Fatal(err)
	}
	for i := range 5000 {
		if err := st.AppendAudit(ctx, auditRecord("acme", now.Add(-time.Hour+time.Duration(i)), now.Add(-time.Minute), i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.DeleteExpiredAudit(ctx, now); err != nil {
		t.Fatal(err)
	}
	// While the store is open, compact waits for its lock and gives up.
	if _, _, err := boltstore.Compact(path, boltstore.Options{Timeout: 50 * time.Millisecond}); !errors.Is(err, boltstore.ErrInUse) {
		t.Fatalf("Compact of a database in use: %v, want ErrInUse", err)
	}
	st.Close()

	before, after, err := boltstore.Compact(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("compacted %d → %d bytes", before, after)
	if after > before/4 {
		t.Errorf("compacted %d → %d bytes, want at most a quarter", before, after)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := info.Mode().Perm(), os.FileMode(0o600); got != want {
		t.Errorf("the compacted file's mode is %v, want %v", got, want)
	}
	if leftovers, _ := filepath.Glob(path + ".compact-*"); len(leftovers) > 0 {
		t.Errorf("compact left %v", leftovers)
	}
	st = open(t, path)
	got, err := st.GetSecretByName(ctx, "acme", secrets.Global, "DB_PASSWORD")
	if err != nil || string(got.Values[secrets.Development].Ciphertext) != "sealed" {
		t.Fatalf("the secret after compacting: %v, %v", got, err)
	}
	if _, err := st.GetOrg(ctx, "acme"); err != nil {
		t.Fatalf("the org after compacting: %v", err)
	}
	if list := listAll(t, st, "acme"); len(list) != 1 || list[0].ID != keep.ID {
		t.Fatalf("after compacting, %d audit records, want the one live", len(list))
	}
	// The live record still expires.
	if n, err := st.DeleteExpiredAudit(ctx, now.Add(2*time.Hour)); err != nil || n != 1 {
		t.Errorf("sweeping later: %d, %v; want the live record deleted once expired", n, err)
	}
}

func TestCompactKeepsAFileItCannotShrink(t *testing.T) {
	path, st := openTemp(t)
	st.Close()
	if _, _, err := boltstore.Compact(path, boltstore.Options{}); err != nil {
		t.Fatal(err)
	}
	was, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before, after, err := boltstore.Compact(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if before != after || !os.SameFile(was, now) {
		t.Errorf("compacting a compact file: %d → %d bytes, same file %v; want it kept as it was", before, after, os.SameFile(was, now))
	}
	if leftovers, _ := filepath.Glob(path + ".compact-*"); len(leftovers) > 0 {
		t.Errorf("compact left %v", leftovers)
	}
}

func TestAResolveAppendsOneSmallAuditRecord(t *testing.T) {
	var stores = map[secrets.Store]*boltstore.Store{}
	storetest.RunResolveAudit(t, func(t *testing.T) secrets.Store {
		st := openNew(t)
		stores[st] = st
		return st
	}, func(t *testing.T, org, id string) int {
		t.Helper()
		for _, st := range stores {
			if n, err := boltstore.AuditRecordSize(st, org, id); err == nil {
				return n
			}
		}
		t.Fatalf("no store holds audit record %s", id)
		return 0
	}, 50, 1000)
}
