package local_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

func openData(t *testing.T, dir string) *local.Data {
	t.Helper()
	data, err := local.Open(dir, time.Second, testkit.Quiet(), local.Tuning{})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestTheServerDeletesExpiredAuditRecordsOnASchedule(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".zwrm")
	testkit.StartLocal(t, dir, nil, local.Tuning{}).Stop() // first start: the dev org

	ctx := context.Background()
	data := openData(t, dir)
	now := time.Now().UTC()
	live := &secrets.AuditRecord{ID: secrets.NewAuditID(now), Org: local.DevOrg, Time: now, ExpiresAt: now.Add(time.Hour),
		Actor: secrets.AuditActor{Kind: secrets.TokenUser, Name: "Ada"}, Action: secrets.ActionSecretCreate}
	if err := data.Store.AppendAudit(ctx, live); err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		at := now.Add(-time.Hour + time.Duration(i)*time.Millisecond)
		r := &secrets.AuditRecord{ID: secrets.NewAuditID(at), Org: local.DevOrg, Time: at, ExpiresAt: now.Add(-time.Second),
			Actor: secrets.AuditActor{Kind: secrets.TokenUser, Name: "Ada"}, Action: secrets.ActionSecretCreate}
		if err := data.Store.AppendAudit(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	data.Close()

	count := func() int {
		data := openData(t, dir)
		defer data.Close()
		list, _, err := data.Store.ListAudit(ctx, local.DevOrg, "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		return len(list)
	}
	// The store holds the bootstrap's record, the live one and the 50
	// expired ones; the server sweeps at start and then every ExpireEvery.
	for attempt := 1; ; attempt++ {
		srv := testkit.StartLocal(t, dir, nil, local.Tuning{ExpireEvery: 10 * time.Millisecond})
		time.Sleep(100 * time.Millisecond)
		srv.Stop()
		n := count()
		if n == 2 {
			break
		}
		if attempt == 20 {
			t.Fatalf("%d audit records are stored, want the 2 that have not expired", n)
		}
	}
}

func TestCompactRefusesWhileTheServerRuns(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".zwrm")
	srv := testkit.StartLocal(t, dir, nil, local.Tuning{})
	_, err := local.Compact(context.Background(), dir)
	if err == nil || !strings.Contains(err.Error(), "in use") || !strings.Contains(err.Error(), "stop the server") {
		t.Fatalf("Compact while the server runs: %v, want a refusal that says to stop it", err)
	}
	srv.Stop()
	rep, err := local.Compact(context.Background(), dir)
	if err != nil {
		t.Fatalf("Compact: %v", err)
	}
	if rep.After <= 0 || rep.After > rep.Before {
		t.Errorf("Compact: %d → %d bytes", rep.Before, rep.After)
	}
	if got := testkit.Perm(t, filepath.Join(dir, local.DBFile)); got != 0o600 {
		t.Errorf("the compacted database's mode is %v, want 0600", got)
	}
	// The server starts on the compacted file, with its org and token.
	srv = testkit.StartLocal(t, dir, nil, local.Tuning{})
	if status, _ := call(t, "GET", srv.URL()+"/v1/me", testkit.DevToken(t, dir), ""); status != 200 {
		t.Fatalf("GET /v1/me after compacting: %d", status)
	}
	if _, err := local.Compact(context.Background(), filepath.Join(t.TempDir(), "none")); err == nil {
		t.Error("Compact of a directory without a database succeeded")
	}
}
