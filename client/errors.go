package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// Error is an answer of the API other than 2xx: its HTTP status and the
// API's error body (code, message, field, request id). Message is the
// API's message, which names the field and the rule but never a value.
// Message, Field and RequestID are Printable: safe to write to a terminal
// or a log.
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
	// The error names the URL, whose path may hold an id argument that was
	// a token pasted by mistake.
	return Printable(fmt.Sprintf("cannot reach the API at %s: %v", e.Endpoint, e.Err))
}

func (e *NetworkError) Unwrap() error { return e.Err }

// errorFrom reads an error answer. A body that is not the API's error shape
// (a proxy's HTML page, say) is not quoted: the status says enough.
func errorFrom(resp *http.Response, raw []byte) *Error {
	var body wire.ErrorBody
	if json.Unmarshal(raw, &body) == nil && body.Error.Message != "" {
		d := body.Error
		e := &Error{Status: resp.StatusCode, Code: d.Code, Message: Printable(d.Message), Field: Printable(d.Field), RequestID: Printable(d.RequestID)}
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
		RequestID: Printable(resp.Header.Get("X-Request-Id")),
	}
}

// Printable is a message from the API made safe to print: tokens redacted
// (secrets.RedactTokens) and terminal controls removed (StripControls).
func Printable(s string) string { return StripControls(secrets.RedactTokens(s)) }

// StripControls removes what a terminal would act on rather than show:
// escape sequences (ESC and what follows it: CSI, OSC and other strings,
// two-byte sequences), C0 controls but newline and tab, DEL and the C1
// controls U+0080 to U+009F. Bytes that are not UTF-8 become U+FFFD. A
// string that comes from a server (an error message, an owner's name) can
// otherwise clear the screen, rewrite what was printed before it, or set
// the window title.
func StripControls(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
			continue
		case r == '\n' || r == '\t':
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			i += size
			continue
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		b.WriteString(s[i : i+size])
		i += size
	}
	return b.String()
}

// escapeLen is the length of the escape sequence at the start of s (which
// starts with ESC), as ECMA-48 frames it.
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[': // CSI: parameter and intermediate bytes, then a final byte
		i := 2
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x3f {
			i++
		}
		if i < len(s) && s[i] >= 0x40 && s[i] <= 0x7e {
			i++
		}
		return i
	case ']', 'P', 'X', '^', '_': // OSC, DCS and other strings: up to BEL or ESC \
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b {
				if i+1 < len(s) && s[i+1] == '\\' {
					return i + 2
				}
				return i
			}
		}
		return len(s)
	}
	i := 1 // intermediate bytes, then a final byte
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
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
