package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Orgs: id → records.Org.

// CreateOrg implements secrets.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *secrets.Org) error {
	key, err := keyOf(o.ID)
	if err == nil {
		err = s.update(ctx, func(tx *bolt.Tx) error { return insert(tx, bucketOrgs, key, records.FromOrg(o)) })
	}
	if err != nil {
		return fmt.Errorf("create org %s: %w", o.ID, err)
	}
	return nil
}

// GetOrg implements secrets.OrgStore.
func (s *Store) GetOrg(ctx context.Context, id string) (*secrets.Org, error) {
	o, err := lookup(ctx, s, bucketOrgs, (*records.Org).Domain, id)
	if err != nil {
		return nil, fmt.Errorf("get org %s: %w", id, err)
	}
	return o, nil
}

// PutOrgSettings implements secrets.OrgStore.
func (s *Store) PutOrgSettings(ctx context.Context, o *secrets.Org, expected int64) error {
	if o.SettingsVersion != expected+1 {
		return fmt.Errorf("put settings of org %s: %w", o.ID, secrets.Invalid("settings_version", "must be %d (expected+1), not %d", expected+1, o.SettingsVersion))
	}
	key, err := lookupKey(o.ID)
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrgs)
		stored, ok, err := get[records.Org](b, key)
		if err != nil {
			return err
		}
		if !ok {
			return secrets.ErrNotFound
		}
		if stored.SettingsVersion != expected {
			return fmt.Errorf("stored settings version %d, expected %d: %w", stored.SettingsVersion, expected, secrets.ErrStale)
		}
		next := records.FromOrg(o)
		next.CreatedAt = stored.CreatedAt
		return put(b, key, next)
	})
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, err)
	}
	return nil
}
