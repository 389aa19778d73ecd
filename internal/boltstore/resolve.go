package boltstore

import (
	"bytes"
	"context"
	"sync"

	"github.com/zwrm/secrets/internal/secrets"
)

// ListSecretsIn implements secrets.SecretStore, reading every layer in one
// transaction so that a resolve sees one state. Heads whose stored bytes
// have not changed since an earlier read are not decoded again (see
// headCache).
func (s *Store) ListSecretsIn(ctx context.Context, org string, layers []secrets.Layer, env secrets.Environment) ([][]*secrets.Secret, error) {
	out := make([][]*secrets.Secret, len(layers))
	err := s.scanLayers(ctx, org, layers, func(i int, k, v []byte) error {
		sec, err := s.heads.decode(k, v)
		if err != nil {
			return err
		}
		out[i] = append(out[i], resolveView(sec, env))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveView is what ListSecretsIn returns of sec: a new record with the
// fields a resolve reads and env's value, sharing nothing mutable with
// sec.
func resolveView(sec *secrets.Secret, env secrets.Environment) *secrets.Secret {
	out := &secrets.Secret{ID: sec.ID, Org: sec.Org, Layer: sec.Layer, Name: sec.Name, Version: sec.Version, Owner: sec.Owner}
	if v, ok := sec.Values[env]; ok {
		v.Ciphertext = bytes.Clone(v.Ciphertext)
		out.Values = map[secrets.Environment]secrets.SealedValue{env: v}
	}
	return out
}

// maxCachedBytes bounds the head cache by size, counting each head twice
// (its stored bytes and its decoded record, of about the same size): a
// head may hold three values of 64 KiB, so a bound by count would not
// bound memory.
const maxCachedBytes = 64 << 20

// headCache keeps head records decoded by ListSecretsIn, by key, with the
// exact bytes each was decoded from. A read whose stored bytes equal the
// cached ones gets the cached record; any other bytes (an update, a delete
// and create, a write behind the store's back) are decoded and checked
// against their key again, as on a first read. So a changed record is
// never missed, whatever wrote it: the cache trusts no more than the
// decoding did. Cached records are never handed out, only views of them
// (resolveView), so no caller can change one.
type headCache struct {
	mu      sync.RWMutex
	entries map[string]cachedHead
	size    int // of the entries, as maxCachedBytes counts it
}

type cachedHead struct {
	stored []byte
	sec    *secrets.Secret // decoded from stored at its key and checked; read only
}

func newHeadCache() *headCache { return &headCache{entries: map[string]cachedHead{}} }

// decode returns the head stored at key as data, decoded and checked by
// decodeHead, from the cache when data is what it was decoded from. data
// may be bbolt's memory: it is copied before it is kept.
func (c *headCache) decode(key, data []byte) (*secrets.Secret, error) {
	c.mu.RLock()
	e, ok := c.entries[string(key)]
	c.mu.RUnlock()
	if ok && bytes.Equal(e.stored, data) {
		return e.sec, nil
	}
	sec, err := decodeHead(key, data)
	if err != nil {
		return nil, err
	}
	cost := 2 * (len(key) + len(data))
	if cost > maxCachedBytes/64 {
		return sec, nil // too large to keep: decoded each time
	}
	c.mu.Lock()
	if old, ok := c.entries[string(key)]; ok {
		c.size -= 2 * (len(key) + len(old.stored))
		delete(c.entries, string(key))
	}
	for k, e := range c.entries { // any ones: map order is random
		if c.size+cost <= maxCachedBytes {
			break
		}
		c.size -= 2 * (len(k) + len(e.stored))
		delete(c.entries, k)
	}
	c.entries[string(key)] = cachedHead{stored: bytes.Clone(data), sec: sec}
	c.size += cost
	c.mu.Unlock()
	return sec, nil
}
