package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

// Lists: the secrets of a layer or of several, and the layers in use.

func testListSecrets(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	app := secrets.Layer{App: "billing"}
	// Created out of order; names that sort differently by length, case
	// and prefix.
	for _, name := range []string{"ZETA", "API_KEY", "API", "B", "API_KEY_2", "_PRIVATE", "a_lower"} {
		mustCreateSecret(t, st, newSecret(t, org, app, name))
	}
	mustCreateSecret(t, st, newSecret(t, org, secrets.Global, "GLOBAL_ONLY"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing", Machine: "web-1"}, "MACHINE_ONLY"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing-2"}, "OTHER_APP"))
	mustCreateSecret(t, st, newSecret(t, otherOrg, app, "OTHER_ORG"))

	list, err := st.ListSecrets(ctx, org, app)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := names(list), []string{"API", "API_KEY", "API_KEY_2", "B", "ZETA", "_PRIVATE", "a_lower"}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets = %v, want %v", got, want)
	}
	for _, s := range list {
		if s.Org != org || s.Layer != app {
			t.Errorf("ListSecrets returned %s in %s at %s", s.Name, s.Org, s.Layer)
		}
	}

	for layer, want := range map[secrets.Layer][]string{
		secrets.Global:                     {"GLOBAL_ONLY"},
		{App: "billing", Machine: "web-1"}: {"MACHINE_ONLY"},
		{App: "billing", Machine: "web-2"}: {},
		{App: "nothing"}:                   {},
	} {
		list, err := st.ListSecrets(ctx, org, layer)
		if err != nil {
			t.Fatalf("ListSecrets(%s): %v", layer, err)
		}
		if got := names(list); !slices.Equal(got, want) {
			t.Errorf("ListSecrets(%s) = %v, want %v", layer, got, want)
		}
	}
	wantNone(t, "ListSecrets of an empty org")(st.ListSecrets(ctx, newOrgID(), app))
}

func testListSecretsIn(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	machine := secrets.Layer{App: "billing", Machine: "web-1"}
	created := map[string]*secrets.Secret{}
	for _, c := range []struct {
		layer secrets.Layer
		name  string
	}{
		{secrets.Global, "B"}, {secrets.Global, "A"},
		{app, "C"}, {app, "A"},
		{machine, "A"},
	} {
		s := newSecret(t, org, c.layer, c.name)
		mustCreateSecret(t, st, s)
		created[c.layer.Key()+"/"+c.name] = s
	}
	mustCreateSecret(t, st, newSecret(t, newOrgID(), app, "OTHER_ORG"))

	layers := []secrets.Layer{machine, secrets.Global, {App: "empty"}, app}
	// Staging is an environment newSecret leaves without a value.
	for _, env := range []secrets.Environment{secrets.Production, secrets.Development, secrets.Staging} {
		got, err := st.ListSecretsIn(ctx, org, layers, env)
		if err != nil {
			t.Fatalf("ListSecretsIn(%s): %v", env, err)
		}
		want := [][]string{{"A"}, {"A", "B"}, {}, {"A", "C"}}
		if g, w := len(got), len(want); g != w {
			t.Fatalf("len(ListSecretsIn(%s)) = %d, want %d", env, g, w)
		}
		for i, layer := range layers {
			if g, w := names(got[i]), want[i]; !slices.Equal(g, w) {
				t.Errorf("ListSecretsIn(%s)[%d] (%s) = %v, want %v", env, i, layer, g, w)
			}
			for _, s := range got[i] {
				if w := created[layer.Key()+"/"+s.Name]; w != nil {
					checkResolveView(t, fmt.Sprintf("ListSecretsIn(%s)[%d] %s", env, i, s.Name), s, w, env)
				}
			}
		}
	}

	wantNone(t, "ListSecretsIn(no layers)")(st.ListSecretsIn(ctx, org, nil, secrets.Production))
}

// checkResolveView checks that got is want as ListSecretsIn returns it for
// env: the fields a resolve reads, env's value alone, and nothing else.
func checkResolveView(t *testing.T, what string, got, want *secrets.Secret, env secrets.Environment) {
	t.Helper()
	view := &secrets.Secret{ID: want.ID, Org: want.Org, Layer: want.Layer, Name: want.Name, Version: want.Version, Owner: want.Owner}
	if v, ok := want.Values[env]; ok {
		view.Values = map[secrets.Environment]secrets.SealedValue{env: v}
	}
	checkSecret(t, what, got, view)
}

func testListSecretsInSeesChanges(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	a, b := newSecret(t, org, app, "A"), newSecret(t, org, app, "B")
	mustCreateSecret(t, st, a)
	mustCreateSecret(t, st, b)
	read := func(what string) []*secrets.Secret {
		t.Helper()
		got, err := st.ListSecretsIn(ctx, org, []secrets.Layer{app}, secrets.Production)
		if err != nil {
			t.Fatalf("ListSecretsIn %s: %v", what, err)
		}
		return got[0]
	}
	first := read("first")
	if g, w := names(first), []string{"A", "B"}; !slices.Equal(g, w) {
		t.Fatalf("ListSecretsIn = %v, want %v", g, w)
	}
	// What a caller does to what it got stays with the caller.
	first[0].Values[secrets.Production].Ciphertext[0] ^= 0xff
	first[0].Values[secrets.Staging] = secrets.SealedValue{Ciphertext: []byte("x")}
	first[0].Version = 99
	checkResolveView(t, "A after a caller changed its copy", read("after a caller changed its copy")[0], a, secrets.Production)

	next := nextVersion(t, a, "changed")
	next.Values[secrets.Production] = secrets.SealedValue{Ciphertext: randomBytes(t, 56), Mask: "***", MaskRule: secrets.MaskRule}
	if err := st.UpdateSecret(ctx, next, a.Version); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	checkResolveView(t, "A after an update", read("after an update")[0], next, secrets.Production)

	if err := st.DeleteSecret(ctx, org, b.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	again := newSecret(t, org, app, "B")
	mustCreateSecret(t, st, again)
	got := read("after a delete and a create")
	if g, w := names(got), []string{"A", "B"}; !slices.Equal(g, w) {
		t.Fatalf("ListSecretsIn after a delete and a create = %v, want %v", g, w)
	}
	checkResolveView(t, "B after a delete and a create", got[1], again, secrets.Production)
}

func testListLayers(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	for _, c := range []struct {
		layer secrets.Layer
		names []string
	}{
		{secrets.Global, []string{"G"}},
		{secrets.Layer{App: "shop", Machine: "web-1"}, []string{"A", "B"}},
		{secrets.Layer{App: "billing"}, []string{"A", "B", "C"}},
		{secrets.Layer{App: "billing", Machine: "web-2"}, []string{"A"}},
		{secrets.Layer{App: "billing-2"}, []string{"A"}},
		{secrets.Layer{App: "billing", Machine: "web-1"}, []string{"A"}},
		{secrets.Layer{App: "shop"}, []string{"A"}},
	} {
		for _, name := range c.names {
			mustCreateSecret(t, st, newSecret(t, org, c.layer, name))
		}
	}
	mustCreateSecret(t, st, newSecret(t, newOrgID(), secrets.Layer{App: "other-org"}, "A"))

	layers, err := st.ListLayers(ctx, org)
	if err != nil {
		t.Fatalf("ListLayers: %v", err)
	}
	want := []secrets.Layer{
		{App: "billing"},
		{App: "billing", Machine: "web-1"},
		{App: "billing", Machine: "web-2"},
		{App: "billing-2"},
		{App: "shop"},
		{App: "shop", Machine: "web-1"},
	}
	if got := layers; !slices.Equal(got, want) {
		t.Errorf("ListLayers = %v, want %v", layerKeys(got), layerKeys(want))
	}

	wantNone(t, "ListLayers of an empty org")(st.ListLayers(ctx, newOrgID()))
}

func testListLayersAfterDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	machine := secrets.Layer{App: "billing", Machine: "web-1"}
	a1, a2 := newSecret(t, org, app, "A"), newSecret(t, org, app, "B")
	m1 := newSecret(t, org, machine, "A")
	for _, s := range []*secrets.Secret{a1, a2, m1} {
		mustCreateSecret(t, st, s)
	}

	listLayers := func(step string, want ...secrets.Layer) {
		t.Helper()
		got, err := st.ListLayers(ctx, org)
		if err != nil {
			t.Fatalf("ListLayers %s: %v", step, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListLayers %s = %v, want %v", step, layerKeys(got), layerKeys(want))
		}
	}
	listLayers("before deletes", app, machine)
	for _, d := range []struct {
		s    *secrets.Secret
		want []secrets.Layer
	}{
		{a1, []secrets.Layer{app, machine}},
		{m1, []secrets.Layer{app}},
		{a2, nil},
	} {
		if err := st.DeleteSecret(ctx, org, d.s.ID, 0); err != nil {
			t.Fatalf("DeleteSecret(%s at %s): %v", d.s.Name, d.s.Layer, err)
		}
		listLayers(fmt.Sprintf("after deleting %s at %s", d.s.Name, d.s.Layer), d.want...)
	}

	// A layer comes back with a secret.
	mustCreateSecret(t, st, newSecret(t, org, machine, "AGAIN"))
	listLayers("after creating again", machine)
}
