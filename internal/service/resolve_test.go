package service_test

import (
	"context"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// auditCount is how many audit records acme holds.
func auditCount(t *testing.T, svc *service.Service, id secrets.Identity) int {
	t.Helper()
	n, cursor := 0, ""
	for {
		list, next, err := svc.Audit(context.Background(), id, cursor, 100)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		n += len(list)
		if next == "" {
			return n
		}
		cursor = next
	}
}

func mustResolve(t *testing.T, svc *service.Service, id secrets.Identity, in service.ResolveInput) *service.Resolved {
	t.Helper()
	res, err := svc.Resolve(context.Background(), id, in)
	if err != nil {
		t.Fatalf("Resolve %+v: %v", in, err)
	}
	return res
}

func TestResolveIfNoneMatchUnwrapsNothingAndAuditsNothing(t *testing.T) {
	k, svc, id := acme(t)
	web := secrets.Layer{App: "web"}
	mustCreate(t, svc, id, secrets.Global, "DB_URL", map[secrets.Environment]string{secrets.Development: "postgres://global"})
	mustCreate(t, svc, id, web, "API_KEY", map[secrets.Environment]string{secrets.Development: "key-one"})
	first := mustResolve(t, svc, id, service.ResolveInput{Environment: secrets.Development, Layer: web})
	if first.Fingerprint == "" || first.NotModified {
		t.Fatalf("first resolve: fingerprint %q, not modified %v; want a fingerprint and values", first.Fingerprint, first.NotModified)
	}
	for _, v := range first.Values {
		if strings.Contains(first.Fingerprint, v) {
			t.Fatalf("the fingerprint holds a value")
		}
	}

	// A fresh service over the same store has no data key cached, so any
	// value it opened would reach the key wrapper.
	cold := k.NewService(service.Config{})
	unwrapped, audits, counted := k.Keys.Unwrapped.Load(), auditCount(t, svc, id), cold.ResolvesNotModified()
	res := mustResolve(t, cold, id, service.ResolveInput{Environment: secrets.Development, Layer: web, IfNoneMatch: first.Fingerprint})
	if !res.NotModified || len(res.Values) != 0 || res.Fingerprint != first.Fingerprint {
		t.Fatalf("unchanged resolve = not modified %v, %d values, fingerprint %q; want not modified, no values, %q", res.NotModified, len(res.Values), res.Fingerprint, first.Fingerprint)
	}
	if got := k.Keys.Unwrapped.Load() - unwrapped; got != 0 {
		t.Errorf("a not-modified resolve unwrapped %d keys, want 0", got)
	}
	if got := auditCount(t, svc, id) - audits; got != 0 {
		t.Errorf("a not-modified resolve wrote %d audit records, want 0", got)
	}
	if got := cold.ResolvesNotModified() - counted; got != 1 {
		t.Errorf("not-modified counter moved by %d, want 1", got)
	}
	if logs := k.Logs.String(); !strings.Contains(logs, `"msg":"resolve not modified"`) || !strings.Contains(logs, `"environment":"development"`) || strings.Contains(logs, "key-one") {
		t.Errorf("logs lack the not-modified line with its environment, or hold a value:\n%s", logs)
	}

	// The check is a resolve: its rules hold before any fingerprint is compared.
	prod := k.ServiceToken(t, id, "web-prod", "web", "", "production")
	if _, err := svc.Resolve(context.Background(), prod.Identity, service.ResolveInput{Environment: secrets.Development, Layer: web, IfNoneMatch: first.Fingerprint}); !secrets.IsCode(err, secrets.CodeForbidden) {
		t.Errorf("a production token checking development = %v, want forbidden", err)
	}

	// The same check against a stale fingerprint resolves, unwraps and audits.
	unwrapped, audits = k.Keys.Unwrapped.Load(), auditCount(t, svc, id)
	full := mustResolve(t, cold, id, service.ResolveInput{Environment: secrets.Development, Layer: web, IfNoneMatch: "0123"})
	if full.NotModified || full.Values["API_KEY"] != "key-one" {
		t.Fatalf("resolve with a stale fingerprint = not modified %v, API_KEY %q", full.NotModified, full.Values["API_KEY"])
	}
	if k.Keys.Unwrapped.Load() == unwrapped {
		t.Errorf("a cold full resolve unwrapped no key: the count above proves nothing")
	}
	if got := auditCount(t, svc, id) - audits; got != 1 {
		t.Errorf("a full resolve wrote %d audit records, want 1", got)
	}
}

func TestResolveNamesSelectsOnlyThose(t *testing.T) {
	k, svc, id := acme(t)
	for _, n := range []string{"A", "B", "C"} {
		mustCreate(t, svc, id, secrets.Global, n, map[secrets.Environment]string{secrets.Development: "value-of-" + n})
	}
	cold := k.NewService(service.Config{})
	unwrapped := k.Keys.Unwrapped.Load()
	res := mustResolve(t, cold, id, service.ResolveInput{Environment: secrets.Development, Names: []string{"B", "MISSING"}})
	if len(res.Values) != 1 || res.Values["B"] != "value-of-B" {
		t.Fatalf("resolve of B and MISSING = %v, want only B", res.Values)
	}
	if got := k.Keys.Unwrapped.Load() - unwrapped; got > 1 {
		t.Errorf("resolving one name unwrapped %d keys", got)
	}
	records, _, err := svc.Audit(context.Background(), id, "", 1)
	if err != nil || len(records) != 1 {
		t.Fatalf("Audit = %v, %v", records, err)
	}
	if got := records[0].Secrets; len(got) != 1 || got[0].Name != "B" {
		t.Errorf("the resolve's audit names %+v, want only B", got)
	}
	if _, err := svc.Resolve(context.Background(), id, service.ResolveInput{Environment: secrets.Development, Names: []string{"not-a-name"}}); !invalidOn(err, "names") {
		t.Errorf("resolve of an invalid name = %v, want invalid on names", err)
	}
}

func TestResolveFingerprintFollowsWhatItCovers(t *testing.T) {
	_, svc, id := acme(t)
	web, api := secrets.Layer{App: "web"}, secrets.Layer{App: "api"}
	both := map[secrets.Environment]string{secrets.Development: "dev-value", secrets.Staging: "staging-value"}
	sec := mustCreate(t, svc, id, secrets.Global, "A", both)
	mustCreate(t, svc, id, secrets.Global, "B", both)
	if _, err := svc.SetUserResolveEnvironments(context.Background(), id, []string{"development", "staging"}); err != nil {
		t.Fatal(err)
	}
	fp := func(env secrets.Environment, layer secrets.Layer, names ...string) string {
		return mustResolve(t, svc, id, service.ResolveInput{Environment: env, Layer: layer, Names: names}).Fingerprint
	}
	base := fp(secrets.Development, web)
	if again := fp(secrets.Development, web); again != base {
		t.Errorf("the same resolve twice gave fingerprints %s and %s", base, again)
	}
	for what, other := range map[string]string{
		"another environment": fp(secrets.Staging, web),
		"another layer":       fp(secrets.Development, api),
		"a names selection":   fp(secrets.Development, web, "A", "B"),
		"fewer names":         fp(secrets.Development, web, "A"),
	} {
		if other == base {
			t.Errorf("%s gave the same fingerprint", what)
		}
	}
	if a, b := fp(secrets.Development, web, "A", "B"), fp(secrets.Development, web, "B", "A"); a != b {
		t.Errorf("the order of names changed the fingerprint")
	}
	dev := "changed"
	if _, err := svc.Update(context.Background(), id, sec.ID, service.UpdateInput{Version: sec.Version, Values: map[secrets.Environment]*string{secrets.Development: &dev}}); err != nil {
		t.Fatal(err)
	}
	if changed := fp(secrets.Development, web); changed == base {
		t.Errorf("changing a secret left the fingerprint as it was")
	}
}

// TestResolveFingerprintSeesASecretDeletedAndCreatedAgain: the new secret
// is at version 1 again, like the old one; the change check must still see
// it (the emergency rotation of a leaked key), or workloads would keep the
// old value.
func TestResolveFingerprintSeesASecretDeletedAndCreatedAgain(t *testing.T) {
	_, svc, id := acme(t)
	old := mustCreate(t, svc, id, secrets.Global, "API_KEY", map[secrets.Environment]string{secrets.Development: "leaked-value"})
	first := mustResolve(t, svc, id, service.ResolveInput{Environment: secrets.Development})
	if err := svc.Delete(context.Background(), id, old.ID); err != nil {
		t.Fatal(err)
	}
	mustCreate(t, svc, id, secrets.Global, "API_KEY", map[secrets.Environment]string{secrets.Development: "fresh-value"})
	res := mustResolve(t, svc, id, service.ResolveInput{Environment: secrets.Development, IfNoneMatch: first.Fingerprint})
	if res.NotModified || res.Values["API_KEY"] != "fresh-value" {
		t.Errorf("after delete and create the check answered not modified=%v, API_KEY=%q; want the fresh value", res.NotModified, res.Values["API_KEY"])
	}
}
