package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
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
		r, err := decode[records.Audit](k, v)
		if err != nil {
			return fmt.Errorf("index the expiry of audit record: %w", err)
		}
		at := r.ExpiresAt
		if at.IsZero() {
			days, ok := retention[r.Org]
			if !ok {
				o := &records.Org{}
				key, err := keyOf(r.Org)
				if err == nil {
					if stored, ok, gerr := get[records.Org](tx.Bucket(bucketOrgs), key); ok {
						o = stored
					} else {
						err = gerr
					}
				}
				if err != nil {
					return fmt.Errorf("index the expiry of audit record %q: %w", k, err)
				}
				days = o.Domain().AuditRetention()
				retention[r.Org] = days
			}
			at = r.Time.AddDate(0, 0, days)
		}
		return indexExpiry(tx, at, expiryRecord, bytes.Clone(k))
	})
}

// AppendAudit implements secrets.AuditLog. The log is append-only: a
// record id already taken is refused rather than overwritten. It returns
// once the record is committed; records appended at the same time share a
// commit (see groupCommit).
func (s *Store) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	key, err := keyOf(r.Org, r.ID)
	if err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	data, err := encode(records.FromAudit(r))
	if err != nil {
		return fmt.Errorf("append audit record %s: encode: %w", r.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	if err := s.audit.append(ctx, key, data, r.ExpiresAt); err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	return nil
}

// ListAudit implements secrets.AuditLog. Ids sort by time, so newest first
// is a walk backwards from the cursor.
func (s *Store) ListAudit(ctx context.Context, org, cursor string, limit int) ([]*secrets.AuditRecord, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("list audit: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	prefix, err := prefixOf(org)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	var (
		list []*secrets.AuditRecord
		next string
	)
	err = s.view(ctx, func(tx *bolt.Tx) error {
		// Walk backwards from just before start: the cursor's record (or
		// where it would be), or past the org's last key for the first page.
		start := append(bytes.Clone(prefix), cursor...)
		if cursor == "" {
			start = append(bytes.Clone(prefix[:len(prefix)-1]), sep[0]+1)
		}
		c := tx.Bucket(bucketAudit).Cursor()
		k, v := c.Seek(start)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if len(list) == limit {
				// There is more: the next page starts after the last one here.
				next = string(last[len(prefix):])
				break
			}
			last = k
			r, err := decode[records.Audit](k, v)
			if err != nil {
				return err
			}
			list = append(list, r.Domain())
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return list, next, nil
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
