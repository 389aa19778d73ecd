package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// MaxResolveAuditBytes is what a resolve's audit record may take in a
// store, however many names it hands out: one DynamoDB write unit.
const MaxResolveAuditBytes = 1024

// RunResolveAudit resolves n secrets (for each n in ns) through the
// service over a store from newStore, and checks that each resolve
// appends one audit record of at most MaxResolveAuditBytes as the store
// keeps it (size returns the stored size of the org's record id), that an
// identical second resolve stores no second manifest, and that the audit
// trail names every secret.
func RunResolveAudit(t *testing.T, newStore func(t *testing.T) secrets.Store, size func(t *testing.T, org, id string) int, ns ...int) {
	for _, n := range ns {
		t.Run(fmt.Sprintf("a resolve of %d names appends one record of at most %d bytes", n, MaxResolveAuditBytes), func(t *testing.T) {
			ctx := t.Context()
			st := &countingAudit{Store: newStore(t)}
			master := make([]byte, 32)
			_, _ = rand.Read(master)
			wrapper, err := localkey.New(master)
			if err != nil {
				t.Fatal(err)
			}
			svc := service.New(st, wrapper, service.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
			org := newOrgID()
			token, err := svc.Bootstrap(ctx, org, "ada@example.com", "Ada Lovelace")
			if err != nil {
				t.Fatal(err)
			}
			id, err := svc.Authenticate(ctx, token)
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				in := service.CreateInput{Name: fmt.Sprintf("PAYMENTS_SERVICE_API_KEY_%04d", i), Values: map[secrets.Environment]string{secrets.Development: "value"}}
				if _, err := svc.Create(ctx, id, in); err != nil {
					t.Fatal(err)
				}
			}
			for resolve := 1; resolve <= 2; resolve++ {
				before := st.snapshot()
				res, err := svc.Resolve(ctx, id, service.ResolveInput{Environment: secrets.Development})
				if err != nil {
					t.Fatal(err)
				}
				if got, want := len(res.Values), n; got != want {
					t.Fatalf("resolve %d: %d values, want %d", resolve, got, want)
				}
				after := st.snapshot()
				if got, want := len(after.records)-len(before.records), 1; got != want {
					t.Fatalf("resolve %d appended %d audit records, want %d", resolve, got, want)
				}
				wantManifests := 1
				if resolve == 2 {
					wantManifests = 0 // the same list: this process knows it is stored
				}
				if got := after.manifests - before.manifests; got != wantManifests {
					t.Errorf("resolve %d stored %d manifests, want %d", resolve, got, wantManifests)
				}
				rid := after.records[len(after.records)-1]
				if got := size(t, org, rid); got > MaxResolveAuditBytes {
					t.Errorf("resolve %d: the audit record takes %d bytes, want at most %d", resolve, got, MaxResolveAuditBytes)
				} else {
					t.Logf("resolve %d of %d names: the audit record takes %d bytes", resolve, n, got)
				}
			}
			records, _, err := svc.Audit(ctx, id, "", 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range records {
				if r.Action != secrets.ActionResolve {
					t.Fatalf("the newest records are %s, want resolves", r.Action)
				}
				if got, want := len(r.Secrets), n; got != want {
					t.Errorf("the resolve's record names %d secrets, want %d", got, want)
				}
				for i, e := range r.Secrets {
					if want := fmt.Sprintf("PAYMENTS_SERVICE_API_KEY_%04d", i); e.Name != want || e.Layer != "g" || e.Version != 1 {
						t.Errorf("Secrets[%d] = %+v, want %s at g version 1", i, e, want)
						break
					}
				}
			}
		})
	}
}

// countingAudit counts what reaches the store's audit log.
type countingAudit struct {
	secrets.Store
	mu        sync.Mutex
	records   []string
	manifests int
}

type auditCounts struct {
	records   []string
	manifests int
}

func (c *countingAudit) snapshot() auditCounts {
	c.mu.Lock()
	defer c.mu.Unlock()
	return auditCounts{records: append([]string(nil), c.records...), manifests: c.manifests}
}

func (c *countingAudit) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	err := c.Store.AppendAudit(ctx, r)
	if err == nil {
		c.mu.Lock()
		c.records = append(c.records, r.ID)
		c.mu.Unlock()
	}
	return err
}

func (c *countingAudit) PutAuditManifest(ctx context.Context, m *secrets.AuditManifest) error {
	c.mu.Lock()
	c.manifests++
	c.mu.Unlock()
	return c.Store.PutAuditManifest(ctx, m)
}
