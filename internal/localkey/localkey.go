// Package localkey wraps data keys under a 256-bit master key kept in a local
// file: the key wrapper of `zwrm dev`, standing where AWS KMS stands in the
// cloud.
package localkey

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"

	"github.com/zwrm/secrets/internal/secrets"
)

const (
	keySize = 32
	magic   = "zlk1"
)

// Wrapper is a secrets.KeyWrapper under a local master key.
type Wrapper struct {
	aead cipher.AEAD
}

var _ secrets.KeyWrapper = (*Wrapper)(nil)

// New returns a Wrapper for a 32-byte master key.
func New(master []byte) (*Wrapper, error) {
	if len(master) != keySize {
		return nil, fmt.Errorf("master key is %d bytes; want %d", len(master), keySize)
	}
	block, err := aes.NewCipher(master)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Wrapper{aead: aead}, nil
}

// LoadOrCreate reads the master key at path, or creates one there (file mode
// 0600) if there is none. An existing file with group or other permissions
// is refused: the key must be readable by its owner only.
func LoadOrCreate(path string) (w *Wrapper, created bool, err error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key = make([]byte, keySize)
		if _, err := rand.Read(key); err != nil {
			return nil, false, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, false, fmt.Errorf("create master key: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			f.Close()
			return nil, false, fmt.Errorf("write master key: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, false, fmt.Errorf("write master key: %w", err)
		}
		w, err := New(key)
		return w, true, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("read master key: %w", err)
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, false, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, false, fmt.Errorf("master key %s has mode %v: it must be readable by its owner only (chmod 600)", path, info.Mode().Perm())
	}
	w, err = New(key)
	if err != nil {
		return nil, false, fmt.Errorf("master key %s: %w", path, err)
	}
	return w, false, nil
}

// GenerateDataKey returns a new random key and its wrapped form.
func (w *Wrapper) GenerateDataKey(ctx context.Context, ec secrets.EncryptionContext) ([]byte, []byte, error) {
	key := make([]byte, keySize)
	if _, err := rand.Read(key); err != nil {
		return nil, nil, secrets.Internalf(err, "generate data key")
	}
	nonce := make([]byte, w.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return nil, nil, secrets.Internalf(err, "generate nonce")
	}
	out := append([]byte(magic), nonce...)
	return key, w.aead.Seal(out, nonce, key, contextAAD(ec)), nil
}

// Unwrap opens a wrapped key; the context must equal the one it was made with.
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, ec secrets.EncryptionContext) ([]byte, error) {
	ns := w.aead.NonceSize()
	if len(wrapped) < len(magic)+ns+w.aead.Overhead() || string(wrapped[:len(magic)]) != magic {
		return nil, secrets.Internalf(errors.New("malformed wrapped key"), "unwrap data key")
	}
	body := wrapped[len(magic):]
	key, err := w.aead.Open(nil, body[:ns], body[ns:], contextAAD(ec))
	if err != nil {
		return nil, secrets.Internalf(err, "unwrap data key: wrong master key or encryption context")
	}
	return key, nil
}

// contextAAD encodes the context with sorted keys and lengths, so equal
// contexts encode equally and different ones differently.
func contextAAD(ec secrets.EncryptionContext) []byte {
	keys := make([]string, 0, len(ec))
	for k := range ec {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	b := []byte(magic)
	for _, k := range keys {
		for _, s := range []string{k, ec[k]} {
			b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
			b = append(b, s...)
		}
	}
	return b
}
