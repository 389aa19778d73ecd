package service_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

func TestListPages(t *testing.T) {
	ctx := context.Background()
	_, svc, id := acme(t)
	layer := secrets.Layer{App: "web"}
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("S%d", i)
		if _, err := svc.Create(ctx, id, service.CreateInput{Layer: layer, Name: name}); err != nil {
			t.Fatal(err)
		}
		want = append(want, name)
	}

	t.Run("following the cursors lists every name once, in order", func(t *testing.T) {
		for _, limit := range []int{1, 2, 3, 6, 7, 8} {
			var got []string
			page := service.PageRequest{Limit: limit}
			for n := 1; ; n++ {
				list, next, err := svc.List(ctx, id, layer, page)
				if err != nil {
					t.Fatal(err)
				}
				if len(list) == 0 || len(list) > limit {
					t.Fatalf("limit %d, page %d: %d secrets", limit, n, len(list))
				}
				for _, s := range list {
					got = append(got, s.Name)
				}
				if next == "" {
					break
				}
				page.Cursor = next
			}
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: pages gave %v, want %v", limit, got, want)
			}
		}
	})
	t.Run("the default page holds up to 500", func(t *testing.T) {
		list, next, err := svc.List(ctx, id, layer, service.PageRequest{})
		if err != nil || len(list) != 7 || next != "" {
			t.Errorf("List = %d secrets, next %q, %v; want all 7 and no next page", len(list), next, err)
		}
	})
	for _, tc := range []struct {
		name  string
		page  service.PageRequest
		field string
	}{
		{"a negative limit is invalid", service.PageRequest{Limit: -1}, "limit"},
		{"a limit over 1000 is invalid", service.PageRequest{Limit: 1001}, "limit"},
		{"a cursor that is not base64url is invalid", service.PageRequest{Cursor: "not a cursor!"}, "cursor"},
		{"a cursor that holds no name is invalid", service.PageRequest{Cursor: base64.RawURLEncoding.EncodeToString([]byte("../S1"))}, "cursor"},
		{"a padded cursor is invalid", service.PageRequest{Cursor: base64.URLEncoding.EncodeToString([]byte("S1"))}, "cursor"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := svc.List(ctx, id, layer, tc.page)
			var se *secrets.Error
			if !errors.As(err, &se) || se.Code != secrets.CodeInvalid || se.Field != tc.field {
				t.Errorf("error %v, want invalid on the field %s", err, tc.field)
			}
			page, err := svc.Effective(ctx, id, service.EffectiveInput{Environment: secrets.Production, Layer: layer, Page: tc.page})
			if !errors.As(err, &se) || se.Code != secrets.CodeInvalid || se.Field != tc.field {
				t.Errorf("effective: %+v, error %v, want invalid on the field %s", page, err, tc.field)
			}
		})
	}
	t.Run("a limit read from a query is checked the same way", func(t *testing.T) {
		for _, s := range []string{"0", "-1", "1001", "ten", "1.5", " 5"} {
			if _, err := service.ParseLimit(s); secrets.ErrorCode(err) != secrets.CodeInvalid {
				t.Errorf("ParseLimit(%q) = %v, want invalid", s, err)
			}
		}
		for s, want := range map[string]int{"": 0, "1": 1, "1000": 1000} {
			if got, err := service.ParseLimit(s); got != want || err != nil {
				t.Errorf("ParseLimit(%q) = %d, %v, want %d", s, got, err, want)
			}
		}
	})
}

func TestEffectivePagesMergeTheLayersByName(t *testing.T) {
	ctx := context.Background()
	_, svc, id := acme(t)
	web, web1 := secrets.Layer{App: "web"}, secrets.Layer{App: "web", Machine: "web-1"}
	prod := func(v string) map[secrets.Environment]string {
		return map[secrets.Environment]string{secrets.Production: v + "-production-value"}
	}
	dev := map[secrets.Environment]string{secrets.Development: "development-only-value"}
	// Names spread over the chain so that each layer's page ends at a
	// different name, and names without a production value, which are no
	// entry, at every layer.
	for i := range 12 {
		name := fmt.Sprintf("N%02d", i)
		var layers []secrets.Layer
		switch i % 4 {
		case 0:
			layers = []secrets.Layer{secrets.Global}
		case 1:
			layers = []secrets.Layer{secrets.Global, web, web1}
		case 2:
			layers = []secrets.Layer{web1}
		case 3:
			layers = []secrets.Layer{web}
		}
		for _, l := range layers {
			values := prod(name)
			if i%5 == 4 {
				values = dev
			}
			if _, err := svc.Create(ctx, id, service.CreateInput{Layer: l, Name: name, Values: values}); err != nil {
				t.Fatal(err)
			}
		}
	}
	whole, err := svc.Effective(ctx, id, service.EffectiveInput{Environment: secrets.Production, Layer: web1, Page: service.PageRequest{Limit: service.MaxPageLimit}})
	if err != nil {
		t.Fatal(err)
	}
	if whole.NextCursor != "" || len(whole.Entries) != 10 {
		t.Fatalf("one page of all: %d entries, next %q; want 10 and no next page", len(whole.Entries), whole.NextCursor)
	}
	for _, limit := range []int{1, 2, 3, 4, 9, 10, 11} {
		var got []service.EffectiveEntry
		page := service.PageRequest{Limit: limit}
		for n := 1; ; n++ {
			if n > 30 {
				t.Fatalf("limit %d: more than 30 pages", limit)
			}
			res, err := svc.Effective(ctx, id, service.EffectiveInput{Environment: secrets.Production, Layer: web1, Page: page})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Entries) > limit {
				t.Fatalf("limit %d, page %d: %d entries", limit, n, len(res.Entries))
			}
			got = append(got, res.Entries...)
			if res.NextCursor == "" {
				break
			}
			page.Cursor = res.NextCursor
		}
		if g, w := entryNames(got), entryNames(whole.Entries); !slices.Equal(g, w) {
			t.Errorf("limit %d: pages gave %v, want %v", limit, g, w)
			continue
		}
		for i := range got {
			g, w := got[i], whole.Entries[i]
			if g.Layer != w.Layer || g.ID != w.ID || len(g.Overrides) != len(w.Overrides) {
				t.Errorf("limit %d: %s = %+v, want %+v (as on one page)", limit, g.Name, g, w)
			}
		}
	}
}

func TestEffectivePageWaitsForLayersReadShort(t *testing.T) {
	ctx := context.Background()
	_, svc, id := acme(t)
	machine := secrets.Layer{App: "api", Machine: "api-1"}
	// Global's first page (a limit of 2 reads 3) ends at A3, before Z; the
	// machine's holds Z. Z must wait for the page that reads global's Z
	// too, or it would show once without what it overrides and again with.
	for _, c := range []struct {
		layer  secrets.Layer
		name   string
		values map[secrets.Environment]string
	}{
		{secrets.Global, "A1", map[secrets.Environment]string{secrets.Development: "development-only-value"}},
		{secrets.Global, "A2", map[secrets.Environment]string{secrets.Development: "development-only-value"}},
		{secrets.Global, "A3", map[secrets.Environment]string{secrets.Development: "development-only-value"}},
		{secrets.Global, "Z", map[secrets.Environment]string{secrets.Production: "global-production-value"}},
		{machine, "Z", map[secrets.Environment]string{secrets.Production: "machine-production-value"}},
	} {
		if _, err := svc.Create(ctx, id, service.CreateInput{Layer: c.layer, Name: c.name, Values: c.values}); err != nil {
			t.Fatal(err)
		}
	}
	var got []service.EffectiveEntry
	page := service.PageRequest{Limit: 2}
	for n := 1; ; n++ {
		if n > 5 {
			t.Fatalf("more than 5 pages")
		}
		res, err := svc.Effective(ctx, id, service.EffectiveInput{Environment: secrets.Production, Layer: machine, Page: page})
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, res.Entries...)
		if res.NextCursor == "" {
			break
		}
		page.Cursor = res.NextCursor
	}
	if len(got) != 1 || got[0].Name != "Z" || got[0].Layer != machine || len(got[0].Overrides) != 1 {
		t.Errorf("entries = %+v, want Z once, from the machine, overriding global", got)
	}
}

func entryNames(es []service.EffectiveEntry) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Name
	}
	return out
}
