package httpapi

import (
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// The API never serializes a domain type: these map them to their wire
// types, field by field.

func principalOf(p secrets.Principal) wire.Principal {
	return wire.Principal{Subject: p.Subject, Name: p.Name}
}

func envsOf(s *secrets.Secret) wire.Environments {
	return wire.Environments{Development: s.Has(secrets.Development), Staging: s.Has(secrets.Staging), Production: s.Has(secrets.Production)}
}

func masksOf(s *secrets.Secret) wire.Masks {
	m := make(wire.Masks, 3)
	for _, env := range secrets.Environments {
		m[env] = nil
		if v, ok := s.Values[env]; ok {
			mask := v.Mask
			m[env] = &mask
		}
	}
	return m
}

func fingerprintsOf(s *secrets.Secret) wire.Fingerprints {
	m := make(wire.Fingerprints, 3)
	for _, env := range secrets.Environments {
		m[env] = nil
		if v, ok := s.Values[env]; ok && v.Fingerprint != "" {
			fp := v.Fingerprint
			m[env] = &fp
		}
	}
	return m
}

func rowOf(s *secrets.Secret) wire.SecretRow {
	return wire.SecretRow{ID: s.ID, Name: s.Name, Description: s.Description, App: wire.Optional(s.Layer.App), Machine: wire.Optional(s.Layer.Machine),
		Environments: envsOf(s), Owner: principalOf(s.Owner), CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, UpdatedBy: principalOf(s.UpdatedBy), Version: s.Version}
}

func rotationOf(r *secrets.Rotation) *wire.Rotation {
	if r == nil {
		return nil
	}
	return &wire.Rotation{Every: r.Every, Environments: r.Environments, Length: r.Length, Alphabet: r.Alphabet, NextAt: r.NextAt, LastAt: r.LastAt}
}

func tokenOf(t *secrets.Token) wire.Token {
	v := wire.Token{ID: t.ID, Kind: t.Kind, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, CreatedBy: principalOf(t.CreatedBy),
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
	if t.Kind == secrets.TokenUser {
		v.Subject, v.Role, v.RolePriority = t.Subject, t.Role, t.Role.Priority()
	} else {
		v.App, v.Machine, v.Environments, v.PrincipalARN = t.Scope.App, t.Scope.Machine, t.Scope.Environments, t.PrincipalARN
	}
	return v
}

func auditRecordOf(r *secrets.AuditRecord) wire.AuditRecord {
	out := wire.AuditRecord{ID: r.ID, Org: r.Org, Time: r.Time, Action: r.Action, RequestID: r.RequestID, SecretID: r.SecretID,
		Environment: r.Environment, TokenID: r.TokenID, Detail: r.Detail, ExpiresAt: r.ExpiresAt, Manifest: r.Manifest, SecretCount: r.SecretCount,
		Actor: wire.AuditActor{Kind: r.Actor.Kind, TokenID: r.Actor.TokenID, Subject: r.Actor.Subject, Name: r.Actor.Name}}
	if r.Layer != nil {
		out.Layer = &wire.Layer{App: r.Layer.App, Machine: r.Layer.Machine}
	}
	if r.Secrets != nil {
		out.Secrets = mapAll(r.Secrets, func(e secrets.AuditEntry) wire.AuditEntry {
			return wire.AuditEntry{Name: e.Name, Layer: e.Layer, Version: e.Version}
		})
	}
	return out
}

func orgOf(o *secrets.Org) wire.Org {
	out := wire.Org{ID: o.ID, CreatedAt: o.CreatedAt, UserResolveEnvironments: o.UserResolveEnvironments,
		AuditRetentionDays: o.AuditRetentionDays, SettingsVersion: o.SettingsVersion}
	if o.EnvironmentPolicies != nil {
		out.EnvironmentPolicies = make(map[secrets.Environment]wire.EnvironmentPolicy, len(o.EnvironmentPolicies))
		for env, p := range o.EnvironmentPolicies {
			out.EnvironmentPolicies[env] = wire.EnvironmentPolicy{MinWritePriority: p.MinWritePriority}
		}
	}
	return out
}

// mapAll maps each of in with f into a slice that is never nil, so that an
// empty list is [] in JSON, not null.
func mapAll[T, U any](in []T, f func(T) U) []U {
	out := make([]U, 0, len(in))
	for _, v := range in {
		out = append(out, f(v))
	}
	return out
}

// envStrings are environments as the service's inputs take them.
func envStrings(envs []secrets.Environment) []string {
	if envs == nil {
		return nil
	}
	return mapAll(envs, func(e secrets.Environment) string { return string(e) })
}
