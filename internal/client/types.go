package client

import (
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Me is the caller as the API knows it (GET /v1/me). A service token has
// no role and carries a scope.
type Me struct {
	Org          string            `json:"org"`
	Subject      string            `json:"subject"`
	Name         string            `json:"name"`
	Kind         secrets.TokenKind `json:"kind"`
	Role         secrets.Role      `json:"role,omitempty"`
	RolePriority int               `json:"role_priority"`
	TokenID      string            `json:"token_id"`
	Scope        *secrets.Scope    `json:"scope,omitempty"`
}

// LayerSecret is a secret as the org, app and machine secrets API shows
// it: never a value.
type LayerSecret struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Environments says which environments hold a value.
type Environments struct {
	Development bool `json:"development"`
	Staging     bool `json:"staging"`
	Production  bool `json:"production"`
}

// Has reports whether env holds a value.
func (e Environments) Has(env secrets.Environment) bool {
	switch env {
	case secrets.Development:
		return e.Development
	case secrets.Staging:
		return e.Staging
	case secrets.Production:
		return e.Production
	}
	return false
}

// Secret is a secret's metadata (a row of GET /v1/secrets): never a value.
// App and Machine are empty at the global layer.
type Secret struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	App          string            `json:"app,omitempty"`
	Machine      string            `json:"machine,omitempty"`
	Environments Environments      `json:"environments"`
	Owner        secrets.Principal `json:"owner"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	UpdatedBy    secrets.Principal `json:"updated_by"`
	Version      int64             `json:"version"`
}

// Layer is the layer the secret lives at.
func (s *Secret) Layer() secrets.Layer { return secrets.Layer{App: s.App, Machine: s.Machine} }

// SecretDetail is a secret with the mask of each environment's value (nil
// where there is none), its rotation policy, and whether the caller may
// modify it.
type SecretDetail struct {
	Secret
	Masked    map[secrets.Environment]*string `json:"masked"`
	Rotation  *Rotation                       `json:"rotation"`
	CanModify bool                            `json:"can_modify"`
}

// Rotation is a secret's rotation policy.
type Rotation struct {
	Every        string                `json:"every"`
	Environments []secrets.Environment `json:"environments"`
	Length       int                   `json:"length"`
	Alphabet     string                `json:"alphabet"`
	NextAt       time.Time             `json:"next_at"`
	LastAt       *time.Time            `json:"last_at"`
}

// Version is one version of a secret, with masks only.
type Version struct {
	Version      int64                           `json:"version"`
	Change       string                          `json:"change"`
	RestoredFrom int64                           `json:"restored_from,omitempty"`
	Description  string                          `json:"description"`
	Environments Environments                    `json:"environments"`
	Masked       map[secrets.Environment]*string `json:"masked"`
	UpdatedAt    time.Time                       `json:"updated_at"`
	UpdatedBy    secrets.Principal               `json:"updated_by"`
	Current      bool                            `json:"current"`
}

// VersionList is a secret's history, newest first.
type VersionList struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Versions []Version `json:"versions"`
}

// CreateSecretRequest is the body of POST /v1/secrets. Values holds the
// environments to set.
type CreateSecretRequest struct {
	Name        string                         `json:"name"`
	Description string                         `json:"description,omitempty"`
	App         string                         `json:"app,omitempty"`
	Machine     string                         `json:"machine,omitempty"`
	Values      map[secrets.Environment]string `json:"values,omitempty"`
}

// UpdateSecretRequest is the body of PATCH /v1/secrets/{id}: the version
// being changed and only what changes. In Values, a nil value clears that
// environment.
type UpdateSecretRequest struct {
	Version     int64                           `json:"version"`
	Description *string                         `json:"description,omitempty"`
	Values      map[secrets.Environment]*string `json:"values,omitempty"`
}

// RotationRequest is the body of PUT /v1/secrets/{id}/rotation. Length and
// Alphabet default on the server when zero.
type RotationRequest struct {
	Every        string                `json:"every"`
	Environments []secrets.Environment `json:"environments"`
	Length       int                   `json:"length,omitempty"`
	Alphabet     string                `json:"alphabet,omitempty"`
}

// Resolved is the answer of a resolve: name → value, in plaintext.
type Resolved struct {
	Environment secrets.Environment `json:"environment"`
	Secrets     map[string]string   `json:"secrets"`
}

// Token is a token's record. Token is the bearer token itself, set only in
// the answer to CreateToken (and never for iam tokens).
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
	CreatedBy    secrets.Principal     `json:"created_by"`
	ExpiresAt    *time.Time            `json:"expires_at"`
	RevokedAt    *time.Time            `json:"revoked_at"`
	Token        string                `json:"token,omitempty"`
}

// CreateTokenRequest is the body of POST /v1/tokens. A user token has
// Subject, Name and Role; a service token has Name, Environments and
// optionally App and Machine; an iam token has what a service token has
// and PrincipalARN.
type CreateTokenRequest struct {
	Kind         secrets.TokenKind     `json:"kind"`
	Name         string                `json:"name"`
	Subject      string                `json:"subject,omitempty"`
	Role         secrets.Role          `json:"role,omitempty"`
	App          string                `json:"app,omitempty"`
	Machine      string                `json:"machine,omitempty"`
	Environments []secrets.Environment `json:"environments,omitempty"`
	PrincipalARN string                `json:"principal_arn,omitempty"`
	ExpiresAt    *time.Time            `json:"expires_at,omitempty"`
}

// AuditPage is one page of the audit trail, newest first. NextCursor is
// empty on the last page.
type AuditPage struct {
	Records    []secrets.AuditRecord `json:"records"`
	NextCursor string                `json:"next_cursor"`
}
