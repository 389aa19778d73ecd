package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/zwrm/secrets/internal/secrets"
)

// Records: the bbolt file format. Each value the store keeps is one of
// these types as JSON, mapped field by field to and from the domain's
// types, so that a change of the domain (a field renamed, a type moved)
// changes no stored byte unless a mapping here changes too. The golden
// file (testdata/records.golden) pins what they encode to.
//
// Fields hold only built-in types and time.Time: nothing here takes its
// encoding from the domain package.

// record is every type the store encodes and decodes: its own, never the
// domain's.
type record interface {
	orgRecord | secretRecord | tokenRecord | dataKeyRecord | auditRecord
}

// encode returns r as stored.
func encode[R record](r *R) ([]byte, error) { return json.Marshal(r) }

// decode decodes the value stored at key.
func decode[R record](key, data []byte) (*R, error) {
	r := new(R)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode %q: %w", key, err)
	}
	return r, nil
}

// get decodes the value at key; it reports false if there is none.
func get[R record](b *bolt.Bucket, key []byte) (*R, bool, error) {
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
func put[R record](b *bolt.Bucket, key []byte, r *R) error {
	data, err := encode(r)
	if err != nil {
		return fmt.Errorf("encode %q: %w", key, err)
	}
	return b.Put(key, data)
}

type orgRecord struct {
	ID                      string                     `json:"id"`
	CreatedAt               time.Time                  `json:"created_at"`
	UserResolveEnvironments []string                   `json:"user_resolve_environments,omitempty"`
	EnvironmentPolicies     map[string]envPolicyRecord `json:"environment_policies,omitempty"`
	AuditRetentionDays      int                        `json:"audit_retention_days,omitempty"`
	SettingsVersion         int64                      `json:"settings_version,omitempty"`
}

type envPolicyRecord struct {
	MinWritePriority int `json:"min_write_priority"`
}

type secretRecord struct {
	ID           string                       `json:"id"`
	Org          string                       `json:"org"`
	Layer        layerRecord                  `json:"layer"`
	Name         string                       `json:"name"`
	Description  string                       `json:"description"`
	Values       map[string]sealedValueRecord `json:"values,omitempty"`
	Owner        principalRecord              `json:"owner"`
	CreatedAt    time.Time                    `json:"created_at"`
	UpdatedAt    time.Time                    `json:"updated_at"`
	UpdatedBy    principalRecord              `json:"updated_by"`
	Version      int64                        `json:"version"`
	Change       string                       `json:"change"`
	RestoredFrom int64                        `json:"restored_from,omitempty"`
	Rotation     *rotationRecord              `json:"rotation,omitempty"`
}

type layerRecord struct {
	App     string `json:"app,omitempty"`
	Machine string `json:"machine,omitempty"`
}

type principalRecord struct {
	Subject string `json:"subject"`
	Name    string `json:"name"`
}

type sealedValueRecord struct {
	Ciphertext []byte `json:"ciphertext"`
	Mask       string `json:"mask"`
	MaskRule   int    `json:"mask_rule,omitempty"`
}

type rotationRecord struct {
	Every        string     `json:"every"`
	EverySeconds int64      `json:"every_seconds"`
	Environments []string   `json:"environments"`
	Length       int        `json:"length"`
	Alphabet     string     `json:"alphabet"`
	NextAt       time.Time  `json:"next_at"`
	LastAt       *time.Time `json:"last_at,omitempty"`
}

type tokenRecord struct {
	ID           string          `json:"id"`
	Org          string          `json:"org"`
	Kind         string          `json:"kind"`
	Hash         []byte          `json:"hash"`
	Prefix       string          `json:"prefix"`
	Subject      string          `json:"subject,omitempty"`
	Name         string          `json:"name"`
	Role         string          `json:"role,omitempty"`
	Scope        scopeRecord     `json:"scope,omitempty"`
	PrincipalARN string          `json:"principal_arn,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	CreatedBy    principalRecord `json:"created_by"`
	ExpiresAt    *time.Time      `json:"expires_at,omitempty"`
	RevokedAt    *time.Time      `json:"revoked_at,omitempty"`
}

type scopeRecord struct {
	App          string   `json:"app,omitempty"`
	Machine      string   `json:"machine,omitempty"`
	Environments []string `json:"environments,omitempty"`
}

type dataKeyRecord struct {
	Org         string    `json:"org"`
	Environment string    `json:"environment"`
	Generation  int       `json:"generation"`
	Wrapped     []byte    `json:"wrapped"`
	CreatedAt   time.Time `json:"created_at"`
}

type auditRecord struct {
	ID          string             `json:"id"`
	Org         string             `json:"org"`
	Time        time.Time          `json:"time"`
	Actor       auditActorRecord   `json:"actor"`
	Action      string             `json:"action"`
	RequestID   string             `json:"request_id,omitempty"`
	SecretID    string             `json:"secret_id,omitempty"`
	Layer       *layerRecord       `json:"layer,omitempty"`
	Environment string             `json:"environment,omitempty"`
	Secrets     []auditEntryRecord `json:"secrets,omitempty"`
	TokenID     string             `json:"token_id,omitempty"`
	Detail      string             `json:"detail,omitempty"`
	ExpiresAt   time.Time          `json:"expires_at,omitzero"`
	Manifest    string             `json:"manifest,omitempty"`
	SecretCount int                `json:"secret_count,omitempty"`
}

type auditActorRecord struct {
	Kind    string `json:"kind"`
	TokenID string `json:"token_id,omitempty"`
	Subject string `json:"subject,omitempty"`
	Name    string `json:"name"`
}

type auditEntryRecord struct {
	Name    string `json:"name"`
	Layer   string `json:"layer,omitempty"`
	Version int64  `json:"version"`
}

// Mappings, field by field. Nil lists and maps stay nil: JSON tells an
// empty list from none.

func fromOrg(o *secrets.Org) *orgRecord {
	return &orgRecord{
		ID:                      o.ID,
		CreatedAt:               o.CreatedAt,
		UserResolveEnvironments: envNames(o.UserResolveEnvironments),
		EnvironmentPolicies: convertMap[secrets.Environment, string](o.EnvironmentPolicies, func(p secrets.EnvironmentPolicy) envPolicyRecord {
			return envPolicyRecord{MinWritePriority: p.MinWritePriority}
		}),
		AuditRetentionDays: o.AuditRetentionDays,
		SettingsVersion:    o.SettingsVersion,
	}
}

func (r *orgRecord) org() *secrets.Org {
	return &secrets.Org{
		ID:                      r.ID,
		CreatedAt:               r.CreatedAt,
		UserResolveEnvironments: environments(r.UserResolveEnvironments),
		EnvironmentPolicies: convertMap[string, secrets.Environment](r.EnvironmentPolicies, func(p envPolicyRecord) secrets.EnvironmentPolicy {
			return secrets.EnvironmentPolicy{MinWritePriority: p.MinWritePriority}
		}),
		AuditRetentionDays: r.AuditRetentionDays,
		SettingsVersion:    r.SettingsVersion,
	}
}

func fromSecret(s *secrets.Secret) *secretRecord {
	r := &secretRecord{
		ID:          s.ID,
		Org:         s.Org,
		Layer:       fromLayer(s.Layer),
		Name:        s.Name,
		Description: s.Description,
		Values: convertMap[secrets.Environment, string](s.Values, func(v secrets.SealedValue) sealedValueRecord {
			return sealedValueRecord{Ciphertext: v.Ciphertext, Mask: v.Mask, MaskRule: v.MaskRule}
		}),
		Owner:        fromPrincipal(s.Owner),
		CreatedAt:    s.CreatedAt,
		UpdatedAt:    s.UpdatedAt,
		UpdatedBy:    fromPrincipal(s.UpdatedBy),
		Version:      s.Version,
		Change:       s.Change,
		RestoredFrom: s.RestoredFrom,
	}
	if p := s.Rotation; p != nil {
		r.Rotation = &rotationRecord{Every: p.Every, EverySeconds: p.EverySeconds, Environments: envNames(p.Environments),
			Length: p.Length, Alphabet: p.Alphabet, NextAt: p.NextAt, LastAt: p.LastAt}
	}
	return r
}

func (r *secretRecord) secret() *secrets.Secret {
	s := &secrets.Secret{
		ID:          r.ID,
		Org:         r.Org,
		Layer:       r.Layer.layer(),
		Name:        r.Name,
		Description: r.Description,
		Values: convertMap[string, secrets.Environment](r.Values, func(v sealedValueRecord) secrets.SealedValue {
			return secrets.SealedValue{Ciphertext: v.Ciphertext, Mask: v.Mask, MaskRule: v.MaskRule}
		}),
		Owner:        r.Owner.principal(),
		CreatedAt:    r.CreatedAt,
		UpdatedAt:    r.UpdatedAt,
		UpdatedBy:    r.UpdatedBy.principal(),
		Version:      r.Version,
		Change:       r.Change,
		RestoredFrom: r.RestoredFrom,
	}
	if p := r.Rotation; p != nil {
		s.Rotation = &secrets.Rotation{Every: p.Every, EverySeconds: p.EverySeconds, Environments: environments(p.Environments),
			Length: p.Length, Alphabet: p.Alphabet, NextAt: p.NextAt, LastAt: p.LastAt}
	}
	return s
}

func fromLayer(l secrets.Layer) layerRecord { return layerRecord{App: l.App, Machine: l.Machine} }

func (r layerRecord) layer() secrets.Layer { return secrets.Layer{App: r.App, Machine: r.Machine} }

func fromPrincipal(p secrets.Principal) principalRecord {
	return principalRecord{Subject: p.Subject, Name: p.Name}
}

func (r principalRecord) principal() secrets.Principal {
	return secrets.Principal{Subject: r.Subject, Name: r.Name}
}

func fromToken(t *secrets.Token) *tokenRecord {
	return &tokenRecord{
		ID:           t.ID,
		Org:          t.Org,
		Kind:         string(t.Kind),
		Hash:         t.Hash,
		Prefix:       t.Prefix,
		Subject:      t.Subject,
		Name:         t.Name,
		Role:         string(t.Role),
		Scope:        scopeRecord{App: t.Scope.App, Machine: t.Scope.Machine, Environments: envNames(t.Scope.Environments)},
		PrincipalARN: t.PrincipalARN,
		CreatedAt:    t.CreatedAt,
		CreatedBy:    fromPrincipal(t.CreatedBy),
		ExpiresAt:    t.ExpiresAt,
		RevokedAt:    t.RevokedAt,
	}
}

func (r *tokenRecord) token() *secrets.Token {
	return &secrets.Token{
		ID:           r.ID,
		Org:          r.Org,
		Kind:         secrets.TokenKind(r.Kind),
		Hash:         r.Hash,
		Prefix:       r.Prefix,
		Subject:      r.Subject,
		Name:         r.Name,
		Role:         secrets.Role(r.Role),
		Scope:        secrets.Scope{App: r.Scope.App, Machine: r.Scope.Machine, Environments: environments(r.Scope.Environments)},
		PrincipalARN: r.PrincipalARN,
		CreatedAt:    r.CreatedAt,
		CreatedBy:    r.CreatedBy.principal(),
		ExpiresAt:    r.ExpiresAt,
		RevokedAt:    r.RevokedAt,
	}
}

func fromDataKey(k *secrets.DataKey) *dataKeyRecord {
	return &dataKeyRecord{Org: k.Org, Environment: string(k.Environment), Generation: k.Generation, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}
}

func (r *dataKeyRecord) dataKey() *secrets.DataKey {
	return &secrets.DataKey{Org: r.Org, Environment: secrets.Environment(r.Environment), Generation: r.Generation, Wrapped: r.Wrapped, CreatedAt: r.CreatedAt}
}

func fromAudit(a *secrets.AuditRecord) *auditRecord {
	r := &auditRecord{
		ID:          a.ID,
		Org:         a.Org,
		Time:        a.Time,
		Actor:       auditActorRecord{Kind: string(a.Actor.Kind), TokenID: a.Actor.TokenID, Subject: a.Actor.Subject, Name: a.Actor.Name},
		Action:      a.Action,
		RequestID:   a.RequestID,
		SecretID:    a.SecretID,
		Environment: string(a.Environment),
		Secrets: convert(a.Secrets, func(e secrets.AuditEntry) auditEntryRecord {
			return auditEntryRecord{Name: e.Name, Layer: e.Layer, Version: e.Version}
		}),
		TokenID:     a.TokenID,
		Detail:      a.Detail,
		ExpiresAt:   a.ExpiresAt,
		Manifest:    a.Manifest,
		SecretCount: a.SecretCount,
	}
	if a.Layer != nil {
		l := fromLayer(*a.Layer)
		r.Layer = &l
	}
	return r
}

func (r *auditRecord) audit() *secrets.AuditRecord {
	a := &secrets.AuditRecord{
		ID:          r.ID,
		Org:         r.Org,
		Time:        r.Time,
		Actor:       secrets.AuditActor{Kind: secrets.TokenKind(r.Actor.Kind), TokenID: r.Actor.TokenID, Subject: r.Actor.Subject, Name: r.Actor.Name},
		Action:      r.Action,
		RequestID:   r.RequestID,
		SecretID:    r.SecretID,
		Environment: secrets.Environment(r.Environment),
		Secrets: convert(r.Secrets, func(e auditEntryRecord) secrets.AuditEntry {
			return secrets.AuditEntry{Name: e.Name, Layer: e.Layer, Version: e.Version}
		}),
		TokenID:     r.TokenID,
		Detail:      r.Detail,
		ExpiresAt:   r.ExpiresAt,
		Manifest:    r.Manifest,
		SecretCount: r.SecretCount,
	}
	if r.Layer != nil {
		l := r.Layer.layer()
		a.Layer = &l
	}
	return a
}

func envNames(envs []secrets.Environment) []string {
	return convert(envs, func(e secrets.Environment) string { return string(e) })
}

func environments(names []string) []secrets.Environment {
	return convert(names, func(n string) secrets.Environment { return secrets.Environment(n) })
}

// convert maps each element of in with f; nil stays nil.
func convert[A, B any](in []A, f func(A) B) []B {
	if in == nil {
		return nil
	}
	out := make([]B, len(in))
	for i, a := range in {
		out[i] = f(a)
	}
	return out
}

// convertMap maps each value of in with f, keyed by environment; nil
// stays nil.
func convertMap[KA, KB ~string, A, B any](in map[KA]A, f func(A) B) map[KB]B {
	if in == nil {
		return nil
	}
	out := make(map[KB]B, len(in))
	for k, v := range in {
		out[KB(k)] = f(v)
	}
	return out
}

// lookup reads the record at key in bucket; ErrNotFound if there is none.
func lookup[R record](ctx context.Context, s *Store, bucket, key []byte) (*R, error) {
	var r *R
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var ok bool
		var err error
		r, ok, err = get[R](tx.Bucket(bucket), key)
		if err == nil && !ok {
			err = secrets.ErrNotFound
		}
		return err
	})
	return r, err
}

// insert stores r at key in bucket if nothing is there; ErrExists if
// something is.
func insert[R record](tx *bolt.Tx, bucket, key []byte, r *R) error {
	b := tx.Bucket(bucket)
	if b.Get(key) != nil {
		return secrets.ErrExists
	}
	return put(b, key, r)
}
