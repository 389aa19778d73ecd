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
	value   []byte
	expires time.Time
}

// call is one load in flight, shared by the callers that missed together.
type call struct {
	done  chan struct{}
	value []byte
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
func (c *keyCache) get(ctx context.Context, k cacheKey, load func() ([]byte, error)) ([]byte, error) {
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
func (c *keyCache) run(k cacheKey, cl *call, load func() ([]byte, error)) {
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
