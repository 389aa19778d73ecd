package client

import (
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// The client speaks the API's own wire types; these names make them
// usable by programs outside this module.
type (
	// Environment is development, staging or production.
	Environment = secrets.Environment
	// Layer is where a secret lives: the zero Layer is the global layer,
	// App alone an app's, App and Machine a machine's.
	Layer = secrets.Layer
	// Code is the kind of an API error (invalid, not_found, ...).
	Code = secrets.Code

	// Me is the caller as the API knows it (GET /v1/me). A service token
	// has no role (nil) and carries a scope.
	Me = wire.Me
	// Scope bounds what a service token may resolve.
	Scope = wire.Scope
	// Principal names a person or workload.
	Principal = wire.Principal
	// LayerSecret is a secret as the org, app and machine secrets API
	// shows it: never a value.
	LayerSecret = wire.LayerSecret
	// SetLayerSecretRequest is what SetLayerSecretWith sends.
	SetLayerSecretRequest = wire.SetLayerSecretRequest
	// Environments says which environments hold a value.
	Environments = wire.Environments
	// Secret is a secret's metadata (a row of GET /v1/secrets): never a
	// value. App and Machine are nil at the layers above theirs; Layer()
	// gives the layer.
	Secret = wire.SecretRow
	// SecretDetail is a secret with the mask of each environment's value
	// (nil where there is none), its rotation policy, whether the caller
	// may modify it and which environments' values it may change.
	SecretDetail = wire.SecretDetail
	// Rotation is a secret's rotation policy.
	Rotation = wire.Rotation
	// Version is one version of a secret, with masks only.
	Version = wire.Version
	// VersionList is a secret's history, newest first.
	VersionList = wire.VersionList
	// EnvironmentValues are values by environment: a string sets one, nil
	// clears it.
	EnvironmentValues = wire.EnvironmentValues
	// CreateSecretRequest is the body of POST /v1/secrets.
	CreateSecretRequest = wire.CreateSecretRequest
	// UpdateSecretRequest is the body of PATCH /v1/secrets/{id}: the
	// version being changed and only what changes.
	UpdateSecretRequest = wire.UpdateSecretRequest
	// RotationRequest is the body of PUT /v1/secrets/{id}/rotation.
	RotationRequest = wire.RotationRequest
	// Resolved is the answer of a resolve: name → value, in plaintext,
	// each value's source and the answer's fingerprint.
	Resolved = wire.Resolved
	// ResolvedSource is where a resolved value came from: layer and version.
	ResolvedSource = wire.ResolvedSource
	// Token is a token's record; Token.Token is the bearer token, set only
	// in the answer to CreateToken (and never for iam tokens).
	Token = wire.Token
	// CreateTokenRequest is the body of POST /v1/tokens.
	CreateTokenRequest = wire.CreateTokenRequest
	// AuditPage is one page of the audit trail, newest first; NextCursor
	// is empty on the last page.
	AuditPage = wire.AuditPage
	// AuditRecord says who did what, when, to which secrets and versions.
	AuditRecord = wire.AuditRecord
	// Org is an organization's settings.
	Org = wire.Org
	// OrgUpdate is what PATCH /v1/org changes; what is left out keeps its
	// setting.
	OrgUpdate = wire.UpdateOrgRequest
	// EnvironmentPolicy is who may write an environment's values.
	EnvironmentPolicy = wire.EnvironmentPolicy
	// EnvironmentPolicyUpdate is one environment's policy in an OrgUpdate.
	EnvironmentPolicyUpdate = wire.EnvironmentPolicyInput
	// Effective is the answer of GET /v1/effective: what a resolve at a
	// layer would return for an environment, with masks in place of values.
	Effective = wire.Effective
	// EffectiveSecret is one name a workload at the layer receives.
	EffectiveSecret = wire.EffectiveSecret
	// EffectiveOverride is a lower layer's value that the winner hides.
	EffectiveOverride = wire.EffectiveOverride
	// SecretPage is one page of GET /v1/secrets; NextCursor is "" on the last.
	SecretPage = wire.SecretList
	// LayerSecretPage is one page of a layer's list in the org, app and
	// machine secrets API; NextCursor is "" on the last.
	LayerSecretPage = wire.LayerSecretList
)

// Values sets each environment of m to its value, for a
// CreateSecretRequest.
func Values(m map[Environment]string) EnvironmentValues { return wire.Values(m) }

// The environments.
const (
	Development = secrets.Development
	Staging     = secrets.Staging
	Production  = secrets.Production
)
