package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

func versionKey(org, id string, n int64) ([]byte, error) {
	if n < 1 {
		return nil, secrets.Invalid("version", "must be 1 or more, not %d", n)
	}
	// Zero-padded, so that versions sort by number.
	return keyOf(org, id, fmt.Sprintf("%020d", n))
}

// PutVersion implements secrets.SecretStore. A version once kept is never
// replaced: versions are immutable.
func (s *Store) PutVersion(ctx context.Context, sec *secrets.Secret) error {
	key, err := versionKey(sec.Org, sec.ID, sec.Version)
	if err != nil {
		return fmt.Errorf("put version %d of secret %s: %w", sec.Version, sec.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketVersions)
		if b.Get(key) != nil {
			return nil
		}
		return put(b, key, records.FromSecret(sec))
	})
	if err != nil {
		return fmt.Errorf("put version %d of secret %s: %w", sec.Version, sec.ID, err)
	}
	return nil
}

// GetVersion implements secrets.SecretStore.
func (s *Store) GetVersion(ctx context.Context, org, id string, n int64) (*secrets.Secret, error) {
	key, err := versionKey(org, id, n)
	if err != nil {
		err = secrets.ErrNotFound // no version can be stored there
		return nil, fmt.Errorf("get version %d of secret %s: %w", n, id, err)
	}
	sec, err := s.readSecret(ctx, bucketVersions, key, decodeVersion)
	if err != nil {
		return nil, fmt.Errorf("get version %d of secret %s: %w", n, id, err)
	}
	return sec, nil
}

// ListVersions implements secrets.SecretStore.
func (s *Store) ListVersions(ctx context.Context, org, id string) ([]*secrets.Secret, error) {
	prefix, err := prefixOf(org, id)
	if err != nil {
		return nil, fmt.Errorf("list versions of secret %s: %w", id, err)
	}
	var list []*secrets.Secret
	err = s.view(ctx, func(tx *bolt.Tx) error {
		return scan(tx.Bucket(bucketVersions), prefix, func(k, v []byte) error {
			sec, err := decodeVersion(k, v)
			if err != nil {
				return err
			}
			list = append(list, sec)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list versions of secret %s: %w", id, err)
	}
	slices.Reverse(list) // keys sort oldest first
	return list, nil
}

// PruneVersions implements secrets.SecretStore.
func (s *Store) PruneVersions(ctx context.Context, org, id string, keepFrom int64) error {
	prefix, err := prefixOf(org, id)
	if err != nil {
		return fmt.Errorf("prune versions of secret %s: %w", id, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		return deleteWhere(tx.Bucket(bucketVersions), prefix, func(version []byte) bool {
			n, err := strconv.ParseInt(string(version), 10, 64)
			return err == nil && n < keepFrom
		})
	})
	if err != nil {
		return fmt.Errorf("prune versions of secret %s: %w", id, err)
	}
	return nil
}
