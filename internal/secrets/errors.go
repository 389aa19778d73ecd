package secrets

import (
	"context"
	"errors"
	"fmt"
)

// Code classifies an error for callers: the HTTP layer maps each code to one
// status, the CLI to one exit code.
type Code string

const (
	CodeInvalid      Code = "invalid"      // the request breaks a rule; Field names where
	CodeUnauthorized Code = "unauthorized" // no token, a bad, expired or revoked one
	CodeForbidden    Code = "forbidden"    // authenticated, but not allowed
	CodeNotFound     Code = "not_found"    // absent, or in another organization
	CodeConflict     Code = "conflict"     // duplicate name or stale version
	CodeUnavailable  Code = "unavailable"  // a dependency is throttling or down; retry later
	CodeInternal     Code = "internal"     // a bug or an unexpected dependency failure
)

// Error is the domain's error: a code, a message a person can act on, and for
// validation errors the field at fault. Message never holds a secret value.
type Error struct {
	Code    Code
	Field   string
	Message string
	Err     error // the underlying cause; never shown to clients
}

func (e *Error) Error() string {
	msg := e.Message
	if e.Field != "" {
		msg = e.Field + ": " + msg
	}
	if e.Err != nil {
		return msg + ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Invalid reports a rule broken by one field of a request.
func Invalid(field, format string, args ...any) *Error {
	return &Error{Code: CodeInvalid, Field: field, Message: fmt.Sprintf(format, args...)}
}

// Internalf wraps an unexpected failure. The message stays server-side.
func Internalf(err error, format string, args ...any) *Error {
	return &Error{Code: CodeInternal, Message: fmt.Sprintf(format, args...), Err: err}
}

// ErrorCode returns the code of err: the Code of the first *Error in its
// chain, or CodeInternal for anything else.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	code := CodeInternal
	var e *Error
	if errors.As(err, &e) {
		code = e.Code
	}
	// A dependency that did not answer before the caller's deadline:
	// nothing is known to have failed, and the caller may retry.
	if code == CodeInternal && errors.Is(err, context.DeadlineExceeded) {
		return CodeUnavailable
	}
	return code
}

// IsCode reports whether err carries code.
func IsCode(err error, code Code) bool { return err != nil && ErrorCode(err) == code }

// Sentinel errors that stores return, as is or wrapped with %w. ErrExists and
// ErrStale share CodeConflict: tell them apart with errors.Is.
var (
	ErrNotFound = &Error{Code: CodeNotFound, Message: "not found"}
	ErrExists   = &Error{Code: CodeConflict, Message: "already exists"}
	ErrStale    = &Error{Code: CodeConflict, Message: "version is stale: it was changed by someone else; reload and try again"}
)
