package boltstore

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Records: the bbolt file format. Each value the store keeps is one of
// the stores' record types (package records) as JSON, under their json
// names. The golden file (testdata/records.golden) pins what they encode
// to. Only this file encodes, and only records.

// encode returns r as stored.
func encode[R records.Record](r *R) ([]byte, error) { return json.Marshal(r) }

// decode decodes the value stored at key.
func decode[R records.Record](key, data []byte) (*R, error) {
	r := new(R)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode %q: %w", key, err)
	}
	return r, nil
}

// get decodes the value at key; it reports false if there is none.
func get[R records.Record](b *bolt.Bucket, key []byte) (*R, bool, error) {
	data := b.Get(key)
	if data == nil {
		return nil, false, nil
	}
	r, err := decode[R](key, data)
	if err != nil {
		return nil, false, fmt.Errorf("%s: %w", b.Tx().DB().Path(), err)
	}
	return r, true, nil
}

// put stores r at key.
func put[R records.Record](b *bolt.Bucket, key []byte, r *R) error {
	data, err := encode(r)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}

// lookup reads the record at the key of parts in bucket and returns it
// as domain makes it; ErrNotFound if there is none (or can be none).
func lookup[R records.Record, T any](ctx context.Context, s *Store, bucket []byte, domain func(*R) *T, parts ...string) (*T, error) {
	key, err := lookupKey(parts...)
	if err != nil {
		return nil, err
	}
	var r *R
	err = s.view(ctx, func(tx *bolt.Tx) error {
		var ok bool
		r, ok, err = get[R](tx.Bucket(bucket), key)
		if err == nil && !ok {
			err = secrets.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return domain(r), nil
}

// insert stores r at key in bucket if nothing is there; ErrExists if
// something is.
func insert[R records.Record](tx *bolt.Tx, bucket, key []byte, r *R) error {
	b := tx.Bucket(bucket)
	if b.Get(key) != nil {
		return secrets.ErrExists
	}
	return put(b, key, r)
}
