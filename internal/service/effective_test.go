package service_test

import (
	"context"
	"errors"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

func TestEffectiveNamesTheWinnerAndWhatItOverridesWithoutOpeningAValue(t *testing.T) {
	ctx := context.Background()
	k, writer, id := acme(t)
	web, web1 := secrets.Layer{App: "web"}, secrets.Layer{App: "web", Machine: "web-1"}
	for _, in := range []service.CreateInput{
		{Layer: secrets.Global, Name: "DB_URL", Values: map[secrets.Environment]string{secrets.Production: "global-prod-value-1"}},
		{Layer: web, Name: "DB_URL", Values: map[secrets.Environment]string{secrets.Production: "app-prod-value-1"}},
		{Layer: web1, Name: "DB_URL", Values: map[secrets.Environment]string{secrets.Production: "machine-prod-value-1"}},
		{Layer: secrets.Global, Name: "LOG_LEVEL", Values: map[secrets.Environment]string{secrets.Production: "info-level-value-1"}},
		// Only development at the machine: it overrides nothing in production.
		{Layer: web1, Name: "LOG_LEVEL", Values: map[secrets.Environment]string{secrets.Development: "debug-level-value-1"}},
		{Layer: secrets.Layer{App: "api"}, Name: "OTHER_APP", Values: map[secrets.Environment]string{secrets.Production: "other-app-value-1"}},
	} {
		if _, err := writer.Create(ctx, id, in); err != nil {
			t.Fatal(err)
		}
	}
	records, _, err := writer.Audit(ctx, id, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	lastAudit := records[0].ID

	reader := k.NewService(service.Config{}) // a cold process: any unwrap would show
	k.Keys.Unwrapped.Store(0)
	page, err := reader.Effective(ctx, id, service.EffectiveInput{Environment: secrets.Production, Layer: web1})
	if err != nil {
		t.Fatal(err)
	}
	got := page.Entries
	if page.NextCursor != "" {
		t.Errorf("next cursor %q on the only page", page.NextCursor)
	}
	if got, want := len(got), 2; got != want {
		t.Fatalf("%d entries, want %d: %+v", got, want, got)
	}
	db, logLevel := got[0], got[1]
	if db.Name != "DB_URL" || db.Layer != web1 || db.Version != 1 || db.Mask == "" || db.ID == "" {
		t.Errorf("DB_URL = %+v, want the machine's version 1 with a mask", db)
	}
	if got, want := len(db.Overrides), 2; got != want || db.Overrides[0].Layer != web || db.Overrides[1].Layer != secrets.Global {
		t.Errorf("DB_URL overrides %+v, want the app, then global", db.Overrides)
	}
	if logLevel.Name != "LOG_LEVEL" || logLevel.Layer != secrets.Global || len(logLevel.Overrides) != 0 || logLevel.Overrides == nil {
		t.Errorf("LOG_LEVEL = %+v, want global's, overriding nothing (an empty list)", logLevel)
	}
	if got := k.Keys.Unwrapped.Load(); got != 0 {
		t.Errorf("effective unwrapped %d data keys, want none", got)
	}
	records, _, err = reader.Audit(ctx, id, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := records[0].ID, lastAudit; got != want {
		t.Errorf("effective wrote an audit record (%s): it opens nothing, so there is nothing to record", records[0].Action)
	}
}

func TestEffectiveHoldsServiceTokensToTheirScope(t *testing.T) {
	ctx := context.Background()
	_, svc, admin := acme(t)
	if _, err := svc.Create(ctx, admin, service.CreateInput{Layer: secrets.Layer{App: "web"}, Name: "A",
		Values: map[secrets.Environment]string{secrets.Production: "web-prod-value-1"}}); err != nil {
		t.Fatal(err)
	}
	token, _, err := svc.CreateToken(ctx, admin, service.TokenInput{Kind: secrets.TokenService, Name: "web-prod", App: "web", Envs: []string{"production"}})
	if err != nil {
		t.Fatal(err)
	}
	scoped, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("within its scope, the scope supplies the layer", func(t *testing.T) {
		page, err := svc.Effective(ctx, scoped, service.EffectiveInput{Environment: secrets.Production})
		if err != nil {
			t.Fatal(err)
		}
		layer, got := page.Layer, page.Entries
		if layer.App != "web" {
			t.Errorf("explained at %s, want the scope's app web", layer)
		}
		if len(got) != 1 || got[0].Name != "A" {
			t.Errorf("entries = %+v, want A from app web", got)
		}
	})
	for _, tc := range []struct {
		name string
		in   service.EffectiveInput
	}{
		{"another environment is forbidden", service.EffectiveInput{Environment: secrets.Development}},
		{"another app is forbidden", service.EffectiveInput{Environment: secrets.Production, Layer: secrets.Layer{App: "api"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Effective(ctx, scoped, tc.in)
			if got, want := secrets.ErrorCode(err), secrets.CodeForbidden; got != want {
				t.Errorf("error %v, want code %s", err, want)
			}
		})
	}
	t.Run("an unknown environment is invalid, naming the field", func(t *testing.T) {
		_, err := svc.Effective(ctx, admin, service.EffectiveInput{Environment: "prod"})
		var se *secrets.Error
		if !errors.As(err, &se) || se.Code != secrets.CodeInvalid || se.Field != "environment" {
			t.Errorf("error %v, want invalid on the field environment", err)
		}
	})
}
