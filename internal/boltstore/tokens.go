package boltstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Tokens: id → records.Token, and the org index: org, id → nothing.

// CreateToken implements secrets.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t *secrets.Token) error {
	key, err := keyOf(t.ID)
	var orgKey []byte
	if err == nil {
		orgKey, err = keyOf(t.Org, t.ID)
	}
	if err == nil {
		err = s.update(ctx, func(tx *bolt.Tx) error {
			if err := insert(tx, bucketTokens, key, records.FromToken(t)); err != nil {
				return err
			}
			return tx.Bucket(bucketOrgTokens).Put(orgKey, nil)
		})
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// GetToken implements secrets.TokenStore.
func (s *Store) GetToken(ctx context.Context, id string) (*secrets.Token, error) {
	t, err := lookup(ctx, s, bucketTokens, (*records.Token).Domain, id)
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, err)
	}
	return t, nil
}

// ListTokens implements secrets.TokenStore. An org has few tokens, so they
// are sorted here rather than kept in creation order in the index.
func (s *Store) ListTokens(ctx context.Context, org string) ([]*secrets.Token, error) {
	prefix, err := prefixOf(org)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	var list []*secrets.Token
	err = s.view(ctx, func(tx *bolt.Tx) error {
		tokens := tx.Bucket(bucketTokens)
		return scan(tx.Bucket(bucketOrgTokens), prefix, func(k, _ []byte) error {
			r, ok, err := get[records.Token](tokens, k[len(prefix):])
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("org index names a missing token %q", k[len(prefix):])
			}
			list = append(list, r.Domain())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	slices.SortFunc(list, func(a, b *secrets.Token) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return list, nil
}

// RevokeToken implements secrets.TokenStore.
func (s *Store) RevokeToken(ctx context.Context, org, id string, at time.Time) error {
	key, err := lookupKey(id)
	if err == nil {
		err = s.update(ctx, func(tx *bolt.Tx) error {
			return changeToken(tx, key, org, func(stored *records.Token) (*records.Token, error) {
				if stored.RevokedAt != nil {
					return nil, nil
				}
				stored.RevokedAt = &at
				return stored, nil
			})
		})
	}
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// ReplaceRevokedToken implements secrets.TokenStore.
func (s *Store) ReplaceRevokedToken(ctx context.Context, t *secrets.Token) error {
	key, err := keyOf(t.ID)
	if err == nil {
		err = s.update(ctx, func(tx *bolt.Tx) error {
			return changeToken(tx, key, t.Org, func(stored *records.Token) (*records.Token, error) {
				if stored.RevokedAt == nil {
					return nil, secrets.ErrExists
				}
				// Same org and id: the org index entry stays as it is.
				return records.FromToken(t), nil
			})
		})
	}
	if err != nil {
		return fmt.Errorf("replace token %s: %w", t.ID, err)
	}
	return nil
}

// changeToken replaces org's token at key with what change makes of it
// (nothing if it makes nil); ErrNotFound if org has no token there.
func changeToken(tx *bolt.Tx, key []byte, org string, change func(*records.Token) (*records.Token, error)) error {
	b := tx.Bucket(bucketTokens)
	stored, ok, err := get[records.Token](b, key)
	if err != nil {
		return err
	}
	if !ok || stored.Org != org {
		return secrets.ErrNotFound
	}
	next, err := change(stored)
	if err != nil || next == nil {
		return err
	}
	return put(b, key, next)
}
