package httpapi_test

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// strictCases are bodies encoding/json accepts that the API refuses, and
// the field each refusal names.
var strictCases = []struct {
	name  string
	into  func() any
	body  string
	field string
	says  string
}{
	{"a key given twice", intoCreate, `{"name":"A","name":"B"}`, "name", "given twice"},
	{"a key given twice, once escaped", intoCreate, `{"name":"A","n\u0061me":"B"}`, "name", "given twice"},
	{"a key given twice inside values", intoCreate, `{"name":"A","values":{"production":"x","production":"y"}}`, "values.production", "given twice"},
	{"a key given twice in an update", intoUpdate, `{"version":1,"version":2}`, "version", "given twice"},
	{"a key given twice inside an unknown field", intoCreate, `{"name":"A","extra":{"a":1,"a":2}}`, "extra.a", "given twice"},
	{"a key given twice in an array of objects", intoCreate, `{"values":[{"a":1,"a":2}]}`, "values[0].a", "given twice"},
	{"a field in upper case", intoCreate, `{"NAME":"A"}`, "NAME", `write "name"`},
	{"a field in mixed case", intoCreate, `{"name":"A","Values":{}}`, "Values", `write "values"`},
	{"a field in another case in a token request", intoToken, `{"kind":"user","Expires_At":"2030-01-01T00:00:00Z"}`, "Expires_At", `write "expires_at"`},
	{"a field in another case in a resolve", intoResolve, `{"Environment":"production"}`, "Environment", `write "environment"`},
	{"a lone high surrogate in a value", intoCreate, `{"name":"A","values":{"production":"ab\ud800cd"}}`, "values.production", "surrogate"},
	{"a lone low surrogate in a value", intoCreate, `{"name":"A","values":{"production":"\udc00"}}`, "values.production", "surrogate"},
	{"a high surrogate followed by a letter", intoCreate, `{"name":"A","description":"\ud83dx"}`, "description", "surrogate"},
	{"a high surrogate followed by another high one", intoCreate, `{"name":"A","description":"\ud83d\ud83d"}`, "description", "surrogate"},
	{"a high surrogate at the end", intoCreate, `{"name":"\uD800"}`, "name", "surrogate"},
	{"a low surrogate before a high one", intoCreate, `{"name":"\udc00\ud800"}`, "name", "surrogate"},
	{"a lone surrogate in a key", intoCreate, `{"name":"A","values":{"prod\ud800":"x"}}`, `values."prod\ufffd"`, "surrogate"},
	{"a lone surrogate in an array", intoToken, `{"environments":["production","\udfff"]}`, "environments[1]", "surrogate"},
	{"a lone surrogate in a value that is not a string field", intoUpdate, `{"version":1,"values":{"staging":"\ud800"}}`, "values.staging", "surrogate"},
	{"a lone surrogate in a top-level string", intoCreate, `"\ud800"`, "", "surrogate"},
}

func intoCreate() any  { return &wire.CreateSecretRequest{} }
func intoUpdate() any  { return &wire.UpdateSecretRequest{} }
func intoToken() any   { return &wire.CreateTokenRequest{} }
func intoResolve() any { return &wire.ResolveRequest{} }

func TestDecodeBodyRefusesWhatJSONWouldAcceptSilently(t *testing.T) {
	t.Parallel()
	for _, tt := range strictCases {
		t.Run(tt.name, func(t *testing.T) {
			err := httpapi.DecodeBody([]byte(tt.body), tt.into())
			var e *secrets.Error
			if !errors.As(err, &e) {
				t.Fatalf("DecodeBody(%s) = %v, want an invalid error", tt.body, err)
			}
			if got, want := e.Code, secrets.CodeInvalid; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
			if got, want := e.Field, tt.field; got != want {
				t.Errorf("field = %q, want %q (%v)", got, want, err)
			}
			if !strings.Contains(err.Error(), tt.says) {
				t.Errorf("error %q does not say %q", err, tt.says)
			}
		})
	}
}

func TestDecodeBodyAcceptsWhatClientsSend(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		into func() any
		body string
	}{
		// web/src/add.js and edit.js: JSON.stringify of exact lowercase keys.
		{"the web UI's create", intoCreate, `{"name":"STRIPE_KEY","description":"d","values":{"development":"a","staging":"b"},"app":"web","machine":"m1"}`},
		{"the web UI's update", intoUpdate, `{"version":3,"description":"d","values":{"production":null,"staging":"x"}}`},
		{"the web UI's restore", func() any { return &struct{}{} }, `{}`},
		// internal/client: encoding/json of the wire types.
		{"the CLI's token request", intoToken, `{"kind":"service","subject":"","name":"n","role":"","app":"web","machine":"","environments":["production"],"principal_arn":"","expires_at":"2030-01-01T00:00:00Z"}`},
		{"the CLI's resolve", intoResolve, `{"environment":"production","app":"web","machine":"m1"}`},
		{"a surrogate pair", intoCreate, `{"name":"A","description":"\ud83d\ude00 \uD83D\uDE00"}`},
		{"an escaped backslash before a u", intoCreate, `{"name":"A","description":"\\ud800"}`},
		{"other escapes", intoCreate, `{"name":"A","description":"\u00e9\n\t\"\\\/\u0000"}`},
		{"the same key in two objects", intoCreate, `{"name":"A","values":{"development":"x"},"description":"name"}`},
		{"an environment in another case, for the handler to refuse", intoCreate, `{"values":{"Production":"x","production":"y"}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := httpapi.DecodeBody([]byte(tt.body), tt.into()); err != nil {
				t.Errorf("DecodeBody(%s) = %v", tt.body, err)
			}
		})
	}
	var got wire.CreateSecretRequest
	if err := httpapi.DecodeBody([]byte(`{"name":"A","description":"\ud83d\ude00"}`), &got); err != nil || got.Description != "😀" {
		t.Errorf("a surrogate pair decodes to %q (%v)", got.Description, err)
	}
}

func TestStrictRequestsThroughTheHandler(t *testing.T) {
	t.Parallel()
	e, super := newAcme(t)
	for _, tt := range []struct {
		body, field string
	}{
		{`{"name":"A","name":"B","values":{"development":"x"}}`, "name"},
		{`{"name":"A","values":{"production":"x","production":"y"}}`, "values.production"},
		{`{"NAME":"A","values":{"development":"x"}}`, "NAME"},
		{`{"name":"A","values":{"development":"\ud800"}}`, "values.development"},
	} {
		r := e.do(t, "POST", "/v1/secrets", super, tt.body)
		if got := wantError(t, r, http.StatusBadRequest, "invalid"); got.Field != tt.field {
			t.Errorf("POST /v1/secrets %s: field %q, want %q", tt.body, got.Field, tt.field)
		}
	}
	wantStatus(t, e.do(t, "POST", "/v1/secrets", super, `{"name":"A","values":{"development":"\ud83d\ude00"}}`), http.StatusCreated)
}

func TestErrorsNeverEchoAToken(t *testing.T) {
	t.Parallel()
	e, super := newAcme(t)
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	random := base64.RawURLEncoding.EncodeToString(b)
	for _, path := range []string{
		"/v1/tokens/zwrm_u_" + random,
		"/v1/tokens/zwrm_s_" + random,
	} {
		r := e.do(t, "DELETE", path, super, nil)
		wantError(t, r, http.StatusNotFound, "not_found", "zwrm_…(redacted)")
		if strings.Contains(string(r.Body), random) {
			t.Errorf("DELETE %s answers with the token: %s", path, r.Body)
		}
	}
	r := e.do(t, "GET", "/v1/nowhere/zwrm_u_"+random, super, nil)
	if r.Status < 400 || strings.Contains(string(r.Body), random) {
		t.Errorf("GET of an unknown path holding a token: %s", r)
	}
	// A key that is a token, in a field name.
	r = e.do(t, "POST", "/v1/secrets", super, `{"zwrm_u_`+random+`":"x"}`)
	if body := string(r.Body); r.Status != http.StatusBadRequest || strings.Contains(body, random) {
		t.Errorf("POST with a token as a key: %s", r)
	}
	var body struct {
		Error struct{ Field string } `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil || body.Error.Field != "zwrm_…(redacted)" {
		t.Errorf("the field of that error = %q (%v)", body.Error.Field, err)
	}
	e.stop()
	if e.logs.String() == "" || strings.Contains(e.logs.String(), random) {
		t.Errorf("the server log holds the token pasted into a path (or is empty): %s", e.logs.String())
	}
}
