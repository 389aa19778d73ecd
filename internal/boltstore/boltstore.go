// Package boltstore is the embedded secrets.Store: one bbolt file, records
// encoded as JSON. It serves the local server (zwrm dev).
//
// bbolt runs one write transaction at a time, so every conditional write
// (create if absent, update if the version matches) is checked and applied
// inside one transaction, and secondary indexes change with their records.
package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/zwrm/secrets/internal/secrets"
)

// Keys are parts joined by sep. Ids, names and layer keys never hold a NUL,
// and keyOf refuses parts that do, so a key prefix never matches across
// parts ("org\x00" cannot match "org2\x00...").
const sep = "\x00"

// Buckets, and what their keys are.
var (
	bucketOrgs      = []byte("orgs")       // org → Org
	bucketSecrets   = []byte("secrets")    // org, layer key, name → head Secret
	bucketSecretIDs = []byte("secret_ids") // org, id → key of the head in bucketSecrets
	bucketVersions  = []byte("versions")   // org, id, %020d version → history Secret
	bucketTokens    = []byte("tokens")     // id → Token
	bucketOrgTokens = []byte("org_tokens") // org, id → nothing: the org's tokens
	bucketAudit     = []byte("audit")      // org, audit id → AuditRecord
	bucketDataKeys  = []byte("datakeys")   // org, environment, generation → DataKey
	bucketRotations = []byte("rotations")  // %020d next-at unix nanos, org, id → nothing: heads with a rotation policy

	bucketAuditManifests = []byte("audit_manifests") // org, day, hash → a manifest's content
	bucketAuditExpiry    = []byte("audit_expiry")    // %020d expiry unix nanos, kind, key → nothing (see audit.go)

	allBuckets = [][]byte{
		bucketOrgs, bucketSecrets, bucketSecretIDs, bucketVersions,
		bucketTokens, bucketOrgTokens, bucketAudit, bucketDataKeys, bucketRotations,
		bucketAuditManifests, bucketAuditExpiry,
	}
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configures Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// database's file lock; zero means DefaultTimeout. (bbolt itself would
	// wait forever, which hangs a second server or CLI without a word.)
	Timeout time.Duration
}

// ErrInUse is returned by Open when another process holds the database's
// lock past Options.Timeout.
var ErrInUse = errors.New("the database is in use by another process")

// Store is a secrets.Store in one bbolt file.
type Store struct {
	db    *bolt.DB
	audit *groupCommit // audit appends
	heads *headCache   // what ListSecretsIn decoded
}

var _ secrets.Store = (*Store)(nil)

// Open opens or creates the database at path. Only one process may have it
// open; another waits up to opts.Timeout and then fails.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	db, err := openLocked(path, timeout)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		indexed := tx.Bucket(bucketAuditExpiry) != nil
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if !indexed {
			return indexAuditExpiry(tx)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{db: db, audit: newGroupCommit(db, bucketAudit), heads: newHeadCache()}, nil
}

// openLocked opens the bbolt file at path, holding its lock. A compaction
// replaces the file while it holds the lock, so a process that opened the
// old file and waited for its lock opens the new one instead of writing to
// a file no longer in place.
func openLocked(path string, timeout time.Duration) (*bolt.DB, error) {
	for attempt := 1; ; attempt++ {
		was, statErr := os.Stat(path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (gave up waiting for its lock after %s); stop that process or use another file: %w", path, ErrInUse, timeout, err)
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if statErr != nil || sameFile(path, was) || attempt == 3 {
			return db, nil
		}
		_ = db.Close()
	}
}

// Close releases the database and its file lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.db.Path(), err)
	}
	return nil
}

// view and update run fn in a transaction after checking ctx: bbolt
// transactions are short and take no context, so entry is where a cancelled
// request stops.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return diskErr(s.db.Update(fn))
}

// diskErr marks a write the disk could not take (full, or over quota) as
// unavailable: the transaction was rolled back, nothing changed, and the
// same call works once there is room. Anything else passes as it is.
func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &secrets.Error{Code: secrets.CodeUnavailable, Message: "the local database's disk is full; nothing was changed; free some space and try again", Err: err}
	}
	return err
}

// keyOf joins parts into a key. Empty parts and parts holding a NUL are
// refused: either would make keys ambiguous.
func keyOf(parts ...string) ([]byte, error) {
	for _, p := range parts {
		if p == "" {
			return nil, secrets.Invalid("key", "an id, name or org is empty")
		}
		if strings.Contains(p, sep) {
			return nil, secrets.Invalid("key", "an id, name or org holds a NUL character")
		}
	}
	return []byte(strings.Join(parts, sep)), nil
}

// lookupKey is keyOf for finding a record: a key no record can have (an
// empty id, a NUL from a URL) names an absent record, not a broken request.
func lookupKey(parts ...string) ([]byte, error) {
	k, err := keyOf(parts...)
	if err != nil {
		return nil, secrets.ErrNotFound
	}
	return k, nil
}

// prefixOf is keyOf with a trailing separator: the prefix of every key
// below parts.
func prefixOf(parts ...string) ([]byte, error) {
	k, err := keyOf(parts...)
	if err != nil {
		return nil, err
	}
	return append(k, sep...), nil
}

// scan calls fn with each value under prefix, in key order.
func scan(b *bolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key under prefix.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	return deleteWhere(b, prefix, func([]byte) bool { return true })
}

// deleteWhere deletes the keys under prefix for whose rest (past the
// prefix) match holds. Keys are gathered first: deleting under a moving
// bbolt cursor can skip keys.
func deleteWhere(b *bolt.Bucket, prefix []byte, match func(rest []byte) bool) error {
	var keys [][]byte
	_ = scan(b, prefix, func(k, _ []byte) error {
		if match(k[len(prefix):]) {
			keys = append(keys, bytes.Clone(k))
		}
		return nil
	})
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
