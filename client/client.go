// Package client is the Go client of the zwrm secrets HTTP API (v1), for
// workloads and tools (see ExampleClient_Resolve): a typed method for every
// route, errors that carry the API's code, message, field and status, and
// a context on every call. The zwrm CLI is built on it. Its request and
// response types are the API's own (package wire), under names a program
// outside this module can use.
//
// The client never logs, and its errors never quote a request body, so a
// value passed to it appears nowhere but in the request that carries it.
// Only Resolve and ResolveIAM return plaintext.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// maxResponseBytes bounds what the client reads of one response: a resolve
// of many large values is the biggest answer the API gives.
const maxResponseBytes = 128 << 20

// Client calls one zwrm secrets API with one token. It is safe for
// concurrent use.
type Client struct {
	endpoint string // scheme://host[/base path], without a trailing slash
	token    string
	hc       *http.Client
	ua       string
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient sets the http.Client the calls go through (timeouts,
// proxies, TLS, or a Transport that signs requests with SigV4 for
// ResolveIAM). The default is a client with a 60-second timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.hc = hc } }

// WithUserAgent sets the User-Agent header of every call.
func WithUserAgent(ua string) Option { return func(c *Client) { c.ua = ua } }

// New returns a client of the API at endpoint (for example
// http://127.0.0.1:8080 or an API Gateway URL with its stage path) that
// authenticates with token.
func New(endpoint, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(endpoint))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("endpoint %q: must be an http:// or https:// URL such as http://127.0.0.1:8080", endpoint)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("endpoint %q: must not carry credentials, a query or a fragment", endpoint)
	}
	c := &Client{endpoint: strings.TrimRight(u.String(), "/"), token: token, hc: &http.Client{Timeout: 60 * time.Second}, ua: "zwrm-go-client"}
	for _, o := range opts {
		o(c)
	}
	// Never follow a redirect: net/http would resend the token and the
	// body to wherever it points, plain http included.
	hc := *c.hc
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	c.hc = &hc
	return c, nil
}

// Endpoint returns the API's base URL.
func (c *Client) Endpoint() string { return c.endpoint }

// request is one call: method, path (already escaped), query, body.
type request struct {
	method string
	path   string
	query  url.Values
	body   any  // encoded as JSON when non-nil
	noAuth bool // send no bearer token (public and IAM routes)
	// notModified accepts a 304 answer (with no body) as a success.
	notModified bool
}

// do sends req and decodes a 2xx answer into out (unless out is nil). Any
// other answer becomes an *Error.
func (c *Client) do(ctx context.Context, req request, out any) (int, error) {
	u := c.endpoint + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		b, err := json.Marshal(req.body)
		if err != nil {
			return 0, fmt.Errorf("%s %s: encode request: %w", req.method, req.path, err)
		}
		body = bytes.NewReader(b)
	}
	hr, err := http.NewRequestWithContext(ctx, req.method, u, body)
	if err != nil {
		return 0, fmt.Errorf("%s %s: %w", req.method, req.path, err)
	}
	hr.Header.Set("Accept", "application/json")
	hr.Header.Set("User-Agent", c.ua)
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !req.noAuth {
		hr.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.hc.Do(hr)
	if err != nil {
		// url.Error names the URL, which holds no secret: paths carry names
		// and ids, never values or tokens.
		return 0, &NetworkError{Endpoint: c.endpoint, Err: err}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return resp.StatusCode, &NetworkError{Endpoint: c.endpoint, Err: fmt.Errorf("read the answer to %s %s: %w", req.method, req.path, err)}
	}
	if len(raw) > maxResponseBytes {
		return resp.StatusCode, fmt.Errorf("%s %s: the answer is over %d MiB", req.method, req.path, maxResponseBytes>>20)
	}
	if resp.StatusCode == http.StatusNotModified && req.notModified {
		return resp.StatusCode, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, errorFrom(resp, raw)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return resp.StatusCode, nil
	}
	if b, ok := out.(*[]byte); ok {
		*b = raw
		return resp.StatusCode, nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		// Never quote the body: it may be a resolve's plaintext.
		return resp.StatusCode, fmt.Errorf("%s %s: the answer (%d) is not the JSON expected: %s", req.method, req.path, resp.StatusCode, jsonProblem(err))
	}
	return resp.StatusCode, nil
}

// jsonProblem describes a decoding error without quoting the input.
func jsonProblem(err error) string {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "invalid JSON at byte " + strconv.FormatInt(syntax.Offset, 10)
	case errors.As(err, &typ):
		return "field " + typ.Field + " has an unexpected type"
	}
	return "it could not be decoded"
}

// checkUTF8 refuses a value that is not UTF-8 before it is sent: JSON
// would silently replace its invalid bytes, storing another value.
func checkUTF8(field, v string) error {
	if !utf8.ValidString(v) {
		return fmt.Errorf("%s: must be valid UTF-8 text (encode binary data, e.g. as base64)", field)
	}
	return nil
}

// checkValues refuses values that are not UTF-8 (see checkUTF8).
func checkValues(values EnvironmentValues) error {
	for env, v := range values {
		if v != nil {
			if err := checkUTF8("values."+string(env), *v); err != nil {
				return err
			}
		}
	}
	return nil
}

// seg escapes one path segment.
func seg(s string) string { return url.PathEscape(s) }

// layerPath is the base path of a layer's secrets in the org, app and
// machine secrets API.
func layerPath(l secrets.Layer) string {
	switch {
	case l.Machine != "":
		return "/v1/apps/" + seg(l.App) + "/machines/" + seg(l.Machine) + "/secrets"
	case l.App != "":
		return "/v1/apps/" + seg(l.App) + "/secrets"
	}
	return "/v1/org/secrets"
}

func layerQuery(l secrets.Layer) url.Values {
	q := url.Values{}
	if l.App != "" {
		q.Set("app", l.App)
	}
	if l.Machine != "" {
		q.Set("machine", l.Machine)
	}
	return q
}

// Health calls GET /healthz (no token).
func (c *Client) Health(ctx context.Context) error {
	_, err := c.do(ctx, request{method: "GET", path: "/healthz", noAuth: true}, nil)
	return err
}

// OpenAPI returns the API's OpenAPI 3.1 document (GET /v1/openapi.json, no token).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var doc []byte
	_, err := c.do(ctx, request{method: "GET", path: "/v1/openapi.json", noAuth: true}, &doc)
	return doc, err
}

// Me returns who the token belongs to (GET /v1/me).
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var me Me
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/me"}, &me); err != nil {
		return nil, err
	}
	return &me, nil
}

// SetLayerSecret sets name at layer to value for env, or for all three
// environments when env is "" (POST /v1/org/secrets, /v1/apps/{app}/secrets
// or /v1/apps/{app}/machines/{machine}/secrets). created reports whether
// the secret is new (201) rather than updated (200).
func (c *Client) SetLayerSecret(ctx context.Context, layer secrets.Layer, name, value string, env secrets.Environment) (s *LayerSecret, created bool, err error) {
	return c.SetLayerSecretWith(ctx, layer, SetLayerSecretRequest{Name: name, Value: value, Environment: env})
}

// SetLayerSecretWith is SetLayerSecret with the whole request, such as
// OnlyIfSame: without an environment, refuse (400, field only_if_same)
// when the environments already hold different values.
func (c *Client) SetLayerSecretWith(ctx context.Context, layer secrets.Layer, in SetLayerSecretRequest) (s *LayerSecret, created bool, err error) {
	if err := checkUTF8("value", in.Value); err != nil {
		return nil, false, err
	}
	var out LayerSecret
	status, err := c.do(ctx, request{method: "POST", path: layerPath(layer), body: in}, &out)
	if err != nil {
		return nil, false, err
	}
	return &out, status == http.StatusCreated, nil
}

// ListLayerSecrets lists the secrets at layer: names, versions and times,
// never values (GET on the layer's path), following every page.
func (c *Client) ListLayerSecrets(ctx context.Context, layer secrets.Layer) ([]LayerSecret, error) {
	return allPages(ctx, "list "+layer.String()+" secrets", func(ctx context.Context, p Page) ([]LayerSecret, string, error) {
		page, err := c.ListLayerSecretsPage(ctx, layer, p)
		if err != nil {
			return nil, "", err
		}
		return page.Secrets, page.NextCursor, nil
	})
}

// DeleteLayerSecret deletes name at layer (DELETE on the layer's path).
func (c *Client) DeleteLayerSecret(ctx context.Context, layer secrets.Layer, name string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: layerPath(layer) + "/" + seg(name)}, nil)
	return err
}

// ListLayers lists the apps and machines that hold secrets (GET /v1/layers).
func (c *Client) ListLayers(ctx context.Context) ([]secrets.Layer, error) {
	var out wire.LayerList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/layers"}, &out); err != nil {
		return nil, err
	}
	layers := make([]secrets.Layer, 0, len(out.Layers))
	for _, l := range out.Layers {
		layers = append(layers, secrets.Layer{App: l.App, Machine: wire.Deref(l.Machine)})
	}
	return layers, nil
}

// ListSecrets lists the secrets at layer with their metadata (GET
// /v1/secrets?app=&machine=), following every page; the zero Layer is the
// global layer.
func (c *Client) ListSecrets(ctx context.Context, layer secrets.Layer) ([]Secret, error) {
	return allPages(ctx, "list "+layer.String()+" secrets", func(ctx context.Context, p Page) ([]Secret, string, error) {
		page, err := c.ListSecretsPage(ctx, layer, p)
		if err != nil {
			return nil, "", err
		}
		return page.Secrets, page.NextCursor, nil
	})
}

// SecretByName finds the secret name at layer by listing the layer. It
// answers an *Error with status 404 if there is none.
func (c *Client) SecretByName(ctx context.Context, layer secrets.Layer, name string) (*Secret, error) {
	list, err := c.ListSecrets(ctx, layer)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Name == name {
			return &list[i], nil
		}
	}
	return nil, &Error{Status: http.StatusNotFound, Code: secrets.CodeNotFound, Message: fmt.Sprintf("secret %s not found at the %s layer", name, layer)}
}

// CreateSecret creates a secret (POST /v1/secrets); 409 if the name is
// taken at that layer.
func (c *Client) CreateSecret(ctx context.Context, in CreateSecretRequest) (*SecretDetail, error) {
	if err := checkValues(in.Values); err != nil {
		return nil, err
	}
	return c.detail(ctx, request{method: "POST", path: "/v1/secrets", body: in})
}

// GetSecret returns a secret's metadata and masks (GET /v1/secrets/{id}).
func (c *Client) GetSecret(ctx context.Context, id string) (*SecretDetail, error) {
	return c.detail(ctx, request{method: "GET", path: "/v1/secrets/" + seg(id)})
}

// UpdateSecret changes a secret at the version in.Version (PATCH
// /v1/secrets/{id}); 409 if it changed since.
func (c *Client) UpdateSecret(ctx context.Context, id string, in UpdateSecretRequest) (*SecretDetail, error) {
	if err := checkValues(in.Values); err != nil {
		return nil, err
	}
	return c.detail(ctx, request{method: "PATCH", path: "/v1/secrets/" + seg(id), body: in})
}

// DeleteSecret deletes a secret and its history (DELETE /v1/secrets/{id}).
func (c *Client) DeleteSecret(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/secrets/" + seg(id)}, nil)
	return err
}

// ListVersions lists a secret's versions, newest first, with masks only
// (GET /v1/secrets/{id}/versions).
func (c *Client) ListVersions(ctx context.Context, id string) (*VersionList, error) {
	var out VersionList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/secrets/" + seg(id) + "/versions"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RestoreVersion writes version n's description and values as a new
// version (POST /v1/secrets/{id}/versions/{n}/restore).
func (c *Client) RestoreVersion(ctx context.Context, id string, n int64) (*SecretDetail, error) {
	return c.detail(ctx, request{method: "POST", path: "/v1/secrets/" + seg(id) + "/versions/" + strconv.FormatInt(n, 10) + "/restore"})
}

// SetRotation gives a secret a rotation policy (PUT /v1/secrets/{id}/rotation).
func (c *Client) SetRotation(ctx context.Context, id string, in RotationRequest) (*SecretDetail, error) {
	return c.detail(ctx, request{method: "PUT", path: "/v1/secrets/" + seg(id) + "/rotation", body: in})
}

// ClearRotation removes a secret's rotation policy (DELETE /v1/secrets/{id}/rotation).
func (c *Client) ClearRotation(ctx context.Context, id string) (*SecretDetail, error) {
	return c.detail(ctx, request{method: "DELETE", path: "/v1/secrets/" + seg(id) + "/rotation"})
}

func (c *Client) detail(ctx context.Context, req request) (*SecretDetail, error) {
	var out SecretDetail
	if _, err := c.do(ctx, req, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Resolve returns, in plaintext, every secret visible at layer for env:
// the machine value, else the app value, else the global value (POST
// /v1/resolve). A service token's scope supplies the layer it omits. With
// Names, only those names are resolved. With IfNoneMatch, an unchanged
// answer is ErrNotModified; ResolveIfChanged says so without an error.
func (c *Client) Resolve(ctx context.Context, env secrets.Environment, layer secrets.Layer, opts ...ResolveOption) (*Resolved, error) {
	return notModifiedErr(c.ResolveIfChanged(ctx, env, layer, opts...))
}

// ResolveIfChanged is Resolve that reports an answer unchanged since the
// fingerprint given with IfNoneMatch as notModified, with res nil: the
// server then unwrapped no key and returned no value.
func (c *Client) ResolveIfChanged(ctx context.Context, env secrets.Environment, layer secrets.Layer, opts ...ResolveOption) (res *Resolved, notModified bool, err error) {
	return c.resolve(ctx, request{method: "POST", path: "/v1/resolve"}, env, layer, opts)
}

// ResolveIAM is Resolve for an AWS IAM principal of org (POST
// /v1/resolve/iam?org=ORG). It sends no bearer token: the client's
// http.Client must sign the request with SigV4 (SigV4Transport does), and
// only API Gateway can verify it, so the local server answers 401.
func (c *Client) ResolveIAM(ctx context.Context, org string, env secrets.Environment, layer secrets.Layer, opts ...ResolveOption) (*Resolved, error) {
	return notModifiedErr(c.ResolveIAMIfChanged(ctx, org, env, layer, opts...))
}

// ResolveIAMIfChanged is ResolveIAM reporting an unchanged answer as
// ResolveIfChanged does.
func (c *Client) ResolveIAMIfChanged(ctx context.Context, org string, env secrets.Environment, layer secrets.Layer, opts ...ResolveOption) (*Resolved, bool, error) {
	return c.resolve(ctx, request{method: "POST", path: "/v1/resolve/iam", query: url.Values{"org": {org}}, noAuth: true}, env, layer, opts)
}

// ResolveOption narrows or conditions a resolve.
type ResolveOption func(*wire.ResolveRequest)

// Names resolves only these names; a name without a value in the
// environment is absent from the answer.
func Names(names ...string) ResolveOption {
	return func(r *wire.ResolveRequest) { r.Names = append(r.Names, names...) }
}

// IfNoneMatch sends the fingerprint of an earlier answer: when what the
// resolve returns is unchanged, the server answers 304 without values.
func IfNoneMatch(fingerprint string) ResolveOption {
	return func(r *wire.ResolveRequest) { r.IfNoneMatch = fingerprint }
}

// ErrNotModified is Resolve's answer when IfNoneMatch named the current
// fingerprint.
var ErrNotModified = errors.New("resolve: not modified since the fingerprint sent")

func notModifiedErr(res *Resolved, notModified bool, err error) (*Resolved, error) {
	if err == nil && notModified {
		return nil, ErrNotModified
	}
	return res, err
}

func (c *Client) resolve(ctx context.Context, req request, env secrets.Environment, layer secrets.Layer, opts []ResolveOption) (*Resolved, bool, error) {
	in := wire.ResolveRequest{Environment: env, App: layer.App, Machine: layer.Machine}
	for _, o := range opts {
		o(&in)
	}
	req.body, req.notModified = in, in.IfNoneMatch != ""
	var out Resolved
	status, err := c.do(ctx, req, &out)
	if err != nil {
		return nil, false, err
	}
	if status == http.StatusNotModified {
		return nil, true, nil
	}
	if out.Secrets == nil {
		out.Secrets = map[string]string{}
	}
	return &out, false, nil
}

// CreateToken creates a token (POST /v1/tokens, admins). The returned
// Token.Token is the bearer token, shown this once (none for iam tokens).
func (c *Client) CreateToken(ctx context.Context, in CreateTokenRequest) (*Token, error) {
	var out Token
	if _, err := c.do(ctx, request{method: "POST", path: "/v1/tokens", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListTokens lists the organization's tokens, never the tokens themselves
// (GET /v1/tokens, admins).
func (c *Client) ListTokens(ctx context.Context) ([]Token, error) {
	var out wire.TokenList
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/tokens"}, &out); err != nil {
		return nil, err
	}
	return out.Tokens, nil
}

// RevokeToken revokes a token by its id (DELETE /v1/tokens/{id}, admins).
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.do(ctx, request{method: "DELETE", path: "/v1/tokens/" + seg(id)}, nil)
	return err
}

// Audit returns one page of the audit trail, newest first (GET
// /v1/audit?limit=&cursor=, admins). A zero limit is the server's default.
func (c *Client) Audit(ctx context.Context, limit int, cursor string) (*AuditPage, error) {
	q := url.Values{}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	if cursor != "" {
		q.Set("cursor", cursor)
	}
	var out AuditPage
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/audit", query: q}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Org returns the organization's settings (GET /v1/org, admins).
func (c *Client) Org(ctx context.Context) (*Org, error) {
	var out Org
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/org"}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetUserResolveEnvironments sets the environments user tokens may resolve
// (PATCH /v1/org, superadmins).
func (c *Client) SetUserResolveEnvironments(ctx context.Context, envs []secrets.Environment) (*Org, error) {
	if envs == nil {
		envs = []secrets.Environment{}
	}
	return c.UpdateOrg(ctx, OrgUpdate{UserResolveEnvironments: envs})
}

// UpdateOrg changes the organization's settings (PATCH /v1/org,
// superadmins).
func (c *Client) UpdateOrg(ctx context.Context, in OrgUpdate) (*Org, error) {
	var out Org
	if _, err := c.do(ctx, request{method: "PATCH", path: "/v1/org", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
