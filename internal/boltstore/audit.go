package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// Audit retention. Every audit record and manifest with an expiry has an
// entry in bucketAuditExpiry, keyed by the expiry first, so that the sweep
// (DeleteExpiredAudit) reads only what is due. Expiry entries are
//
//	%020d expiry in unix nanoseconds, sep, kind, sep, the key in its bucket
//
// where kind is expiryRecord (bucketAudit) or expiryManifest
// (bucketAuditManifests).
const (
	expiryRecord   = "r"
	expiryManifest = "m"
)

// expireBatch bounds the deletions of one sweep transaction: the server's
// writers wait for one batch, not for the whole sweep.
const expireBatch = 1000

func expiryKey(at time.Time, kind string, target []byte) []byte {
	k := fmt.Appendf(nil, "%020d%s%s%s", max(at.UnixNano(), 0), sep, kind, sep)
	return append(k, target...)
}

// indexExpiry notes when the value at target (in the bucket of kind) may
// be deleted; a zero time never.
func indexExpiry(tx *bolt.Tx, at time.Time, kind string, target []byte) error {
	if at.IsZero() {
		return nil
	}
	return tx.Bucket(bucketAuditExpiry).Put(expiryKey(at, kind, target), nil)
}

// putAudit stores the audit record r at key, with its expiry.
func putAudit(tx *bolt.Tx, key []byte, r *secrets.AuditRecord) error {
	if err := put(tx.Bucket(bucketAudit), key, r); err != nil {
		return err
	}
	return indexExpiry(tx, r.ExpiresAt, expiryRecord, key)
}

// DeleteExpiredAudit deletes the audit records and manifests whose expiry
// is at or before now, and returns how many it deleted. The local server
// runs it on a schedule (DynamoDB's TTL does this on AWS). It commits a
// batch at a time.
func (s *Store) DeleteExpiredAudit(ctx context.Context, now time.Time) (int, error) {
	due := fmt.Appendf(nil, "%020d", max(now.UnixNano(), 0))
	total := 0
	for {
		n := 0
		err := s.update(ctx, func(tx *bolt.Tx) error {
			n = 0
			idx := tx.Bucket(bucketAuditExpiry)
			var keys [][]byte
			c := idx.Cursor()
			for k, _ := c.First(); k != nil && len(keys) < expireBatch && bytes.Compare(k[:min(len(k), len(due))], due) <= 0; k, _ = c.Next() {
				keys = append(keys, bytes.Clone(k))
			}
			for _, k := range keys {
				if len(k) < len(due)+4 {
					return fmt.Errorf("malformed audit expiry entry %q", k)
				}
				kind, target := string(k[len(due)+1]), k[len(due)+3:]
				b := tx.Bucket(bucketAudit)
				if kind == expiryManifest {
					b = tx.Bucket(bucketAuditManifests)
				}
				if err := b.Delete(target); err != nil {
					return err
				}
				if err := idx.Delete(k); err != nil {
					return err
				}
			}
			n = len(keys)
			return nil
		})
		total += n
		if err != nil {
			return total, fmt.Errorf("delete expired audit records: %w", err)
		}
		if n < expireBatch {
			return total, nil
		}
	}
}

// indexAuditExpiry gives every audit record stored before records had an
// expiry index its entry: its own expiry, or else its time plus its org's
// retention today. It runs once, when Open creates the index.
func indexAuditExpiry(tx *bolt.Tx) error {
	retention := map[string]int{}
	return tx.Bucket(bucketAudit).ForEach(func(k, v []byte) error {
		var r secrets.AuditRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return fmt.Errorf("index the expiry of audit record %q: %w", k, err)
		}
		at := r.ExpiresAt
		if at.IsZero() {
			days, ok := retention[r.Org]
			if !ok {
				var o secrets.Org
				key, err := keyOf(r.Org)
				if err == nil {
					_, err = get(tx.Bucket(bucketOrgs), key, &o)
				}
				if err != nil {
					return fmt.Errorf("index the expiry of audit record %q: %w", k, err)
				}
				days = o.AuditRetention()
				retention[r.Org] = days
			}
			at = r.Time.AddDate(0, 0, days)
		}
		return indexExpiry(tx, at, expiryRecord, bytes.Clone(k))
	})
}

// Manifests: org, day, hash → the manifest's content.

// PutAuditManifest implements secrets.AuditLog.
func (s *Store) PutAuditManifest(ctx context.Context, m *secrets.AuditManifest) error {
	key, err := keyOf(m.Org, m.Day, m.Hash)
	if err != nil {
		return fmt.Errorf("put audit manifest %s: %w", m.Hash, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketAuditManifests)
		if b.Get(key) != nil {
			return nil
		}
		if err := b.Put(key, m.Content); err != nil {
			return err
		}
		return indexExpiry(tx, m.ExpiresAt, expiryManifest, key)
	})
	if err != nil {
		return fmt.Errorf("put audit manifest %s: %w", m.Hash, err)
	}
	return nil
}

// GetAuditManifest implements secrets.AuditLog.
func (s *Store) GetAuditManifest(ctx context.Context, org, day, hash string) (*secrets.AuditManifest, error) {
	key, err := lookupKey(org, day, hash)
	if err != nil {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, err)
	}
	var content []byte
	err = s.view(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketAuditManifests).Get(key)
		if v == nil {
			return secrets.ErrNotFound
		}
		content = bytes.Clone(v)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, err)
	}
	return &secrets.AuditManifest{Org: org, Day: day, Hash: hash, Content: content}, nil
}

// Compact rewrites the database at path into a new file holding only what
// is live, and puts it in the old one's place: bbolt reuses freed pages but
// never gives them back, so a file that once held many records stays that
// large. It takes the database's lock (ErrInUse while a server holds it,
// after opts.Timeout), keeps the original until the copy is complete and
// synced, and gives the copy mode 0600. A copy no smaller than the file
// is dropped, and the file kept. It returns the sizes before and after.
func Compact(path string, opts Options) (before, after int64, err error) {
	st, err := Open(path, opts)
	if err != nil {
		return 0, 0, err
	}
	// The lock is held until the new file is in place: a server starting
	// meanwhile waits, and then finds the new file (see Open).
	defer st.db.Close()
	info, err := os.Stat(path)
	if err != nil {
		return 0, 0, err
	}
	before = info.Size()
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".compact-*")
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()
	if err := os.Chmod(tmpPath, 0o600); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	dst, err := bolt.Open(tmpPath, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := bolt.Compact(dst, st.db, 64<<20); err != nil {
		dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Sync(); err != nil {
		dst.Close()
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if err := dst.Close(); err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	copied, err := os.Stat(tmpPath)
	if err != nil {
		return 0, 0, fmt.Errorf("compact %s: %w", path, err)
	}
	if copied.Size() >= before {
		// Nothing to gain (a file of few free pages, or of records
		// larger than a page, which a copy packs no better): keep it.
		return before, before, nil
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return 0, 0, fmt.Errorf("compact %s: replace it with the compacted copy: %w", path, err)
	}
	done = true
	if d, err := os.Open(filepath.Dir(path)); err == nil {
		_ = d.Sync() // the rename is durable once the directory is
		d.Close()
	}
	if info, err = os.Stat(path); err != nil {
		return before, 0, err
	}
	return before, info.Size(), nil
}

// sameFile reports whether path is still the file statted as was: false
// when it was replaced (a compaction) or removed meanwhile.
func sameFile(path string, was fs.FileInfo) bool {
	now, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false
	}
	return err == nil && os.SameFile(was, now)
}
