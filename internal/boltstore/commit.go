package boltstore

import (
	"context"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// groupCommit appends records to one bucket, many per transaction: every
// resolve appends an audit record, and a transaction of its own would cost
// each one an fsync while the others queue behind it.
//
// An append that finds no commit running starts one at once (a lone
// caller waits for nothing but its own write); appends that arrive while a
// commit runs queue and share the next one. bbolt's DB.Batch would
// instead hold a lone call for its MaxBatchDelay, and run a failed batch's
// calls again one by one; here no call can fail another, since each call's
// only condition, a free key, is checked per call inside the transaction.
// A call returns after the transaction holding its record committed, or
// with the error that kept it from committing: never acknowledged
// otherwise.
type groupCommit struct {
	db     *bolt.DB
	bucket []byte

	mu      sync.Mutex
	queue   []*pendingAppend
	running bool // a goroutine is committing the queue
}

// pendingAppend is one call's record, when it expires, and where its
// outcome goes.
type pendingAppend struct {
	key, data []byte
	expires   time.Time
	done      chan error
}

func newGroupCommit(db *bolt.DB, bucket []byte) *groupCommit {
	return &groupCommit{db: db, bucket: bucket}
}

// append stores data at key if no record is there (ErrExists if one is),
// and returns once that is committed, or when ctx ends first (the record
// may then still be committed: a caller that gave up has claimed nothing).
func (g *groupCommit) append(ctx context.Context, key, data []byte, expires time.Time) error {
	p := &pendingAppend{key: key, data: data, expires: expires, done: make(chan error, 1)}
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if !g.running {
		g.running = true
		go g.run()
	}
	g.mu.Unlock()
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// run commits what is queued, group after group, until the queue is empty.
func (g *groupCommit) run() {
	for {
		g.mu.Lock()
		group := g.queue
		g.queue = nil
		if len(group) == 0 {
			g.running = false
			g.mu.Unlock()
			return
		}
		g.mu.Unlock()
		g.commit(group)
	}
}

// commit writes group in one transaction and tells each call its outcome.
// A call whose key is taken fails alone; a transaction that fails (a full
// disk, a closed database) committed nothing, so every call in it fails.
func (g *groupCommit) commit(group []*pendingAppend) {
	errs := make([]error, len(group))
	err := g.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(g.bucket)
		for i, p := range group {
			if b.Get(p.key) != nil {
				errs[i] = secrets.ErrExists
				continue
			}
			// Put checks its arguments before it changes anything, so a
			// refused one leaves the others' writes whole; a record whose
			// expiry cannot be indexed is taken out again.
			if errs[i] = b.Put(p.key, p.data); errs[i] == nil {
				if errs[i] = indexExpiry(tx, p.expires, expiryRecord, p.key); errs[i] != nil {
					_ = b.Delete(p.key)
				}
			}
		}
		return nil
	})
	for i, p := range group {
		if err != nil {
			p.done <- diskErr(err)
		} else {
			p.done <- errs[i]
		}
	}
}
