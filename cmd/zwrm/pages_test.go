package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// seedLayer sets n secrets at layer through the API, several at a time.
func seedLayer(t *testing.T, srv *server, layer secrets.Layer, n int) []string {
	t.Helper()
	cl, err := client.New(srv.endpoint, srv.token)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("PAGED_%04d", i)
	}
	var wg sync.WaitGroup
	work := make(chan string)
	for range 8 {
		wg.Go(func() {
			for name := range work {
				if _, _, err := cl.SetLayerSecret(context.Background(), layer, name, "value-of-"+name, ""); err != nil {
					t.Errorf("set %s: %v", name, err)
				}
			}
		})
	}
	for _, name := range names {
		work <- name
	}
	close(work)
	wg.Wait()
	return names
}

func TestCommandsThatListFollowEveryPage(t *testing.T) {
	srv, c := serveCLI(t)
	// A full page at the default size of 500, and one name on the next.
	names := seedLayer(t, srv, secrets.Layer{App: "big"}, 501)
	last := names[len(names)-1]

	t.Run("list shows every secret of the layer, in order", func(t *testing.T) {
		var got []string
		for _, r := range rows(c.ok("secrets", "list", "--app", "big"))[1:] {
			got = append(got, r[0])
		}
		if !slices.Equal(got, names) {
			t.Errorf("list shows %d names, want %d", len(got), len(names))
		}
		var js struct {
			Secrets []client.LayerSecret `json:"secrets"`
		}
		if err := json.Unmarshal([]byte(c.ok("secrets", "list", "--app", "big", "-o", "json")), &js); err != nil {
			t.Fatal(err)
		}
		if got, want := len(js.Secrets), len(names); got != want || js.Secrets[want-1].Name != last {
			t.Errorf("list -o json: %d secrets, want %d ending with %s", got, want, last)
		}
	})
	t.Run("effective explains every name of the layer", func(t *testing.T) {
		var got []string
		for _, r := range rows(c.ok("secrets", "effective", "--env", "production", "--app", "big"))[1:] {
			got = append(got, r[0])
		}
		if !slices.Equal(got, names) {
			t.Errorf("effective shows %d names, want %d", len(got), len(names))
		}
	})
	t.Run("a secret on the last page is found by name", func(t *testing.T) {
		out := c.ok("secrets", "show", last, "--app", "big")
		if rs := rows(out); len(rs) == 0 {
			t.Errorf("show %s printed nothing", last)
		}
		noValues(t, "secrets show", out, "value-of-"+last)
	})
}
