package localkey_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

func TestLoadOrCreateMakesAnOwnerOnlyKeyAndReusesIt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	w1, created, err := localkey.LoadOrCreate(path)
	if err != nil || !created {
		t.Fatalf("first LoadOrCreate: created=%v err=%v", created, err)
	}
	if got, want := testkit.Perm(t, path), os.FileMode(0o600); got != want {
		t.Fatalf("mode = %v, want %v", got, want)
	}
	ctx := context.Background()
	ec := secrets.EncryptionContext{"org": "acme", "environment": "production"}
	key, wrapped, err := w1.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatal(err)
	}
	w2, created, err := localkey.LoadOrCreate(path)
	if err != nil || created {
		t.Fatalf("second LoadOrCreate: created=%v err=%v", created, err)
	}
	got, err := w2.Unwrap(ctx, wrapped, ec)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, key) {
		t.Fatal("unwrapped key differs")
	}
}

func TestLoadOrCreateRefusesAKeyOthersCanRead(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	if err := os.WriteFile(path, bytes.Repeat([]byte{1}, 32), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := localkey.LoadOrCreate(path)
	if err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("err = %v, want a refusal that says chmod 600", err)
	}
}

func TestUnwrapNeedsTheSameContextAndMasterKey(t *testing.T) {
	ctx := context.Background()
	w, _ := localkey.New(bytes.Repeat([]byte{1}, 32))
	other, _ := localkey.New(bytes.Repeat([]byte{2}, 32))
	ec := secrets.EncryptionContext{"org": "acme", "environment": "production"}
	_, wrapped, err := w.GenerateDataKey(ctx, ec)
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		w  *localkey.Wrapper
		ec secrets.EncryptionContext
	}{
		"another environment": {w, secrets.EncryptionContext{"org": "acme", "environment": "staging"}},
		"another org":         {w, secrets.EncryptionContext{"org": "evil", "environment": "production"}},
		"an extra key":        {w, secrets.EncryptionContext{"org": "acme", "environment": "production", "x": ""}},
		"another master key":  {other, ec},
	} {
		t.Run("unwrap with "+name+" fails", func(t *testing.T) {
			if _, err := tc.w.Unwrap(ctx, wrapped, tc.ec); err == nil {
				t.Fatal("unwrapped")
			}
		})
	}
	if _, err := localkey.New([]byte("short")); err == nil {
		t.Fatal("accepted a short master key")
	}
}
