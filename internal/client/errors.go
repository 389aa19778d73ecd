package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
)

// Error is an answer of the API other than 2xx: its HTTP status and the
// API's error body (code, message, field, request id). Message is the
// API's message, which names the field and the rule but never a value.
type Error struct {
	Status    int          `json:"status"`
	Code      secrets.Code `json:"code"`
	Message   string       `json:"message"`
	Field     string       `json:"field,omitempty"`
	RequestID string       `json:"request_id,omitempty"`
}

func (e *Error) Error() string { return e.Message }

// IsStatus reports whether err is an *Error with one of the statuses.
func IsStatus(err error, statuses ...int) bool {
	var e *Error
	if !errors.As(err, &e) {
		return false
	}
	for _, s := range statuses {
		if e.Status == s {
			return true
		}
	}
	return false
}

// NetworkError is a call that got no answer: the endpoint is unreachable,
// the connection failed, or the context ended.
type NetworkError struct {
	Endpoint string
	Err      error
}

func (e *NetworkError) Error() string {
	return fmt.Sprintf("cannot reach the API at %s: %v", e.Endpoint, e.Err)
}

func (e *NetworkError) Unwrap() error { return e.Err }

// errorFrom reads an error answer. A body that is not the API's error shape
// (a proxy's HTML page, say) is not quoted: the status says enough.
func errorFrom(resp *http.Response, raw []byte) *Error {
	var body struct {
		Error *Error `json:"error"`
	}
	if json.Unmarshal(raw, &body) == nil && body.Error != nil && body.Error.Message != "" {
		e := body.Error
		e.Status = resp.StatusCode
		if e.Code == "" {
			e.Code = codeOf(resp.StatusCode)
		}
		return e
	}
	if resp.StatusCode == http.StatusForbidden {
		// API Gateway answers a token its authorizer refused (bad,
		// expired or revoked) with a bare 403 {"message":"Forbidden"}: the
		// API's own 403s always carry an error body.
		return &Error{Status: http.StatusUnauthorized, Code: secrets.CodeUnauthorized,
			Message: "the token was refused (it is not valid, expired or was revoked): log in again or ask an admin for a new one"}
	}
	return &Error{
		Status:    resp.StatusCode,
		Code:      codeOf(resp.StatusCode),
		Message:   fmt.Sprintf("the server answered %d %s without an API error; is the endpoint a zwrm API?", resp.StatusCode, http.StatusText(resp.StatusCode)),
		RequestID: resp.Header.Get("X-Request-Id"),
	}
}

// codeOf is the API code that goes with a status, for answers that carry none.
func codeOf(status int) secrets.Code {
	switch status {
	case http.StatusBadRequest:
		return secrets.CodeInvalid
	case http.StatusUnauthorized:
		return secrets.CodeUnauthorized
	case http.StatusForbidden:
		return secrets.CodeForbidden
	case http.StatusNotFound:
		return secrets.CodeNotFound
	case http.StatusConflict:
		return secrets.CodeConflict
	case http.StatusServiceUnavailable, http.StatusTooManyRequests, http.StatusBadGateway, http.StatusGatewayTimeout:
		return secrets.CodeUnavailable
	}
	return secrets.CodeInternal
}
