package dynamostore_test

import (
	"log/slog"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// newTable starts dynalite with a fresh table.
func newTable(t *testing.T) (*dynamodb.Client, string) {
	t.Helper()
	srv := dynalite.Start(t)
	return srv.Client(t), srv.NewTable(t)
}

// newService returns a service on st, sealing under a fixed key, that
// logs nothing; its clock reads *now, or the time if now is nil.
func newService(t *testing.T, st secrets.Store, now *time.Time) *service.Service {
	t.Helper()
	w, err := localkey.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	cfg := service.Config{Logger: slog.New(slog.DiscardHandler)}
	if now != nil {
		cfg.Now = func() time.Time { return *now }
	}
	return service.New(st, w, cfg)
}

// newCrashCase bootstraps org in table, which the store reaches through a
// faultAPI over api.
func newCrashCase(t *testing.T, api dynamostore.API, table, org string) *crashCase {
	t.Helper()
	c := &crashCase{t: t, ctx: t.Context(), org: org, api: &faultAPI{API: api}, now: time.Now().UTC()}
	c.store = dynamostore.New(c.api, table)
	c.svc = newService(t, c.store, &c.now)
	token, err := c.svc.Bootstrap(c.ctx, c.org, "root@"+c.org+".test", "Root")
	if err != nil {
		t.Fatal(err)
	}
	if c.root, err = c.svc.Authenticate(c.ctx, token); err != nil {
		t.Fatal(err)
	}
	return c
}
