// Package boltstore is the embedded secrets.Store: one bbolt file, records
// encoded as JSON. It serves the local server (zwrm dev).
//
// bbolt runs one write transaction at a time, so every conditional write
// (create if absent, update if the version matches) is checked and applied
// inside one transaction, and secondary indexes change with their records.
package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"github.com/zwrm/secrets/internal/secrets"
)

// Keys are parts joined by sep. Ids, names and layer keys never hold a NUL,
// and keyOf refuses parts that do, so a key prefix never matches across
// parts ("org\x00" cannot match "org2\x00...").
const sep = "\x00"

// Buckets, and what their keys are.
var (
	bucketOrgs      = []byte("orgs")       // org → Org
	bucketSecrets   = []byte("secrets")    // org, layer key, name → head Secret
	bucketSecretIDs = []byte("secret_ids") // org, id → key of the head in bucketSecrets
	bucketVersions  = []byte("versions")   // org, id, %020d version → history Secret
	bucketTokens    = []byte("tokens")     // id → Token
	bucketOrgTokens = []byte("org_tokens") // org, id → nothing: the org's tokens
	bucketAudit     = []byte("audit")      // org, audit id → AuditRecord
	bucketDataKeys  = []byte("datakeys")   // org, environment, generation → DataKey
	bucketRotations = []byte("rotations")  // %020d next-at unix nanos, org, id → nothing: heads with a rotation policy

	bucketAuditManifests = []byte("audit_manifests") // org, day, hash → a manifest's content
	bucketAuditExpiry    = []byte("audit_expiry")    // %020d expiry unix nanos, kind, key → nothing (see audit.go)

	allBuckets = [][]byte{
		bucketOrgs, bucketSecrets, bucketSecretIDs, bucketVersions,
		bucketTokens, bucketOrgTokens, bucketAudit, bucketDataKeys, bucketRotations,
		bucketAuditManifests, bucketAuditExpiry,
	}
)

// DefaultTimeout is how long Open waits for the file lock when
// Options.Timeout is zero.
const DefaultTimeout = time.Second

// Options configures Open.
type Options struct {
	// Timeout is how long Open waits for another process to release the
	// database's file lock; zero means DefaultTimeout. (bbolt itself would
	// wait forever, which hangs a second server or CLI without a word.)
	Timeout time.Duration
}

// ErrInUse is returned by Open when another process holds the database's
// lock past Options.Timeout.
var ErrInUse = errors.New("the database is in use by another process")

// Store is a secrets.Store in one bbolt file.
type Store struct {
	db    *bolt.DB
	audit *groupCommit // audit appends
	heads *headCache   // what ListSecretsIn decoded
}

var _ secrets.Store = (*Store)(nil)

// Open opens or creates the database at path. Only one process may have it
// open; another waits up to opts.Timeout and then fails.
func Open(path string, opts Options) (*Store, error) {
	timeout := opts.Timeout
	if timeout == 0 {
		timeout = DefaultTimeout
	}
	db, err := openLocked(path, timeout)
	if err != nil {
		return nil, err
	}
	err = db.Update(func(tx *bolt.Tx) error {
		indexed := tx.Bucket(bucketAuditExpiry) != nil
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		if !indexed {
			return indexAuditExpiry(tx)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return &Store{db: db, audit: newGroupCommit(db, bucketAudit), heads: newHeadCache()}, nil
}

// openLocked opens the bbolt file at path, holding its lock. A compaction
// replaces the file while it holds the lock, so a process that opened the
// old file and waited for its lock opens the new one instead of writing to
// a file no longer in place.
func openLocked(path string, timeout time.Duration) (*bolt.DB, error) {
	for attempt := 1; ; attempt++ {
		was, statErr := os.Stat(path)
		db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout})
		if errors.Is(err, bolterrors.ErrTimeout) {
			return nil, fmt.Errorf("open %s: %w (gave up waiting for its lock after %s); stop that process or use another file: %w", path, ErrInUse, timeout, err)
		}
		if err != nil {
			return nil, fmt.Errorf("open %s: %w", path, err)
		}
		if statErr != nil || sameFile(path, was) || attempt == 3 {
			return db, nil
		}
		_ = db.Close()
	}
}

// Close releases the database and its file lock.
func (s *Store) Close() error {
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("close %s: %w", s.db.Path(), err)
	}
	return nil
}

// view and update run fn in a transaction after checking ctx: bbolt
// transactions are short and take no context, so entry is where a cancelled
// request stops.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) update(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return diskErr(s.db.Update(fn))
}

// diskErr marks a write the disk could not take (full, or over quota) as
// unavailable: the transaction was rolled back, nothing changed, and the
// same call works once there is room. Anything else passes as it is.
func diskErr(err error) error {
	if errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT) {
		return &secrets.Error{Code: secrets.CodeUnavailable, Message: "the local database's disk is full; nothing was changed; free some space and try again", Err: err}
	}
	return err
}

// keyOf joins parts into a key. Empty parts and parts holding a NUL are
// refused: either would make keys ambiguous.
func keyOf(parts ...string) ([]byte, error) {
	for _, p := range parts {
		if p == "" {
			return nil, secrets.Invalid("key", "an id, name or org is empty")
		}
		if strings.Contains(p, sep) {
			return nil, secrets.Invalid("key", "an id, name or org holds a NUL character")
		}
	}
	return []byte(strings.Join(parts, sep)), nil
}

// lookupKey is keyOf for finding a record: a key no record can have (an
// empty id, a NUL from a URL) names an absent record, not a broken request.
func lookupKey(parts ...string) ([]byte, error) {
	k, err := keyOf(parts...)
	if err != nil {
		return nil, secrets.ErrNotFound
	}
	return k, nil
}

// prefixOf is keyOf with a trailing separator: the prefix of every key
// below parts.
func prefixOf(parts ...string) ([]byte, error) {
	k, err := keyOf(parts...)
	if err != nil {
		return nil, err
	}
	return append(k, sep...), nil
}

func versionKey(org, id string, n int64) ([]byte, error) {
	if n < 1 {
		return nil, secrets.Invalid("version", "must be 1 or more, not %d", n)
	}
	// Zero-padded, so that versions sort by number.
	return keyOf(org, id, fmt.Sprintf("%020d", n))
}

func headKey(s *secrets.Secret) ([]byte, error) {
	return keyOf(s.Org, s.Layer.Key(), s.Name)
}

// get decodes the value at key into v; it reports false if there is none.
func get(b *bolt.Bucket, key []byte, v any) (bool, error) {
	data := b.Get(key)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return false, fmt.Errorf("decode %s %q: %w", b.Tx().DB().Path(), key, err)
	}
	return true, nil
}

func put(b *bolt.Bucket, key []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}

// scan calls fn with each value under prefix, in key order.
func scan(b *bolt.Bucket, prefix []byte, fn func(k, v []byte) error) error {
	c := b.Cursor()
	for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if err := fn(k, v); err != nil {
			return err
		}
	}
	return nil
}

// deletePrefix deletes every key under prefix. Keys are gathered first:
// deleting under a moving bbolt cursor can skip keys.
func deletePrefix(b *bolt.Bucket, prefix []byte) error {
	var keys [][]byte
	_ = scan(b, prefix, func(k, _ []byte) error {
		keys = append(keys, bytes.Clone(k))
		return nil
	})
	for _, k := range keys {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// decodeAll decodes every value under prefix, in key order.
func decodeAll[T any](b *bolt.Bucket, prefix []byte) ([]*T, error) {
	var out []*T
	err := scan(b, prefix, func(k, v []byte) error {
		rec := new(T)
		if err := json.Unmarshal(v, rec); err != nil {
			return fmt.Errorf("decode %q: %w", k, err)
		}
		out = append(out, rec)
		return nil
	})
	return out, err
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
	var sec secrets.Secret
	if err := json.Unmarshal(data, &sec); err != nil {
		return nil, fmt.Errorf("decode %q: %w", key, err)
	}
	if err := at.Check(&sec, fmt.Sprintf("%q", key)); err != nil {
		return nil, err
	}
	sec.TightenMasks()
	return &sec, nil
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
		if err := put(heads, head, sec); err != nil {
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
		return put(tx.Bucket(bucketSecrets), head, sec)
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

// rotationKey is the key of a head in the rotation index: due time first,
// so the index reads in due order.
func rotationKey(sec *secrets.Secret) []byte {
	return []byte(fmt.Sprintf("%020d%s%s%s%s", sec.Rotation.NextAt.UnixNano(), sep, sec.Org, sep, sec.ID))
}

// indexRotation moves a head's entry in the rotation index from old's due
// time to next's; either may be nil or have no policy.
func indexRotation(tx *bolt.Tx, old, next *secrets.Secret) error {
	b := tx.Bucket(bucketRotations)
	if old != nil && old.Rotation != nil {
		if err := b.Delete(rotationKey(old)); err != nil {
			return err
		}
	}
	if next != nil && next.Rotation != nil {
		return b.Put(rotationKey(next), nil)
	}
	return nil
}

// dueEntries calls fn with the org and id of each entry of the rotation
// index due at now, earliest first, until fn returns false.
func dueEntries(tx *bolt.Tx, now time.Time, fn func(org, id string) (bool, error)) error {
	end := []byte(fmt.Sprintf("%020d%s", now.UnixNano(), string([]byte{sep[0] + 1})))
	c := tx.Bucket(bucketRotations).Cursor()
	for k, _ := c.First(); k != nil && bytes.Compare(k, end) < 0; k, _ = c.Next() {
		parts := strings.Split(string(k), sep)
		if len(parts) != 3 {
			return fmt.Errorf("malformed rotation key %q", k)
		}
		more, err := fn(parts[1], parts[2])
		if err != nil || !more {
			return err
		}
	}
	return nil
}

// ListRotationOrgs implements secrets.SecretStore: the orgs with an entry
// due in the rotation index (one local read of the due part).
func (s *Store) ListRotationOrgs(ctx context.Context, now time.Time) ([]string, error) {
	var orgs []string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return dueEntries(tx, now, func(org, _ string) (bool, error) {
			if !slices.Contains(orgs, org) {
				orgs = append(orgs, org)
			}
			return true, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list rotation orgs: %w", err)
	}
	slices.Sort(orgs)
	return orgs, nil
}

// ListDueRotations implements secrets.SecretStore.
func (s *Store) ListDueRotations(ctx context.Context, org string, now time.Time, limit int) ([]*secrets.Secret, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list due rotations: %w", secrets.Invalid("limit", "must be 1 or more"))
	}
	var due []*secrets.Secret
	err := s.view(ctx, func(tx *bolt.Tx) error {
		return dueEntries(tx, now, func(entryOrg, id string) (bool, error) {
			if entryOrg != org {
				return true, nil
			}
			sec, _, err := headByID(tx, org, id)
			if err != nil {
				return false, fmt.Errorf("rotation index entry %s/%s: %w", org, id, err)
			}
			due = append(due, sec)
			return len(due) < limit, nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list due rotations of org %s: %w", org, err)
	}
	return due, nil
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
	var sec *secrets.Secret
	err = s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketSecrets).Get(key)
		if data == nil {
			return secrets.ErrNotFound
		}
		var err error
		sec, err = decodeHead(key, data)
		return err
	})
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
		return put(b, key, sec)
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
	var sec *secrets.Secret
	err = s.view(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketVersions).Get(key)
		if data == nil {
			return secrets.ErrNotFound
		}
		var err error
		sec, err = decodeVersion(key, data)
		return err
	})
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
		b := tx.Bucket(bucketVersions)
		var old [][]byte
		_ = scan(b, prefix, func(k, _ []byte) error {
			n, err := strconv.ParseInt(string(k[len(prefix):]), 10, 64)
			if err == nil && n < keepFrom {
				old = append(old, bytes.Clone(k))
			}
			return nil
		})
		for _, k := range old {
			if err := b.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("prune versions of secret %s: %w", id, err)
	}
	return nil
}

// Tokens.

// CreateToken implements secrets.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t *secrets.Token) error {
	key, err := keyOf(t.ID)
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	orgKey, err := keyOf(t.Org, t.ID)
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		if b.Get(key) != nil {
			return secrets.ErrExists
		}
		if err := put(b, key, t); err != nil {
			return err
		}
		return tx.Bucket(bucketOrgTokens).Put(orgKey, nil)
	})
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// GetToken implements secrets.TokenStore.
func (s *Store) GetToken(ctx context.Context, id string) (*secrets.Token, error) {
	key, err := lookupKey(id)
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, err)
	}
	var t secrets.Token
	err = s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bucketTokens), key, &t)
		if err == nil && !ok {
			err = secrets.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, err)
	}
	return &t, nil
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
			var t secrets.Token
			ok, err := get(tokens, k[len(prefix):], &t)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("org index names a missing token %q", k[len(prefix):])
			}
			list = append(list, &t)
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
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var t secrets.Token
		ok, err := get(b, key, &t)
		if err != nil {
			return err
		}
		if !ok || t.Org != org {
			return secrets.ErrNotFound
		}
		if t.RevokedAt != nil {
			return nil
		}
		t.RevokedAt = &at
		return put(b, key, &t)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// ReplaceRevokedToken implements secrets.TokenStore.
func (s *Store) ReplaceRevokedToken(ctx context.Context, t *secrets.Token) error {
	key, err := keyOf(t.ID)
	if err != nil {
		return fmt.Errorf("replace token %s: %w", t.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketTokens)
		var old secrets.Token
		ok, err := get(b, key, &old)
		if err != nil {
			return err
		}
		if !ok || old.Org != t.Org {
			return secrets.ErrNotFound
		}
		if old.RevokedAt == nil {
			return secrets.ErrExists
		}
		// Same org and id: the org index entry stays as it is.
		return put(b, key, t)
	})
	if err != nil {
		return fmt.Errorf("replace token %s: %w", t.ID, err)
	}
	return nil
}

// Orgs.

// CreateOrg implements secrets.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *secrets.Org) error {
	key, err := keyOf(o.ID)
	if err != nil {
		return fmt.Errorf("create org %s: %w", o.ID, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOrgs)
		if b.Get(key) != nil {
			return secrets.ErrExists
		}
		return put(b, key, o)
	})
	if err != nil {
		return fmt.Errorf("create org %s: %w", o.ID, err)
	}
	return nil
}

// GetOrg implements secrets.OrgStore.
func (s *Store) GetOrg(ctx context.Context, id string) (*secrets.Org, error) {
	key, err := lookupKey(id)
	if err != nil {
		return nil, fmt.Errorf("get org %s: %w", id, err)
	}
	var o secrets.Org
	err = s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bucketOrgs), key, &o)
		if err == nil && !ok {
			err = secrets.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get org %s: %w", id, err)
	}
	return &o, nil
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
		var stored secrets.Org
		ok, err := get(b, key, &stored)
		if err != nil {
			return err
		}
		if !ok {
			return secrets.ErrNotFound
		}
		if stored.SettingsVersion != expected {
			return fmt.Errorf("stored settings version %d, expected %d: %w", stored.SettingsVersion, expected, secrets.ErrStale)
		}
		next := *o
		next.CreatedAt = stored.CreatedAt
		return put(b, key, &next)
	})
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, err)
	}
	return nil
}

// Data keys.

func dataKeyKey(org string, env secrets.Environment, generation int) ([]byte, error) {
	return keyOf(org, string(env), strconv.Itoa(generation))
}

// CreateDataKey implements secrets.DataKeyStore.
func (s *Store) CreateDataKey(ctx context.Context, k *secrets.DataKey) error {
	key, err := dataKeyKey(k.Org, k.Environment, k.Generation)
	if err != nil {
		return fmt.Errorf("create %s data key %d: %w", k.Environment, k.Generation, err)
	}
	err = s.update(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDataKeys)
		if b.Get(key) != nil {
			return secrets.ErrExists
		}
		return put(b, key, k)
	})
	if err != nil {
		return fmt.Errorf("create %s data key %d: %w", k.Environment, k.Generation, err)
	}
	return nil
}

// GetDataKey implements secrets.DataKeyStore.
func (s *Store) GetDataKey(ctx context.Context, org string, env secrets.Environment, generation int) (*secrets.DataKey, error) {
	key, err := dataKeyKey(org, env, generation)
	if err != nil {
		err = secrets.ErrNotFound // no key can be stored there
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, err)
	}
	var k secrets.DataKey
	err = s.view(ctx, func(tx *bolt.Tx) error {
		ok, err := get(tx.Bucket(bucketDataKeys), key, &k)
		if err == nil && !ok {
			err = secrets.ErrNotFound
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, err)
	}
	return &k, nil
}

// Audit.

// AppendAudit implements secrets.AuditLog. The log is append-only: a
// record id already taken is refused rather than overwritten. It returns
// once the record is committed; records appended at the same time share a
// commit (see groupCommit).
func (s *Store) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	key, err := keyOf(r.Org, r.ID)
	if err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("append audit record %s: encode: %w", r.ID, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	if err := s.audit.append(ctx, key, data, r.ExpiresAt); err != nil {
		return fmt.Errorf("append audit record %s: %w", r.ID, err)
	}
	return nil
}

// ListAudit implements secrets.AuditLog. Ids sort by time, so newest first
// is a walk backwards from the cursor.
func (s *Store) ListAudit(ctx context.Context, org, cursor string, limit int) ([]*secrets.AuditRecord, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("list audit: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	prefix, err := prefixOf(org)
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	var (
		list []*secrets.AuditRecord
		next string
	)
	err = s.view(ctx, func(tx *bolt.Tx) error {
		// Walk backwards from just before start: the cursor's record (or
		// where it would be), or past the org's last key for the first page.
		start := append(bytes.Clone(prefix), cursor...)
		if cursor == "" {
			start = append(bytes.Clone(prefix[:len(prefix)-1]), sep[0]+1)
		}
		c := tx.Bucket(bucketAudit).Cursor()
		k, v := c.Seek(start)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		var last []byte
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if len(list) == limit {
				// There is more: the next page starts after the last one here.
				next = string(last[len(prefix):])
				break
			}
			last = k
			var r secrets.AuditRecord
			if err := json.Unmarshal(v, &r); err != nil {
				return fmt.Errorf("decode %q: %w", k, err)
			}
			list = append(list, &r)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return list, next, nil
}
