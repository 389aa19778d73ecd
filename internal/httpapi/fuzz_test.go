package httpapi_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// requestBodies are the request types whose decoding the fuzz targets try.
func requestBodies() []any {
	return []any{&wire.CreateSecretRequest{}, &wire.UpdateSecretRequest{}, &wire.ResolveRequest{}, &wire.CreateTokenRequest{}}
}

var decodeSeeds = []string{
	``,
	` `,
	`{}`,
	`null`,
	`[]`,
	`"abcdefgh"`,
	`abcdefghijkl`,
	`{"name":"STRIPE_API_KEY","description":"d","app":"web","machine":"m1","values":{"development":"x","staging":null}}`,
	`{"version":1,"description":"x","values":{"production":null}}`,
	`{"version":"1"}`,
	`{"version":1e3}`,
	`{"version":99999999999999999999999}`,
	`{"environment":"production","app":"web","machine":"m1"}`,
	`{"kind":"service","name":"s","environments":["production"],"expires_at":"2030-01-01T00:00:00Z"}`,
	`{"kind":"user","expires_at":"tomorrow"}`,
	`{"name":"A",`,
	`{"name" "A"}`,
	`{"name":"A"} {"name":"B"}`,
	`{"name":"A"}]`,
	`{"values":{"development":5}}`,
	`{"values":["x"]}`,
	`{"unknownfieldname":"secretvalue"}`,
	`{"NAME":"A","Values":{}}`,
	"{\"name\":\"\xff\xfe\"}",
	`{"name":"\ud800"}`,
	`{"name":"A","name":"B"}`,
	`{"values":{"development":"x"`,
	`[{"name":"A"}]`,
	`{"a":{"b":{"c":{"d":[[[[[[[]]]]]]]}}}}`,
	`0`,
	`-`,
	`{"version":-1}`,
	`{"environments":"production"}`,
	`{"environments":[1,2]}`,
	// Strict requests: duplicate keys at any depth, keys that match a field
	// only in another case, and \u escapes of lone surrogates.
	`{"name":"A","n\u0061me":"B"}`,
	`{"name":"A","values":{"production":"x","production":"y"}}`,
	`{"version":1,"values":{"staging":null,"staging":"x"}}`,
	`{"kind":"user","kind":"service"}`,
	`{"a":[{"b":1,"b":2}]}`,
	`{"Name":"A"}`,
	`{"name":"A","VALUES":{"production":"x"}}`,
	`{"Environment":"production"}`,
	`{"values":{"Production":"x","production":"y"}}`,
	`{"name":"\udc00"}`,
	`{"name":"\ud800\ud800"}`,
	`{"name":"\ud800x"}`,
	`{"name":"\ud800\u0041"}`,
	`{"name":"\udbff\udfff"}`,
	`{"name":"\ud83d\ude00"}`,
	`{"name":"\\ud800"}`,
	`{"name":"\ud80"}`,
	`{"name":"\ud800\u"}`,
	`{"values":{"\ud800":"x"}}`,
	`{"environments":["production","\udfff"]}`,
	`"\ud800"`,
}

// FuzzDecodeBody: decoding any bytes into any request type never panics,
// and every error is a validation error that does not quote its input.
func FuzzDecodeBody(f *testing.F) {
	for _, s := range decodeSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, v := range requestBodies() {
			err := httpapi.DecodeBody(data, v)
			if err == nil {
				continue
			}
			if got, want := secrets.ErrorCode(err), secrets.CodeInvalid; got != want {
				t.Fatalf("DecodeBody(%q, %T) = %v: code %s, want %s", data, v, err, got, want)
			}
			if len(data) >= 8 && isLetters(data) && strings.Contains(err.Error(), string(data)) {
				t.Fatalf("DecodeBody(%q, %T) quotes its input: %v", data, v, err)
			}
		}
	})
}

func isLetters(b []byte) bool {
	for _, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// valueMarker starts every value FuzzDecodeBodyNeverQuotesValues plants, so
// that a quoted value is recognisable in any message.
const valueMarker = "Vq7Zx"

// FuzzDecodeBodyNeverQuotesValues plants a value where values go, in bodies
// that fail to decode in every way they can, and checks that no error
// quotes it.
func FuzzDecodeBodyNeverQuotesValues(f *testing.F) {
	for _, s := range []string{"sk_live_51HxyzabcdRgA1", "", "a", `"`, `\`, "}", "1", "null", "é", "\x00", "abc\ndef"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, value string) {
		raw := valueMarker + value
		q, _ := json.Marshal(raw)
		quoted := string(q)
		templates := []struct {
			into any
			body string
		}{
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted + `},"extra":true}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted + `,}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + raw + `}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":[` + quoted + `]}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":` + quoted + `}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted + `}} ` + quoted},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted + `}}` + raw},
			{&wire.CreateSecretRequest{}, quoted},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + quoted + `,"development":` + quoted + `}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","Values":{"development":` + quoted + `}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":` + strings.TrimSuffix(quoted, `"`) + `\ud800"}}`},
			{&wire.CreateSecretRequest{}, `{"name":"A","values":{"development":"\udc00` + strings.TrimPrefix(quoted, `"`) + `}}`},
			{&wire.UpdateSecretRequest{}, `{"version":` + quoted + `,"values":{"staging":` + quoted + `}}`},
			{&wire.UpdateSecretRequest{}, `{"version":1,"values":{"staging":` + quoted + `},"name":1}`},
			{&wire.UpdateSecretRequest{}, `{"version":1,"values":{"staging":` + quoted + `},"owner":"x"}`},
			{&wire.UpdateSecretRequest{}, `{"version":1,"values":{"staging":{"v":` + quoted + `}}}`},
			{&wire.ResolveRequest{}, `{"environment":` + quoted + `,"app":1}`},
			{&wire.CreateTokenRequest{}, `{"kind":"user","name":"n","expires_at":` + quoted + `}`},
		}
		for _, tc := range templates {
			err := httpapi.DecodeBody([]byte(tc.body), tc.into)
			if err == nil {
				continue
			}
			if got, want := secrets.ErrorCode(err), secrets.CodeInvalid; got != want {
				t.Fatalf("DecodeBody(%q) = %v: code %s, want %s", tc.body, err, got, want)
			}
			if strings.Contains(err.Error(), valueMarker) {
				t.Fatalf("DecodeBody(%q, %T) quotes the value: %v", tc.body, tc.into, err)
			}
		}
	})
}

// FuzzHandlerRequest posts any body to POST /v1/secrets through the handler
// itself: the answer is always one the API documents, in JSON, and never a
// panic or an internal error.
func FuzzHandlerRequest(f *testing.F) {
	e := newEnv(f)
	token := e.bootstrap(f, "acme", "root@acme.test", "Root")
	for _, s := range decodeSeeds {
		f.Add([]byte(s), "application/json")
	}
	f.Add([]byte(`{"name":"DUP"}`), "application/json")
	f.Add([]byte(`{"name":"DUP"}`), "application/json")
	f.Add([]byte(`{"name":"TXT"}`), "text/plain")
	f.Add([]byte(`{"name":"NOCT"}`), "")
	f.Add([]byte(`{"name":"CS"}`), "application/json; charset=utf-8")
	f.Add([]byte(`{"name":"BADCT"}`), "application/json; ===")
	f.Add([]byte(`{"name":"M","app":"web","machine":"m1","values":{"production":"sk_live_51HxyzabcdRgA1RgA1"}}`), "application/json")
	f.Add([]byte(`{"name":"BIG","description":"`+strings.Repeat("x", 256<<10)+`"}`), "application/json")
	f.Add([]byte(`{"name":"V","values":{"development":"`+strings.Repeat("v", 64<<10+1)+`"}}`), "application/json")
	f.Add([]byte(`{"name":"D","description":"`+strings.Repeat("é", 1001)+`"}`), "application/json")
	f.Fuzz(func(t *testing.T, body []byte, contentType string) {
		req := httptest.NewRequest("POST", "/v1/secrets", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		r := response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
		switch r.Status {
		case http.StatusCreated, http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("POST /v1/secrets %q (%q) = %s", body, contentType, r)
		}
		checkEveryResponse(t, "POST /v1/secrets", r)
		if r.Status != http.StatusCreated {
			return
		}
		// A created secret shows masks, never a value of 16 characters or
		// more (a mask is at most 15).
		var in wire.CreateSecretRequest
		if err := httpapi.DecodeBody(body, &in); err != nil {
			t.Fatalf("201 for a body that does not decode: %v", err)
		}
		out := decode[secretJSON](t, r)
		for env, v := range in.Values {
			m, ok := out.Masked[string(env)]
			if v == nil || utf8.RuneCountInString(*v) < 16 || !ok || m == nil {
				continue
			}
			if strings.Contains(*m, *v) {
				t.Fatalf("the %s mask %q shows the value", env, *m)
			}
		}
	})
}

// FuzzHandlerPath sends any method and path through the handler: the
// answer always carries Cache-Control: no-store and, unless it redirects,
// a JSON body, and is never an internal error.
func FuzzHandlerPath(f *testing.F) {
	e := newEnv(f)
	token := e.bootstrap(f, "acme", "root@acme.test", "Root")
	for _, s := range []struct{ method, path string }{
		{"GET", "/healthz"}, {"GET", "/v1/me"}, {"GET", "/v1/secrets/x"}, {"GET", "/v1/secrets/%2e%2e"},
		{"DELETE", "/v1/org/secrets/A%00B"}, {"GET", "/v1//secrets"}, {"GET", "/v1/apps/%2F/secrets"},
		{"POST", "/v1/secrets/00000000-0000-4000-8000-000000000000/versions/99999999999999999999/restore"},
		{"OPTIONS", "/v1/secrets"}, {"HEAD", "/healthz"}, {"TRACE", "/"}, {"GET", "/v1/audit?limit=abc&cursor=%ff"},
		{"GET", "/v1/secrets?app=web&machine=M"}, {"DELETE", "/v1/tokens/" + strings.Repeat("a", 300)},
	} {
		f.Add(s.method, s.path)
	}
	f.Fuzz(func(t *testing.T, method, target string) {
		if !validMethod(method) || !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n\t#") {
			return
		}
		req, err := http.NewRequest(method, "http://zwrm.test"+target, nil)
		if err != nil {
			return
		}
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		r := response{Status: rec.Code, Header: rec.Result().Header, Body: rec.Body.Bytes()}
		if r.Status >= 500 {
			t.Fatalf("%s %s = %s", method, target, r)
		}
		if r.Status >= 300 && r.Status < 400 {
			if got := r.Header.Get("Cache-Control"); got != "no-store" {
				t.Fatalf("%s %s = %d with Cache-Control %q", method, target, r.Status, got)
			}
			return
		}
		checkEveryResponse(t, method+" "+target, r)
	})
}

func validMethod(m string) bool {
	if m == "" || len(m) > 16 {
		return false
	}
	for _, c := range m {
		if !(c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}
