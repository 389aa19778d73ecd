package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
)

// MaxBodyBytes bounds every request body.
const MaxBodyBytes = 256 << 10

// decodeJSON reads r's body into v: a single JSON object of known fields,
// sent as application/json, at most MaxBodyBytes. With optional set, an
// empty body leaves v as it is.
func decodeJSON(r *http.Request, v any, optional bool) error {
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxBodyBytes+1))
	if err != nil {
		return secrets.Invalid("", "could not read the request body")
	}
	if len(body) > MaxBodyBytes {
		return &secrets.Error{Code: codeTooLarge, Message: fmt.Sprintf("the request body is over %d KiB", MaxBodyBytes>>10)}
	}
	if !utf8.Valid(body) {
		// encoding/json would replace the bad bytes with U+FFFD and store
		// a different value than the one sent.
		return secrets.Invalid("", "the body is not valid UTF-8; send values as UTF-8 text (binary data encoded, e.g. as base64)")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if optional {
			return nil
		}
		return secrets.Invalid("", "a JSON body is required")
	}
	if ct := r.Header.Get("Content-Type"); ct != "" || !optional {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			return &secrets.Error{Code: codeUnsupportedMedia, Message: "send the body as application/json (Content-Type: application/json)"}
		}
	}
	return DecodeBody(body, v)
}

// DecodeBody decodes a request body into v, translating decoding errors
// into validation errors that name the field and never quote the input.
func DecodeBody(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return secrets.Invalid("", "the body must hold a single JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return secrets.Invalid("", "the body is not valid JSON (error at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return secrets.Invalid("", "the body is not valid JSON (it ends early)")
	case errors.As(err, &typ):
		if typ.Field == "" {
			return secrets.Invalid("", "the body must be a JSON object")
		}
		return secrets.Invalid(typ.Field, "must be %s, not a JSON %s", jsonKind(typ.Type.Kind().String()), typ.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return secrets.Invalid(field, "is not a field of this request")
	}
	return secrets.Invalid("", "the body could not be decoded as JSON")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "int", "int64", "int32", "uint", "uint64":
		return "an integer"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "map", "struct":
		return "an object"
	case "ptr":
		return "a string or null"
	}
	return "of another type"
}
