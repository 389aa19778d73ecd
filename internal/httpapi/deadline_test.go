package httpapi_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// stuckAudit is a store whose audit appends, once stuck, never finish:
// they wait until their caller gives up.
type stuckAudit struct {
	secrets.Store
	stuck atomic.Bool
}

func (s *stuckAudit) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	if s.stuck.Load() {
		<-ctx.Done()
		return ctx.Err()
	}
	return s.Store.AppendAudit(ctx, r)
}

// TestARequestIsAnsweredWithinItsTimeout: with the audit trail not
// answering, a resolve answers 503 unavailable within the request's
// timeout, and hands out no value.
func TestARequestIsAnsweredWithinItsTimeout(t *testing.T) {
	var store *stuckAudit
	const timeout = 300 * time.Millisecond
	e := buildEnv(t, envOptions{bearerOnly: true, timeout: timeout, store: func(s secrets.Store) secrets.Store {
		store = &stuckAudit{Store: s}
		return store
	}})
	token := e.bootstrap(t, "acme", "ann@acme.test", "Ann")
	e.createSecret(t, token, map[string]any{"name": "DB_PASSWORD", "values": map[string]string{"development": "hunter2-hunter2"}})

	store.stuck.Store(true)
	start := time.Now()
	r := e.do(t, "POST", "/v1/resolve", token, map[string]any{"environment": "development"})
	took := time.Since(start)
	wantError(t, r, 503, "unavailable")
	if took > timeout+time.Second {
		t.Errorf("answered after %v, want within the %v timeout (and a moment)", took, timeout)
	}
}
