package lambdaext

import (
	"context"
	"errors"
	"sync"
	"time"
)

// fetcher is what the cache needs of the API: Source.Fetch.
type fetcher interface {
	Fetch(ctx context.Context, fingerprint string) (values map[string]string, fingerprint2 string, notModified bool, err error)
}

// retryAfter spaces the calls a request makes while the API fails, so a
// burst of requests during an outage does not each wait on the API.
const retryAfter = 5 * time.Second

// Cache holds the last resolve. A value is fresh for the TTL after the API
// last confirmed it (a resolve, or a change check answering 304); after
// that a read first asks the API again, and while the API cannot be
// reached the old values are served as stale. A refusal (4xx) drops them:
// a revoked token or role never keeps reading.
type Cache struct {
	src  fetcher
	ttl  time.Duration
	now  func() time.Time
	logf func(format string, args ...any) // never given a value or a token

	fetchMu sync.Mutex // one call to the API at a time

	mu          sync.Mutex
	values      map[string]string
	fingerprint string
	confirmed   time.Time // when the API last confirmed values
	have        bool
	lastErr     error
	lastTry     time.Time
}

// NewCache returns an empty cache of src's values.
func NewCache(src fetcher, ttl time.Duration, logf func(string, ...any)) *Cache {
	return &Cache{src: src, ttl: ttl, now: time.Now, logf: logf}
}

// Snapshot is what a read gets: the values and how old they are.
type Snapshot struct {
	Values map[string]string // shared: do not modify
	Age    time.Duration     // since the API last confirmed them
	Stale  bool              // older than the TTL: the API could not confirm them
}

// ErrUnavailable is a read with no values: the first resolve has not
// succeeded yet, or the API refused the last one.
var ErrUnavailable = errors.New("no values: the API has not answered a resolve")

// Expired says whether the values are older than the TTL (or absent).
func (c *Cache) Expired() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return !c.have || c.now().Sub(c.confirmed) >= c.ttl
}

// Refresh asks the API: a full resolve when the cache is empty, else the
// change check with the fingerprint held. Calls are serialized; one that
// waited for another does not call again if that one left fresh values,
// unless force.
func (c *Cache) Refresh(ctx context.Context, force bool) error {
	c.fetchMu.Lock()
	defer c.fetchMu.Unlock()
	if !force && !c.Expired() {
		return nil
	}
	c.mu.Lock()
	fp := ""
	if c.have {
		fp = c.fingerprint
	}
	c.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	values, newFP, notModified, err := c.src.Fetch(ctx, fp)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.lastTry = c.now()
	c.lastErr = err
	switch {
	case errors.Is(err, ErrRefused):
		if c.have {
			c.logf("zwrm-secrets: the API refused the resolve; the cached values are dropped: %v", err)
		}
		c.values, c.fingerprint, c.have = nil, "", false
		return err
	case err != nil:
		return err
	case notModified:
		c.confirmed = c.now()
		c.fingerprint = newFP
		return nil
	}
	changed := c.have && newFP != c.fingerprint
	c.values, c.fingerprint, c.confirmed, c.have = values, newFP, c.now(), true
	if changed {
		c.logf("zwrm-secrets: the secrets changed; %d values cached", len(values))
	}
	return nil
}

// Get returns the values, asking the API first when they are expired and
// it has not failed in the last retryAfter.
func (c *Cache) Get(ctx context.Context) (Snapshot, error) {
	if c.Expired() {
		c.mu.Lock()
		recentFailure := c.lastErr != nil && c.now().Sub(c.lastTry) < retryAfter
		c.mu.Unlock()
		if !recentFailure {
			if err := c.Refresh(ctx, false); err != nil {
				c.logf("zwrm-secrets: refresh failed: %v", err)
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.have {
		if errors.Is(c.lastErr, ErrRefused) {
			return Snapshot{}, c.lastErr
		}
		return Snapshot{}, ErrUnavailable
	}
	age := c.now().Sub(c.confirmed)
	return Snapshot{Values: c.values, Age: age, Stale: age >= c.ttl}, nil
}

// Loop refreshes in the background until ctx ends: every half TTL it asks
// the API when the values are older than that, so a warm function's reads
// find fresh values. (Lambda freezes the environment between invocations;
// the loop then runs at the next one, and reads refresh on their own.)
func (c *Cache) Loop(ctx context.Context) {
	every := c.ttl / 2
	if every < 100*time.Millisecond {
		every = 100 * time.Millisecond
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		c.mu.Lock()
		due := !c.have || c.now().Sub(c.confirmed) >= every
		c.mu.Unlock()
		if due {
			if err := c.Refresh(ctx, true); err != nil && ctx.Err() == nil {
				c.logf("zwrm-secrets: background refresh failed: %v", err)
			}
		}
	}
}
