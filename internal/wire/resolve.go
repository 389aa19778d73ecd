package wire

import (
	"github.com/zwrm/secrets/internal/secrets"
)

// ResolveRequest is the body of POST /v1/resolve and /v1/resolve/iam. A
// service token's scope supplies the layer it leaves out.
type ResolveRequest struct {
	Environment secrets.Environment `json:"environment"`
	App         string              `json:"app,omitempty"`
	Machine     string              `json:"machine,omitempty"`
	// Names, when given, selects the names to resolve.
	Names []string `json:"names,omitempty"`
	// IfNoneMatch is the fingerprint of an earlier answer: when nothing
	// changed the answer is 304 with no body.
	IfNoneMatch string `json:"if_none_match,omitempty"`
}

// Resolved is the answer of a resolve: name → value, in plaintext, where
// each value came from, and the fingerprint of what it returned.
type Resolved struct {
	Environment secrets.Environment       `json:"environment"`
	Fingerprint string                    `json:"fingerprint"`
	Secrets     map[string]string         `json:"secrets"`
	Sources     map[string]ResolvedSource `json:"sources"`
}

// ResolvedSource is where a resolved value came from: the kind of layer
// (global, app or machine) and the secret's version there.
type ResolvedSource struct {
	Layer   string `json:"layer"`
	Version int64  `json:"version"`
}

// DirectResolveRequest is a direct invocation of the resolve-direct
// function by another AWS workload (lambda:InvokeFunction): a resolve
// request with the service token in the payload.
type DirectResolveRequest struct {
	Token string `json:"token"`
	ResolveRequest
}

// DirectResolveResponse answers a direct invocation: the secrets, or an
// error in the API's shape.
type DirectResolveResponse struct {
	Environment secrets.Environment `json:"environment,omitempty"`
	Fingerprint string              `json:"fingerprint,omitempty"`
	// NotModified is true, with no secrets, when the request's
	// if_none_match equals the fingerprint.
	NotModified bool              `json:"not_modified,omitempty"`
	Secrets     map[string]string `json:"secrets,omitempty"`
	Error       *ErrorDetail      `json:"error,omitempty"`
}

// Effective is the answer of GET /v1/effective: what a resolve at
// the layer would return for the environment, with masks in place of
// values. App and Machine are the layer asked for (null when left out).
type Effective struct {
	Environment secrets.Environment `json:"environment"`
	App         *string             `json:"app"`
	Machine     *string             `json:"machine"`
	Secrets     []EffectiveSecret   `json:"secrets"`
	// NextCursor is the cursor of the next page, left out after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// Layer is the layer asked for.
func (e *Effective) Layer() secrets.Layer {
	return secrets.Layer{App: Deref(e.App), Machine: Deref(e.Machine)}
}

// EffectiveSecret is one name a workload at the layer receives: the layer
// its value comes from (global, app or machine) and the lower layers that
// value overrides, nearest first.
type EffectiveSecret struct {
	Name      string              `json:"name"`
	ID        string              `json:"id"`
	Layer     string              `json:"layer"`
	Version   int64               `json:"version"`
	Mask      string              `json:"mask"`
	Owner     Principal           `json:"owner"`
	Overrides []EffectiveOverride `json:"overrides"`
}

// EffectiveOverride is a lower layer's value for the name that the winner
// hides.
type EffectiveOverride struct {
	Layer   string    `json:"layer"`
	Version int64     `json:"version"`
	Owner   Principal `json:"owner"`
}
