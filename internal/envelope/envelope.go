// Package envelope seals secret values with AES-256-GCM under data keys that
// a secrets.KeyWrapper (a local master key, or AWS KMS) wraps.
//
// Each organization has one data key per environment, stored wrapped
// (secrets.DataKeyRecords) and cached unwrapped for a bounded time, so
// resolving N secrets of an environment unwraps at most one key, and none
// while cached.
// Every value is sealed under its own key derived from the data key with
// HKDF-SHA256 and a random 32-byte salt, so a data key can seal any number
// of values without the birthday bound of random 96-bit GCM nonces coming
// near. The associated data binds each ciphertext to where it belongs, its
// Binding (secret id, org, layer, name, environment, version): moved into
// another record, it fails to open.
package envelope

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

const (
	formatV1  = 1
	saltSize  = 32
	nonceSize = 12
	headSize  = 1 + 4 + saltSize + nonceSize
	// Generation of the data key new values are sealed under. The
	// envelope records it, so a later generation can be introduced while
	// old values still open.
	currentGeneration = 1
	hkdfInfo          = "zwrm value key v1"
	// fingerprintInfo, followed by a secret's id, derives the secret's
	// fingerprint key.
	fingerprintInfo = "zwrm fingerprint key v1\x00"
	// loadTimeout bounds one data key load (a store read and an unwrap).
	loadTimeout = 30 * time.Second
)

// Binding is what a ciphertext is bound to: where its value belongs. SecretID keeps a value of a
// deleted secret from opening under a new secret of the same name. Callers
// build it from where a record was found (the caller's org, the key it was
// looked up by), never from what the stored record says about itself.
type Binding struct {
	SecretID    string
	Org         string
	Layer       secrets.Layer
	Name        string
	Environment secrets.Environment
	Version     int64
}

// aad encodes the binding with a length before each part, so no two
// bindings share an encoding.
func (to Binding) aad() []byte {
	b := []byte("zwrm/value/v1")
	for _, part := range []string{to.SecretID, to.Org, to.Layer.Key(), to.Name, string(to.Environment), strconv.FormatInt(to.Version, 10)} {
		b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
		b = append(b, part...)
	}
	return b
}

// EncryptionContext is the context an org's data key for env is wrapped
// under; with KMS, IAM conditions can name its keys
// (kms:EncryptionContext:org, kms:EncryptionContext:environment).
func EncryptionContext(org string, env secrets.Environment, generation int) secrets.EncryptionContext {
	return secrets.EncryptionContext{
		"service":     "zwrm-secrets",
		"org":         org,
		"environment": string(env),
		"generation":  strconv.Itoa(generation),
	}
}

// Sealer seals and opens values.
type Sealer struct {
	wrapper secrets.KeyWrapper
	keys    secrets.DataKeyRecords
	cache   *keyCache
	now     func() time.Time
}

// Options tune the data key cache.
type Options struct {
	// CacheTTL is how long an unwrapped data key stays in memory. Longer
	// means fewer unwraps (KMS calls); shorter means a revoked KMS grant or
	// a disabled key takes effect sooner. Default 5 minutes.
	CacheTTL time.Duration
	// CacheSize bounds the keys kept (one per org and environment). Default 1000.
	CacheSize int
	// Now is the clock; time.Now by default.
	Now func() time.Time
}

// New returns a Sealer wrapping data keys with w and keeping them in keys.
func New(w secrets.KeyWrapper, keys secrets.DataKeyRecords, opts Options) *Sealer {
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 5 * time.Minute
	}
	if opts.CacheSize <= 0 {
		opts.CacheSize = 1000
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Sealer{wrapper: w, keys: keys, cache: newKeyCache(opts.CacheTTL, opts.CacheSize, opts.Now), now: opts.Now}
}

// Seal encrypts plaintext bound to to.
func (s *Sealer) Seal(ctx context.Context, to Binding, plaintext []byte) ([]byte, error) {
	dk, err := s.dataKey(ctx, to.Org, to.Environment, currentGeneration, true)
	if err != nil {
		return nil, err
	}
	out := make([]byte, headSize, headSize+len(plaintext)+16)
	out[0] = formatV1
	binary.BigEndian.PutUint32(out[1:5], currentGeneration)
	salt, nonce := out[5:5+saltSize], out[5+saltSize:headSize]
	if _, err := rand.Read(out[5:headSize]); err != nil {
		return nil, secrets.Internalf(err, "read random salt")
	}
	vk, err := deriveValueKey(dk.key, salt)
	if err != nil {
		return nil, err
	}
	aead, err := valueAEAD(vk)
	if err != nil {
		return nil, err
	}
	return aead.Seal(out, nonce, plaintext, to.aad()), nil
}

// Open decrypts a ciphertext sealed to at. A ciphertext bound
// elsewhere, or altered, fails with CodeInternal and a message that holds no
// plaintext.
func (s *Sealer) Open(ctx context.Context, at Binding, ciphertext []byte) ([]byte, error) {
	if len(ciphertext) < headSize+16 || ciphertext[0] != formatV1 {
		return nil, secrets.Internalf(errors.New("malformed envelope"), "open %s/%s/%s", at.Layer.Key(), at.Name, at.Environment)
	}
	gen := int(binary.BigEndian.Uint32(ciphertext[1:5]))
	dk, err := s.dataKey(ctx, at.Org, at.Environment, gen, false)
	if err != nil {
		return nil, err
	}
	vk, err := dk.valueKey(ciphertext[5 : 5+saltSize])
	if err != nil {
		return nil, err
	}
	aead, err := valueAEAD(vk)
	if err != nil {
		return nil, err
	}
	plain, err := aead.Open(nil, ciphertext[5+saltSize:headSize], ciphertext[headSize:], at.aad())
	if err != nil {
		return nil, secrets.Internalf(err, "open %s/%s/%s v%d: ciphertext does not belong to this record or was altered", at.Layer.Key(), at.Name, at.Environment, at.Version)
	}
	return plain, nil
}

// Fingerprint is a short keyed digest of a value of secret secretID in env:
// the first 4 bytes, in hex, of HMAC-SHA256 of the value under a key
// derived with HKDF-SHA256 from the org's data key for env and the secret's
// id. It tells one version's value from another's (equal values give equal
// fingerprints) without revealing it: unlike a plain hash, it cannot be
// checked against guesses of a short value by anyone without the data
// key, and the same value in another secret or environment gives another
// fingerprint. It is made at write time and stored beside the mask, so
// listing versions never unwraps a key.
func (s *Sealer) Fingerprint(ctx context.Context, org string, env secrets.Environment, secretID string, value []byte) (string, error) {
	dk, err := s.dataKey(ctx, org, env, currentGeneration, true)
	if err != nil {
		return "", err
	}
	key, err := hkdf.Key(sha256.New, dk.key, nil, fingerprintInfo+secretID, 32)
	if err != nil {
		return "", secrets.Internalf(err, "derive fingerprint key")
	}
	mac := hmac.New(sha256.New, key)
	mac.Write(value)
	return hex.EncodeToString(mac.Sum(nil)[:4]), nil
}

// deriveValueKey is the key of the value sealed with salt under dataKey.
func deriveValueKey(dataKey, salt []byte) ([]byte, error) {
	key, err := hkdf.Key(sha256.New, dataKey, salt, hkdfInfo, 32)
	if err != nil {
		return nil, secrets.Internalf(err, "derive value key")
	}
	return key, nil
}

func valueAEAD(key []byte) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, secrets.Internalf(err, "new cipher")
	}
	return cipher.NewGCM(block)
}

// dataKey returns the unwrapped data key of (org, env, gen): from the cache,
// else from the store (one unwrap), else, when create is set, a new one.
// Concurrent callers missing the cache for one key share one unwrap.
func (s *Sealer) dataKey(ctx context.Context, org string, env secrets.Environment, gen int, create bool) (*dataKey, error) {
	ck := cacheKey{org: org, env: env, gen: gen}
	return s.cache.get(ctx, ck, func() (*dataKey, error) {
		// Callers that missed together share this load, so it must not
		// fail because the first of them went away.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), loadTimeout)
		defer cancel()
		ec := EncryptionContext(org, env, gen)
		for attempt := 0; attempt < 3; attempt++ {
			dk, err := s.keys.GetDataKey(ctx, org, env, gen)
			if err == nil {
				key, err := s.wrapper.Unwrap(ctx, dk.Wrapped, ec)
				if err != nil {
					return nil, fmt.Errorf("unwrap data key %s/%s/%d: %w", org, env, gen, err)
				}
				return newDataKey(key), nil
			}
			if !secrets.IsCode(err, secrets.CodeNotFound) {
				return nil, fmt.Errorf("get data key %s/%s/%d: %w", org, env, gen, err)
			}
			if !create {
				return nil, secrets.Internalf(err, "data key %s/%s/%d is missing", org, env, gen)
			}
			plain, wrapped, err := s.wrapper.GenerateDataKey(ctx, ec)
			if err != nil {
				return nil, fmt.Errorf("generate data key %s/%s/%d: %w", org, env, gen, err)
			}
			err = s.keys.CreateDataKey(ctx, &secrets.DataKey{Org: org, Environment: env, Generation: gen, Wrapped: wrapped, CreatedAt: s.now().UTC()})
			if err == nil {
				return newDataKey(plain), nil
			}
			if !errors.Is(err, secrets.ErrExists) {
				return nil, fmt.Errorf("store data key %s/%s/%d: %w", org, env, gen, err)
			}
			// Another writer stored its key first: read and use that one.
		}
		return nil, secrets.Internalf(nil, "data key %s/%s/%d: no agreement after 3 attempts", org, env, gen)
	})
}
