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

// maxCachedHeads bounds the head cache: about 2 KB each (the stored bytes
// and the decoded record), so some 20 MB at most.
const maxCachedHeads = 10_000

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
	c.mu.Lock()
	if _, ok := c.entries[string(key)]; !ok && len(c.entries) >= maxCachedHeads {
		for k := range c.entries { // any one: map order is random
			delete(c.entries, k)
			break
		}
	}
	c.entries[string(key)] = cachedHead{stored: bytes.Clone(data), sec: sec}
	c.mu.Unlock()
	return sec, nil
}
