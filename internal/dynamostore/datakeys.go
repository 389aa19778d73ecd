package dynamostore

import (
	"context"
	"fmt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Data keys: PK "K#org" SK "environment#generation".

// CreateDataKey implements secrets.DataKeyStore.
func (s *Store) CreateDataKey(ctx context.Context, dk *secrets.DataKey) error {
	return createFrom(ctx, s, dk, dataKeyItem, "create %s data key %d", dk.Environment, dk.Generation)
}

// GetDataKey implements secrets.DataKeyStore: one GetItem, strongly
// consistent, so that a writer that lost CreateDataKey's race reads the
// winner's key.
func (s *Store) GetDataKey(ctx context.Context, org string, env secrets.Environment, generation int) (*secrets.DataKey, error) {
	k, err := dataKeyKey(org, env, generation)
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, notFoundIfInvalid(err))
	}
	dk, err := getDecoded(ctx, s, k, decodeWith((*records.DataKey).Domain))
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, err)
	}
	return dk, nil
}
