// Package wire owns the contract of API v1: every request and response body
// of the HTTP API and of the direct resolve invocation, and the error body.
// The HTTP handler, the Lambda adapters and the Go client all use these
// types, and the OpenAPI document is generated from them, so the shapes
// exist once.
//
// Domain types (package secrets) are never put on the wire: handlers map
// them to these types explicitly, so renaming a domain field changes no
// byte of the API. Named string types of the domain (Environment, Role,
// TokenKind, Code) appear here as values only.
//
// Answers that were once written as JSON maps list their fields in the
// order of their JSON names, so their bytes are what they were.
package wire

import (
	"strings"

	"github.com/zwrm/secrets/internal/secrets"
)

// ErrorBody is every error answer of the API.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail says what went wrong: a code (one per HTTP status), a message
// for a person, the field at fault and the request id to quote.
type ErrorDetail struct {
	Code      secrets.Code `json:"code"`
	Message   string       `json:"message"`
	Field     string       `json:"field,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

// Codes of the HTTP layer itself, beside the domain's.
const (
	CodeMethodNotAllowed secrets.Code = "method_not_allowed"
	CodeTooLarge         secrets.Code = "too_large"
	CodeUnsupportedMedia secrets.Code = "unsupported_media_type"
)

// BearerToken reads the token of an Authorization header ("Bearer <token>",
// the scheme in any case). It answers unauthorized errors that say what to
// send.
func BearerToken(header string) (string, error) {
	if header == "" {
		return "", secrets.Errorf(secrets.CodeUnauthorized, "missing token: send Authorization: Bearer <token>")
	}
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
		return "", secrets.Errorf(secrets.CodeUnauthorized, "the Authorization header must be Bearer <token>")
	}
	return strings.TrimSpace(token), nil
}

// Principal names a person or workload: a stable subject and a display name.
type Principal struct {
	Subject string `json:"subject"`
	Name    string `json:"name"`
}

// Layer is a layer as the audit trail names it: both fields absent at the
// global layer.
type Layer struct {
	App     string `json:"app,omitempty"`
	Machine string `json:"machine,omitempty"`
}

// LayerEntry is one app or machine layer that holds secrets.
type LayerEntry struct {
	App     string  `json:"app"`
	Machine *string `json:"machine"`
}

// LayerList is the answer of GET /v1/layers.
type LayerList struct {
	Layers []LayerEntry `json:"layers"`
}

// Health is the answer of GET /healthz.
type Health struct {
	Status string `json:"status"`
}

// Scope bounds what a service token may resolve.
type Scope struct {
	App          string                `json:"app,omitempty"`
	Machine      string                `json:"machine,omitempty"`
	Environments []secrets.Environment `json:"environments,omitempty"`
}

// Me is the caller as the API knows it (GET /v1/me). A service token has
// no role (null) and carries a scope.
type Me struct {
	Kind                 secrets.TokenKind     `json:"kind"`
	Name                 string                `json:"name"`
	Org                  string                `json:"org"`
	Role                 *secrets.Role         `json:"role"`
	RolePriority         int                   `json:"role_priority"`
	Scope                *Scope                `json:"scope,omitempty"`
	Subject              string                `json:"subject"`
	TokenID              string                `json:"token_id"`
	WritableEnvironments []secrets.Environment `json:"writable_environments"`
}

// Optional is s as a JSON string, or nil (null) when it is empty.
func Optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// Deref is *p, or "" for nil: the other way of Optional.
func Deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// RoleName is the caller's role, or "" for a service token.
func (m *Me) RoleName() secrets.Role {
	if m.Role == nil {
		return ""
	}
	return *m.Role
}
