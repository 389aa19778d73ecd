package envelope

import (
	"container/list"
	"context"
	"sync"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

type cacheKey struct {
	org string
	env secrets.Environment
	gen int
}

type cacheEntry struct {
	key     cacheKey
	value   *dataKey
	expires time.Time
}

// call is one load in flight, shared by the callers that missed together.
type call struct {
	done  chan struct{}
	value *dataKey
	err   error
}

// keyCache keeps unwrapped data keys for a TTL, at most size of them, least
// recently used evicted first.
type keyCache struct {
	mu       sync.Mutex
	ttl      time.Duration
	size     int
	now      func() time.Time
	lru      *list.List // of *cacheEntry, most recent at the front
	entries  map[cacheKey]*list.Element
	inflight map[cacheKey]*call
}

func newKeyCache(ttl time.Duration, size int, now func() time.Time) *keyCache {
	return &keyCache{ttl: ttl, size: size, now: now, lru: list.New(),
		entries: map[cacheKey]*list.Element{}, inflight: map[cacheKey]*call{}}
}

// get returns the cached value of k, or loads it once for all concurrent
// callers. The load runs on its own (it is shared, so no one caller's
// leaving may stop it); each caller waits for it only until its own ctx
// ends, and then answers unavailable.
func (c *keyCache) get(ctx context.Context, k cacheKey, load func() (*dataKey, error)) (*dataKey, error) {
	c.mu.Lock()
	if el, ok := c.entries[k]; ok {
		e := el.Value.(*cacheEntry)
		if c.now().Before(e.expires) {
			c.lru.MoveToFront(el)
			c.mu.Unlock()
			return e.value, nil
		}
		c.lru.Remove(el)
		delete(c.entries, k)
	}
	cl, ok := c.inflight[k]
	if !ok {
		cl = &call{done: make(chan struct{})}
		c.inflight[k] = cl
		go c.run(k, cl, load)
	}
	c.mu.Unlock()
	select {
	case <-cl.done:
		return cl.value, cl.err
	case <-ctx.Done():
		return nil, &secrets.Error{Code: secrets.CodeUnavailable, Message: "the key service did not answer in time; retry shortly", Err: ctx.Err()}
	}
}

// run loads k for the callers waiting on cl and caches what it loaded.
func (c *keyCache) run(k cacheKey, cl *call, load func() (*dataKey, error)) {
	cl.value, cl.err = load()
	c.mu.Lock()
	delete(c.inflight, k)
	if cl.err == nil {
		c.entries[k] = c.lru.PushFront(&cacheEntry{key: k, value: cl.value, expires: c.now().Add(c.ttl)})
		for c.lru.Len() > c.size {
			old := c.lru.Back()
			c.lru.Remove(old)
			delete(c.entries, old.Value.(*cacheEntry).key)
		}
	}
	c.mu.Unlock()
	close(cl.done)
}

// maxValueKeys bounds the value keys kept per data key (64 bytes each with
// their salt): past it, values are opened with keys derived afresh.
const maxValueKeys = 10_000

// dataKey is an unwrapped data key, and the keys of values opened under
// it. A value key is derived with HKDF from the data key and the value's
// salt, the largest cost of opening a value; a resolve opens the same
// values again and again. The value keys are kept with their data key, so
// they leave the cache with it, at its TTL or eviction: no value opens
// from memory for longer than its data key may.
type dataKey struct {
	key []byte

	mu        sync.Mutex
	valueKeys map[[saltSize]byte][32]byte
}

func newDataKey(key []byte) *dataKey {
	return &dataKey{key: key, valueKeys: map[[saltSize]byte][32]byte{}}
}

// valueKey returns the key of the value sealed under d with salt.
func (d *dataKey) valueKey(salt []byte) ([]byte, error) {
	s := [saltSize]byte(salt)
	d.mu.Lock()
	k, ok := d.valueKeys[s]
	d.mu.Unlock()
	if ok {
		return k[:], nil
	}
	key, err := deriveValueKey(d.key, salt)
	if err != nil {
		return nil, err
	}
	d.mu.Lock()
	if len(d.valueKeys) < maxValueKeys {
		d.valueKeys[s] = [32]byte(key)
	}
	d.mu.Unlock()
	return key, nil
}
