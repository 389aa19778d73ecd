package client_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func TestResolveSelectsNamesAndReportsNotModified(t *testing.T) {
	ctx := context.Background()
	s := newStack(t)
	c := s.client(t, s.token)
	for name, value := range map[string]string{"A": "value-a", "B": "value-b"} {
		if _, _, err := c.SetLayerSecret(ctx, secrets.Global, name, value, secrets.Development); err != nil {
			t.Fatal(err)
		}
	}
	one, notModified, err := c.ResolveIfChanged(ctx, secrets.Development, secrets.Global, client.Names("B"))
	if err != nil || notModified {
		t.Fatalf("resolve of B = %v, not modified %v", err, notModified)
	}
	if len(one.Secrets) != 1 || one.Secrets["B"] != "value-b" || len(one.Fingerprint) != 64 {
		t.Fatalf("resolve of B = %+v, want only B and a hex SHA-256 fingerprint", one)
	}

	res, notModified, err := c.ResolveIfChanged(ctx, secrets.Development, secrets.Global, client.Names("B"), client.IfNoneMatch(one.Fingerprint))
	if err != nil || !notModified || res != nil {
		t.Fatalf("unchanged resolve = %+v, not modified %v, %v; want not modified", res, notModified, err)
	}
	if _, err := c.Resolve(ctx, secrets.Development, secrets.Global, client.Names("B"), client.IfNoneMatch(one.Fingerprint)); !errors.Is(err, client.ErrNotModified) {
		t.Errorf("Resolve of an unchanged answer = %v, want ErrNotModified", err)
	}

	if _, _, err := c.SetLayerSecret(ctx, secrets.Global, "B", "value-b2", secrets.Development); err != nil {
		t.Fatal(err)
	}
	changed, notModified, err := c.ResolveIfChanged(ctx, secrets.Development, secrets.Global, client.Names("B"), client.IfNoneMatch(one.Fingerprint))
	if err != nil || notModified || changed.Secrets["B"] != "value-b2" || changed.Fingerprint == one.Fingerprint {
		t.Fatalf("resolve after a change = %+v, not modified %v, %v; want the new value and fingerprint", changed, notModified, err)
	}
	if _, err := c.Resolve(ctx, secrets.Development, secrets.Global, client.Names("not a name")); !client.IsStatus(err, 400) {
		t.Errorf("resolve of an invalid name = %v, want 400", err)
	}
}
