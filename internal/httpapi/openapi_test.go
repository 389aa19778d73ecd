package httpapi_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/service"
)

// openAPIMethods are the operation keys of an OpenAPI path item.
var openAPIMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// TestOpenAPI keeps the document served at GET /v1/openapi.json in step
// with httpapi.Routes().
func TestOpenAPI(t *testing.T) {
	raw := fetchOpenAPIDocument(t)
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("the served document is not valid JSON: %v", err)
	}
	routes := httpapi.Routes()

	t.Run("the served document is the openapi.json file", func(t *testing.T) {
		file, err := os.ReadFile("openapi.json")
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(raw, file) {
			t.Error("GET /v1/openapi.json does not serve openapi.json as it is")
		}
	})

	t.Run("it is an OpenAPI 3.1.0 document", func(t *testing.T) {
		if got, want := doc["openapi"], "3.1.0"; got != want {
			t.Errorf("openapi = %v, want %q", got, want)
		}
		info := openAPIObject(t, doc, "info")
		if got, want := info["title"], "zwrm secrets API"; got != want {
			t.Errorf("info.title = %v, want %q", got, want)
		}
		if s, _ := info["version"].(string); s == "" {
			t.Error("info.version is missing")
		}
	})

	t.Run("there is exactly one operation per route", func(t *testing.T) {
		var want []string
		for _, rt := range routes {
			want = append(want, rt.Method+" "+openAPIPath(rt.Pattern))
		}
		var got []string
		for path, item := range openAPIObject(t, doc, "paths") {
			for _, m := range openAPIMethods {
				if _, ok := item.(map[string]any)[m]; ok {
					got = append(got, strings.ToUpper(m)+" "+path)
				}
			}
		}
		sort.Strings(want)
		sort.Strings(got)
		for _, op := range openAPIMissing(want, got) {
			t.Errorf("route %s has no operation in the document", op)
		}
		for _, op := range openAPIMissing(got, want) {
			t.Errorf("operation %s is not a route", op)
		}
		if len(want) != len(slices.Compact(slices.Clone(want))) {
			t.Errorf("Routes() lists a method and path twice: %v", want)
		}
	})

	t.Run("each operationId is its route's name", func(t *testing.T) {
		seen := map[string]bool{}
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			if got, want := op["operationId"], rt.Name; got != want {
				t.Errorf("%s %s: operationId = %v, want %q", rt.Method, rt.Pattern, got, want)
			}
			if seen[rt.Name] {
				t.Errorf("route name %q is used twice", rt.Name)
			}
			seen[rt.Name] = true
		}
	})

	t.Run("every path parameter of a template is declared, and no other", func(t *testing.T) {
		wildcard := regexp.MustCompile(`\{([^}]+)\}`)
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			path := openAPIPath(rt.Pattern)
			var want []string
			for _, m := range wildcard.FindAllStringSubmatch(path, -1) {
				want = append(want, m[1])
			}
			declared := openAPIPathParameters(t, doc, path, op)
			var got []string
			for name, p := range declared {
				got = append(got, name)
				if p["required"] != true {
					t.Errorf("%s %s: path parameter %s is not required: true", rt.Method, path, name)
				}
				if _, ok := p["schema"].(map[string]any); !ok {
					t.Errorf("%s %s: path parameter %s has no schema", rt.Method, path, name)
				}
			}
			sort.Strings(want)
			sort.Strings(got)
			for _, name := range openAPIMissing(want, got) {
				t.Errorf("%s %s: path parameter %s is not declared", rt.Method, path, name)
			}
			for _, name := range openAPIMissing(got, want) {
				t.Errorf("%s %s: declares path parameter %s, which is not in the path", rt.Method, path, name)
			}
		}
	})

	t.Run("bearer auth applies to every route but the public ones, SigV4 to the IAM ones", func(t *testing.T) {
		scheme := openAPIObject(t, openAPIObject(t, openAPIObject(t, doc, "components"), "securitySchemes"), "bearerAuth")
		if got, want := scheme["type"], "http"; got != want {
			t.Errorf("bearerAuth type = %v, want %q", got, want)
		}
		if got, want := scheme["scheme"], "bearer"; got != want {
			t.Errorf("bearerAuth scheme = %v, want %q", got, want)
		}
		sigv4, err := json.Marshal(openAPIObject(t, openAPIObject(t, openAPIObject(t, doc, "components"), "securitySchemes"), "awsSigV4"))
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(sigv4), `{"description":"AWS Signature Version 4, verified by API Gateway (IAM authorization)","in":"header","name":"Authorization","type":"apiKey"}`; got != want {
			t.Errorf("awsSigV4 = %s, want %s", got, want)
		}
		global, err := json.Marshal(doc["security"])
		if err != nil {
			t.Fatal(err)
		}
		if got, want := string(global), `[{"bearerAuth":[]}]`; got != want {
			t.Errorf("global security = %s, want %s", got, want)
		}
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			sec, overrides := op["security"]
			switch {
			case rt.Auth == httpapi.AuthIAM:
				if got, _ := json.Marshal(sec); string(got) != `[{"awsSigV4":[]}]` {
					t.Errorf("%s %s takes IAM callers: security = %s, want [{\"awsSigV4\":[]}]", rt.Method, rt.Pattern, got)
				}
			case rt.Auth == httpapi.AuthNone && !overrides:
				t.Errorf("%s %s is public but does not set security: []", rt.Method, rt.Pattern)
			case rt.Auth == httpapi.AuthNone:
				if list, ok := sec.([]any); !ok || len(list) != 0 {
					t.Errorf("%s %s is public: security = %v, want []", rt.Method, rt.Pattern, sec)
				}
			case overrides:
				t.Errorf("%s %s needs a token but overrides security with %v", rt.Method, rt.Pattern, sec)
			}
		}
	})

	t.Run("every route that needs a token documents 401 and no public one does", func(t *testing.T) {
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			_, has := openAPIObject(t, op, "responses")["401"]
			if got, want := has, rt.Auth != httpapi.AuthNone; got != want {
				t.Errorf("%s %s: documents 401 = %v, want %v", rt.Method, rt.Pattern, got, want)
			}
		}
	})

	t.Run("exactly the operations with a request body document 413 and 415", func(t *testing.T) {
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			_, body := op["requestBody"]
			responses := openAPIObject(t, op, "responses")
			for _, status := range []string{"413", "415"} {
				if _, has := responses[status]; has != body {
					t.Errorf("%s %s: has a request body = %v but documents %s = %v", rt.Method, rt.Pattern, body, status, has)
				}
			}
		}
	})

	t.Run("each operation has one declared tag", func(t *testing.T) {
		declared := map[string]bool{}
		for _, tag := range doc["tags"].([]any) {
			declared[tag.(map[string]any)["name"].(string)] = true
		}
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			tags, _ := op["tags"].([]any)
			if got, want := len(tags), 1; got != want {
				t.Errorf("%s %s has %d tags, want %d", rt.Method, rt.Pattern, got, want)
				continue
			}
			if name, _ := tags[0].(string); !declared[name] {
				t.Errorf("%s %s: tag %q is not declared in tags", rt.Method, rt.Pattern, name)
			}
		}
	})

	t.Run("the two resolves are the only operations marked as returning plaintext", func(t *testing.T) {
		plaintext := map[string]bool{"resolve": true, "resolveIAM": true}
		for _, rt := range routes {
			op := openAPIOperation(t, doc, rt)
			if op == nil {
				continue
			}
			if got, want := op["x-plaintext"] == true, plaintext[rt.Name]; got != want {
				t.Errorf("%s %s: x-plaintext = %v, want %v", rt.Method, rt.Pattern, got, want)
			}
		}
	})

	t.Run("every $ref resolves to a component that exists", func(t *testing.T) {
		openAPIWalkRefs(doc, "#", func(at, ref string) {
			if !strings.HasPrefix(ref, "#/components/") {
				t.Errorf("%s: $ref %q does not point into #/components", at, ref)
				return
			}
			if _, ok := openAPIResolve(doc, ref); !ok {
				t.Errorf("%s: $ref %q resolves to nothing", at, ref)
			}
		})
	})

	t.Run("no component is unused", func(t *testing.T) {
		// Components reached from outside components, then from the
		// components reached, until nothing new is reached.
		used := map[string]bool{}
		var queue []string
		reach := func(_, ref string) {
			if !used[ref] {
				used[ref] = true
				queue = append(queue, ref)
			}
		}
		for key, v := range doc {
			if key != "components" {
				openAPIWalkRefs(v, "#/"+key, reach)
			}
		}
		for len(queue) > 0 {
			ref := queue[0]
			queue = queue[1:]
			if v, ok := openAPIResolve(doc, ref); ok {
				openAPIWalkRefs(v, ref, reach)
			}
		}
		components := openAPIObject(t, doc, "components")
		for kind, section := range components {
			if kind == "securitySchemes" {
				continue // named by security requirements, not by $ref
			}
			for name := range section.(map[string]any) {
				if ref := "#/components/" + kind + "/" + name; !used[ref] {
					t.Errorf("%s is never used", ref)
				}
			}
		}
		if _, ok := components["schemas"]; !ok {
			t.Error("the document has no component schemas")
		}
	})
}

// fetchOpenAPIDocument serves GET /v1/openapi.json, without a token, from
// an API handler over a real service, and returns the body.
func fetchOpenAPIDocument(t *testing.T) []byte {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "zwrm.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		t.Fatal(err)
	}
	wrapper, err := localkey.New(master)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	svc := service.New(store, wrapper, service.Config{Logger: logger})
	h := httpapi.New(svc, httpapi.Options{Logger: logger})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/v1/openapi.json", nil))
	if got, want := rec.Code, http.StatusOK; got != want {
		t.Fatalf("GET /v1/openapi.json without a token: status %d, want %d; body %s", got, want, rec.Body)
	}
	if got, want := rec.Header().Get("Content-Type"), "application/json"; got != want {
		t.Errorf("Content-Type = %q, want %q", got, want)
	}
	if got, want := rec.Header().Get("Cache-Control"), "no-store"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	return rec.Body.Bytes()
}

// openAPIPath converts a net/http pattern (without its method) to an
// OpenAPI path template: "{name...}" becomes "{name}" and "{$}" goes.
func openAPIPath(pattern string) string {
	return strings.ReplaceAll(strings.ReplaceAll(pattern, "...}", "}"), "{$}", "")
}

// openAPIObject returns m[key] as an object, failing the test if it is not one.
func openAPIObject(t *testing.T, m map[string]any, key string) map[string]any {
	t.Helper()
	v, ok := m[key].(map[string]any)
	if !ok {
		t.Fatalf("%q is not an object: %v", key, m[key])
	}
	return v
}

// openAPIOperation returns the operation of rt, or nil (reporting an error)
// if the document has none.
func openAPIOperation(t *testing.T, doc map[string]any, rt httpapi.Route) map[string]any {
	t.Helper()
	item, _ := openAPIObject(t, doc, "paths")[openAPIPath(rt.Pattern)].(map[string]any)
	op, ok := item[strings.ToLower(rt.Method)].(map[string]any)
	if !ok {
		t.Errorf("no operation for %s %s", rt.Method, openAPIPath(rt.Pattern))
		return nil
	}
	return op
}

// openAPIPathParameters returns the path parameters that apply to op, by
// name: those of its path item, overridden by its own, with $refs resolved.
func openAPIPathParameters(t *testing.T, doc map[string]any, path string, op map[string]any) map[string]map[string]any {
	t.Helper()
	params := map[string]map[string]any{}
	item := openAPIObject(t, openAPIObject(t, doc, "paths"), path)
	for _, list := range []any{item["parameters"], op["parameters"]} {
		entries, _ := list.([]any)
		for _, e := range entries {
			p, _ := e.(map[string]any)
			if ref, ok := p["$ref"].(string); ok {
				v, ok := openAPIResolve(doc, ref)
				if !ok {
					t.Errorf("%s: parameter $ref %q resolves to nothing", path, ref)
					continue
				}
				p, _ = v.(map[string]any)
			}
			if p["in"] != "path" {
				continue
			}
			name, _ := p["name"].(string)
			params[name] = p
		}
	}
	return params
}

// openAPIWalkRefs calls fn with the location and target of every $ref in v.
func openAPIWalkRefs(v any, at string, fn func(at, ref string)) {
	switch v := v.(type) {
	case map[string]any:
		if ref, ok := v["$ref"].(string); ok {
			fn(at, ref)
		}
		for k, child := range v {
			openAPIWalkRefs(child, at+"/"+openAPIEscape(k), fn)
		}
	case []any:
		for i, child := range v {
			openAPIWalkRefs(child, at+"/"+strconv.Itoa(i), fn)
		}
	}
}

// openAPIResolve follows a local JSON pointer ("#/a/b") in doc.
func openAPIResolve(doc map[string]any, ref string) (any, bool) {
	pointer, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil, false
	}
	var v any = doc
	for _, token := range strings.Split(pointer, "/") {
		token = strings.ReplaceAll(strings.ReplaceAll(token, "~1", "/"), "~0", "~")
		m, ok := v.(map[string]any)
		if !ok {
			return nil, false
		}
		if v, ok = m[token]; !ok {
			return nil, false
		}
	}
	return v, true
}

func openAPIEscape(token string) string {
	return strings.ReplaceAll(strings.ReplaceAll(token, "~", "~0"), "/", "~1")
}

// openAPIMissing returns the elements of want that are not in got.
func openAPIMissing(want, got []string) []string {
	var out []string
	for _, w := range want {
		if !slices.Contains(got, w) {
			out = append(out, w)
		}
	}
	return out
}

// TestOpenAPIIsGenerated: the committed document and the web UI's routes
// module are what `make openapi` writes from the route table and the wire
// types.
func TestOpenAPIIsGenerated(t *testing.T) {
	doc, err := httpapi.OpenAPIDocument()
	if err != nil {
		t.Fatal(err)
	}
	for file, want := range map[string][]byte{"openapi.json": doc, "../../web/src/routes.js": httpapi.RoutesModule()} {
		if got, err := os.ReadFile(filepath.FromSlash(file)); err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s is not what make openapi generates (%v): run make openapi", file, err)
		}
	}
}
