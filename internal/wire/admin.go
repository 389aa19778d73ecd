package wire

import (
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Token is a token's record, never its hash. Token is the bearer token
// itself, only in the answer to POST /v1/tokens (and never for iam tokens).
type Token struct {
	ID           string                `json:"id"`
	Kind         secrets.TokenKind     `json:"kind"`
	Name         string                `json:"name"`
	Subject      string                `json:"subject,omitempty"`
	Role         secrets.Role          `json:"role,omitempty"`
	RolePriority int                   `json:"role_priority,omitempty"`
	App          string                `json:"app,omitempty"`
	Machine      string                `json:"machine,omitempty"`
	Environments []secrets.Environment `json:"environments,omitempty"`
	PrincipalARN string                `json:"principal_arn,omitempty"`
	Prefix       string                `json:"prefix"`
	CreatedAt    time.Time             `json:"created_at"`
	CreatedBy    Principal             `json:"created_by"`
	ExpiresAt    *time.Time            `json:"expires_at"`
	RevokedAt    *time.Time            `json:"revoked_at"`
	Token        string                `json:"token,omitempty"`
}

// TokenList is the answer of GET /v1/tokens.
type TokenList struct {
	Tokens []Token `json:"tokens"`
}

// CreateTokenRequest is the body of POST /v1/tokens. A user token has
// Subject, Name and Role; a service token has Name, Environments and
// optionally App and Machine; an iam token has what a service token has
// and PrincipalARN.
type CreateTokenRequest struct {
	Kind         secrets.TokenKind     `json:"kind"`
	Subject      string                `json:"subject,omitempty"`
	Name         string                `json:"name"`
	Role         secrets.Role          `json:"role,omitempty"`
	App          string                `json:"app,omitempty"`
	Machine      string                `json:"machine,omitempty"`
	Environments []secrets.Environment `json:"environments,omitempty"`
	PrincipalARN string                `json:"principal_arn,omitempty"`
	ExpiresAt    *time.Time            `json:"expires_at,omitempty"`
}

// AuditRecord says who did what, when, to which secrets and versions. It
// never holds a value.
type AuditRecord struct {
	ID          string              `json:"id"`
	Org         string              `json:"org"`
	Time        time.Time           `json:"time"`
	Actor       AuditActor          `json:"actor"`
	Action      string              `json:"action"`
	RequestID   string              `json:"request_id,omitempty"`
	SecretID    string              `json:"secret_id,omitempty"`
	Layer       *Layer              `json:"layer,omitempty"`
	Environment secrets.Environment `json:"environment,omitempty"`
	Secrets     []AuditEntry        `json:"secrets,omitempty"`
	TokenID     string              `json:"token_id,omitempty"`
	Detail      string              `json:"detail,omitempty"`
	ExpiresAt   time.Time           `json:"expires_at,omitzero"`
	Manifest    string              `json:"manifest,omitempty"`
	SecretCount int                 `json:"secret_count,omitempty"`
}

// AuditActor is who acted: a token's holder, or the service itself
// (kind system).
type AuditActor struct {
	Kind    secrets.TokenKind `json:"kind"`
	TokenID string            `json:"token_id,omitempty"`
	Subject string            `json:"subject,omitempty"`
	Name    string            `json:"name"`
}

// AuditEntry is one secret and version an action concerned.
type AuditEntry struct {
	Name    string `json:"name"`
	Layer   string `json:"layer,omitempty"`
	Version int64  `json:"version"`
}

// AuditPage is one page of the audit trail, newest first. NextCursor is ""
// on the last page.
type AuditPage struct {
	NextCursor string        `json:"next_cursor"`
	Records    []AuditRecord `json:"records"`
}

// Org is an organization's settings (GET and PATCH /v1/org).
type Org struct {
	ID                      string                                    `json:"id"`
	CreatedAt               time.Time                                 `json:"created_at"`
	UserResolveEnvironments []secrets.Environment                     `json:"user_resolve_environments,omitempty"`
	EnvironmentPolicies     map[secrets.Environment]EnvironmentPolicy `json:"environment_policies,omitempty"`
	AuditRetentionDays      int                                       `json:"audit_retention_days,omitempty"`
	SettingsVersion         int64                                     `json:"settings_version,omitempty"`
}

// WritePolicy is the organization's policy for env: its own, else the
// default.
func (o *Org) WritePolicy(env secrets.Environment) EnvironmentPolicy {
	if p, ok := o.EnvironmentPolicies[env]; ok {
		return p
	}
	return EnvironmentPolicy{MinWritePriority: secrets.DefaultEnvironmentPolicy(env).MinWritePriority}
}

// AuditRetention is how many days audit records are kept: the org's
// setting, else the default.
func (o *Org) AuditRetention() int {
	return (&secrets.Org{AuditRetentionDays: o.AuditRetentionDays}).AuditRetention()
}

// EnvironmentPolicy is who may write an environment's values: a role
// priority of at least MinWritePriority.
type EnvironmentPolicy struct {
	MinWritePriority int `json:"min_write_priority"`
}

// UpdateOrgRequest is the body of PATCH /v1/org: the settings that change;
// what is left out keeps its setting.
type UpdateOrgRequest struct {
	UserResolveEnvironments []secrets.Environment                          `json:"user_resolve_environments,omitempty"`
	EnvironmentPolicies     map[secrets.Environment]EnvironmentPolicyInput `json:"environment_policies,omitempty"`
	AuditRetentionDays      *int                                           `json:"audit_retention_days,omitempty"`
}

// EnvironmentPolicyInput is one environment's write policy in an update;
// min_write_priority is required.
type EnvironmentPolicyInput struct {
	MinWritePriority *int `json:"min_write_priority"`
}
