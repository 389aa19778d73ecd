package boltstore_test

import (
	"path/filepath"
	"testing"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storetest"
)

func TestAResolveAppendsOneSmallAuditRecord(t *testing.T) {
	var stores = map[secrets.Store]*boltstore.Store{}
	storetest.RunResolveAudit(t, func(t *testing.T) secrets.Store {
		st := open(t, filepath.Join(t.TempDir(), "secrets.db"))
		stores[st] = st
		return st
	}, func(t *testing.T, org, id string) int {
		t.Helper()
		for _, st := range stores {
			if n, err := boltstore.AuditRecordSize(st, org, id); err == nil {
				return n
			}
		}
		t.Fatalf("no store holds audit record %s", id)
		return 0
	}, 50, 1000)
}
