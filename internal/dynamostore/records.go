package dynamostore

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// Records: the attributes of each item kind, beside its key attributes
// (items.go). Each is one of these types, encoded with attributevalue
// under its dynamodbav names (snake_case, so they never meet the
// CamelCase key attributes) and mapped field by field to and from the
// domain's types, so that a change of the domain (a field renamed, a type
// moved) changes no stored attribute unless a mapping here changes too.
// The golden file (testdata/items.golden.json) pins what they encode to.
//
// Fields hold only built-in types and time.Time: nothing here takes its
// encoding from the domain package.

// record is every type the store encodes and decodes: its own, never the
// domain's.
type record interface {
	orgRecord | secretRecord | tokenRecord | dataKeyRecord | auditRecord
}

// Attributes that conditions, updates and projections name.
const (
	attrID        = "id"
	attrOrg       = "org"
	attrLayer     = "layer"
	attrName      = "name"
	attrVersion   = "version"
	attrOwner     = "owner"
	attrSubject   = "subject"
	attrValues    = "values"
	attrRevokedAt = "revoked_at"
)

// Times are stored as RFC 3339 with nanoseconds, in UTC.
func timeValue(t time.Time) types.AttributeValue { return str(t.UTC().Format(time.RFC3339Nano)) }

func encoderOptions(o *attributevalue.EncoderOptions) {
	o.EncodeTime = func(t time.Time) (types.AttributeValue, error) { return timeValue(t), nil }
}

// encodeItem returns r as an item of kind typ at k, with extra
// attributes (index keys) added.
func encodeItem[R record](r *R, typ string, k key, extra map[string]string) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(r, encoderOptions)
	if err != nil {
		return nil, fmt.Errorf("encode %s item: %w", typ, err)
	}
	item[AttrPK], item[AttrSK], item[AttrType] = str(k.pk), str(k.sk), str(typ)
	for name, value := range extra {
		item[name] = str(value)
	}
	return item, nil
}

// decodeItem decodes the record in item; the key attributes are not its.
func decodeItem[R record](item map[string]types.AttributeValue) (*R, error) {
	r := new(R)
	if err := attributevalue.UnmarshalMap(item, r); err != nil {
		return nil, fmt.Errorf("decode item %s/%s: %w", stringAttr(item, AttrPK), stringAttr(item, AttrSK), err)
	}
	return r, nil
}

type orgRecord struct {
	ID                      string                     `dynamodbav:"id"`
	CreatedAt               time.Time                  `dynamodbav:"created_at"`
	UserResolveEnvironments []string                   `dynamodbav:"user_resolve_environments,omitempty"`
	EnvironmentPolicies     map[string]envPolicyRecord `dynamodbav:"environment_policies,omitempty"`
	AuditRetentionDays      int                        `dynamodbav:"audit_retention_days,omitempty"`
	SettingsVersion         int64                      `dynamodbav:"settings_version,omitempty"`
}

type envPolicyRecord struct {
	MinWritePriority int `dynamodbav:"min_write_priority"`
}

type secretRecord struct {
	ID           string                       `dynamodbav:"id"`
	Org          string                       `dynamodbav:"org"`
	Layer        layerRecord                  `dynamodbav:"layer"`
	Name         string                       `dynamodbav:"name"`
	Description  string                       `dynamodbav:"description"`
	Values       map[string]sealedValueRecord `dynamodbav:"values,omitempty"`
	Owner        principalRecord              `dynamodbav:"owner"`
	CreatedAt    time.Time                    `dynamodbav:"created_at"`
	UpdatedAt    time.Time                    `dynamodbav:"updated_at"`
	UpdatedBy    principalRecord              `dynamodbav:"updated_by"`
	Version      int64                        `dynamodbav:"version"`
	Change       string                       `dynamodbav:"change"`
	RestoredFrom int64                        `dynamodbav:"restored_from,omitempty"`
	Rotation     *rotationRecord              `dynamodbav:"rotation,omitempty"`
}

type layerRecord struct {
	App     string `dynamodbav:"app,omitempty"`
	Machine string `dynamodbav:"machine,omitempty"`
}

type principalRecord struct {
	Subject string `dynamodbav:"subject"`
	Name    string `dynamodbav:"name"`
}

type sealedValueRecord struct {
	Ciphertext []byte `dynamodbav:"ciphertext"`
	Mask       string `dynamodbav:"mask"`
	MaskRule   int    `dynamodbav:"mask_rule,omitempty"`
}

type rotationRecord struct {
	Every        string     `dynamodbav:"every"`
	EverySeconds int64      `dynamodbav:"every_seconds"`
	Environments []string   `dynamodbav:"environments"`
	Length       int        `dynamodbav:"length"`
	Alphabet     string     `dynamodbav:"alphabet"`
	NextAt       time.Time  `dynamodbav:"next_at"`
	LastAt       *time.Time `dynamodbav:"last_at,omitempty"`
}

type tokenRecord struct {
	ID           string          `dynamodbav:"id"`
	Org          string          `dynamodbav:"org"`
	Kind         string          `dynamodbav:"kind"`
	Hash         []byte          `dynamodbav:"hash"`
	Prefix       string          `dynamodbav:"prefix"`
	Subject      string          `dynamodbav:"subject,omitempty"`
	Name         string          `dynamodbav:"name"`
	Role         string          `dynamodbav:"role,omitempty"`
	Scope        scopeRecord     `dynamodbav:"scope,omitempty"`
	PrincipalARN string          `dynamodbav:"principal_arn,omitempty"`
	CreatedAt    time.Time       `dynamodbav:"created_at"`
	CreatedBy    principalRecord `dynamodbav:"created_by"`
	ExpiresAt    *time.Time      `dynamodbav:"expires_at,omitempty"`
	RevokedAt    *time.Time      `dynamodbav:"revoked_at,omitempty"`
}

type scopeRecord struct {
	App          string   `dynamodbav:"app,omitempty"`
	Machine      string   `dynamodbav:"machine,omitempty"`
	Environments []string `dynamodbav:"environments,omitempty"`
}

type dataKeyRecord struct {
	Org         string    `dynamodbav:"org"`
	Environment string    `dynamodbav:"environment"`
	Generation  int       `dynamodbav:"generation"`
	Wrapped     []byte    `dynamodbav:"wrapped"`
	CreatedAt   time.Time `dynamodbav:"created_at"`
}

type auditRecord struct {
	ID          string             `dynamodbav:"id"`
	Org         string             `dynamodbav:"org"`
	Time        time.Time          `dynamodbav:"time"`
	Actor       auditActorRecord   `dynamodbav:"actor"`
	Action      string             `dynamodbav:"action"`
	RequestID   string             `dynamodbav:"request_id,omitempty"`
	SecretID    string             `dynamodbav:"secret_id,omitempty"`
	Layer       *layerRecord       `dynamodbav:"layer,omitempty"`
	Environment string             `dynamodbav:"environment,omitempty"`
	Secrets     []auditEntryRecord `dynamodbav:"secrets,omitempty"`
	TokenID     string             `dynamodbav:"token_id,omitempty"`
	Detail      string             `dynamodbav:"detail,omitempty"`
	Manifest    string             `dynamodbav:"manifest,omitempty"`
	SecretCount int                `dynamodbav:"secret_count,omitempty"`
}

type auditActorRecord struct {
	Kind    string `dynamodbav:"kind"`
	TokenID string `dynamodbav:"token_id,omitempty"`
	Subject string `dynamodbav:"subject,omitempty"`
	Name    string `dynamodbav:"name"`
}

type auditEntryRecord struct {
	Name    string `dynamodbav:"name"`
	Layer   string `dynamodbav:"layer,omitempty"`
	Version int64  `dynamodbav:"version"`
}

// Mappings, field by field. Nil lists and maps stay nil: an item tells
// an empty list from none.

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

// decodeWith returns a decoder of items holding an R, mapped to the
// domain with domain.
func decodeWith[R record, T any](domain func(*R) *T) func(map[string]types.AttributeValue) (*T, error) {
	return func(item map[string]types.AttributeValue) (*T, error) {
		r, err := decodeItem[R](item)
		if err != nil {
			return nil, err
		}
		return domain(r), nil
	}
}
