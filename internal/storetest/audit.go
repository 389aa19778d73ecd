package storetest

import (
	"bytes"
	mathrand "math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Audit: records, their pages, and the manifests of resolves.

// appendAudit appends n records of org at increasing times, in shuffled
// order, and returns them newest first.
func appendAudit(t *testing.T, st secrets.Store, org string, n int) []*secrets.AuditRecord {
	t.Helper()
	base := now().Add(-time.Hour)
	records := make([]*secrets.AuditRecord, n)
	for i := range records {
		records[i] = newAudit(org, base.Add(time.Duration(i)*time.Second), i)
		if i%3 == 1 {
			m := secrets.NewAuditManifest(org, records[i].ExpiresAt, manifestEntries(i, 10))
			records[i] = newResolveAudit(org, base.Add(time.Duration(i)*time.Second), m.Hash, i)
		}
	}
	for _, i := range mathrand.Perm(n) {
		if err := st.AppendAudit(t.Context(), records[i]); err != nil {
			t.Fatalf("AppendAudit(%d): %v", i, err)
		}
	}
	slices.Reverse(records)
	return records
}

// checkAuditList lists org's audit records, limit at most, and checks that
// they are want, in order, with no page after them.
func checkAuditList(t *testing.T, st secrets.Store, org string, limit int, want []*secrets.AuditRecord) {
	t.Helper()
	got, cursor, err := st.ListAudit(t.Context(), org, "", limit)
	checkEach(t, "ListAudit", must(t, "ListAudit", got, err), want, checkAudit)
	if got, want := cursor, ""; got != want {
		t.Errorf("ListAudit of every record: cursor = %q, want %q", got, want)
	}
}

func testAuditNewestFirst(t *testing.T, st secrets.Store) {
	org := newOrgID()
	want := appendAudit(t, st, org, 12)

	checkAuditList(t, st, org, len(want), want)
}

func testAuditPages(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	want := appendAudit(t, st, org, 20)

	// Limits that divide the records evenly, leave a remainder, take one
	// at a time, and exceed them.
	for _, limit := range []int{1, 3, 5, 7, 20, 50} {
		var ids []string
		cursor := ""
		for page := 1; ; page++ {
			if page > len(want)+1 {
				t.Fatalf("limit %d: more than %d pages", limit, len(want)+1)
			}
			got, next, err := st.ListAudit(ctx, org, cursor, limit)
			if err != nil {
				t.Fatalf("limit %d, page %d: ListAudit: %v", limit, page, err)
			}
			if len(got) == 0 || len(got) > limit {
				t.Fatalf("limit %d, page %d: got %d records, want 1 to %d", limit, page, len(got), limit)
			}
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if next == "" {
				break
			}
			if got, want := len(got), limit; got != want {
				t.Errorf("limit %d, page %d: got %d records and a next cursor; a short page must be the last", limit, page, got)
			}
			cursor = next
		}
		wantIDs := make([]string, len(want))
		for i, r := range want {
			wantIDs[i] = r.ID
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("limit %d: pages gave ids\n%v\nwant\n%v", limit, ids, wantIDs)
		}
	}
}

func testAuditOtherOrg(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	want := appendAudit(t, st, org, 3)
	appendAudit(t, st, otherOrg, 4)

	checkAuditList(t, st, org, 10, want)

	none, cursor, err := st.ListAudit(ctx, newOrgID(), "", 10)
	wantNone(t, "ListAudit of an org without records")(none, err)
	if got, want := cursor, ""; got != want {
		t.Errorf("cursor of an org without records = %q, want %q", got, want)
	}
}

func testManifestRoundTrip(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	expires := now().Add(400 * 24 * time.Hour)
	want := manifestEntries(50, 20)
	m := secrets.NewAuditManifest(org, expires, want)
	for i := range 2 {
		if err := st.PutAuditManifest(ctx, m); err != nil {
			t.Fatalf("PutAuditManifest (%d): %v", i+1, err)
		}
	}
	got, err := st.GetAuditManifest(ctx, org, m.Day, m.Hash)
	if err != nil {
		t.Fatalf("GetAuditManifest: %v", err)
	}
	if got.Org != org || got.Day != m.Day || got.Hash != m.Hash || !bytes.Equal(got.Content, m.Content) {
		t.Fatalf("GetAuditManifest = %s/%s/%s %q, want %s/%s/%s %q", got.Org, got.Day, got.Hash, got.Content, org, m.Day, m.Hash, m.Content)
	}
	entries, err := got.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	if !slices.Equal(entries, want) {
		t.Errorf("Entries = %v, want %v", entries, want)
	}
	record := newResolveAudit(org, now(), m.Hash, len(want))
	if err := st.AppendAudit(ctx, record); err != nil {
		t.Fatal(err)
	}
	list, _, err := st.ListAudit(ctx, org, "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAudit = %d records, %v; want 1", len(list), err)
	}
	checkAudit(t, "the resolve's record", list[0], record)
}

func testManifestNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	m := secrets.NewAuditManifest(org, now(), manifestEntries(3, 10))
	if err := st.PutAuditManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	other := secrets.NewAuditManifest(org, now(), manifestEntries(4, 10))
	for _, c := range []struct{ what, org, day, hash string }{
		{"another org", newOrgID(), m.Day, m.Hash},
		{"another day", org, secrets.ManifestDay(now().Add(48 * time.Hour)), m.Hash},
		{"another hash", org, m.Day, other.Hash},
		{"a part of the hash", org, m.Day, m.Hash[:10]},
		{"an empty hash", org, m.Day, ""},
	} {
		_, err := st.GetAuditManifest(ctx, c.org, c.day, c.hash)
		wantNotFound(t, "GetAuditManifest at "+c.what, err)
	}
}

func testLargeManifest(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	want := manifestEntries(12000, 80) // about 1.2 MB: several DynamoDB items
	m := secrets.NewAuditManifest(org, now(), want)
	if len(m.Content) < 1<<20 {
		t.Fatalf("the manifest holds %d bytes; the test wants more than 1 MiB", len(m.Content))
	}
	if err := st.PutAuditManifest(ctx, m); err != nil {
		t.Fatalf("PutAuditManifest: %v", err)
	}
	got, err := st.GetAuditManifest(ctx, org, m.Day, m.Hash)
	if err != nil {
		t.Fatalf("GetAuditManifest: %v", err)
	}
	entries, err := got.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	if !slices.Equal(entries, want) {
		t.Errorf("Entries: %d entries, want %d equal to those put", len(entries), len(want))
	}
}
