package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// DiskErr is diskErr, for the tests.
var DiskErr = diskErr

// CopyHead copies the head record of (org, layer, name) to the key of
// (toOrg, toLayer, toName) behind the store's back, as a hand with write
// access to the file could; with rewrite, the copy's body names its new
// place too.
func CopyHead(s *Store, org string, layer secrets.Layer, name, toOrg string, toLayer secrets.Layer, toName string, rewrite bool) error {
	from, err := keyOf(org, layer.Key(), name)
	if err != nil {
		return err
	}
	to, err := keyOf(toOrg, toLayer.Key(), toName)
	if err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSecrets)
		data := b.Get(from)
		if data == nil {
			return fmt.Errorf("no head at %q", from)
		}
		if rewrite {
			var rec map[string]any
			if err := json.Unmarshal(data, &rec); err != nil {
				return err
			}
			rec["org"], rec["name"], rec["layer"] = toOrg, toName, toLayer
			if data, err = json.Marshal(rec); err != nil {
				return err
			}
		}
		return b.Put(to, append([]byte(nil), data...))
	})
}

// AuditRecordSize is the size of the audit record id of org as stored.
func AuditRecordSize(s *Store, org, id string) (int, error) {
	key, err := keyOf(org, id)
	if err != nil {
		return 0, err
	}
	n := -1
	err = s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bucketAudit).Get(key); v != nil {
			n = len(v)
		}
		return nil
	})
	if err == nil && n < 0 {
		err = fmt.Errorf("no audit record %s of org %s", id, org)
	}
	return n, err
}

// DropAuditExpiryIndex removes the audit expiry index, as a database
// written before it existed lacks it.
func DropAuditExpiryIndex(s *Store) error {
	return s.db.Update(func(tx *bolt.Tx) error { return tx.DeleteBucket(bucketAuditExpiry) })
}

// Entry is one key and value of a bucket, as stored.
type Entry struct {
	Bucket, Key, Value []byte
}

// Dump returns every entry of every bucket, in bucket and key order.
func Dump(s *Store) ([]Entry, error) {
	var out []Entry
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return b.ForEach(func(k, v []byte) error {
				out = append(out, Entry{bytes.Clone(name), bytes.Clone(k), bytes.Clone(v)})
				return nil
			})
		})
	})
	return out, err
}

// Load puts entries into their buckets behind the store's back, as a file
// written by another version of the store holds them.
func Load(s *Store, entries []Entry) error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, e := range entries {
			if err := tx.Bucket(e.Bucket).Put(e.Key, e.Value); err != nil {
				return err
			}
		}
		return nil
	})
}
