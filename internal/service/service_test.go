package service_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

// acme is the test kit, as its defaults build it, with org acme
// bootstrapped: the kit, its service and acme's superadmin.
func acme(t *testing.T) (*testkit.Kit, *service.Service, secrets.Identity) {
	t.Helper()
	return acmeWith(t, testkit.Options{})
}

// acmeWith is acme on a kit built with opts.
func acmeWith(t *testing.T, opts testkit.Options) (*testkit.Kit, *service.Service, secrets.Identity) {
	t.Helper()
	k := testkit.New(t, opts)
	return k, k.Service, k.Superadmin(t, "acme")
}

func ptr(s string) *string { return &s }

// invalidOn reports whether err is an invalid error naming field.
func invalidOn(err error, field string) bool {
	var e *secrets.Error
	return errors.As(err, &e) && e.Code == secrets.CodeInvalid && e.Field == field
}

func TestHistoryKeepsTheLastMaxVersions(t *testing.T) {
	ctx := context.Background()
	_, svc, id := acmeWith(t, testkit.Options{Config: service.Config{MaxVersions: 5}})
	sec := mustCreate(t, svc, id, secrets.Layer{}, "API_KEY", map[secrets.Environment]string{secrets.Production: "v1-aaaaaaaaaaaaaaaa"})
	for i := 2; i <= 12; i++ {
		var err error
		if sec, err = svc.Update(ctx, id, sec.ID, service.UpdateInput{Version: sec.Version, Description: ptr(strings.Repeat("x", i))}); err != nil {
			t.Fatal(err)
		}
	}
	versions, err := svc.Versions(ctx, id, sec.ID)
	if err != nil {
		t.Fatal(err)
	}
	var got []int64
	for _, v := range versions {
		got = append(got, v.Version)
	}
	if want := []int64{12, 11, 10, 9, 8}; !equal(got, want) {
		t.Fatalf("versions = %v, want %v", got, want)
	}
	if _, err := svc.Restore(ctx, id, sec.ID, 3); !secrets.IsCode(err, secrets.CodeNotFound) || !strings.Contains(err.Error(), "no longer kept") {
		t.Fatalf("restore of a pruned version: %v, want not found saying it is no longer kept", err)
	}
	restored, err := svc.Restore(ctx, id, sec.ID, 9)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := restored.Version, int64(13); got != want {
		t.Fatalf("restored version = %d, want %d", got, want)
	}
	if got, want := restored.Description, strings.Repeat("x", 9); got != want {
		t.Fatalf("restored description = %q, want %q", got, want)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestResolveUnwrapsAtMostOneKeyPerEnvironment(t *testing.T) {
	ctx := context.Background()
	k, writer, id := acme(t)
	layers := []secrets.Layer{secrets.Global, {App: "web"}, {App: "web", Machine: "web-1"}}
	const n = 60
	for i := 0; i < n; i++ {
		name := "S_" + strings.Repeat("A", 1+i/3)
		if _, err := writer.Create(ctx, id, service.CreateInput{Layer: layers[i%3], Name: name,
			Values: map[secrets.Environment]string{secrets.Development: "dev-" + name + layers[i%3].Key(), secrets.Production: "prod"}}); err != nil {
			t.Fatal(err)
		}
	}
	reader := k.NewService(service.Config{}) // a cold process
	k.Keys.Unwrapped.Store(0)
	res, err := reader.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development, Layer: layers[2]})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(res.Values), n/3; got != want {
		t.Fatalf("resolved %d names, want %d", got, want)
	}
	if got, want := res.Values["S_A"], "dev-S_Am/web/web-1"; got != want {
		t.Fatalf("S_A = %q, want the machine value %q", got, want)
	}
	if got, want := k.Keys.Unwrapped.Load(), int64(1); got != want {
		t.Fatalf("cold resolve of %d values unwrapped %d keys, want %d", n/3, got, want)
	}
	if _, err := reader.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development, Layer: layers[2]}); err != nil {
		t.Fatal(err)
	}
	if got, want := k.Keys.Unwrapped.Load(), int64(1); got != want {
		t.Fatalf("warm resolve unwrapped: total %d, want %d", got, want)
	}
}

func TestACiphertextMovedInTheStoreFailsToResolve(t *testing.T) {
	ctx := context.Background()
	k, svc, id := acme(t)
	a := mustCreate(t, svc, id, secrets.Layer{}, "A", map[secrets.Environment]string{secrets.Development: "the-value-of-a-0123456789"})
	b := mustCreate(t, svc, id, secrets.Layer{}, "B", map[secrets.Environment]string{secrets.Development: "the-value-of-b-0123456789"})
	// Someone with write access to the database copies A's ciphertext into B.
	tampered := *b
	tampered.Values = map[secrets.Environment]secrets.SealedValue{secrets.Development: a.Values[secrets.Development]}
	tampered.Version = b.Version + 1
	if err := k.Store.UpdateSecret(ctx, &tampered, b.Version); err != nil {
		t.Fatal(err)
	}
	_, err := svc.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development})
	if got, want := secrets.ErrorCode(err), secrets.CodeInternal; got != want {
		t.Fatalf("resolve after tampering: %v, want an internal error", err)
	}
	if strings.Contains(err.Error(), "the-value-of") {
		t.Fatal("the error holds a value")
	}
}

func TestResolveIsAuditedWithNamesAndVersionsButNoValues(t *testing.T) {
	ctx := context.Background()
	k, svc, id := acme(t)
	if _, _, err := svc.SetValue(ctx, id, secrets.Global, "DB_URL", "postgres://u:hunter2hunter2@db/x", ""); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.SetValue(ctx, id, secrets.Global, "DB_URL", "postgres://u:hunter3hunter3@db/x", secrets.Development); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development}); err != nil {
		t.Fatal(err)
	}
	records, _, err := svc.Audit(ctx, id, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := records[0].Action, secrets.ActionResolve; got != want {
		t.Fatalf("newest action = %s, want %s", got, want)
	}
	if got := records[0].Secrets; len(got) != 1 || got[0].Name != "DB_URL" || got[0].Version != 2 {
		t.Fatalf("resolve audit entries = %+v, want DB_URL version 2", got)
	}
	all, _ := json.Marshal(records)
	if bytes.Contains(all, []byte("hunter")) {
		t.Fatal("audit records hold a value")
	}
	if bytes.Contains(k.Logs.Bytes(), []byte("hunter")) {
		t.Fatal("logs hold a value")
	}
}

func TestSetValueWithNoVersionSurvivesConcurrentWriters(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	ctx := context.Background()
	// Separate services share the store: separate processes.
	svcs := []*service.Service{k.Service, k.NewService(service.Config{}), k.NewService(service.Config{})}
	id := k.Superadmin(t, "acme")
	const writers = 12
	errs := make(chan error, writers)
	for i := 0; i < writers; i++ {
		go func() {
			_, _, err := svcs[i%3].SetValue(ctx, id, secrets.Layer{App: "web"}, "SHARED", "value-"+strings.Repeat("z", i+1), "")
			errs <- err
		}()
	}
	for i := 0; i < writers; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	head, err := k.Store.GetSecretByName(ctx, "acme", secrets.Layer{App: "web"}, "SHARED")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := head.Version, int64(writers); got != want {
		t.Fatalf("version = %d, want %d: every write is its own version", got, want)
	}
	// Every value still opens bound to its version.
	if _, err := svcs[1].Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development, Layer: secrets.Layer{App: "web"}}); err != nil {
		t.Fatal(err)
	}
}

// failingAudit is a store whose audit log refuses every append.
type failingAudit struct{ secrets.Store }

func (failingAudit) AppendAudit(context.Context, *secrets.AuditRecord) error {
	return secrets.Errorf(secrets.CodeUnavailable, "audit log throttled")
}

func TestAResolveWhoseAuditCannotBeWrittenReturnsNoValues(t *testing.T) {
	ctx := context.Background()
	k, svc, id := acme(t)
	if _, _, err := svc.SetValue(ctx, id, secrets.Global, "TOKEN", "value-that-must-not-leave", secrets.Development); err != nil {
		t.Fatal(err)
	}
	broken := k.ServiceOver(failingAudit{k.Store}, service.Config{})
	res, err := broken.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development})
	if got, want := secrets.ErrorCode(err), secrets.CodeUnavailable; got != want {
		t.Fatalf("resolve = %v, %v; want an unavailable error", res, err)
	}
	if res != nil {
		t.Fatal("values were returned without an audit record")
	}
}

func TestAPrunedVersionASlowWriterPutBackIsNeitherListedNorRestored(t *testing.T) {
	ctx := context.Background()
	k, svc, id := acmeWith(t, testkit.Options{Config: service.Config{MaxVersions: 3}})
	sec := mustCreate(t, svc, id, secrets.Layer{}, "K", map[secrets.Environment]string{secrets.Development: "v1"})
	v1 := sec
	for i := 0; i < 5; i++ {
		var err error
		if sec, err = svc.Update(ctx, id, sec.ID, service.UpdateInput{Version: sec.Version, Description: ptr(fmt.Sprint(i))}); err != nil {
			t.Fatal(err)
		}
	}
	// A writer that read version 1 long ago keeps it in history now.
	if err := k.Store.PutVersion(ctx, v1); err != nil {
		t.Fatal(err)
	}
	versions, err := svc.Versions(ctx, id, sec.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range versions {
		if v.Version == 1 {
			t.Fatalf("the pruned version 1 is listed")
		}
	}
	if got, want := len(versions), 3; got != want {
		t.Fatalf("%d versions listed, want %d", got, want)
	}
	if _, err := svc.Restore(ctx, id, sec.ID, 1); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Fatalf("restore of the pruned version: %v, want not found", err)
	}
}
