package boltstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// TestTheHeadCacheIsBoundedByBytes: heads of three 60 KiB values each,
// more of them than the cache may hold, leave it within its size, and
// every one still reads back right.
func TestTheHeadCacheIsBoundedByBytes(t *testing.T) {
	st, err := Open(filepath.Join(t.TempDir(), "db"), Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ctx := t.Context()
	now := time.Now().UTC()
	big := bytes.Repeat([]byte{7}, 60<<10)
	const n = 250 // about 250 × 2 × 240 KiB: twice the bound
	for i := range n {
		sec := &secrets.Secret{ID: fmt.Sprintf("id-%03d", i), Org: "acme", Layer: secrets.Global, Name: fmt.Sprintf("BIG_%03d", i),
			Version: 1, CreatedAt: now, UpdatedAt: now, Values: map[secrets.Environment]secrets.SealedValue{
				secrets.Development: {Ciphertext: big}, secrets.Staging: {Ciphertext: big}, secrets.Production: {Ciphertext: big}}}
		if err := st.CreateSecret(ctx, sec); err != nil {
			t.Fatal(err)
		}
	}
	lists, err := st.ListSecretsIn(ctx, "acme", []secrets.Layer{secrets.Global}, secrets.Production)
	if err != nil {
		t.Fatal(err)
	}
	if len(lists[0]) != n {
		t.Fatalf("read %d heads, want %d", len(lists[0]), n)
	}
	for _, sec := range lists[0] {
		if !bytes.Equal(sec.Values[secrets.Production].Ciphertext, big) {
			t.Fatalf("%s read back wrong", sec.Name)
		}
	}
	st.heads.mu.RLock()
	size, entries := st.heads.size, len(st.heads.entries)
	st.heads.mu.RUnlock()
	if size > maxCachedBytes || entries == 0 || entries == n {
		t.Errorf("cache holds %d heads in %d bytes; want some, not all, within %d bytes", entries, size, maxCachedBytes)
	}
}
