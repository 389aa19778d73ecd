package boltstore

import (
	"bytes"
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// ListSecretsAfter implements secrets.SecretStore: a cursor seeks to each
// layer's first name after `after` and reads at most limit heads, all
// layers in one transaction.
func (s *Store) ListSecretsAfter(ctx context.Context, org string, layers []secrets.Layer, after string, limit int) ([][]*secrets.Secret, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list secrets: %w", secrets.Invalid("limit", "must be 1 or more"))
	}
	prefixes := make([][]byte, len(layers))
	for i, l := range layers {
		p, err := prefixOf(org, l.Key())
		if err != nil {
			return nil, fmt.Errorf("list secrets at %s: %w", l, err)
		}
		prefixes[i] = p
	}
	out := make([][]*secrets.Secret, len(layers))
	err := s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSecrets).Cursor()
		for i, p := range prefixes {
			start := append(bytes.Clone(p), after...)
			k, v := c.Seek(start)
			if k != nil && after != "" && bytes.Equal(k, start) {
				k, v = c.Next()
			}
			for ; k != nil && bytes.HasPrefix(k, p) && len(out[i]) < limit; k, v = c.Next() {
				sec, err := decodeHead(k, v)
				if err != nil {
					return fmt.Errorf("at %s: %w", layers[i], err)
				}
				out[i] = append(out[i], sec)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list secrets after %q: %w", after, err)
	}
	return out, nil
}
