package httpapi

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// The OpenAPI document (openapi.json) is generated: paths, operations,
// security, request bodies and every body schema come from Routes() and the
// wire types they name; openapi.prose.json adds what a person writes (the
// info, tags, parameters, summaries, descriptions, the statuses each
// operation answers besides those implied, and the descriptions and limits
// of schema properties). Prose for a property or operation that the code
// does not have is an error, so the two cannot drift apart.
//
// A small generator rather than a library: the document's shapes must be
// exactly encoding/json's (a pointer without omitempty is nullable, a field
// without omitempty is required, an embedded struct is flattened, a map keyed
// by environment has the three environments as properties), which needs
// these few rules, not a library's defaults and hooks.

//go:embed openapi.prose.json
var openAPIProse []byte

// OpenAPIDocument generates the OpenAPI document, as `make openapi` writes
// it to openapi.json.
func OpenAPIDocument() ([]byte, error) {
	var prose map[string]any
	if err := json.Unmarshal(openAPIProse, &prose); err != nil {
		return nil, fmt.Errorf("openapi.prose.json: %w", err)
	}
	g := &docGen{schemas: map[string]any{}, proseSchemas: obj(obj(prose["components"])["schemas"])}
	doc := map[string]any{}
	for k, v := range prose {
		doc[k] = v
	}
	paths, err := g.paths(obj(prose["paths"]))
	if err != nil {
		return nil, err
	}
	g.schemaRef(reflect.TypeFor[wire.ErrorBody](), false) // the shared error responses name it
	doc["paths"] = paths
	components := map[string]any{}
	for k, v := range obj(prose["components"]) {
		components[k] = v
	}
	// Named scalars of the prose (SecretName, ...) stay as written.
	for name, s := range g.proseSchemas {
		if _, generated := g.schemas[name]; !generated && !g.described[name] {
			g.schemas[name] = s
		}
	}
	components["schemas"] = g.schemas
	doc["components"] = components
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

type docGen struct {
	schemas      map[string]any // generated components
	proseSchemas map[string]any
	described    map[string]bool // prose schemas that describe a generated one
	requests     map[reflect.Type]bool
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

func (g *docGen) paths(prose map[string]any) (map[string]any, error) {
	g.described = map[string]bool{}
	g.requests = map[reflect.Type]bool{}
	out := map[string]any{}
	seen := map[string]bool{}
	for _, rt := range Routes() {
		path := rt.Pattern
		method := strings.ToLower(rt.Method)
		item := obj(prose[path])
		op := obj(item[method])
		if op == nil {
			return nil, fmt.Errorf("openapi.prose.json: no operation %s %s for route %s", rt.Method, path, rt.Name)
		}
		seen[method+" "+path] = true
		gen := map[string]any{}
		for k, v := range op {
			gen[k] = v
		}
		gen["operationId"] = rt.Name
		switch rt.Auth {
		case AuthNone:
			gen["security"] = []any{}
		case AuthIAM:
			gen["security"] = []any{map[string]any{"awsSigV4": []any{}}}
		}
		responses := map[string]any{}
		for k, v := range obj(op["responses"]) {
			responses[k] = v
		}
		if rt.Auth != AuthNone {
			responses["401"] = ref("responses", "Unauthorized")
		}
		if rt.Request != nil {
			body := map[string]any{"required": true}
			for k, v := range obj(op["requestBody"]) {
				body[k] = v
			}
			body["content"] = jsonContent(g.schemaRef(rt.Request, true))
			gen["requestBody"] = body
			responses["413"] = ref("responses", "PayloadTooLarge")
			responses["415"] = ref("responses", "UnsupportedMediaType")
		} else if op["requestBody"] != nil {
			return nil, fmt.Errorf("openapi.prose.json: %s %s has a request body; route %s has none", rt.Method, path, rt.Name)
		}
		success := 0
		for status, v := range responses {
			n, _ := strconv.Atoi(status)
			if n < 200 || n > 299 {
				continue
			}
			success++
			if rt.Response == nil || n == 204 {
				continue
			}
			resp := map[string]any{}
			for k, v := range obj(v) {
				resp[k] = v
			}
			resp["content"] = jsonContent(g.schemaRef(rt.Response, false))
			responses[status] = resp
		}
		if success == 0 {
			return nil, fmt.Errorf("openapi.prose.json: %s %s documents no success status", rt.Method, path)
		}
		gen["responses"] = responses
		if out[path] == nil {
			params := []any{}
			for _, m := range pathParam.FindAllStringSubmatch(path, -1) {
				name := pathParams[m[1]]
				if m[1] == "id" && strings.HasPrefix(path, "/v1/tokens/") {
					name = "TokenID"
				}
				params = append(params, ref("parameters", name))
			}
			genItem := map[string]any{}
			if len(params) > 0 {
				genItem["parameters"] = params
			}
			out[path] = genItem
		}
		out[path].(map[string]any)[method] = gen
	}
	for path, item := range prose {
		for method := range obj(item) {
			if !seen[method+" "+path] {
				return nil, fmt.Errorf("openapi.prose.json: %s %s is no route", strings.ToUpper(method), path)
			}
		}
	}
	for name := range g.proseSchemas {
		if _, ok := g.schemas[name]; ok {
			g.described[name] = true
		}
	}
	return out, nil
}

// pathParams names the parameter component of each path wildcard.
var pathParams = map[string]string{"app": "App", "machine": "Machine", "name": "Name", "id": "SecretID", "n": "VersionNumber"}

func jsonContent(schema any) map[string]any {
	return map[string]any{"application/json": map[string]any{"schema": schema}}
}

func ref(kind, name string) map[string]any {
	return map[string]any{"$ref": "#/components/" + kind + "/" + name}
}

func obj(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

var (
	timeType = reflect.TypeFor[time.Time]()
	envType  = reflect.TypeFor[secrets.Environment]()
)

// schemaRef is the schema of t, a reference for a struct or a named map.
// A request's objects refuse unknown fields, as the handler does.
func (g *docGen) schemaRef(t reflect.Type, request bool) any {
	switch {
	case t == timeType:
		if _, ok := g.schemas["Timestamp"]; !ok {
			g.schemas["Timestamp"] = g.described1("Timestamp", map[string]any{"type": "string", "format": "date-time"})
		}
		return ref("schemas", "Timestamp")
	case t == envType:
		if _, ok := g.schemas["Environment"]; !ok {
			enum := []any{}
			for _, e := range secrets.Environments {
				enum = append(enum, string(e))
			}
			g.schemas["Environment"] = g.described1("Environment", map[string]any{"type": "string", "enum": enum})
		}
		return ref("schemas", "Environment")
	case t.Kind() == reflect.Struct || t.Kind() == reflect.Map && t.Name() != "":
		name := t.Name()
		if _, ok := g.schemas[name]; !ok {
			g.schemas[name] = nil // a placeholder against recursion
			g.schemas[name] = g.described1(name, g.schemaOf(t, request))
		}
		return ref("schemas", name)
	}
	return g.schemaOf(t, request)
}

// described1 adds the prose of the component name to s: its description,
// and each property's description and limits.
func (g *docGen) described1(name string, s map[string]any) map[string]any {
	p := obj(g.proseSchemas[name])
	if p == nil {
		return s
	}
	for k, v := range p {
		if k == "properties" {
			continue
		}
		s[k] = v
	}
	props := obj(s["properties"])
	for prop, extra := range obj(p["properties"]) {
		have := obj(props[prop])
		if have == nil {
			panic(fmt.Sprintf("openapi.prose.json: schema %s has no property %s", name, prop))
		}
		props[prop] = merge(have, obj(extra))
	}
	return s
}

// merge puts prose on a generated property schema. A $ref in the prose
// names a scalar of the prose (SecretName, LayerID, ...) in place of the
// plain type; for a nullable property it stays nullable.
func merge(have, extra map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range have {
		out[k] = v
	}
	if r, ok := extra["$ref"]; ok {
		nullable := false
		if ts, ok := have["type"].([]any); ok && slices.Contains(ts, any("null")) {
			nullable = true
		}
		out = map[string]any{"$ref": r}
		if nullable {
			out = map[string]any{"oneOf": []any{map[string]any{"$ref": r}, map[string]any{"type": "null"}}}
		}
	}
	for k, v := range extra {
		if k != "$ref" {
			out[k] = v
		}
	}
	return out
}

func (g *docGen) schemaOf(t reflect.Type, request bool) map[string]any {
	switch t.Kind() {
	case reflect.Pointer:
		return nullable(g.schemaRef(t.Elem(), request))
	case reflect.String:
		return map[string]any{"type": "string"}
	case reflect.Bool:
		return map[string]any{"type": "boolean"}
	case reflect.Int, reflect.Int64, reflect.Int32:
		return map[string]any{"type": "integer"}
	case reflect.Slice:
		return map[string]any{"type": "array", "items": g.schemaRef(t.Elem(), request)}
	case reflect.Map:
		if t.Key() == envType {
			props := map[string]any{}
			for _, e := range secrets.Environments {
				props[string(e)] = g.schemaRef(t.Elem(), request)
			}
			return map[string]any{"type": "object", "properties": props, "additionalProperties": false}
		}
		return map[string]any{"type": "object", "additionalProperties": g.schemaRef(t.Elem(), request)}
	case reflect.Struct:
		props := map[string]any{}
		var required []string
		g.fields(t, request, props, &required)
		s := map[string]any{"type": "object", "properties": props}
		if len(required) > 0 {
			s["required"] = required
		}
		if request {
			s["additionalProperties"] = false
		}
		return s
	}
	panic(fmt.Sprintf("openapi: no schema for %s", t))
}

// fields adds the JSON fields of struct t, as encoding/json writes them:
// embedded structs lend theirs; a field without omitempty or omitzero is
// always there, so required.
func (g *docGen) fields(t reflect.Type, request bool, props map[string]any, required *[]string) {
	eachJSONField(t, func(name, opts string, ft reflect.Type) {
		optional := strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")
		if optional && ft.Kind() == reflect.Pointer {
			ft = ft.Elem() // left out rather than null
		}
		props[name] = g.schemaRef(ft, request)
		if !optional {
			*required = append(*required, name)
		}
	})
}

// nullable is s that may also be null.
func nullable(s any) map[string]any {
	m := obj(s)
	if t, ok := m["type"].(string); ok {
		out := map[string]any{}
		for k, v := range m {
			out[k] = v
		}
		out["type"] = []any{t, "null"}
		return out
	}
	return map[string]any{"oneOf": []any{s, map[string]any{"type": "null"}}}
}

// RoutesModule is web/src/routes.js: each operation's method and path
// template by its name, so the web UI calls operations, never hand-typed
// paths.
func RoutesModule() []byte {
	var b bytes.Buffer
	b.WriteString("// Generated by `make openapi` from the API's route table; do not edit.\n")
	b.WriteString("// Each operation of API v1 by its OpenAPI operationId: its method and path\n// template ({name} is a path parameter).\n")
	b.WriteString("export const routes = Object.freeze({\n")
	for _, rt := range Routes() {
		fmt.Fprintf(&b, "  %s: Object.freeze({ method: %q, path: %q }),\n", rt.Name, rt.Method, rt.Pattern)
	}
	b.WriteString("});\n")
	return b.Bytes()
}
