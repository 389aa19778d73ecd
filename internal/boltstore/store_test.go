package boltstore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storetest"
)

func open(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, boltstore.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := st.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return st
}

// openNew opens a store in a new file, closed when the test ends.
func openNew(t *testing.T) *boltstore.Store {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "secrets.db"))
}

// openTemp opens a store in a new file that the test closes itself, and
// returns the file's path.
func openTemp(t *testing.T) (string, *boltstore.Store) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "secrets.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return path, st
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) secrets.Store {
		return openNew(t)
	})
}

func TestStoreIsUntrusted(t *testing.T) {
	storetest.RunTamper(t, func(t *testing.T) (secrets.Store, storetest.Tamper) {
		st := openNew(t)
		return st, tamperer{st}
	})
}

// tamperer writes to the bbolt file behind the store's back.
type tamperer struct{ st *boltstore.Store }

func (tp tamperer) CopyHead(t *testing.T, from, to storetest.Place, rewrite bool) {
	t.Helper()
	if err := boltstore.CopyHead(tp.st, from.Org, from.Layer, from.Name, to.Org, to.Layer, to.Name, rewrite); err != nil {
		t.Fatalf("CopyHead: %v", err)
	}
}

func TestOpenWhileInUse(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.db")
	open(t, path)

	// flock locks belong to the open file, so a second Open in this
	// process waits just as another process would.
	second, err := boltstore.Open(path, boltstore.Options{Timeout: 50 * time.Millisecond})
	if err == nil {
		second.Close()
		t.Fatalf("second Open succeeded while the first holds the lock")
	}
	if !errors.Is(err, boltstore.ErrInUse) {
		t.Errorf("second Open: got %v, want %v", err, boltstore.ErrInUse)
	}
	if got, want := err.Error(), "in use by another process"; !strings.Contains(got, want) {
		t.Errorf("second Open: error %q does not say %q", got, want)
	}
	if got, want := err.Error(), path; !strings.Contains(got, want) {
		t.Errorf("second Open: error %q does not name the file %q", got, want)
	}
	t.Logf("second Open: %v", err)
}

func TestReopenKeepsRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.db")
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	o := &secrets.Org{ID: "acme", CreatedAt: time.Now().UTC().Truncate(time.Microsecond)}
	if err := st.CreateOrg(t.Context(), o); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	got, err := open(t, path).GetOrg(t.Context(), "acme")
	if err != nil {
		t.Fatalf("GetOrg after reopening: %v", err)
	}
	if !got.CreatedAt.Equal(o.CreatedAt) {
		t.Errorf("CreatedAt after reopening = %v, want %v", got.CreatedAt, o.CreatedAt)
	}
}

func TestCancelledContext(t *testing.T) {
	st := openNew(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()

	_, err := st.GetOrg(ctx, "acme")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("GetOrg with a cancelled context: got %v, want %v", err, context.Canceled)
	}
	err = st.CreateOrg(ctx, &secrets.Org{ID: "acme", CreatedAt: time.Now()})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("CreateOrg with a cancelled context: got %v, want %v", err, context.Canceled)
	}
	if _, err := st.GetOrg(t.Context(), "acme"); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("GetOrg after a cancelled create: got %v, want not found", err)
	}
}

// Keys join their parts with NUL, so a part holding one (or an empty part)
// could alias another record's key: reads find nothing there, writes are
// refused.
func TestImpossibleKeys(t *testing.T) {
	ctx := t.Context()
	st := openNew(t)
	s := &secrets.Secret{ID: "id", Org: "acme", Layer: secrets.Layer{App: "billing"}, Name: "DB_URL", Version: 1}
	if err := st.CreateSecret(ctx, s); err != nil {
		t.Fatalf("CreateSecret: %v", err)
	}

	for _, id := range []string{"", "id\x00", "\x00id"} {
		if _, err := st.GetSecret(ctx, "acme", id); !secrets.IsCode(err, secrets.CodeNotFound) {
			t.Errorf("GetSecret(%q): got %v, want not found", id, err)
		}
	}
	if _, err := st.GetSecretByName(ctx, "acme", secrets.Layer{App: "billing\x00DB_URL"}, ""); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("GetSecretByName with a NUL in the layer: got %v, want not found", err)
	}
	if _, err := st.GetVersion(ctx, "acme", "id", 0); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("GetVersion(0): got %v, want not found", err)
	}

	bad := *s
	bad.ID, bad.Name = "other", "DB\x00URL"
	if err := st.CreateSecret(ctx, &bad); !secrets.IsCode(err, secrets.CodeInvalid) {
		t.Errorf("CreateSecret with a NUL in the name: got %v, want invalid", err)
	}
	bad = *s
	bad.ID, bad.Name = "", "OTHER"
	if err := st.CreateSecret(ctx, &bad); !secrets.IsCode(err, secrets.CodeInvalid) {
		t.Errorf("CreateSecret with an empty id: got %v, want invalid", err)
	}
}

func TestAFullDiskIsUnavailable(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want secrets.Code
	}{
		{fmt.Errorf("write db: %w", &os.PathError{Op: "write", Path: "zwrm.db", Err: syscall.ENOSPC}), secrets.CodeUnavailable},
		{fmt.Errorf("sync: %w", syscall.EDQUOT), secrets.CodeUnavailable},
		{fmt.Errorf("write db: %w", syscall.EIO), secrets.CodeInternal},
		{secrets.ErrStale, secrets.CodeConflict},
	} {
		if got := secrets.ErrorCode(boltstore.DiskErr(tc.err)); got != tc.want {
			t.Errorf("%v: code %s, want %s", tc.err, got, tc.want)
		}
	}
}

// Audit appends share commits; a commit that fails acknowledges none of
// the appends in it.
func TestAuditAppendsFailWithTheirCommit(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "secrets.db"), boltstore.Options{})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if err := st.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	errs := make([]error, 16)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Go(func() {
			errs[i] = st.AppendAudit(t.Context(), &secrets.AuditRecord{ID: fmt.Sprintf("a%02d", i), Org: "acme", Time: time.Now()})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err == nil {
			t.Errorf("AppendAudit(%d) to a closed database succeeded", i)
		}
	}
}

// A head already read and kept decoded is read again from its bytes once
// they change behind the store's back: another head's record copied over
// it is refused, not served from what was decoded before.
func TestResolveReadRechecksChangedBytes(t *testing.T) {
	st := openNew(t)
	ctx := t.Context()
	app := secrets.Layer{App: "billing"}
	for i, name := range []string{"A", "B"} {
		err := st.CreateSecret(ctx, &secrets.Secret{ID: fmt.Sprintf("id-%d", i), Org: "acme", Layer: app, Name: name, Version: 1,
			Values: map[secrets.Environment]secrets.SealedValue{secrets.Production: {Ciphertext: []byte(name), Mask: "***"}}})
		if err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
	}
	if _, err := st.ListSecretsIn(ctx, "acme", []secrets.Layer{app}, secrets.Production); err != nil {
		t.Fatalf("ListSecretsIn: %v", err)
	}
	if err := boltstore.CopyHead(st, "acme", app, "B", "acme", app, "A", false); err != nil {
		t.Fatalf("CopyHead: %v", err)
	}
	_, err := st.ListSecretsIn(ctx, "acme", []secrets.Layer{app}, secrets.Production)
	if got, want := secrets.ErrorCode(err), secrets.CodeInternal; got != want || !strings.Contains(err.Error(), "integrity") {
		t.Errorf("ListSecretsIn after B's record was copied over A's = %v (code %q), want an integrity error (%q)", err, got, want)
	}
}
