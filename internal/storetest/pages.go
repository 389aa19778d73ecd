package storetest

import (
	"fmt"
	"slices"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

// Pages of secrets: ListSecretsAfter.

// listAfter is ListSecretsAfter of one layer.
func listAfter(t *testing.T, st secrets.Store, org string, layer secrets.Layer, after string, limit int) []*secrets.Secret {
	t.Helper()
	got, err := st.ListSecretsAfter(t.Context(), org, []secrets.Layer{layer}, after, limit)
	if err != nil {
		t.Fatalf("ListSecretsAfter(%s, after %q, limit %d): %v", layer, after, limit, err)
	}
	if len(got) != 1 {
		t.Fatalf("ListSecretsAfter(one layer) = %d slices, want 1", len(got))
	}
	return got[0]
}

// pageNames follows pages of limit through one layer, each starting after
// the last name of the one before, and returns every name read.
func pageNames(t *testing.T, st secrets.Store, org string, layer secrets.Layer, limit int) []string {
	t.Helper()
	var all []string
	after := ""
	for page := 1; ; page++ {
		if page > 1000 {
			t.Fatalf("limit %d: more than 1000 pages", limit)
		}
		got := listAfter(t, st, org, layer, after, limit)
		if len(got) > limit {
			t.Fatalf("limit %d, page %d: %d records", limit, page, len(got))
		}
		all = append(all, names(got)...)
		if len(got) < limit {
			return all
		}
		after = got[len(got)-1].Name
	}
}

func testListSecretsAfter(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	app := secrets.Layer{App: "billing"}
	// Created out of order; names that sort differently by length, case
	// and prefix.
	want := []string{"API", "API_KEY", "API_KEY_2", "B", "ZETA", "_PRIVATE", "a_lower"}
	created := map[string]*secrets.Secret{}
	for _, name := range []string{"ZETA", "API_KEY", "API", "B", "API_KEY_2", "_PRIVATE", "a_lower"} {
		s := newSecret(t, org, app, name)
		mustCreateSecret(t, st, s)
		created[name] = s
	}
	// Neighbours that must never show: other layers, another org.
	mustCreateSecret(t, st, newSecret(t, org, secrets.Global, "API_GLOBAL"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing", Machine: "web-1"}, "API_MACHINE"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing-2"}, "B_OTHER_APP"))
	mustCreateSecret(t, st, newSecret(t, otherOrg, app, "B_OTHER_ORG"))

	// Limits that take one at a time, divide evenly, leave a remainder,
	// fit exactly, and exceed the layer.
	for _, limit := range []int{1, 2, 3, 7, 8, 1000} {
		if got := pageNames(t, st, org, app, limit); !slices.Equal(got, want) {
			t.Errorf("limit %d: pages gave %v, want %v", limit, got, want)
		}
	}

	first := listAfter(t, st, org, app, "", 2)
	if got, w := names(first), want[:2]; !slices.Equal(got, w) {
		t.Errorf("first page = %v, want %v", got, w)
	}
	for _, s := range first {
		checkSecret(t, "page record "+s.Name, s, created[s.Name])
	}
	// A position is a name, present or not: "API_KEY_1" sorts between
	// API_KEY and API_KEY_2, "A" before every name, "z" after them all.
	for _, c := range []struct {
		after string
		want  []string
	}{
		{"API_KEY", []string{"API_KEY_2", "B"}},
		{"API_KEY_1", []string{"API_KEY_2", "B"}},
		{"A", []string{"API", "API_KEY"}},
		{"a_lower", nil},
		{"z", nil},
	} {
		if got := names(listAfter(t, st, org, app, c.after, 2)); !slices.Equal(got, c.want) && (len(got) > 0 || len(c.want) > 0) {
			t.Errorf("after %q = %v, want %v", c.after, got, c.want)
		}
	}
	if got := listAfter(t, st, org, secrets.Layer{App: "nothing"}, "", 5); len(got) != 0 {
		t.Errorf("a layer without secrets = %v, want none", names(got))
	}
	if got := listAfter(t, st, newOrgID(), app, "", 5); len(got) != 0 {
		t.Errorf("an org without secrets = %v, want none", names(got))
	}

	for _, limit := range []int{0, -1} {
		_, err := st.ListSecretsAfter(ctx, org, []secrets.Layer{app}, "", limit)
		if got, w := secrets.ErrorCode(err), secrets.CodeInvalid; got != w {
			t.Errorf("limit %d: error %v (code %q), want code %q", limit, err, got, w)
		}
	}
}

func testListSecretsAfterLayers(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	machine := secrets.Layer{App: "billing", Machine: "web-1"}
	for _, c := range []struct {
		layer secrets.Layer
		names []string
	}{
		{secrets.Global, []string{"A", "B", "C", "D", "E"}},
		{app, []string{"B", "D"}},
		{machine, []string{"A", "C", "E", "F"}},
	} {
		for _, name := range c.names {
			mustCreateSecret(t, st, newSecret(t, org, c.layer, name))
		}
	}
	layers := []secrets.Layer{machine, secrets.Global, {App: "empty"}, app}
	got, err := st.ListSecretsAfter(ctx, org, layers, "A", 2)
	if err != nil {
		t.Fatalf("ListSecretsAfter: %v", err)
	}
	want := [][]string{{"C", "E"}, {"B", "C"}, {}, {"B", "D"}}
	if g, w := len(got), len(want); g != w {
		t.Fatalf("len(ListSecretsAfter) = %d, want %d", g, w)
	}
	for i, layer := range layers {
		if g, w := names(got[i]), want[i]; !slices.Equal(g, w) {
			t.Errorf("ListSecretsAfter[%d] (%s) = %v, want %v", i, layer, g, w)
		}
		for _, s := range got[i] {
			if s.Org != org || s.Layer != layer {
				t.Errorf("ListSecretsAfter[%d] returned %s in %s at %s", i, s.Name, s.Org, s.Layer)
			}
		}
	}
	wantNone(t, "ListSecretsAfter(no layers)")(st.ListSecretsAfter(ctx, org, nil, "", 5))
}

func testListSecretsAfterChanges(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	layer := secrets.Layer{App: "billing"}
	byName := map[string]*secrets.Secret{}
	for i := range 10 {
		s := newSecret(t, org, layer, fmt.Sprintf("S%02d", i))
		mustCreateSecret(t, st, s)
		byName[s.Name] = s
	}
	first := listAfter(t, st, org, layer, "", 4) // S00..S03
	cursor := first[len(first)-1].Name

	// Between pages: a name before the position and one after it are
	// created, and the name the position was taken from and one ahead of
	// it are deleted.
	mustCreateSecret(t, st, newSecret(t, org, layer, "S01_LATE"))
	mustCreateSecret(t, st, newSecret(t, org, layer, "S05_LATE"))
	for _, name := range []string{cursor, "S06"} {
		if err := st.DeleteSecret(ctx, org, byName[name].ID, 0); err != nil {
			t.Fatalf("DeleteSecret(%s): %v", name, err)
		}
	}
	var rest []string
	for after := cursor; ; {
		page := listAfter(t, st, org, layer, after, 4)
		rest = append(rest, names(page)...)
		if len(page) < 4 {
			break
		}
		after = page[len(page)-1].Name
	}
	if got, want := rest, []string{"S04", "S05", "S05_LATE", "S07", "S08", "S09"}; !slices.Equal(got, want) {
		t.Errorf("pages after %s = %v, want %v: every name after the position, once", cursor, got, want)
	}
}
