package boltstore

import (
	"context"
	"fmt"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Data keys: org, environment, generation → records.DataKey.

func dataKeyParts(org string, env secrets.Environment, generation int) []string {
	return []string{org, string(env), strconv.Itoa(generation)}
}

// CreateDataKey implements secrets.DataKeyStore.
func (s *Store) CreateDataKey(ctx context.Context, k *secrets.DataKey) error {
	key, err := keyOf(dataKeyParts(k.Org, k.Environment, k.Generation)...)
	if err == nil {
		err = s.update(ctx, func(tx *bolt.Tx) error { return insert(tx, bucketDataKeys, key, records.FromDataKey(k)) })
	}
	if err != nil {
		return fmt.Errorf("create %s data key %d: %w", k.Environment, k.Generation, err)
	}
	return nil
}

// GetDataKey implements secrets.DataKeyStore.
func (s *Store) GetDataKey(ctx context.Context, org string, env secrets.Environment, generation int) (*secrets.DataKey, error) {
	k, err := lookup(ctx, s, bucketDataKeys, (*records.DataKey).Domain, dataKeyParts(org, env, generation)...)
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, err)
	}
	return k, nil
}
