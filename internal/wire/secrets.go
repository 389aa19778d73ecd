package wire

import (
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// SetLayerSecretRequest is the body of POST on a layer's path in the org,
// app and machine secrets API: the value of one environment, or of all
// three when environment is left out.
type SetLayerSecretRequest struct {
	Name        string              `json:"name"`
	Value       string              `json:"value"`
	Environment secrets.Environment `json:"environment,omitempty"`
	// OnlyIfSame, without environment, refuses (400, field only_if_same)
	// when the secret's environments already hold different values,
	// instead of replacing them all.
	OnlyIfSame bool `json:"only_if_same,omitempty"`
}

// LayerSecret is a secret as the org, app and machine secrets API shows
// it: never a value.
type LayerSecret struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// LayerSecretList is one page of a layer's secrets. NextCursor is left out
// on the last page.
type LayerSecretList struct {
	NextCursor string        `json:"next_cursor,omitempty"`
	Secrets    []LayerSecret `json:"secrets"`
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

// SecretRow is a secret as the grid shows it: never a value. App and
// Machine are null at the layers above theirs.
type SecretRow struct {
	ID           string       `json:"id"`
	Name         string       `json:"name"`
	Description  string       `json:"description"`
	App          *string      `json:"app"`
	Machine      *string      `json:"machine"`
	Environments Environments `json:"environments"`
	Owner        Principal    `json:"owner"`
	CreatedAt    time.Time    `json:"created_at"`
	UpdatedAt    time.Time    `json:"updated_at"`
	UpdatedBy    Principal    `json:"updated_by"`
	Version      int64        `json:"version"`
}

// Layer is the layer the secret lives at.
func (s *SecretRow) Layer() secrets.Layer {
	return secrets.Layer{App: Deref(s.App), Machine: Deref(s.Machine)}
}

// SecretList is one page of GET /v1/secrets. NextCursor is left out on the
// last page.
type SecretList struct {
	NextCursor string      `json:"next_cursor,omitempty"`
	Secrets    []SecretRow `json:"secrets"`
}

// Masks are each environment's mask, or null where it holds no value.
type Masks map[secrets.Environment]*string

// SecretDetail is a row with the masks, the rotation policy, whether the
// caller may modify it and which environments' values it may change
// (ownership and the org's environment policies together).
type SecretDetail struct {
	SecretRow
	Masked               Masks                 `json:"masked"`
	Rotation             *Rotation             `json:"rotation"`
	CanModify            bool                  `json:"can_modify"`
	WritableEnvironments []secrets.Environment `json:"writable_environments"`
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
	Version      int64        `json:"version"`
	Change       string       `json:"change"`
	RestoredFrom int64        `json:"restored_from,omitempty"`
	Description  string       `json:"description"`
	Environments Environments `json:"environments"`
	Masked       Masks        `json:"masked"`
	Fingerprints Fingerprints `json:"fingerprints"`
	UpdatedAt    time.Time    `json:"updated_at"`
	UpdatedBy    Principal    `json:"updated_by"`
	Current      bool         `json:"current"`
}

// Fingerprints are, per environment, the first 8 hex digits of an HMAC of
// the version's value under a key the server keeps for that secret and
// environment: equal within an environment means the same value, and
// they reveal nothing of it. Null where the version has no value, or was
// written before fingerprints were kept.
type Fingerprints map[secrets.Environment]*string

// VersionList is a secret's history, newest first.
type VersionList struct {
	ID       string    `json:"id"`
	Name     string    `json:"name"`
	Versions []Version `json:"versions"`
}

// EnvironmentValues are values by environment. A string sets the
// environment's value; null clears it (on create, null is the same as
// leaving the environment out); an environment left out is kept.
type EnvironmentValues map[secrets.Environment]*string

// Values sets each environment of m to its value.
func Values(m map[secrets.Environment]string) EnvironmentValues {
	out := make(EnvironmentValues, len(m))
	for env, v := range m {
		out[env] = &v
	}
	return out
}

// CreateSecretRequest is the body of POST /v1/secrets.
type CreateSecretRequest struct {
	Name        string            `json:"name"`
	Description string            `json:"description,omitempty"`
	App         string            `json:"app,omitempty"`
	Machine     string            `json:"machine,omitempty"`
	Values      EnvironmentValues `json:"values,omitempty"`
}

// UpdateSecretRequest is the body of PATCH /v1/secrets/{id}: the version
// being changed (required; versions start at 1, so 0 is its absence) and
// only what changes. Name is refused: values are bound to the name.
type UpdateSecretRequest struct {
	Version     int64             `json:"version"`
	Name        *string           `json:"name,omitempty"`
	Description *string           `json:"description,omitempty"`
	Values      EnvironmentValues `json:"values,omitempty"`
}

// RestoreVersionRequest is the body of POST
// /v1/secrets/{id}/versions/{n}/restore: empty, or left out.
type RestoreVersionRequest struct{}

// RotationRequest is the body of PUT /v1/secrets/{id}/rotation. Length and
// Alphabet default on the server when left out.
type RotationRequest struct {
	Every        string                `json:"every"`
	Environments []secrets.Environment `json:"environments"`
	Length       int                   `json:"length,omitempty"`
	Alphabet     string                `json:"alphabet,omitempty"`
}
