package boltstore

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// rotationKey is the key of a head in the rotation index: due time first,
// so the index reads in due order.
func rotationKey(sec *secrets.Secret) []byte {
	return []byte(fmt.Sprintf("%020d%s%s%s%s", sec.Rotation.NextAt.UnixNano(), sep, sec.Org, sep, sec.ID))
}

// indexRotation moves a head's entry in the rotation index from old's due
// time to next's; either may be nil or have no policy.
func indexRotation(tx *bolt.Tx, old, next *secrets.Secret) error {
	b := tx.Bucket(bucketRotations)
	if old != nil && old.Rotation != nil {
		if err := b.Delete(rotationKey(old)); err != nil {
			return err
		}
	}
	if next != nil && next.Rotation != nil {
		return b.Put(rotationKey(next), nil)
	}
	return nil
}

// dueEntries calls fn with the org and id of each entry of the rotation
// index due at now, earliest first, until fn returns false.
func dueEntries(tx *bolt.Tx, now time.Time, fn func(org, id string) (bool, error)) error {
	end := []byte(fmt.Sprintf("%020d%s", now.UnixNano(), string([]byte{sep[0] + 1})))
	c := tx.Bucket(bucketRotations).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		parts := strings.Split(string(k), sep)
		if len(parts) != 3 {
			return fmt.Errorf("malformed rotation key %q", k)
		}
		more, err := fn(parts[1], parts[2])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ListRotationOrgs implements secrets.SecretStore: the orgs with an entry
// due in the rotation index (one local read of the due part).
func (s *Store) ListRotationOrgs(ctx context.Context, now time.Time) ([]string, error) {
	var orgs []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return dueEntries(tx, now, func(org, _ string) (bool, error) {
			if !slices.Contains(orgs, org) {
				orgs = append(orgs, org)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list rotation orgs: %w", err)
	}
	slices.Sort(orgs)
	return orgs, nil
}

// ListDueRotations implements secrets.SecretStore.
func (s *Store) ListDueRotations(ctx context.Context, org string, now time.Time, limit int) ([]*secrets.Secret, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list due rotations: %w", secrets.Invalid("limit", "must be 1 or more"))
	}
	var due []*secrets.Secret
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return dueEntries(tx, now, func(entryOrg, id string) (bool, error) {
			if entryOrg != org {
				return true, nil
			}
			sec, _, err := headByID(tx, org, id)
			if err != nil {
				return false, fmt.Errorf("rotation index entry %s/%s: %w", org, id, err)
			}
			due = append(due, sec)
			return len(due) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list due rotations of org %s: %w", org, err)
	}
	return due, nil
}
