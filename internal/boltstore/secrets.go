package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

func headKey(s *secrets.Secret) ([]byte, error) {
	return keyOf(s.Org, s.Layer.Key(), s.Name)
}

// Secrets. A secret record is decoded with the org, layer, name (and for
// history, id and version) of its key, and refused if its body names
// others: storage is untrusted, and a record copied under another key must
// not pass for the secret that key names.

// decodeHead decodes the head record stored at key.
func decodeHead(key, data []byte) (*secrets.Secret, error) {
	parts := strings.Split(string(key), sep)
	if len(parts) != 3 {
		return nil, secrets.Internalf(nil, "malformed secret key %q", key)
	}
	layer, err := secrets.ParseLayerKey(parts[1])
	if err != nil {
		return nil, secrets.Internalf(err, "secret key %q", key)
	}
	return decodeSecret(key, data, secrets.Place{Org: parts[0], Layer: &layer, Name: parts[2]})
}

// decodeVersion decodes the history record stored at key.
func decodeVersion(key, data []byte) (*secrets.Secret, error) {
	parts := strings.Split(string(key), sep)
	if len(parts) != 3 {
		return nil, secrets.Internalf(nil, "malformed version key %q", key)
	}
	n, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return nil, secrets.Internalf(err, "version key %q", key)
	}
	return decodeSecret(key, data, secrets.Place{Org: parts[0], ID: parts[1], Version: n})
}

// decodeSecret decodes a secret record and checks that it names the place
// its key names.
func decodeSecret(key, data []byte, at secrets.Place) (*secrets.Secret, error) {
	r, err := decode[records.Secret](key, data)
	if err != nil {
		return nil, err
	}
	sec := r.Domain()
	if err := at.Check(sec, fmt.Sprintf("%q", key)); err != nil {
		return nil, err
	}
	sec.TightenMasks()
	return sec, nil
}

// readSecret decodes the record at key in bucket with decode (decodeHead
// or decodeVersion); ErrNotFound if there is none.
func (s *Store) readSecret(ctx context.Context, bucket, key []byte, decode func(key, data []byte) (*secrets.Secret, error)) (*secrets.Secret, error) {
	var sec *secrets.Secret
	err := s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucket).Get(key)
		if data == nil {
			return secrets.ErrNotFound
		}
		var err error
		sec, err = decode(key, data)
		return err
	})
	return sec, err
}

// CreateSecret implements secrets.SecretStore.
func (s *Store) CreateSecret(ctx context.Context, sec *secrets.Secret) error {
	if sec.Version != 1 {
		return fmt.Errorf("create secret %s: %w", sec.Name, secrets.Invalid("version", "a new secret is version 1, not %d", sec.Version))
	}
	head, err := headKey(sec)
	if err != nil {
		return fmt.Errorf("create secret %s: %w", sec.Name, err)
	}
	idKey, err := keyOf(sec.Org, sec.ID)
	if err != nil {
		return fmt.Errorf("create secret %s: %w", sec.Name, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		heads, ids := tx.Bucket(bucketSecrets), tx.Bucket(bucketSecretIDs)
		if heads.Get(head) != nil {
			return fmt.Errorf("%s at %s: %w", sec.Name, sec.Layer, secrets.ErrExists)
		}
		if ids.Get(idKey) != nil {
			return fmt.Errorf("id %s: %w", sec.ID, secrets.ErrExists)
		}
		if err := put(heads, head, records.FromSecret(sec)); err != nil {
			return err
		}
		if err := indexRotation(tx, nil, sec); err != nil {
			return err
		}
		return ids.Put(idKey, head)
	})
	if err != nil {
		return fmt.Errorf("create secret %s: %w", sec.Name, err)
	}
	return nil
}

// headByID returns the head record of id and its key, or ErrNotFound.
func headByID(tx *bolt.Tx, org, id string) (*secrets.Secret, []byte, error) {
	idKey, err := lookupKey(org, id)
	if err != nil {
		return nil, nil, err
	}
	head := tx.Bucket(bucketSecretIDs).Get(idKey)
	if head == nil {
		return nil, nil, secrets.ErrNotFound
	}
	head = bytes.Clone(head) // valid only in tx, and callers write under it
	data := tx.Bucket(bucketSecrets).Get(head)
	if data == nil {
		// The index and the heads change together, so this is damage.
		return nil, nil, fmt.Errorf("id index points at a missing head %q", head)
	}
	sec, err := decodeHead(head, data)
	if err != nil {
		return nil, nil, err
	}
	if err := (secrets.Place{Org: org, ID: id}).Check(sec, fmt.Sprintf("%q (by id %s)", head, id)); err != nil {
		return nil, nil, err
	}
	return sec, head, nil
}

// UpdateSecret implements secrets.SecretStore.
func (s *Store) UpdateSecret(ctx context.Context, sec *secrets.Secret, expected int64) error {
	if sec.Version != expected+1 {
		return fmt.Errorf("update secret %s: %w", sec.ID, secrets.Invalid("version", "the new version must be %d (expected+1), not %d", expected+1, sec.Version))
	}
	err := s.update(ctx, func(tx *bolt.Tx) error {
		stored, head, err := headByID(tx, sec.Org, sec.ID)
		if err != nil {
			return err
		}
		if stored.Version != expected {
			return fmt.Errorf("stored version %d, expected %d: %w", stored.Version, expected, secrets.ErrStale)
		}
		// The head's key is made of these; a record that changed them
		// would sit under a key that no longer names it.
		if stored.Layer != sec.Layer || stored.Name != sec.Name || stored.Owner != sec.Owner {
			return secrets.Invalid("secret", "layer, name and owner of a secret never change")
		}
		if err := indexRotation(tx, stored, sec); err != nil {
			return err
		}
		return put(tx.Bucket(bucketSecrets), head, records.FromSecret(sec))
	})
	if err != nil {
		return fmt.Errorf("update secret %s: %w", sec.ID, err)
	}
	return nil
}

// DeleteSecret implements secrets.SecretStore.
func (s *Store) DeleteSecret(ctx context.Context, org, id string, expected int64) error {
	absent := false
	err := s.update(ctx, func(tx *bolt.Tx) error {
		stored, head, err := headByID(tx, org, id)
		if errors.Is(err, secrets.ErrNotFound) {
			// No head: clear any history a writer racing the delete put
			// back, as the contract's "deleting again clears it" says, and
			// answer not found. (Returning an error here would roll the
			// clearing back.)
			absent = true
			if idKey, kerr := keyOf(org, id); kerr == nil {
				return deletePrefix(tx.Bucket(bucketVersions), append(idKey, sep...))
			}
			return nil
		}
		if err != nil {
			return err
		}
		if expected != 0 && stored.Version != expected {
			return fmt.Errorf("stored version %d, expected %d: %w", stored.Version, expected, secrets.ErrStale)
		}
		idKey, _ := keyOf(org, id) // headByID checked the parts
		if err := indexRotation(tx, stored, nil); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSecrets).Delete(head); err != nil {
			return err
		}
		if err := tx.Bucket(bucketSecretIDs).Delete(idKey); err != nil {
			return err
		}
		return deletePrefix(tx.Bucket(bucketVersions), append(idKey, sep...))
	})
	if err == nil && absent {
		err = secrets.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", id, err)
	}
	return nil
}

// GetSecret implements secrets.SecretStore.
func (s *Store) GetSecret(ctx context.Context, org, id string) (*secrets.Secret, error) {
	var sec *secrets.Secret
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		sec, _, err = headByID(tx, org, id)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", id, err)
	}
	return sec, nil
}

// GetSecretByName implements secrets.SecretStore.
func (s *Store) GetSecretByName(ctx context.Context, org string, layer secrets.Layer, name string) (*secrets.Secret, error) {
	key, err := lookupKey(org, layer.Key(), name)
	if err != nil {
		return nil, fmt.Errorf("get secret %s at %s: %w", name, layer, err)
	}
	sec, err := s.readSecret(ctx, bucketSecrets, key, decodeHead)
	if err != nil {
		return nil, fmt.Errorf("get secret %s at %s: %w", name, layer, err)
	}
	return sec, nil
}

// ListSecrets implements secrets.SecretStore.
func (s *Store) ListSecrets(ctx context.Context, org string, layer secrets.Layer) ([]*secrets.Secret, error) {
	var list []*secrets.Secret
	err := s.scanLayers(ctx, org, []secrets.Layer{layer}, func(_ int, k, v []byte) error {
		sec, err := decodeHead(k, v)
		if err != nil {
			return err
		}
		list = append(list, sec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return list, nil
}

// scanLayers calls fn with the index of the layer and the key and stored
// bytes of each head at each of layers, in key order, all in one
// transaction so that the caller sees one state. The bytes are valid only
// during fn.
func (s *Store) scanLayers(ctx context.Context, org string, layers []secrets.Layer, fn func(i int, k, v []byte) error) error {
	prefixes := make([][]byte, len(layers))
	for i, l := range layers {
		p, err := prefixOf(org, l.Key())
		if err != nil {
			return fmt.Errorf("list secrets at %s: %w", l, err)
		}
		prefixes[i] = p
	}
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		for i, p := range prefixes {
			err := scan(b, p, func(k, v []byte) error { return fn(i, k, v) })
			if err != nil {
				return fmt.Errorf("at %s: %w", layers[i], err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("list secrets: %w", err)
	}
	return nil
}

// ListLayers implements secrets.SecretStore. Heads are keyed by layer key,
// so it reads one head per layer and seeks past the rest of that layer.
func (s *Store) ListLayers(ctx context.Context, org string) ([]secrets.Layer, error) {
	orgPrefix, err := prefixOf(org)
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	var layers []secrets.Layer
	err = s.view(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSecrets).Cursor()
		for k, v := c.Seek(orgPrefix); k != nil && bytes.HasPrefix(k, orgPrefix); {
			rest := k[len(orgPrefix):]
			i := bytes.Index(rest, []byte(sep))
			if i < 0 {
				return fmt.Errorf("malformed secret key %q", k)
			}
			// The key says what the layer is; the record must agree.
			head, err := decodeHead(k, v)
			if err != nil {
				return err
			}
			if head.Layer.Kind() != "global" {
				layers = append(layers, head.Layer)
			}
			// The next layer's keys start after every "org\0layer\0name":
			// seek to "org\0layer\1".
			next := append(bytes.Clone(k[:len(orgPrefix)+i]), sep[0]+1)
			k, v = c.Seek(next)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	slices.SortFunc(layers, secrets.CompareLayers)
	return layers, nil
}
