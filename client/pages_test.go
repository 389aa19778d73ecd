package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func TestPagesOfTheListsAndEffective(t *testing.T) {
	_, c := newStackClient(t)
	ctx := context.Background()
	web := secrets.Layer{App: "web"}
	var names []string
	for i := range 5 {
		name := fmt.Sprintf("P%d", i)
		must[*client.LayerSecret](t)(func() (*client.LayerSecret, error) {
			ls, _, err := c.SetLayerSecret(ctx, web, name, "value-of-"+name, "")
			return ls, err
		}())
		names = append(names, name)
	}

	t.Run("each page call reads one page, and its cursor the next", func(t *testing.T) {
		var rows, layerRows, effective []string
		for p := (client.Page{Limit: 2}); ; {
			page := must[*client.SecretPage](t)(c.ListSecretsPage(ctx, web, p))
			for _, r := range page.Secrets {
				rows = append(rows, r.Name)
			}
			if len(page.Secrets) > 2 {
				t.Fatalf("page of %d rows at limit 2", len(page.Secrets))
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				break
			}
		}
		for p := (client.Page{Limit: 2}); ; {
			page := must[*client.LayerSecretPage](t)(c.ListLayerSecretsPage(ctx, web, p))
			for _, r := range page.Secrets {
				layerRows = append(layerRows, r.Name)
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				break
			}
		}
		for p := (client.Page{Limit: 2}); ; {
			page := must[*client.Effective](t)(c.EffectivePage(ctx, secrets.Production, web, p))
			for _, r := range page.Secrets {
				effective = append(effective, r.Name)
			}
			if p.Cursor = page.NextCursor; p.Cursor == "" {
				break
			}
		}
		for what, got := range map[string][]string{"ListSecretsPage": rows, "ListLayerSecretsPage": layerRows, "EffectivePage": effective} {
			if !slices.Equal(got, names) {
				t.Errorf("%s pages gave %v, want %v", what, got, names)
			}
		}
	})
	t.Run("a limit out of range is the API's 400 on the field", func(t *testing.T) {
		_, err := c.ListSecretsPage(ctx, web, client.Page{Limit: 1001})
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Field != "limit" {
			t.Errorf("limit 1001: %v, want 400 on the field limit", err)
		}
	})
}

func TestAllPagesStopsAServerThatRepeatsItsCursor(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"secrets":[{"name":"A"}],"next_cursor":"QQ"}`)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL, "zwrm_u_test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListSecrets(context.Background(), secrets.Global); err == nil || !strings.Contains(err.Error(), "same page cursor") {
		t.Errorf("ListSecrets = %v, want an error about the repeated cursor", err)
	}
}
