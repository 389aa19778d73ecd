package service_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

func intp(n int) *int { return &n }

func TestTheAuditRetentionIsASuperadminsOrgSetting(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.Start)
	k, svc, root := acmeWith(t, testkit.Options{Clock: clk})

	org, err := svc.Org(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := org.AuditRetentionDays, secrets.DefaultAuditRetentionDays; got != want {
		t.Errorf("the default retention = %d days, want %d", got, want)
	}
	for _, days := range []int{0, -1, 3651} {
		_, err := svc.UpdateOrg(ctx, root, service.OrgUpdate{AuditRetentionDays: intp(days)})
		if !invalidOn(err, "audit_retention_days") {
			t.Errorf("retention %d: %v, want invalid naming audit_retention_days", days, err)
		}
	}
	if _, _, err := svc.CreateToken(ctx, root, service.TokenInput{Kind: secrets.TokenUser, Subject: "ann@acme.test", Name: "Ann", Role: secrets.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	admin := root
	admin.Role, admin.Subject = secrets.RoleAdmin, "ann@acme.test"
	if _, err := svc.UpdateOrg(ctx, admin, service.OrgUpdate{AuditRetentionDays: intp(30)}); !secrets.IsCode(err, secrets.CodeForbidden) {
		t.Errorf("an admin changing the retention: %v, want forbidden", err)
	}

	clk.Advance(time.Second)
	org, err = svc.UpdateOrg(ctx, root, service.OrgUpdate{AuditRetentionDays: intp(30)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := org.AuditRetentionDays, 30; got != want {
		t.Errorf("retention = %d, want %d", got, want)
	}
	records, _, err := svc.Audit(ctx, root, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	r := records[0]
	if got, want := r.Detail, "audit_retention_days: 400→30"; r.Action != secrets.ActionOrgUpdate || got != want {
		t.Errorf("the change's record: %s %q, want %s %q", r.Action, got, secrets.ActionOrgUpdate, want)
	}
	// Shortening the retention does not shorten the trace of doing it.
	if got, want := r.ExpiresAt, r.Time.Add(400*24*time.Hour).Truncate(time.Second); !got.Equal(want) {
		t.Errorf("the record of the change expires at %s, want %s (the old 400 days on)", got, want)
	}
	// Another process reads the setting from the store.
	clk.Advance(time.Second)
	other := k.NewService(service.Config{})
	if _, _, err := other.SetValue(ctx, root, secrets.Global, "TOKEN", "value", secrets.Development); err != nil {
		t.Fatal(err)
	}
	records, _, err = other.Audit(ctx, root, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := records[0].ExpiresAt, clk.Now().Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("a record another process writes expires at %s, want %s", got, want)
	}
	if records, _, err = svc.Audit(ctx, root, "", 1); err != nil {
		t.Fatal(err)
	}
	if got, want := records[0].ExpiresAt, clk.Now().Add(30*24*time.Hour); !got.Equal(want) {
		t.Errorf("a record written after the change expires at %s, want %s (30 days on)", got, want)
	}
}

func TestExpiredAuditRecordsAreNotListed(t *testing.T) {
	ctx := context.Background()
	clk := testkit.NewClock(testkit.Start)
	k, svc, root := acmeWith(t, testkit.Options{Clock: clk}) // a token.create record, kept 400 days
	clk.Advance(time.Second)
	if _, err := svc.UpdateOrg(ctx, root, service.OrgUpdate{AuditRetentionDays: intp(1)}); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		clk.Advance(time.Second)
		if _, _, err := svc.SetValue(ctx, root, secrets.Global, fmt.Sprintf("K%d", i), "value", secrets.Development); err != nil {
			t.Fatal(err)
		}
	}
	if list, _, err := svc.Audit(ctx, root, "", 50); err != nil || len(list) != 5 {
		t.Fatalf("before expiry: %d records, %v; want 5", len(list), err)
	}
	clk.Advance(24 * time.Hour)
	list, next, err := svc.Audit(ctx, root, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	// The store still holds the expired records (the local sweep or
	// DynamoDB's TTL deletes them later); the trail leaves them out. The
	// org.update record that shortened the retention keeps the old one.
	if len(list) != 2 || list[0].Action != secrets.ActionOrgUpdate || list[1].Action != secrets.ActionTokenCreate || next != "" {
		var got []string
		for _, r := range list {
			got = append(got, r.Action)
		}
		t.Fatalf("after a day: %v (next %q), want the org.update and token.create records, kept 400 days", got, next)
	}
	if stored, _, err := k.Store.ListAudit(ctx, "acme", "", 50); err != nil || len(stored) != 5 {
		t.Fatalf("the store holds %d records (%v), want 5", len(stored), err)
	}
	// A page of one reads past the expired records.
	list, next, err = svc.Audit(ctx, root, list[0].ID, 1)
	if err != nil || len(list) != 1 || list[0].Action != secrets.ActionTokenCreate || next != "" {
		t.Fatalf("a page of 1: %d records, next %q, %v; want the token.create record and no next page", len(list), next, err)
	}
}

// manifestStore counts manifest writes and can alter what a manifest read
// returns.
type manifestStore struct {
	secrets.Store
	mu     sync.Mutex
	puts   int
	gets   int
	tamper func(*secrets.AuditManifest)
}

func (m *manifestStore) PutAuditManifest(ctx context.Context, man *secrets.AuditManifest) error {
	m.mu.Lock()
	m.puts++
	m.mu.Unlock()
	return m.Store.PutAuditManifest(ctx, man)
}

func (m *manifestStore) GetAuditManifest(ctx context.Context, org, day, hash string) (*secrets.AuditManifest, error) {
	got, err := m.Store.GetAuditManifest(ctx, org, day, hash)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gets++
	if err == nil && m.tamper != nil {
		m.tamper(got)
	}
	return got, err
}

func TestAResolveIsOneRecordWhoseNamesAreStoredOnce(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	st := &manifestStore{Store: k.Store}
	svc, root := k.ServiceOver(st, service.Config{}), k.Superadmin(t, "acme")
	const n = 600
	var want []string
	for i := range n {
		name := fmt.Sprintf("S%04d", i)
		want = append(want, name)
		if _, err := svc.Create(ctx, root, service.CreateInput{Name: name, Values: map[secrets.Environment]string{secrets.Development: "v"}}); err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		if _, err := svc.Resolve(ctx, root, service.ResolveInput{Environment: secrets.Development}); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := st.puts, 1; got != want {
		t.Errorf("three identical resolves stored %d manifests, want %d", got, want)
	}
	// As stored: a reference, no list.
	stored, _, err := k.Store.ListAudit(ctx, "acme", "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if r := stored[0]; r.Manifest == "" || r.SecretCount != n || len(r.Secrets) != 0 {
		t.Errorf("the stored record: manifest %q, count %d, %d entries; want a manifest of %d and no entries", r.Manifest, r.SecretCount, len(r.Secrets), n)
	}
	// As read: the names, as before.
	records, _, err := svc.Audit(ctx, root, "", 3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range records {
		var got []string
		for _, e := range r.Secrets {
			got = append(got, e.Name)
		}
		if r.Action != secrets.ActionResolve || !slices.Equal(got, want) || r.Manifest != "" || r.SecretCount != 0 || r.Detail != "" {
			t.Fatalf("record %s %q names %d secrets (manifest %q), want a resolve naming all %d", r.Action, r.Detail, len(got), r.Manifest, n)
		}
	}
	if got, want := st.gets, 1; got != want {
		t.Errorf("a page of three records of one manifest read it %d times, want %d", got, want)
	}
	// Another process writes it again, harmlessly.
	if _, err := k.ServiceOver(st, service.Config{}).Resolve(ctx, root, service.ResolveInput{Environment: secrets.Development}); err != nil {
		t.Fatal(err)
	}
	if records, _, err = svc.Audit(ctx, root, "", 1); err != nil || len(records[0].Secrets) != n {
		t.Fatalf("after another process's resolve: %v", err)
	}
}

func TestAManifestThatDoesNotMatchItsHashIsReportedNotShown(t *testing.T) {
	ctx := context.Background()
	k := testkit.New(t, testkit.Options{})
	st := &manifestStore{Store: k.Store}
	svc, root := k.ServiceOver(st, service.Config{}), k.Superadmin(t, "acme")
	if _, _, err := svc.SetValue(ctx, root, secrets.Global, "API_KEY", "value", secrets.Development); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, root, service.ResolveInput{Environment: secrets.Development}); err != nil {
		t.Fatal(err)
	}
	st.tamper = func(m *secrets.AuditManifest) {
		m.Content = []byte(strings.Replace(string(m.Content), "API_KEY", "OTHER_KEY", 1))
	}
	records, _, err := svc.Audit(ctx, root, "", 50)
	if err != nil {
		t.Fatalf("Audit: %v; want the trail readable", err)
	}
	r := records[0]
	if r.Action != secrets.ActionResolve || len(r.Secrets) != 0 || !strings.Contains(r.Detail, "missing or altered") {
		t.Errorf("the resolve's record: %d entries, detail %q; want none and a note", len(r.Secrets), r.Detail)
	}
	if !strings.Contains(k.Logs.String(), "integrity error") {
		t.Error("the altered manifest was not logged as an integrity error")
	}
	if len(records) != 3 {
		t.Errorf("%d records, want the other 2 too", len(records))
	}
}

func TestAuditPagesStayWithinOneMebibyte(t *testing.T) {
	ctx := context.Background()
	k, svc, root := acme(t)
	// 40 resolves of 3,000 long names each: about 200 KB apiece as the
	// API shows them, 8 MB in all.
	const resolves, names = 40, 3000
	entries := make([]secrets.AuditEntry, names)
	for i := range entries {
		entries[i] = secrets.AuditEntry{Name: fmt.Sprintf("A_RATHER_LONG_SECRET_NAME_FOR_THE_PAYMENTS_SERVICE_%05d", i), Layer: "m/payments/web-1", Version: 12}
	}
	now := time.Now().UTC()
	var want []string
	for i := range resolves {
		at := now.Add(time.Duration(i) * time.Millisecond)
		r := &secrets.AuditRecord{ID: secrets.NewAuditID(at), Org: "acme", Time: at, ExpiresAt: at.Add(time.Hour).Truncate(time.Second),
			Actor: secrets.AuditActor{Kind: secrets.TokenService, Name: "web"}, Action: secrets.ActionResolve, Environment: secrets.Production}
		m := secrets.NewAuditManifest("acme", r.ExpiresAt, entries[:names-i]) // each list differs
		r.Manifest, r.SecretCount = m.Hash, names-i
		if err := k.Store.PutAuditManifest(ctx, m); err != nil {
			t.Fatal(err)
		}
		if err := k.Store.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
		want = append(want, r.ID)
	}
	slices.Reverse(want)

	var got []string
	cursor, pages := "", 0
	for {
		pages++
		if pages > resolves+2 {
			t.Fatal("too many pages")
		}
		records, next, err := svc.Audit(ctx, root, cursor, 500)
		if err != nil {
			t.Fatal(err)
		}
		// The answer as the API writes it.
		body, _ := json.Marshal(map[string]any{"records": records, "next_cursor": next})
		if len(body) > service.MaxAuditPageBytes {
			t.Errorf("page %d: %d bytes, want at most %d", pages, len(body), service.MaxAuditPageBytes)
		}
		for _, r := range records {
			if r.Action == secrets.ActionResolve {
				if len(r.Secrets) <= names-resolves {
					t.Fatalf("page %d: a resolve names %d secrets", pages, len(r.Secrets))
				}
				got = append(got, r.ID)
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if !slices.Equal(got, want) {
		t.Errorf("the pages gave %d resolves, want all %d once, newest first", len(got), len(want))
	}
	if pages < 6 {
		t.Errorf("%d pages for about 8 MB, want pages of at most 1 MiB", pages)
	}
}

// lostAuditAnswer is a store whose next audit append lands and then
// answers an error, as when its answer is lost on the way back.
type lostAuditAnswer struct {
	secrets.Store
	lose atomic.Bool
}

func (l *lostAuditAnswer) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	err := l.Store.AppendAudit(ctx, r)
	if err == nil && l.lose.CompareAndSwap(true, false) {
		return secrets.Errorf(secrets.CodeUnavailable, "connection reset (the record landed)")
	}
	return err
}

// TestAnAuditAppendWhoseAnswerWasLostCountsOnce: the retry finds the
// record its first try wrote, and that is the success it was: the resolve
// is answered, and its record is stored once.
func TestAnAuditAppendWhoseAnswerWasLostCountsOnce(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	store := &lostAuditAnswer{Store: k.Store}
	svc := k.ServiceOver(store, service.Config{Logger: testkit.Quiet()})
	root := k.Superadmin(t, "acme")
	if _, _, err := svc.SetValue(ctx, root, secrets.Global, "DB_URL", "postgres://db", secrets.Development); err != nil {
		t.Fatal(err)
	}
	store.lose.Store(true)
	if _, err := svc.Resolve(ctx, root, service.ResolveInput{Environment: secrets.Development}); err != nil {
		t.Fatalf("resolve whose audit answer was lost = %v, want success", err)
	}
	records, _, err := svc.Audit(ctx, root, "", 50)
	if err != nil {
		t.Fatal(err)
	}
	resolves := 0
	for _, r := range records {
		if r.Action == secrets.ActionResolve {
			resolves++
		}
	}
	if resolves != 1 {
		t.Errorf("%d resolve records, want 1", resolves)
	}
}
