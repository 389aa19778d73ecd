package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
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
		return &secrets.Error{Code: wire.CodeTooLarge, Message: fmt.Sprintf("the request body is over %d KiB", MaxBodyBytes>>10)}
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
			return &secrets.Error{Code: wire.CodeUnsupportedMedia, Message: "send the body as application/json (Content-Type: application/json)"}
		}
	}
	return DecodeBody(body, v)
}

// DecodeBody decodes a request body into v, translating decoding errors
// into validation errors that name the field and never quote the input.
// Before decoding it refuses what encoding/json would accept silently: a
// key given twice, a key that matches a field only in another case, and a
// \u escape that is not a valid UTF-16 surrogate pair (see checkStrict).
func DecodeBody(body []byte, v any) error {
	if err := checkStrict(body, reflect.TypeOf(v)); err != nil {
		return err
	}
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

// checkStrict walks body as a stream of JSON tokens, guided by t (the type
// it will be decoded into), and refuses with the JSON path of the key:
//   - a key given twice in one object, at any depth: encoding/json keeps the
//     last, so what a proxy or a log reads may differ from what is stored;
//   - a key that matches a field of a struct only in another case ("NAME"
//     for "name"): encoding/json matches case-insensitively, we do not;
//   - a \u escape that is a lone surrogate, or a high surrogate not followed
//     by a low one: encoding/json stores U+FFFD, another value than sent.
//
// Map keys (the environments of "values") are matched exactly, as a map
// holds them. Anything else wrong (syntax, types, unknown fields) is left to
// the decoder, which says what it is.
func checkStrict(body []byte, t reflect.Type) error {
	s := &strictScanner{dec: json.NewDecoder(bytes.NewReader(body)), raw: body}
	s.dec.UseNumber() // a number too large for a float64 is the decoder's to refuse
	err := s.value(t, "", 0)
	var e *secrets.Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// maxStrictDepth is encoding/json's nesting limit: past it the decoder
// refuses the body itself.
const maxStrictDepth = 10000

// errStop ends the walk without a finding of its own.
var errStop = errors.New("stop")

type strictScanner struct {
	dec  *json.Decoder
	raw  []byte
	prev int64 // offset just after the previous token
}

// token returns the next token and, for a string, whether its raw text
// holds only valid surrogate escapes. Token() has already replaced a bad
// surrogate by U+FFFD, so the raw bytes between the previous token and this
// one (separators, then the string literal) are read instead.
func (s *strictScanner) token() (tok json.Token, badEscape bool, err error) {
	tok, err = s.dec.Token()
	if err != nil {
		return nil, false, errStop
	}
	start := s.prev
	s.prev = s.dec.InputOffset()
	if _, ok := tok.(string); ok && start >= 0 && s.prev <= int64(len(s.raw)) && start <= s.prev {
		badEscape = !validSurrogates(s.raw[start:s.prev])
	}
	return tok, badEscape, nil
}

// value checks the next JSON value, to be decoded into t (nil: unknown or
// decoded by its own method), found at path.
func (s *strictScanner) value(t reflect.Type, path string, depth int) error {
	if depth > maxStrictDepth {
		return errStop
	}
	tok, bad, err := s.token()
	if err != nil {
		return err
	}
	if bad {
		return invalidEscape(path)
	}
	t = strictType(t)
	switch tok {
	case json.Delim('{'):
		return s.object(t, path, depth)
	case json.Delim('['):
		var elem reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			elem = t.Elem()
		}
		for i := 0; s.dec.More(); i++ {
			if err := s.value(elem, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
		_, _, err := s.token() // ']'
		return err
	}
	return nil
}

func (s *strictScanner) object(t reflect.Type, path string, depth int) error {
	var fields map[string]reflect.Type
	var elem reflect.Type
	switch {
	case t == nil:
	case t.Kind() == reflect.Struct:
		fields = jsonFields(t)
	case t.Kind() == reflect.Map:
		elem = t.Elem()
	}
	seen := map[string]bool{}
	for s.dec.More() {
		tok, bad, err := s.token()
		if err != nil {
			return err
		}
		key, _ := tok.(string)
		at := joinPath(path, key)
		if bad {
			return invalidEscape(at)
		}
		if seen[key] {
			return secrets.Invalid(at, "is given twice; send each key once")
		}
		seen[key] = true
		into := elem
		if fields != nil {
			f, ok := fields[key]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, key) {
						return secrets.Invalid(at, "is not a field of this request: field names are case-sensitive; write %q", name)
					}
				}
			}
			into = f
		}
		if err := s.value(into, at, depth+1); err != nil {
			return err
		}
	}
	_, _, err := s.token() // '}'
	return err
}

var (
	jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()
	textUnmarshaler = reflect.TypeFor[interface{ UnmarshalText([]byte) error }]()
)

// strictType is the type a value is decoded into once pointers are
// followed, or nil when it decodes itself (time.Time) or is unknown.
func strictType(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil || reflect.PointerTo(t).Implements(jsonUnmarshaler) || reflect.PointerTo(t).Implements(textUnmarshaler) {
		return nil
	}
	return t
}

// jsonFields are the JSON names of a struct's fields, as encoding/json
// sees them (embedded structs without a tag lend theirs).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	eachJSONField(t, func(name, _ string, ft reflect.Type) {
		if _, ok := out[name]; !ok {
			out[name] = ft
		}
	})
	return out
}

// eachJSONField calls fn with the JSON name, the tag options and the type
// of each field of struct t that encoding/json reads and writes, the fields
// of embedded structs without a tag included, in order.
func eachJSONField(t reflect.Type, fn func(name, opts string, ft reflect.Type)) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if f.Anonymous && name == "" {
			if et := strictType(f.Type); et != nil && et.Kind() == reflect.Struct {
				eachJSONField(et, fn)
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		fn(name, opts, f.Type)
	}
}

// joinPath names a key below path: values.production. A key that is not
// a plain word is quoted (and cut short), so that a message never carries
// control characters or a page of text.
func joinPath(path, key string) string {
	plain := key != "" && len(key) <= 64
	for i := 0; plain && i < len(key); i++ {
		c := key[i]
		plain = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-'
	}
	if !plain {
		if len(key) > 64 {
			key = strings.ToValidUTF8(key[:64], "") + "…"
		}
		key = strconv.QuoteToASCII(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func invalidEscape(path string) error {
	const msg = "holds a \\u escape of a lone UTF-16 surrogate (\\ud800-\\udfff not in a high-low pair), which is not text; send the text as UTF-8"
	if path == "" {
		return secrets.Invalid("", "the body "+msg)
	}
	return secrets.Invalid(path, msg)
}

// validSurrogates reports whether every \u escape in lit (raw JSON text
// holding one string literal) that is a UTF-16 surrogate is a high one
// followed at once by a low one.
func validSurrogates(lit []byte) bool {
	for i := 0; i < len(lit); i++ {
		if lit[i] != '\\' {
			continue
		}
		i++ // the escaped character
		if i >= len(lit) || lit[i] != 'u' {
			continue
		}
		r, ok := hex4(lit[i+1:])
		if !ok {
			continue // a syntax error, the decoder's to report
		}
		i += 4
		switch {
		case r >= 0xD800 && r < 0xDC00:
			if i+6 < len(lit) && lit[i+1] == '\\' && lit[i+2] == 'u' {
				if lo, ok := hex4(lit[i+3:]); ok && lo >= 0xDC00 && lo <= 0xDFFF {
					i += 6
					continue
				}
			}
			return false
		case r >= 0xDC00 && r <= 0xDFFF:
			return false
		}
	}
	return true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	n, err := strconv.ParseUint(string(b[:4]), 16, 32)
	return rune(n), err == nil
}
