package client_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func TestEffectiveExplainsAResolveWithMasksOnly(t *testing.T) {
	_, c := newStackClient(t)
	ctx := context.Background()
	web, machine := secrets.Layer{App: "web"}, secrets.Layer{App: "web", Machine: "web-1"}
	for _, set := range []struct {
		layer secrets.Layer
		name  string
		value string
	}{
		{secrets.Global, "API_KEY", "global-api-key-value-3"},
		{web, "API_KEY", "app-api-key-value-3"},
		{secrets.Global, "ONLY_GLOBAL", "only-global-value-3"},
	} {
		if _, _, err := c.SetLayerSecret(ctx, set.layer, set.name, set.value, secrets.Production); err != nil {
			t.Fatal(err)
		}
	}

	got := must[*client.Effective](t)(c.Effective(ctx, secrets.Production, machine))
	if got.Environment != secrets.Production || got.Layer().App != "web" || got.Layer().Machine != "web-1" || len(got.Secrets) != 2 {
		t.Fatalf("effective = %+v", got)
	}
	key, global := got.Secrets[0], got.Secrets[1]
	if key.Name != "API_KEY" || key.Layer != "app" || key.Version != 1 || key.Mask == "" || key.Owner.Name != "Ann" ||
		len(key.Overrides) != 1 || key.Overrides[0].Layer != "global" {
		t.Errorf("API_KEY = %+v, want app web's, overriding global", key)
	}
	if global.Name != "ONLY_GLOBAL" || global.Layer != "global" || global.Overrides == nil || len(global.Overrides) != 0 {
		t.Errorf("ONLY_GLOBAL = %+v, want global's, overriding nothing", global)
	}
	for _, e := range got.Secrets {
		if strings.Contains(e.Mask, "value-3") {
			t.Errorf("%s: mask %q shows the value", e.Name, e.Mask)
		}
	}

	empty := must[*client.Effective](t)(c.Effective(ctx, secrets.Development, web))
	if empty.Secrets == nil || len(empty.Secrets) != 0 {
		t.Errorf("development = %+v, want no secrets (an empty list)", empty.Secrets)
	}
	_, err := c.Effective(ctx, "prod", web)
	var apiErr *client.Error
	if !client.IsStatus(err, http.StatusBadRequest) || !errors.As(err, &apiErr) || apiErr.Field != "environment" {
		t.Errorf("Effective(prod) = %v, want 400 on the field environment", err)
	}
}
