// Package records holds the stores' record types: what the embedded store
// (boltstore, as JSON) and the DynamoDB store (dynamostore, as item
// attributes) keep of each value, with explicit mappings to and from the
// domain's types. A change of the domain (a field renamed, a type moved)
// thus changes no stored byte unless a mapping here changes too, and the
// API's types (internal/wire) are apart from both.
//
// Each field carries the name of both encodings: `json` for the bbolt
// file, `dynamodbav` for the table. The names are snake_case, so they
// never meet the DynamoDB store's CamelCase key attributes. Fields hold
// only built-in types and time.Time: nothing here takes its encoding from
// the domain package. Each store's golden test (boltstore's
// testdata/records.golden, dynamostore's testdata/items.golden.json) pins
// what they encode to.
package records

import (
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Record is every type a store encodes and decodes: these, never the
// domain's.
type Record interface {
	Org | Secret | Token | DataKey | Audit
}

// Org is an organization and its settings.
type Org struct {
	ID                      string               `json:"id" dynamodbav:"id"`
	CreatedAt               time.Time            `json:"created_at" dynamodbav:"created_at"`
	UserResolveEnvironments []string             `json:"user_resolve_environments,omitempty" dynamodbav:"user_resolve_environments,omitempty"`
	EnvironmentPolicies     map[string]EnvPolicy `json:"environment_policies,omitempty" dynamodbav:"environment_policies,omitempty"`
	AuditRetentionDays      int                  `json:"audit_retention_days,omitempty" dynamodbav:"audit_retention_days,omitempty"`
	SettingsVersion         int64                `json:"settings_version,omitempty" dynamodbav:"settings_version,omitempty"`
}

// EnvPolicy is an environment's policy in an org's settings.
type EnvPolicy struct {
	MinWritePriority int `json:"min_write_priority" dynamodbav:"min_write_priority"`
}

// Secret is a secret's head or one of its versions.
type Secret struct {
	ID           string                 `json:"id" dynamodbav:"id"`
	Org          string                 `json:"org" dynamodbav:"org"`
	Layer        Layer                  `json:"layer" dynamodbav:"layer"`
	Name         string                 `json:"name" dynamodbav:"name"`
	Description  string                 `json:"description" dynamodbav:"description"`
	Values       map[string]SealedValue `json:"values,omitempty" dynamodbav:"values,omitempty"`
	Owner        Principal              `json:"owner" dynamodbav:"owner"`
	CreatedAt    time.Time              `json:"created_at" dynamodbav:"created_at"`
	UpdatedAt    time.Time              `json:"updated_at" dynamodbav:"updated_at"`
	UpdatedBy    Principal              `json:"updated_by" dynamodbav:"updated_by"`
	Version      int64                  `json:"version" dynamodbav:"version"`
	Change       string                 `json:"change" dynamodbav:"change"`
	RestoredFrom int64                  `json:"restored_from,omitempty" dynamodbav:"restored_from,omitempty"`
	Rotation     *Rotation              `json:"rotation,omitempty" dynamodbav:"rotation,omitempty"`
}

// Layer is the layer a secret or an audit record belongs to.
type Layer struct {
	App     string `json:"app,omitempty" dynamodbav:"app,omitempty"`
	Machine string `json:"machine,omitempty" dynamodbav:"machine,omitempty"`
}

// Principal is who owns or changed a secret, or created a token.
type Principal struct {
	Subject string `json:"subject" dynamodbav:"subject"`
	Name    string `json:"name" dynamodbav:"name"`
}

// SealedValue is a secret's value in one environment, as ciphertext.
type SealedValue struct {
	Ciphertext []byte `json:"ciphertext" dynamodbav:"ciphertext"`
	Mask       string `json:"mask" dynamodbav:"mask"`
	MaskRule   int    `json:"mask_rule,omitempty" dynamodbav:"mask_rule,omitempty"`
	// Fingerprint is a keyed digest of the value (never a plain hash):
	// empty in records written before it was kept.
	Fingerprint string `json:"fingerprint,omitempty" dynamodbav:"fingerprint,omitempty"`
}

// Rotation is a secret's rotation policy.
type Rotation struct {
	Every        string     `json:"every" dynamodbav:"every"`
	EverySeconds int64      `json:"every_seconds" dynamodbav:"every_seconds"`
	Environments []string   `json:"environments" dynamodbav:"environments"`
	Length       int        `json:"length" dynamodbav:"length"`
	Alphabet     string     `json:"alphabet" dynamodbav:"alphabet"`
	NextAt       time.Time  `json:"next_at" dynamodbav:"next_at"`
	LastAt       *time.Time `json:"last_at,omitempty" dynamodbav:"last_at,omitempty"`
}

// Token is an access token (its hash, never the token).
type Token struct {
	ID           string     `json:"id" dynamodbav:"id"`
	Org          string     `json:"org" dynamodbav:"org"`
	Kind         string     `json:"kind" dynamodbav:"kind"`
	Hash         []byte     `json:"hash" dynamodbav:"hash"`
	Prefix       string     `json:"prefix" dynamodbav:"prefix"`
	Subject      string     `json:"subject,omitempty" dynamodbav:"subject,omitempty"`
	Name         string     `json:"name" dynamodbav:"name"`
	Role         string     `json:"role,omitempty" dynamodbav:"role,omitempty"`
	Scope        Scope      `json:"scope,omitempty" dynamodbav:"scope,omitempty"`
	PrincipalARN string     `json:"principal_arn,omitempty" dynamodbav:"principal_arn,omitempty"`
	CreatedAt    time.Time  `json:"created_at" dynamodbav:"created_at"`
	CreatedBy    Principal  `json:"created_by" dynamodbav:"created_by"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty" dynamodbav:"expires_at,omitempty"`
	RevokedAt    *time.Time `json:"revoked_at,omitempty" dynamodbav:"revoked_at,omitempty"`
}

// Scope is what a token may reach.
type Scope struct {
	App          string   `json:"app,omitempty" dynamodbav:"app,omitempty"`
	Machine      string   `json:"machine,omitempty" dynamodbav:"machine,omitempty"`
	Environments []string `json:"environments,omitempty" dynamodbav:"environments,omitempty"`
}

// DataKey is an environment's wrapped data key of one generation.
type DataKey struct {
	Org         string    `json:"org" dynamodbav:"org"`
	Environment string    `json:"environment" dynamodbav:"environment"`
	Generation  int       `json:"generation" dynamodbav:"generation"`
	Wrapped     []byte    `json:"wrapped" dynamodbav:"wrapped"`
	CreatedAt   time.Time `json:"created_at" dynamodbav:"created_at"`
}

// Audit is an audit record.
type Audit struct {
	ID          string       `json:"id" dynamodbav:"id"`
	Org         string       `json:"org" dynamodbav:"org"`
	Time        time.Time    `json:"time" dynamodbav:"time"`
	Actor       AuditActor   `json:"actor" dynamodbav:"actor"`
	Action      string       `json:"action" dynamodbav:"action"`
	RequestID   string       `json:"request_id,omitempty" dynamodbav:"request_id,omitempty"`
	SecretID    string       `json:"secret_id,omitempty" dynamodbav:"secret_id,omitempty"`
	Layer       *Layer       `json:"layer,omitempty" dynamodbav:"layer,omitempty"`
	Environment string       `json:"environment,omitempty" dynamodbav:"environment,omitempty"`
	Secrets     []AuditEntry `json:"secrets,omitempty" dynamodbav:"secrets,omitempty"`
	TokenID     string       `json:"token_id,omitempty" dynamodbav:"token_id,omitempty"`
	Detail      string       `json:"detail,omitempty" dynamodbav:"detail,omitempty"`
	// ExpiresAt: a DynamoDB item holds it as the table's TTL attribute
	// instead, in whole seconds (dynamostore's auditItem).
	ExpiresAt   time.Time `json:"expires_at,omitzero" dynamodbav:"-"`
	Manifest    string    `json:"manifest,omitempty" dynamodbav:"manifest,omitempty"`
	SecretCount int       `json:"secret_count,omitempty" dynamodbav:"secret_count,omitempty"`
}

// AuditActor is who an audit record is about.
type AuditActor struct {
	Kind    string `json:"kind" dynamodbav:"kind"`
	TokenID string `json:"token_id,omitempty" dynamodbav:"token_id,omitempty"`
	Subject string `json:"subject,omitempty" dynamodbav:"subject,omitempty"`
	Name    string `json:"name" dynamodbav:"name"`
}

// AuditEntry is a secret an audit record names.
type AuditEntry struct {
	Name    string `json:"name" dynamodbav:"name"`
	Layer   string `json:"layer,omitempty" dynamodbav:"layer,omitempty"`
	Version int64  `json:"version" dynamodbav:"version"`
}

// Mappings, field by field. Nil lists and maps stay nil: both encodings
// tell an empty list from none.

// FromOrg returns o as stored.
func FromOrg(o *secrets.Org) *Org {
	return &Org{
		ID:                      o.ID,
		CreatedAt:               o.CreatedAt,
		UserResolveEnvironments: envNames(o.UserResolveEnvironments),
		EnvironmentPolicies: convertMap[secrets.Environment, string](o.EnvironmentPolicies, func(p secrets.EnvironmentPolicy) EnvPolicy {
			return EnvPolicy{MinWritePriority: p.MinWritePriority}
		}),
		AuditRetentionDays: o.AuditRetentionDays,
		SettingsVersion:    o.SettingsVersion,
	}
}

// Domain returns r as the domain's Org.
func (r *Org) Domain() *secrets.Org {
	return &secrets.Org{
		ID:                      r.ID,
		CreatedAt:               r.CreatedAt,
		UserResolveEnvironments: environments(r.UserResolveEnvironments),
		EnvironmentPolicies: convertMap[string, secrets.Environment](r.EnvironmentPolicies, func(p EnvPolicy) secrets.EnvironmentPolicy {
			return secrets.EnvironmentPolicy{MinWritePriority: p.MinWritePriority}
		}),
		AuditRetentionDays: r.AuditRetentionDays,
		SettingsVersion:    r.SettingsVersion,
	}
}

// FromSecret returns s as stored.
func FromSecret(s *secrets.Secret) *Secret {
	r := &Secret{
		ID:          s.ID,
		Org:         s.Org,
		Layer:       fromLayer(s.Layer),
		Name:        s.Name,
		Description: s.Description,
		Values: convertMap[secrets.Environment, string](s.Values, func(v secrets.SealedValue) SealedValue {
			return SealedValue{Ciphertext: v.Ciphertext, Mask: v.Mask, MaskRule: v.MaskRule, Fingerprint: v.Fingerprint}
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
		r.Rotation = &Rotation{Every: p.Every, EverySeconds: p.EverySeconds, Environments: envNames(p.Environments),
			Length: p.Length, Alphabet: p.Alphabet, NextAt: p.NextAt, LastAt: p.LastAt}
	}
	return r
}

// Domain returns r as the domain's Secret.
func (r *Secret) Domain() *secrets.Secret {
	s := &secrets.Secret{
		ID:          r.ID,
		Org:         r.Org,
		Layer:       r.Layer.layer(),
		Name:        r.Name,
		Description: r.Description,
		Values: convertMap[string, secrets.Environment](r.Values, func(v SealedValue) secrets.SealedValue {
			return secrets.SealedValue{Ciphertext: v.Ciphertext, Mask: v.Mask, MaskRule: v.MaskRule, Fingerprint: v.Fingerprint}
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

func fromLayer(l secrets.Layer) Layer { return Layer{App: l.App, Machine: l.Machine} }

func (r Layer) layer() secrets.Layer { return secrets.Layer{App: r.App, Machine: r.Machine} }

func fromPrincipal(p secrets.Principal) Principal {
	return Principal{Subject: p.Subject, Name: p.Name}
}

func (r Principal) principal() secrets.Principal {
	return secrets.Principal{Subject: r.Subject, Name: r.Name}
}

// FromToken returns t as stored.
func FromToken(t *secrets.Token) *Token {
	return &Token{
		ID:           t.ID,
		Org:          t.Org,
		Kind:         string(t.Kind),
		Hash:         t.Hash,
		Prefix:       t.Prefix,
		Subject:      t.Subject,
		Name:         t.Name,
		Role:         string(t.Role),
		Scope:        Scope{App: t.Scope.App, Machine: t.Scope.Machine, Environments: envNames(t.Scope.Environments)},
		PrincipalARN: t.PrincipalARN,
		CreatedAt:    t.CreatedAt,
		CreatedBy:    fromPrincipal(t.CreatedBy),
		ExpiresAt:    t.ExpiresAt,
		RevokedAt:    t.RevokedAt,
	}
}

// Domain returns r as the domain's Token.
func (r *Token) Domain() *secrets.Token {
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

// FromDataKey returns k as stored.
func FromDataKey(k *secrets.DataKey) *DataKey {
	return &DataKey{Org: k.Org, Environment: string(k.Environment), Generation: k.Generation, Wrapped: k.Wrapped, CreatedAt: k.CreatedAt}
}

// Domain returns r as the domain's DataKey.
func (r *DataKey) Domain() *secrets.DataKey {
	return &secrets.DataKey{Org: r.Org, Environment: secrets.Environment(r.Environment), Generation: r.Generation, Wrapped: r.Wrapped, CreatedAt: r.CreatedAt}
}

// FromAudit returns a as stored.
func FromAudit(a *secrets.AuditRecord) *Audit {
	r := &Audit{
		ID:          a.ID,
		Org:         a.Org,
		Time:        a.Time,
		Actor:       AuditActor{Kind: string(a.Actor.Kind), TokenID: a.Actor.TokenID, Subject: a.Actor.Subject, Name: a.Actor.Name},
		Action:      a.Action,
		RequestID:   a.RequestID,
		SecretID:    a.SecretID,
		Environment: string(a.Environment),
		Secrets: convert(a.Secrets, func(e secrets.AuditEntry) AuditEntry {
			return AuditEntry{Name: e.Name, Layer: e.Layer, Version: e.Version}
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

// Domain returns r as the domain's AuditRecord.
func (r *Audit) Domain() *secrets.AuditRecord {
	a := &secrets.AuditRecord{
		ID:          r.ID,
		Org:         r.Org,
		Time:        r.Time,
		Actor:       secrets.AuditActor{Kind: secrets.TokenKind(r.Actor.Kind), TokenID: r.Actor.TokenID, Subject: r.Actor.Subject, Name: r.Actor.Name},
		Action:      r.Action,
		RequestID:   r.RequestID,
		SecretID:    r.SecretID,
		Environment: secrets.Environment(r.Environment),
		Secrets: convert(r.Secrets, func(e AuditEntry) secrets.AuditEntry {
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
