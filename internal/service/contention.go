package service

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Writers that name no expected version (the org, app and machine API, a
// rotation policy, org settings) retry when another writer wins. Within
// one process they queue per secret instead, so they never race each
// other; across processes (Lambda containers) they retry with jittered
// backoff, within the caller's deadline.

// keyedLocks is a lock per key, held by one writer at a time; waiters give
// up when their context ends.
type keyedLocks struct {
	mu    sync.Mutex
	locks map[string]*keyedLock
}

type keyedLock struct {
	ch    chan struct{}
	users int
}

// lock takes the lock of key, or returns unavailable when ctx ends first.
// The returned function releases it.
func (k *keyedLocks) lock(ctx context.Context, key string) (func(), error) {
	k.mu.Lock()
	if k.locks == nil {
		k.locks = map[string]*keyedLock{}
	}
	l := k.locks[key]
	if l == nil {
		l = &keyedLock{ch: make(chan struct{}, 1)}
		k.locks[key] = l
	}
	l.users++
	k.mu.Unlock()

	release := func() {
		k.mu.Lock()
		l.users--
		if l.users == 0 {
			delete(k.locks, key)
		}
		k.mu.Unlock()
	}
	select {
	case l.ch <- struct{}{}:
		return func() { <-l.ch; release() }, nil
	case <-ctx.Done():
		release()
		return nil, busy(ctx)
	}
}

// Backoff between attempts: full jitter on an exponential ceiling.
const (
	backoffBase = 5 * time.Millisecond
	backoffCap  = 200 * time.Millisecond
)

// backoff waits before attempt (1 or more) of a write that lost to
// another writer, or returns unavailable if the caller's deadline would
// pass first.
func backoff(ctx context.Context, attempt int) error {
	ceiling := min(backoffCap, backoffBase<<min(attempt, 10))
	wait := time.Duration(rand.Int64N(int64(ceiling) + 1))
	if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
		return busy(ctx)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return busy(ctx)
	}
}

// busy is the answer when concurrent writers kept a write from landing in
// time: nothing was changed, and the caller may retry.
func busy(ctx context.Context) error {
	return &secrets.Error{Code: secrets.CodeUnavailable, Message: "too many concurrent changes to this secret; nothing was changed; try again", Err: ctx.Err()}
}
