package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// FinishDelete implements secrets.SecretStore. A delete here is one
// transaction, so none is ever left half done; what can be left is
// history that a writer racing a delete put back after it. That is
// removed, and returned as a leftover of no interrupted delete.
func (s *Store) FinishDelete(ctx context.Context, org, id string) (*secrets.Leftover, error) {
	prefix, err := prefixOf(org, id)
	if err != nil {
		return nil, fmt.Errorf("finish the delete of secret %s: %w", id, secrets.ErrNotFound)
	}
	var left *secrets.Leftover
	err = s.update(ctx, func(tx *bolt.Tx) error {
		_, _, err := headByID(tx, org, id)
		if err == nil {
			return secrets.ErrExists
		}
		if !errors.Is(err, secrets.ErrNotFound) {
			return err
		}
		versions := tx.Bucket(bucketVersions)
		var newest []byte
		_ = scan(versions, prefix, func(k, _ []byte) error {
			newest = bytes.Clone(k)
			return nil
		})
		if newest == nil {
			return secrets.ErrNotFound
		}
		left = &secrets.Leftover{ID: id}
		if sec, err := decodeVersion(newest, versions.Get(newest)); err == nil {
			left.Layer, left.Name = sec.Layer, sec.Name
		}
		return deletePrefix(versions, prefix)
	})
	if err != nil {
		return nil, fmt.Errorf("finish the delete of secret %s: %w", id, err)
	}
	return left, nil
}

// InterruptedDeletes implements secrets.SecretStore: deletes are atomic
// here, so none is ever interrupted.
func (s *Store) InterruptedDeletes(context.Context, string, secrets.Layer, string) ([]string, error) {
	return nil, nil
}

// SweepLeftovers implements secrets.SecretStore: nothing is ever left
// half written here.
func (s *Store) SweepLeftovers(_ context.Context, _ string, _ time.Time, limit int) ([]secrets.Leftover, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sweep leftovers: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	return nil, nil
}
