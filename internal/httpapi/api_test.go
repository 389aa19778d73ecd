package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// ---------------------------------------------------------------------------
// The stack under test and the helpers that drive it like a client.

// env is the real stack: an embedded store in a temporary directory, a local
// master key, the envelope sealer, the service, the one HTTP handler, and an
// httptest server in front of it. Every exchange is kept, so security tests
// can read every response back.
type env struct {
	srv   *httptest.Server
	h     http.Handler
	svc   *service.Service
	store *boltstore.Store
	path  string // the database file
	logs  *syncBuffer
	clock *clock // nil on the real clock

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one request and its answer, as the client saw them.
type exchange struct {
	method, path string
	status       int
	body         []byte
}

// syncBuffer is a log sink that the server's goroutines may write to while
// a test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// clock is a service clock that a test moves by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// principalHeader carries an IAM caller's principal ARN in tests; see
// headerIAM.
const principalHeader = "X-Test-Principal-Arn"

// headerIAM stands in for API Gateway's verified IAM context. On AWS, API
// Gateway checks the SigV4 signature and hands the handler the caller's
// principal ARN in the request context, where no client can write it; here
// a test header plays that part, and the rest (normalizing the ARN, finding
// its registration) is the real service.
type headerIAM struct{ svc *service.Service }

func (h headerIAM) IdentifyIAM(r *http.Request) (secrets.Identity, error) {
	arn := r.Header.Get(principalHeader)
	if arn == "" {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "no IAM caller: the request was not signed")
	}
	return h.svc.AuthenticateIAM(r.Context(), httpapi.IAMOrg(r), arn)
}

// newEnv builds the whole stack on the real clock.
func newEnv(tb testing.TB) *env {
	tb.Helper()
	return newEnvWithClock(tb, nil)
}

// newEnvWithClock builds the whole stack; the service reads c for the time
// when c is not nil.
func newEnvWithClock(tb testing.TB, c *clock) *env {
	tb.Helper()
	return buildEnv(tb, c, true)
}

// newBearerOnlyEnv builds the whole stack without an IAM authenticator, as
// the local server runs: no API Gateway verifies SigV4 in front of it.
func newBearerOnlyEnv(tb testing.TB) *env {
	tb.Helper()
	return buildEnv(tb, nil, false)
}

func buildEnv(tb testing.TB, c *clock, withIAM bool) *env {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "db")
	store, err := boltstore.Open(path, boltstore.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { _ = store.Close() })
	master := make([]byte, 32)
	if _, err := rand.Read(master); err != nil {
		tb.Fatal(err)
	}
	wrapper, err := localkey.New(master)
	if err != nil {
		tb.Fatalf("local key: %v", err)
	}
	logs := &syncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := service.Config{Logger: logger}
	if c != nil {
		cfg.Now = c.Now
	}
	svc := service.New(store, envelope.New(wrapper, store, envelope.Options{}), cfg)
	opts := httpapi.Options{Logger: logger}
	if withIAM {
		opts.IAM = headerIAM{svc}
	}
	h := httpapi.New(svc, opts)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &env{srv: srv, h: h, svc: svc, store: store, path: path, logs: logs, clock: c}
}

// response is an answer as the client received it.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string { return fmt.Sprintf("%d %s", r.Status, r.Body) }

// do sends a request. body is nil (no body), a string or []byte (sent as
// is), or anything else (sent as JSON); a body is sent as application/json
// unless hdr says otherwise. hdr holds header name and value pairs that
// override the defaults ("Authorization", "" removes the token's header).
//
// Every answer is checked for what every answer must carry: Cache-Control:
// no-store, a JSON body (none for 204), and for errors the
// {"error":{"code","message"}} envelope. do reports with Errorf only, so
// goroutines may call it.
func (e *env) do(tb testing.TB, method, path, token string, body any, hdr ...string) response {
	tb.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tb.Errorf("marshal body: %v", err)
			return response{}
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		tb.Errorf("new request: %v", err)
		return response{}
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		if hdr[i+1] == "" {
			req.Header.Del(hdr[i])
		} else {
			req.Header.Set(hdr[i], hdr[i+1])
		}
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		tb.Errorf("%s %s: %v", method, path, err)
		return response{}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Errorf("%s %s: read body: %v", method, path, err)
	}
	r := response{Status: resp.StatusCode, Header: resp.Header, Body: data}
	e.mu.Lock()
	e.exchanges = append(e.exchanges, exchange{method: method, path: path, status: r.Status, body: data})
	e.mu.Unlock()
	checkEveryResponse(tb, method+" "+path, r)
	return r
}

// checkEveryResponse asserts what every answer of the API carries.
func checkEveryResponse(tb testing.TB, what string, r response) {
	tb.Helper()
	if got, want := r.Header.Get("Cache-Control"), "no-store"; got != want {
		tb.Errorf("%s: Cache-Control = %q, want %q", what, got, want)
	}
	if r.Status == http.StatusNoContent {
		if len(r.Body) != 0 {
			tb.Errorf("%s: 204 with a body: %s", what, r.Body)
		}
		return
	}
	if got := r.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		tb.Errorf("%s: Content-Type = %q, want application/json", what, got)
	}
	if !json.Valid(r.Body) {
		tb.Errorf("%s: the body is not JSON: %q", what, r.Body)
		return
	}
	if r.Status < 400 {
		return
	}
	var env struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(r.Body, &top); err != nil || len(top) != 1 || json.Unmarshal(r.Body, &env) != nil ||
		env.Error == nil || env.Error.Code == nil || env.Error.Message == nil || *env.Error.Code == "" || *env.Error.Message == "" {
		tb.Errorf("%s: error body is not {\"error\":{\"code\",\"message\"}}: %s", what, r.Body)
	}
	if r.Status == http.StatusUnauthorized && r.Header.Get("WWW-Authenticate") == "" {
		tb.Errorf("%s: 401 without WWW-Authenticate", what)
	}
}

// apiError is the error envelope's content.
type apiError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field"`
}

func errorOf(tb testing.TB, r response) apiError {
	tb.Helper()
	var body struct {
		Error apiError `json:"error"`
	}
	if err := json.Unmarshal(r.Body, &body); err != nil {
		tb.Fatalf("decode error body %q: %v", r.Body, err)
	}
	return body.Error
}

// wantStatus fails the test unless r has status want.
func wantStatus(tb testing.TB, r response, want int) {
	tb.Helper()
	if r.Status != want {
		tb.Fatalf("status = %d, want %d; body %s", r.Status, want, r.Body)
	}
}

// wantError checks an error answer: its status, its code, and that its
// message contains each of contains.
func wantError(tb testing.TB, r response, status int, code string, contains ...string) apiError {
	tb.Helper()
	wantStatus(tb, r, status)
	e := errorOf(tb, r)
	if got, want := e.Code, code; got != want {
		tb.Errorf("error code = %q, want %q (message %q)", got, want, e.Message)
	}
	for _, c := range contains {
		if !strings.Contains(e.Message, c) {
			tb.Errorf("error message %q does not contain %q", e.Message, c)
		}
	}
	return e
}

// decode unmarshals r's body into a T.
func decode[T any](tb testing.TB, r response) T {
	tb.Helper()
	var v T
	if err := json.Unmarshal(r.Body, &v); err != nil {
		tb.Fatalf("decode %T from %s: %v", v, r.Body, err)
	}
	return v
}

// object decodes r's body as a JSON object.
func object(tb testing.TB, r response) map[string]any {
	tb.Helper()
	return decode[map[string]any](tb, r)
}

func keysOf(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// wantKeys checks that m has exactly the keys want.
func wantKeys(tb testing.TB, what string, m map[string]any, want ...string) {
	tb.Helper()
	sort.Strings(want)
	if got := keysOf(m); !slices.Equal(got, want) {
		tb.Errorf("%s keys = %v, want %v", what, got, want)
	}
}

// wantHasKeys checks that m has at least the keys want.
func wantHasKeys(tb testing.TB, what string, m map[string]any, want ...string) {
	tb.Helper()
	for _, k := range want {
		if _, ok := m[k]; !ok {
			tb.Errorf("%s has no %q: keys %v", what, k, keysOf(m))
		}
	}
}

// bootstrap creates org (if new) and a superadmin in it, as `zwrm admin
// bootstrap` does, and returns the superadmin's token.
func (e *env) bootstrap(tb testing.TB, org, subject, name string) string {
	tb.Helper()
	token, err := e.svc.Bootstrap(context.Background(), org, subject, name)
	if err != nil {
		tb.Fatalf("bootstrap %s: %v", org, err)
	}
	return token
}

// tokenJSON is the answer of POST /v1/tokens.
type tokenJSON struct {
	ID           string     `json:"id"`
	Token        string     `json:"token"`
	Kind         string     `json:"kind"`
	Name         string     `json:"name"`
	Subject      string     `json:"subject"`
	Role         string     `json:"role"`
	RolePriority int        `json:"role_priority"`
	App          string     `json:"app"`
	Machine      string     `json:"machine"`
	Environments []string   `json:"environments"`
	PrincipalARN string     `json:"principal_arn"`
	Prefix       string     `json:"prefix"`
	ExpiresAt    *time.Time `json:"expires_at"`
	RevokedAt    *time.Time `json:"revoked_at"`
}

// mint creates a token through POST /v1/tokens, as a real client does.
func (e *env) mint(tb testing.TB, admin string, body map[string]any) tokenJSON {
	tb.Helper()
	r := e.do(tb, "POST", "/v1/tokens", admin, body)
	if r.Status != http.StatusCreated {
		tb.Fatalf("create token %v: %s", body, r)
	}
	return decode[tokenJSON](tb, r)
}

// mintUser returns a new user token of role.
func (e *env) mintUser(tb testing.TB, admin, subject, name, role string) string {
	tb.Helper()
	return e.mint(tb, admin, map[string]any{"kind": "user", "subject": subject, "name": name, "role": role}).Token
}

// mintService returns a new service token scoped to app, machine and envs.
func (e *env) mintService(tb testing.TB, admin, name, app, machine string, envs ...string) string {
	tb.Helper()
	body := map[string]any{"kind": "service", "name": name, "environments": envs}
	if app != "" {
		body["app"] = app
	}
	if machine != "" {
		body["machine"] = machine
	}
	return e.mint(tb, admin, body).Token
}

// mintIAM registers an IAM principal through POST /v1/tokens (kind iam),
// scoped to app, machine and envs, and returns its record.
func (e *env) mintIAM(tb testing.TB, admin, name, arn, app, machine string, envs ...string) tokenJSON {
	tb.Helper()
	body := map[string]any{"kind": "iam", "name": name, "principal_arn": arn, "environments": envs}
	if app != "" {
		body["app"] = app
	}
	if machine != "" {
		body["machine"] = machine
	}
	return e.mint(tb, admin, body)
}

// resolveIAM calls POST /v1/resolve/iam as the IAM principal arn ("": an
// unsigned request); hdr is passed on to do.
func (e *env) resolveIAM(tb testing.TB, arn string, body any, hdr ...string) response {
	tb.Helper()
	return e.resolveIAMIn(tb, "acme", arn, body, hdr...)
}

// resolveIAMIn calls POST /v1/resolve/iam?org=ORG as the IAM principal arn.
func (e *env) resolveIAMIn(tb testing.TB, org, arn string, body any, hdr ...string) response {
	tb.Helper()
	return e.do(tb, "POST", "/v1/resolve/iam?org="+org, "", body, append([]string{principalHeader, arn}, hdr...)...)
}

// secretJSON is a row of /v1/secrets, with the detail's masks.
type secretJSON struct {
	ID           string             `json:"id"`
	Name         string             `json:"name"`
	Description  string             `json:"description"`
	App          *string            `json:"app"`
	Machine      *string            `json:"machine"`
	Environments map[string]bool    `json:"environments"`
	Owner        secrets.Principal  `json:"owner"`
	CreatedAt    time.Time          `json:"created_at"`
	UpdatedAt    time.Time          `json:"updated_at"`
	Version      int64              `json:"version"`
	Masked       map[string]*string `json:"masked"`
	Rotation     *rotationJSON      `json:"rotation"`
	CanModify    *bool              `json:"can_modify"`
}

// rotationJSON is the rotation policy of a secret's detail.
type rotationJSON struct {
	Every        string     `json:"every"`
	Environments []string   `json:"environments"`
	Length       int        `json:"length"`
	Alphabet     string     `json:"alphabet"`
	NextAt       time.Time  `json:"next_at"`
	LastAt       *time.Time `json:"last_at"`
}

// setRotation sets a rotation policy through PUT /v1/secrets/{id}/rotation.
func (e *env) setRotation(tb testing.TB, token, id string, body map[string]any) secretJSON {
	tb.Helper()
	r := e.do(tb, "PUT", "/v1/secrets/"+id+"/rotation", token, body)
	if r.Status != http.StatusOK {
		tb.Fatalf("set rotation %v: %s", body, r)
	}
	return decode[secretJSON](tb, r)
}

// rotateDue runs the rotation sweep as the scheduled trigger does and
// returns its report.
func (e *env) rotateDue(tb testing.TB, schedule string) service.RotationReport {
	tb.Helper()
	rep, err := e.svc.RotateDue(context.Background(), schedule)
	if err != nil {
		tb.Fatalf("RotateDue: %v", err)
	}
	return rep
}

// createSecret creates a secret through POST /v1/secrets.
func (e *env) createSecret(tb testing.TB, token string, body map[string]any) secretJSON {
	tb.Helper()
	r := e.do(tb, "POST", "/v1/secrets", token, body)
	if r.Status != http.StatusCreated {
		tb.Fatalf("create secret %v: %s", body["name"], r)
	}
	return decode[secretJSON](tb, r)
}

// getSecret reads a secret through GET /v1/secrets/{id}.
func (e *env) getSecret(tb testing.TB, token, id string) secretJSON {
	tb.Helper()
	r := e.do(tb, "GET", "/v1/secrets/"+id, token, nil)
	wantStatus(tb, r, http.StatusOK)
	return decode[secretJSON](tb, r)
}

// resolve returns the values of POST /v1/resolve.
func (e *env) resolve(tb testing.TB, token string, body map[string]any) map[string]string {
	tb.Helper()
	r := e.do(tb, "POST", "/v1/resolve", token, body)
	if r.Status != http.StatusOK {
		tb.Fatalf("resolve %v: %s", body, r)
	}
	return decode[struct {
		Secrets map[string]string `json:"secrets"`
	}](tb, r).Secrets
}

// logLines returns the JSON lines logged so far.
func (e *env) logLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(e.logs.String()))
	sc.Buffer(make([]byte, 0, 1<<20), 1<<24)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			tb.Fatalf("a log line is not JSON: %q", sc.Text())
		}
		out = append(out, m)
	}
	return out
}

// stop closes the server and waits for its handlers, so that every access
// log line has been written.
func (e *env) stop() { e.srv.Close() }

func ptr[T any](v T) *T { return &v }

// ---------------------------------------------------------------------------
// Every route on its happy path.

// TestEveryRouteAnswersItsHappyPath walks every API call once with the
// status and shape the API table promises, then reads the access log to
// prove that each route of httpapi.Routes() served at least one success.
func TestEveryRouteAnswersItsHappyPath(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	layerKeys := []string{"name", "version", "created_at", "updated_at"}
	rowKeys := []string{"id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version"}

	t.Run("health answers without a token", func(t *testing.T) {
		r := e.do(t, "GET", "/healthz", "", nil)
		wantStatus(t, r, 200)
		wantKeys(t, "health", object(t, r), "status")
	})
	t.Run("the OpenAPI document is served without a token", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/openapi.json", "", nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "openapi document", object(t, r), "openapi", "paths")
	})
	t.Run("me describes the caller", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "me", object(t, r), "org", "subject", "name", "kind", "role", "role_priority")
	})
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets"} {
		t.Run("the layer API sets, lists and deletes at "+base, func(t *testing.T) {
			r := e.do(t, "POST", base, super, map[string]string{"name": "TOUR", "value": "tour-value"})
			wantStatus(t, r, 201)
			wantKeys(t, "set", object(t, r), layerKeys...)
			r = e.do(t, "GET", base, super, nil)
			wantStatus(t, r, 200)
			wantKeys(t, "list", object(t, r), "secrets")
			r = e.do(t, "DELETE", base+"/TOUR", super, nil)
			wantStatus(t, r, 204)
		})
	}
	var id string
	t.Run("the grid API creates, reads, lists, updates, versions, restores and deletes", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "GRID", "description": "d", "app": "web",
			"values": map[string]string{"development": "grid-dev-value"}})
		wantStatus(t, r, 201)
		wantHasKeys(t, "created row", object(t, r), rowKeys...)
		id = decode[secretJSON](t, r).ID

		r = e.do(t, "GET", "/v1/layers", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "layers", object(t, r), "layers")

		r = e.do(t, "GET", "/v1/secrets?app=web", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "list", object(t, r), "secrets")

		r = e.do(t, "GET", "/v1/secrets/"+id, super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "detail", object(t, r), append(rowKeys, "masked", "rotation", "can_modify")...)

		r = e.do(t, "PATCH", "/v1/secrets/"+id, super, map[string]any{"version": 1, "description": "e"})
		wantStatus(t, r, 200)
		wantHasKeys(t, "patched row", object(t, r), rowKeys...)

		r = e.do(t, "GET", "/v1/secrets/"+id+"/versions", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "versions", object(t, r), "versions")

		r = e.do(t, "POST", "/v1/secrets/"+id+"/versions/1/restore", super, nil)
		wantStatus(t, r, 200)
		wantHasKeys(t, "restored row", object(t, r), rowKeys...)

		r = e.do(t, "PUT", "/v1/secrets/"+id+"/rotation", super, map[string]any{"every": "30d", "environments": []string{"production"}})
		wantStatus(t, r, 200)
		detail := object(t, r)
		wantHasKeys(t, "detail with a policy", detail, append(rowKeys, "masked", "rotation", "can_modify")...)
		policy, _ := detail["rotation"].(map[string]any)
		wantKeys(t, "rotation", policy, "every", "environments", "length", "alphabet", "next_at", "last_at")

		r = e.do(t, "DELETE", "/v1/secrets/"+id+"/rotation", super, nil)
		wantStatus(t, r, 200)
		detail = object(t, r)
		wantHasKeys(t, "detail without a policy", detail, append(rowKeys, "masked", "rotation", "can_modify")...)
		if got := detail["rotation"]; got != nil {
			t.Errorf("rotation after DELETE = %v, want null", got)
		}

		r = e.do(t, "POST", "/v1/resolve", super, map[string]string{"environment": "development", "app": "web"})
		wantStatus(t, r, 200)
		wantKeys(t, "resolve", object(t, r), "environment", "secrets")

		r = e.do(t, "GET", "/v1/effective?environment=development&app=web", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "effective", object(t, r), "environment", "app", "machine", "secrets")

		r = e.do(t, "DELETE", "/v1/secrets/"+id, super, nil)
		wantStatus(t, r, 204)
	})
	t.Run("the admin API mints, lists and revokes tokens, reads the audit and the org", func(t *testing.T) {
		tok := e.mint(t, super, map[string]any{"kind": "user", "subject": "m@acme.test", "name": "M", "role": "member"})
		r := e.do(t, "GET", "/v1/tokens", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "tokens", object(t, r), "tokens")
		r = e.do(t, "DELETE", "/v1/tokens/"+tok.ID, super, nil)
		wantStatus(t, r, 204)
		r = e.do(t, "GET", "/v1/audit", super, nil)
		wantStatus(t, r, 200)
		wantKeys(t, "audit", object(t, r), "records", "next_cursor")
		r = e.do(t, "GET", "/v1/org", super, nil)
		wantStatus(t, r, 200)
		r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development"}})
		wantStatus(t, r, 200)
	})
	t.Run("an admin registers an IAM role, which resolves with SigV4 and no token", func(t *testing.T) {
		const role = "arn:aws:iam::123456789012:role/web-tour"
		r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "web-tour", "principal_arn": role, "app": "web", "environments": []string{"development"}})
		wantStatus(t, r, 201)
		created := object(t, r)
		wantHasKeys(t, "created iam token", created, "id", "kind", "name", "principal_arn", "prefix", "created_at", "expires_at")
		if _, ok := created["token"]; ok {
			t.Errorf("an iam token was answered with a token: %s", r.Body)
		}
		r = e.resolveIAM(t, role, map[string]string{"environment": "development"})
		wantStatus(t, r, 200)
		wantKeys(t, "resolve as an IAM role", object(t, r), "environment", "secrets")
	})

	e.stop()
	served := map[string][]int{}
	for _, line := range e.logLines(t) {
		if line["msg"] != "request" {
			continue
		}
		route, _ := line["route"].(string)
		status, _ := line["status"].(float64)
		served[route] = append(served[route], int(status))
	}
	for _, rt := range httpapi.Routes() {
		ok := slices.ContainsFunc(served[rt.Name], func(s int) bool { return s >= 200 && s < 300 })
		if !ok {
			t.Errorf("route %s (%s %s) never answered a success; statuses %v", rt.Name, rt.Method, rt.Pattern, served[rt.Name])
		}
	}
}

// ---------------------------------------------------------------------------
// The org, app and machine secrets API (seed 000).

func TestLayerSecretsKeepSeed000sContract(t *testing.T) {
	for _, tc := range []struct{ layer, base string }{
		{"global", "/v1/org/secrets"},
		{"app", "/v1/apps/web/secrets"},
		{"machine", "/v1/apps/web/machines/vm-1/secrets"},
	} {
		t.Run("the "+tc.layer+" layer", func(t *testing.T) {
			e := newEnv(t)
			token := e.bootstrap(t, "acme", "root@acme.test", "Root")

			r := e.do(t, "POST", tc.base, token, map[string]string{"name": "DATADOG_API_KEY", "value": "your-key-here"})
			wantStatus(t, r, http.StatusCreated)
			first := object(t, r)
			wantKeys(t, "set answer", first, "name", "version", "created_at", "updated_at")
			if got, want := first["name"], "DATADOG_API_KEY"; got != want {
				t.Errorf("name = %v, want %v", got, want)
			}
			if got, want := first["version"], 1.0; got != want {
				t.Errorf("version = %v, want %v", got, want)
			}

			r = e.do(t, "POST", tc.base, token, map[string]string{"name": "DATADOG_API_KEY", "value": "another-key-here"})
			wantStatus(t, r, http.StatusOK)
			second := object(t, r)
			wantKeys(t, "update answer", second, "name", "version", "created_at", "updated_at")
			if got, want := second["version"], 2.0; got != want {
				t.Errorf("version after an update = %v, want %v", got, want)
			}
			if got, want := second["created_at"], first["created_at"]; got != want {
				t.Errorf("created_at changed on update: %v, want %v", got, want)
			}

			r = e.do(t, "GET", tc.base, token, nil)
			wantStatus(t, r, http.StatusOK)
			list := decode[struct {
				Secrets []map[string]any `json:"secrets"`
			}](t, r)
			if got, want := len(list.Secrets), 1; got != want {
				t.Fatalf("listed %d secrets, want %d: %s", got, want, r.Body)
			}
			wantKeys(t, "listed secret", list.Secrets[0], "name", "version", "created_at", "updated_at")
			if got, want := list.Secrets[0]["version"], 2.0; got != want {
				t.Errorf("listed version = %v, want %v", got, want)
			}
			if bytes.Contains(r.Body, []byte("key-here")) {
				t.Errorf("the list shows a value: %s", r.Body)
			}

			r = e.do(t, "DELETE", tc.base+"/DATADOG_API_KEY", token, nil)
			wantStatus(t, r, http.StatusNoContent)
			r = e.do(t, "DELETE", tc.base+"/DATADOG_API_KEY", token, nil)
			wantError(t, r, http.StatusNotFound, "not_found", "DATADOG_API_KEY")

			r = e.do(t, "GET", tc.base, token, nil)
			wantStatus(t, r, http.StatusOK)
			if got, want := strings.TrimSpace(string(r.Body)), `{"secrets":[]}`; got != want {
				t.Errorf("empty list = %s, want %s", got, want)
			}
		})
	}
}

func TestLayerSecretsStayInTheirLayer(t *testing.T) {
	e := newEnv(t)
	token := e.bootstrap(t, "acme", "root@acme.test", "Root")
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets", "/v1/apps/api/secrets"} {
		wantStatus(t, e.do(t, "POST", base, token, map[string]string{"name": "SHARED", "value": "v-" + base}), http.StatusCreated)
	}
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", token, map[string]string{"name": "WEB_ONLY", "value": "w"}), http.StatusCreated)

	for _, tc := range []struct {
		base  string
		names []string
	}{
		{"/v1/org/secrets", []string{"SHARED"}},
		{"/v1/apps/web/secrets", []string{"SHARED", "WEB_ONLY"}},
		{"/v1/apps/web/machines/m1/secrets", []string{"SHARED"}},
		{"/v1/apps/api/secrets", []string{"SHARED"}},
		{"/v1/apps/web/machines/m2/secrets", nil},
	} {
		r := e.do(t, "GET", tc.base, token, nil)
		wantStatus(t, r, http.StatusOK)
		var names []string
		for _, s := range decode[struct {
			Secrets []layerSecretJSON `json:"secrets"`
		}](t, r).Secrets {
			names = append(names, s.Name)
		}
		if !slices.Equal(names, tc.names) {
			t.Errorf("GET %s lists %v, want %v", tc.base, names, tc.names)
		}
	}

	t.Run("deleting at one layer leaves the others", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/apps/web/secrets/SHARED", token, nil), http.StatusNoContent)
		got := e.resolve(t, token, map[string]any{"environment": "development", "app": "web", "machine": "m1"})
		if got, want := got["SHARED"], "v-/v1/apps/web/machines/m1/secrets"; got != want {
			t.Errorf("SHARED at web/m1 = %q, want %q", got, want)
		}
		got = e.resolve(t, token, map[string]any{"environment": "development", "app": "web"})
		if got, want := got["SHARED"], "v-/v1/org/secrets"; got != want {
			t.Errorf("SHARED at web = %q, want %q", got, want)
		}
	})
}

type layerSecretJSON struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func TestLayerSecretEnvironment(t *testing.T) {
	e := newEnv(t)
	token := e.bootstrap(t, "acme", "root@acme.test", "Root")

	t.Run("without an environment the value is set for all three", func(t *testing.T) {
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ALL", "value": "v"}), http.StatusCreated)
		row := findRow(t, e, token, "", "ALL")
		if got, want := row.Environments, map[string]bool{"development": true, "staging": true, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
	})
	t.Run("with an environment only that one is set, and an update keeps the others", func(t *testing.T) {
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ONE", "value": "s", "environment": "staging"}), http.StatusCreated)
		row := findRow(t, e, token, "", "ONE")
		if got, want := row.Environments, map[string]bool{"development": false, "staging": true, "production": false}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
		r := e.do(t, "POST", "/v1/org/secrets", token, map[string]string{"name": "ONE", "value": "d", "environment": "development"})
		wantStatus(t, r, http.StatusOK)
		row = findRow(t, e, token, "", "ONE")
		if got, want := row.Environments, map[string]bool{"development": true, "staging": true, "production": false}; !mapsEqual(got, want) {
			t.Errorf("environments after setting development = %v, want %v", got, want)
		}
		if got, want := row.Version, int64(2); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
}

func mapsEqual[K comparable, V comparable](a, b map[K]V) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// findRow returns the row of name in GET /v1/secrets?app=app.
func findRow(tb testing.TB, e *env, token, app, name string) secretJSON {
	tb.Helper()
	path := "/v1/secrets"
	if app != "" {
		path += "?app=" + app
	}
	r := e.do(tb, "GET", path, token, nil)
	wantStatus(tb, r, http.StatusOK)
	for _, s := range decode[struct {
		Secrets []secretJSON `json:"secrets"`
	}](tb, r).Secrets {
		if s.Name == name {
			return s
		}
	}
	tb.Fatalf("no row %s in %s", name, r.Body)
	return secretJSON{}
}

// ---------------------------------------------------------------------------
// The grid API (seed 004).

func TestGridSecrets(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	ann := e.mintUser(t, super, "ann@acme.test", "Ann", "member")
	bob := e.mintUser(t, super, "bob@acme.test", "Bob", "member")
	cat := e.mintUser(t, super, "cat@acme.test", "Cat", "admin")
	// The grid's flow has members own production values: this org lets
	// members write production (the default needs an admin).
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": 10}}}), http.StatusOK)

	r := e.do(t, "POST", "/v1/secrets", ann, map[string]any{
		"name": "STRIPE_API_KEY", "description": "Stripe, live mode",
		"values": map[string]any{"production": "sk_live_51H8xyzQWERTYRgA1", "development": "sk_test_short", "staging": nil},
	})
	wantStatus(t, r, http.StatusCreated)
	created := object(t, r)
	wantHasKeys(t, "created", created, "id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version")
	for _, k := range []string{"values", "value"} {
		if _, ok := created[k]; ok {
			t.Errorf("the created row has %q: %s", k, r.Body)
		}
	}
	sec := decode[secretJSON](t, r)

	t.Run("the created row says who owns it and which environments hold a value", func(t *testing.T) {
		if err := uuid.Validate(sec.ID); err != nil || uuid.MustParse(sec.ID).Version() != 4 {
			t.Errorf("id %q is not a UUID v4", sec.ID)
		}
		if sec.App != nil || sec.Machine != nil {
			t.Errorf("app, machine = %v, %v, want null, null", sec.App, sec.Machine)
		}
		if got, want := sec.Environments, map[string]bool{"development": true, "staging": false, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want %v", got, want)
		}
		if got, want := sec.Owner, (secrets.Principal{Subject: "ann@acme.test", Name: "Ann"}); got != want {
			t.Errorf("owner = %+v, want %+v", got, want)
		}
		if got, want := sec.Version, int64(1); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		if sec.CreatedAt.IsZero() || !sec.CreatedAt.Equal(sec.UpdatedAt) {
			t.Errorf("created_at %v, updated_at %v: want both set and equal", sec.CreatedAt, sec.UpdatedAt)
		}
		if got, want := sec.Description, "Stripe, live mode"; got != want {
			t.Errorf("description = %q, want %q", got, want)
		}
	})

	t.Run("the detail masks each value and says null where there is none", func(t *testing.T) {
		d := e.getSecret(t, ann, sec.ID)
		want := map[string]*string{"development": ptr("***"), "staging": nil, "production": ptr("sk_live_***RgA1")}
		if got := d.Masked; !masksEqual(got, want) {
			t.Errorf("masked = %s, want %s", showMasks(got), showMasks(want))
		}
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID, ann, nil)
		masked, _ := object(t, r)["masked"].(map[string]any)
		wantKeys(t, "masked", masked, "development", "staging", "production")
		if bytes.Contains(r.Body, []byte("51Hxyzabcd")) || bytes.Contains(r.Body, []byte("sk_test_short")) {
			t.Errorf("the detail shows a value: %s", r.Body)
		}
	})

	t.Run("can_modify is true for the owner and admins, false for other members", func(t *testing.T) {
		for _, tc := range []struct {
			who   string
			token string
			want  bool
		}{{"the owner", ann, true}, {"another member", bob, false}, {"an admin", cat, true}, {"a superadmin", super, true}} {
			d := e.getSecret(t, tc.token, sec.ID)
			if d.CanModify == nil || *d.CanModify != tc.want {
				t.Errorf("%s: can_modify = %v, want %v", tc.who, d.CanModify, tc.want)
			}
		}
	})

	t.Run("the list holds rows without values or masks", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets", bob, nil)
		wantStatus(t, r, http.StatusOK)
		list := decode[struct {
			Secrets []map[string]any `json:"secrets"`
		}](t, r)
		if got, want := len(list.Secrets), 1; got != want {
			t.Fatalf("listed %d rows, want %d", got, want)
		}
		for _, k := range []string{"masked", "values", "value"} {
			if _, ok := list.Secrets[0][k]; ok {
				t.Errorf("a listed row has %q", k)
			}
		}
		wantHasKeys(t, "listed row", list.Secrets[0], "id", "name", "description", "app", "machine", "environments", "owner", "created_at", "updated_at", "version")
		envs, _ := list.Secrets[0]["environments"].(map[string]any)
		wantKeys(t, "environments", envs, "development", "staging", "production")
		owner, _ := list.Secrets[0]["owner"].(map[string]any)
		wantKeys(t, "owner", owner, "subject", "name")
	})

	t.Run("a PATCH changes only what it sends and returns the new version", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann, map[string]any{"version": 1, "values": map[string]any{"staging": "staging-value-0000"}})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 2 || got.Description != "Stripe, live mode" || !mapsEqual(got.Environments, map[string]bool{"development": true, "staging": true, "production": true}) {
			t.Errorf("after setting staging: version %d, description %q, environments %v", got.Version, got.Description, got.Environments)
		}
		if got.Masked["production"] == nil || *got.Masked["production"] != "sk_live_***RgA1" {
			t.Errorf("production mask changed: %s", showMasks(got.Masked))
		}
		if !got.CreatedAt.Equal(sec.CreatedAt) || got.UpdatedAt.Before(sec.UpdatedAt) {
			t.Errorf("created_at %v (was %v), updated_at %v (was %v)", got.CreatedAt, sec.CreatedAt, got.UpdatedAt, sec.UpdatedAt)
		}
	})

	t.Run("a null value clears that environment only", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann, map[string]any{"version": 2, "values": map[string]any{"development": nil}})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 3 || !mapsEqual(got.Environments, map[string]bool{"development": false, "staging": true, "production": true}) {
			t.Errorf("after clearing development: version %d, environments %v", got.Version, got.Environments)
		}
		if got.Masked["development"] != nil {
			t.Errorf("development mask = %q, want null", *got.Masked["development"])
		}
	})

	t.Run("an admin may change the description and the owner stays", func(t *testing.T) {
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, cat, map[string]any{"version": 3, "description": "rotated quarterly"})
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 4 || got.Description != "rotated quarterly" || got.Owner.Subject != "ann@acme.test" {
			t.Errorf("after an admin's description change: version %d, description %q, owner %+v", got.Version, got.Description, got.Owner)
		}
		if !mapsEqual(got.Environments, map[string]bool{"development": false, "staging": true, "production": true}) {
			t.Errorf("environments changed with the description: %v", got.Environments)
		}
	})

	t.Run("the same name may live at another layer", func(t *testing.T) {
		s := e.createSecret(t, ann, map[string]any{"name": "STRIPE_API_KEY", "app": "web", "machine": "m1", "values": map[string]string{"development": "x"}})
		if s.App == nil || *s.App != "web" || s.Machine == nil || *s.Machine != "m1" {
			t.Errorf("app, machine = %v, %v, want web, m1", s.App, s.Machine)
		}
		r := e.do(t, "GET", "/v1/secrets?app=web&machine=m1", ann, nil)
		wantStatus(t, r, http.StatusOK)
		rows := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets
		if len(rows) != 1 || rows[0].ID != s.ID {
			t.Errorf("GET ?app=web&machine=m1 = %s, want the one machine secret", r.Body)
		}
		r = e.do(t, "GET", "/v1/secrets?app=web", ann, nil)
		if got := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets; len(got) != 0 {
			t.Errorf("GET ?app=web lists the machine layer's secrets: %s", r.Body)
		}
	})

	t.Run("a description of exactly 1000 characters is accepted", func(t *testing.T) {
		e.createSecret(t, ann, map[string]any{"name": "LONG_DESCRIPTION", "description": strings.Repeat("é", 1000)})
	})
}

func masksEqual(a, b map[string]*string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || (v == nil) != (w == nil) || (v != nil && *v != *w) {
			return false
		}
	}
	return true
}

func showMasks(m map[string]*string) string {
	var parts []string
	for _, k := range []string{"development", "staging", "production"} {
		v := "null"
		if m[k] != nil {
			v = fmt.Sprintf("%q", *m[k])
		}
		parts = append(parts, k+":"+v)
	}
	return "{" + strings.Join(parts, " ") + "}"
}

func TestVersionsAndRestore(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "DB_PASSWORD", "description": "first",
		"values": map[string]string{"development": "dev-password-one"}})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "values": map[string]any{"development": "dev-password-two-is-long"}, "description": "second"}), 200)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 2, "values": map[string]any{"production": "prod-password-x"}}), 200)

	type versionJSON struct {
		Version      int64              `json:"version"`
		Change       string             `json:"change"`
		RestoredFrom int64              `json:"restored_from"`
		Description  string             `json:"description"`
		Environments map[string]bool    `json:"environments"`
		Masked       map[string]*string `json:"masked"`
		Current      bool               `json:"current"`
	}
	type versionsJSON struct {
		ID       string        `json:"id"`
		Name     string        `json:"name"`
		Versions []versionJSON `json:"versions"`
	}

	t.Run("versions are listed newest first with masks only", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		wantStatus(t, r, http.StatusOK)
		v := decode[versionsJSON](t, r)
		if v.ID != sec.ID || v.Name != "DB_PASSWORD" {
			t.Errorf("id, name = %s, %s", v.ID, v.Name)
		}
		var got []int64
		for _, x := range v.Versions {
			got = append(got, x.Version)
		}
		if want := []int64{3, 2, 1}; !slices.Equal(got, want) {
			t.Fatalf("versions = %v, want %v", got, want)
		}
		if !v.Versions[0].Current || v.Versions[1].Current {
			t.Errorf("current flags = %v, %v: want only the newest", v.Versions[0].Current, v.Versions[1].Current)
		}
		if got, want := v.Versions[2].Change, "create"; got != want {
			t.Errorf("change of version 1 = %q, want %q", got, want)
		}
		if got, want := v.Versions[1].Description, "second"; got != want {
			t.Errorf("description of version 2 = %q, want %q", got, want)
		}
		if m := v.Versions[1].Masked["development"]; m == nil || *m != "dev-***long" {
			t.Errorf("development mask of version 2 = %s, want dev-***long", showMasks(v.Versions[1].Masked))
		}
		if bytes.Contains(r.Body, []byte("password")) {
			t.Errorf("versions show a value: %s", r.Body)
		}
	})

	t.Run("restoring a version makes its content current as a new version", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/1/restore", super, nil)
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Version != 4 || got.Description != "first" || !mapsEqual(got.Environments, map[string]bool{"development": true, "staging": false, "production": false}) {
			t.Errorf("restored: version %d, description %q, environments %v", got.Version, got.Description, got.Environments)
		}
		if v := e.resolve(t, super, map[string]any{"environment": "development"}); v["DB_PASSWORD"] != "dev-password-one" {
			t.Errorf("resolved after restore = %q, want the value of version 1", v["DB_PASSWORD"])
		}
		r = e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		v := decode[versionsJSON](t, r)
		if len(v.Versions) != 4 || v.Versions[0].Change != "restore" || v.Versions[0].RestoredFrom != 1 {
			t.Errorf("after restore the newest version is %+v of %d", v.Versions[0], len(v.Versions))
		}
	})

	t.Run("a restore with an empty JSON object as its body works too", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/2/restore", super, "{}")
		wantStatus(t, r, http.StatusOK)
		if got := decode[secretJSON](t, r); got.Version != 5 || got.Description != "second" {
			t.Errorf("restored version 2: version %d, description %q", got.Version, got.Description)
		}
	})

	t.Run("restoring a version that never existed is 404", func(t *testing.T) {
		wantError(t, e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/99/restore", super, nil), http.StatusNotFound, "not_found", "99")
	})

	t.Run("deleting removes the secret and its history", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/secrets/"+sec.ID, super, nil), http.StatusNoContent)
		wantError(t, e.do(t, "GET", "/v1/secrets/"+sec.ID, super, nil), http.StatusNotFound, "not_found")
		wantError(t, e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil), http.StatusNotFound, "not_found")
		wantError(t, e.do(t, "DELETE", "/v1/secrets/"+sec.ID, super, nil), http.StatusNotFound, "not_found")
	})
}

func TestVersionsAreKeptUpToTheLimit(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	for i := 0; i < 23; i++ {
		e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "ROTATED", "value": fmt.Sprint("value-", i)})
	}
	row := findRow(t, e, super, "", "ROTATED")
	r := e.do(t, "GET", "/v1/secrets/"+row.ID+"/versions", super, nil)
	wantStatus(t, r, http.StatusOK)
	v := decode[struct {
		Versions []struct {
			Version int64 `json:"version"`
		} `json:"versions"`
	}](t, r)
	if got, want := len(v.Versions), 20; got != want {
		t.Fatalf("kept %d versions, want %d", got, want)
	}
	if got, want := v.Versions[19].Version, int64(4); got != want {
		t.Errorf("oldest kept version = %d, want %d", got, want)
	}
	wantError(t, e.do(t, "POST", "/v1/secrets/"+row.ID+"/versions/3/restore", super, nil), http.StatusNotFound, "not_found", "no longer kept")
}

// ---------------------------------------------------------------------------
// Resolve.

func TestResolvePrecedence(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "staging", "production"}}), 200)

	// DB_URL: global has all three; the app overrides development only;
	// the machine overrides staging only.
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "values": map[string]string{"development": "g-dev", "staging": "g-stg", "production": "g-prd"}})
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "app": "web", "values": map[string]string{"development": "a-dev"}})
	e.createSecret(t, super, map[string]any{"name": "DB_URL", "app": "web", "machine": "m1", "values": map[string]string{"staging": "m-stg"}})
	// LOG_LEVEL lives at the app only; GLOBAL_ONLY at the global layer only.
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", super, map[string]string{"name": "LOG_LEVEL", "value": "debug"}), 201)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "GLOBAL_ONLY", "value": "g"}), 201)
	// An app secret without a production value overrides nothing there.
	e.createSecret(t, super, map[string]any{"name": "GLOBAL_ONLY", "app": "web", "values": map[string]string{"staging": "a-stg"}})

	for _, tc := range []struct {
		name            string
		env, app, mach  string
		want            map[string]string
		wantEnvironment string
	}{
		{"the global layer alone", "development", "", "", map[string]string{"DB_URL": "g-dev", "GLOBAL_ONLY": "g"}, "development"},
		{"an app overrides where it has a value", "development", "web", "", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"an app without a value for the environment overrides nothing", "staging", "web", "", map[string]string{"DB_URL": "g-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}, "staging"},
		{"a machine wins where it has a value", "staging", "web", "m1", map[string]string{"DB_URL": "m-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}, "staging"},
		{"a machine without a value falls back to the app", "development", "web", "m1", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"a machine and app without values fall back to global", "production", "web", "m1", map[string]string{"DB_URL": "g-prd", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "production"},
		{"another machine of the app sees the app and global layers", "development", "web", "m2", map[string]string{"DB_URL": "a-dev", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "g"}, "development"},
		{"another app sees the global layer only", "staging", "api", "", map[string]string{"DB_URL": "g-stg", "GLOBAL_ONLY": "g"}, "staging"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"environment": tc.env}
			if tc.app != "" {
				body["app"] = tc.app
			}
			if tc.mach != "" {
				body["machine"] = tc.mach
			}
			r := e.do(t, "POST", "/v1/resolve", super, body)
			wantStatus(t, r, http.StatusOK)
			got := decode[struct {
				Environment string            `json:"environment"`
				Secrets     map[string]string `json:"secrets"`
			}](t, r)
			if got.Environment != tc.wantEnvironment {
				t.Errorf("environment = %q, want %q", got.Environment, tc.wantEnvironment)
			}
			if !mapsEqual(got.Secrets, tc.want) {
				t.Errorf("secrets = %v, want %v", got.Secrets, tc.want)
			}
		})
	}

	t.Run("a service token scoped to a machine resolves at its machine without naming it", func(t *testing.T) {
		svc := e.mintService(t, super, "web-m1", "web", "m1", "staging", "production")
		got := e.resolve(t, svc, map[string]any{"environment": "staging"})
		if want := map[string]string{"DB_URL": "m-stg", "LOG_LEVEL": "debug", "GLOBAL_ONLY": "a-stg"}; !mapsEqual(got, want) {
			t.Errorf("secrets = %v, want %v", got, want)
		}
	})

	t.Run("an empty layer resolves to an empty object", func(t *testing.T) {
		e2 := newEnv(t)
		tok := e2.bootstrap(t, "empty", "root@empty.test", "Root")
		r := e2.do(t, "POST", "/v1/resolve", tok, map[string]string{"environment": "development"})
		wantStatus(t, r, http.StatusOK)
		if got, want := strings.TrimSpace(string(r.Body)), `{"environment":"development","secrets":{}}`; got != want {
			t.Errorf("body = %s, want %s", got, want)
		}
	})
}

// ---------------------------------------------------------------------------
// Identity: /v1/me and tokens.

func TestMe(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	member := e.mintUser(t, super, "ann@acme.test", "Ann", "member")
	svc := e.mintService(t, super, "web-deployer", "web", "", "production")

	t.Run("a user sees org, subject, name, kind, role and priority", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", member, nil)
		wantStatus(t, r, http.StatusOK)
		m := object(t, r)
		want := map[string]any{"org": "acme", "subject": "ann@acme.test", "name": "Ann", "kind": "user", "role": "member", "role_priority": 10.0}
		for k, v := range want {
			if m[k] != v {
				t.Errorf("%s = %v, want %v", k, m[k], v)
			}
		}
		if bytes.Contains(r.Body, []byte(member)) {
			t.Error("/v1/me shows the token")
		}
	})
	t.Run("a superadmin has priority 1000", func(t *testing.T) {
		m := object(t, e.do(t, "GET", "/v1/me", super, nil))
		if m["role"] != "superadmin" || m["role_priority"] != 1000.0 {
			t.Errorf("role, priority = %v, %v", m["role"], m["role_priority"])
		}
	})
	t.Run("a service token sees its kind and no role", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/me", svc, nil)
		wantStatus(t, r, http.StatusOK)
		m := object(t, r)
		wantHasKeys(t, "me", m, "org", "subject", "name", "kind", "role", "role_priority")
		if m["org"] != "acme" || m["kind"] != "service" || m["name"] != "web-deployer" || m["role"] != nil {
			t.Errorf("me = %v", m)
		}
	})
}

func TestTokens(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")

	r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "user", "subject": "ann@acme.test", "name": "Ann", "role": "member"})
	wantStatus(t, r, http.StatusCreated)
	wantHasKeys(t, "created token", object(t, r), "id", "token", "kind", "name", "subject", "role", "prefix", "created_at", "expires_at")
	user := decode[tokenJSON](t, r)

	t.Run("a user token is shown once with its prefix", func(t *testing.T) {
		if !strings.HasPrefix(user.Token, service.UserTokenPrefix) || len(user.Token) < len(service.UserTokenPrefix)+43 {
			t.Errorf("token %q: want %s and 256 bits", user.Token[:10], service.UserTokenPrefix)
		}
		if !strings.HasPrefix(user.Token, user.Prefix) || len(user.Prefix) >= len(user.Token)/2 {
			t.Errorf("prefix %q does not begin the token, or shows too much", user.Prefix)
		}
		if user.Kind != "user" || user.Role != "member" || user.RolePriority != 10 || user.Subject != "ann@acme.test" || user.ExpiresAt != nil {
			t.Errorf("token record = %+v", user)
		}
		if got := object(t, e.do(t, "GET", "/v1/me", user.Token, nil))["subject"]; got != "ann@acme.test" {
			t.Errorf("the new token authenticates as %v", got)
		}
	})

	svc := e.mint(t, super, map[string]any{"kind": "service", "name": "web-prod", "app": "web", "machine": "m1", "environments": []string{"production", "staging", "production"}})
	t.Run("a service token carries its scope", func(t *testing.T) {
		if !strings.HasPrefix(svc.Token, service.ServiceTokenPrefix) {
			t.Errorf("service token prefix: %q", svc.Token[:8])
		}
		if svc.Kind != "service" || svc.App != "web" || svc.Machine != "m1" || !slices.Equal(svc.Environments, []string{"production", "staging"}) || svc.Role != "" {
			t.Errorf("service token record = %+v", svc)
		}
	})

	t.Run("the list holds every token but never a token itself", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/tokens", super, nil)
		wantStatus(t, r, http.StatusOK)
		list := decode[struct {
			Tokens []map[string]any `json:"tokens"`
		}](t, r)
		if got, want := len(list.Tokens), 3; got != want {
			t.Fatalf("listed %d tokens, want %d (bootstrap, user, service)", got, want)
		}
		ids := map[any]bool{}
		for _, tk := range list.Tokens {
			if _, ok := tk["token"]; ok {
				t.Errorf("a listed token has its token: %v", tk["id"])
			}
			if _, ok := tk["hash"]; ok {
				t.Errorf("a listed token has its hash: %v", tk["id"])
			}
			ids[tk["id"]] = true
		}
		if !ids[user.ID] || !ids[svc.ID] {
			t.Errorf("list lacks a created token: %v", ids)
		}
		for _, tok := range []string{user.Token, svc.Token, super} {
			if bytes.Contains(r.Body, []byte(tok[len(tok)-20:])) {
				t.Error("the list shows a token")
			}
		}
	})

	t.Run("a revoked token answers 401 and is listed as revoked", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+user.ID, super, nil), http.StatusNoContent)
		wantError(t, e.do(t, "GET", "/v1/me", user.Token, nil), http.StatusUnauthorized, "unauthorized", "revoked")
		list := decode[struct {
			Tokens []tokenJSON `json:"tokens"`
		}](t, e.do(t, "GET", "/v1/tokens", super, nil))
		for _, tk := range list.Tokens {
			if tk.ID == user.ID && tk.RevokedAt == nil {
				t.Error("the revoked token is listed without revoked_at")
			}
			if tk.ID == svc.ID && tk.RevokedAt != nil {
				t.Error("the service token is listed as revoked")
			}
		}
	})

	t.Run("revoking an unknown token is 404", func(t *testing.T) {
		wantError(t, e.do(t, "DELETE", "/v1/tokens/00000000000000000000000000000000", super, nil), http.StatusNotFound, "not_found")
	})

	t.Run("a token with an expiry shows it", func(t *testing.T) {
		exp := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
		tk := e.mint(t, super, map[string]any{"kind": "user", "subject": "tmp@acme.test", "name": "Tmp", "role": "member", "expires_at": exp})
		if tk.ExpiresAt == nil || !tk.ExpiresAt.Equal(exp) {
			t.Errorf("expires_at = %v, want %v", tk.ExpiresAt, exp)
		}
	})
}

func TestIAMTokens(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	const (
		role    = "arn:aws:iam::123456789012:role/web-prod"
		session = "arn:aws:sts::123456789012:assumed-role/web-prod/i-0abc1234"
	)
	r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "web-prod", "principal_arn": session, "app": "web", "environments": []string{"production"}})
	wantStatus(t, r, http.StatusCreated)
	created := object(t, r)
	iam := decode[tokenJSON](t, r)

	t.Run("an IAM token has no token and is registered under its role", func(t *testing.T) {
		if _, ok := created["token"]; ok {
			t.Errorf("the answer has a token: %s", r.Body)
		}
		if got, want := iam.PrincipalARN, role; got != want {
			t.Errorf("principal_arn = %q, want the session's role %q", got, want)
		}
		if got, want := iam.ID, secrets.IAMTokenID("acme", role); got != want {
			t.Errorf("id = %q, want %q, derived from the role", got, want)
		}
		if got, want := iam.Prefix, "iam"; got != want {
			t.Errorf("prefix = %q, want %q", got, want)
		}
		if iam.Kind != "iam" || iam.App != "web" || iam.Machine != "" || !slices.Equal(iam.Environments, []string{"production"}) || iam.Role != "" {
			t.Errorf("iam token record = %+v", iam)
		}
	})
	t.Run("a role registered with a path is registered by its name, as sessions name it", func(t *testing.T) {
		tk := e.mintIAM(t, super, "batch", "arn:aws:iam::123456789012:role/service-role/batch", "", "", "staging")
		if got, want := tk.PrincipalARN, "arn:aws:iam::123456789012:role/batch"; got != want {
			t.Errorf("principal_arn = %q, want %q", got, want)
		}
	})
	t.Run("an IAM user is registered as it is", func(t *testing.T) {
		const user = "arn:aws:iam::123456789012:user/ci"
		if got, want := e.mintIAM(t, super, "ci", user, "", "", "development").PrincipalARN, user; got != want {
			t.Errorf("principal_arn = %q, want %q", got, want)
		}
	})
	t.Run("registering a principal twice is 409 naming principal_arn", func(t *testing.T) {
		for _, arn := range []string{role, session, "arn:aws:iam::123456789012:role/some/path/web-prod"} {
			r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "again", "principal_arn": arn, "environments": []string{"development"}})
			got := wantError(t, r, http.StatusConflict, "conflict", "already registered")
			if got.Field != "principal_arn" {
				t.Errorf("%s: field = %q, want principal_arn", arn, got.Field)
			}
		}
	})
	t.Run("the list shows the principal and never a token", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/tokens", super, nil)
		wantStatus(t, r, http.StatusOK)
		list := decode[struct {
			Tokens []map[string]any `json:"tokens"`
		}](t, r)
		found := false
		for _, tk := range list.Tokens {
			if _, ok := tk["token"]; ok {
				t.Errorf("a listed token has its token: %v", tk["id"])
			}
			if tk["id"] == iam.ID {
				found = true
				if got, want := tk["principal_arn"], role; got != want {
					t.Errorf("listed principal_arn = %v, want %q", got, want)
				}
			}
		}
		if !found {
			t.Errorf("the iam token %s is not listed: %s", iam.ID, r.Body)
		}
	})
	t.Run("a revoked registration no longer resolves", func(t *testing.T) {
		wantStatus(t, e.resolveIAM(t, role, map[string]string{"environment": "production"}), http.StatusOK)
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+iam.ID, super, nil), http.StatusNoContent)
		wantError(t, e.resolveIAM(t, session, map[string]string{"environment": "production"}), http.StatusUnauthorized, "unauthorized", "revoked")
	})
	t.Run("a revoked registration can be registered again, with a new scope", func(t *testing.T) {
		again := e.mintIAM(t, super, "web-prod again", role, "", "", "development")
		if got, want := again.ID, iam.ID; got != want {
			t.Errorf("id = %q, want the derived id %q", got, want)
		}
		wantStatus(t, e.resolveIAM(t, session, map[string]string{"environment": "development"}), http.StatusOK)
		wantStatus(t, e.resolveIAM(t, session, map[string]string{"environment": "production"}), http.StatusForbidden)
		r := e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "third", "principal_arn": role, "environments": []string{"development"}})
		wantError(t, r, http.StatusConflict, "conflict", "already registered")
	})
}

// ---------------------------------------------------------------------------
// Rotation policies.

func TestRotationPolicies(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnvWithClock(t, c)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "DB_PASSWORD", "app": "web",
		"values": map[string]string{"development": "dev-password-0123456789", "production": "prod-password-0123456789"}})
	before := e.getSecret(t, super, sec.ID)
	path := "/v1/secrets/" + sec.ID + "/rotation"
	c.Advance(time.Minute) // so that the audit orders each step after the one before

	t.Run("a secret without a policy shows rotation null", func(t *testing.T) {
		d := object(t, e.do(t, "GET", "/v1/secrets/"+sec.ID, super, nil))
		if got, ok := d["rotation"]; !ok || got != nil {
			t.Errorf("rotation = %v (present %v), want null", got, ok)
		}
	})
	t.Run("setting a policy is a new version, due one interval from now, with the values kept", func(t *testing.T) {
		got := e.setRotation(t, super, sec.ID, map[string]any{"every": "30d", "environments": []string{"production", "production"},
			"length": 40, "alphabet": "abcdefghijklmnopqrstuvwxyz0123456789"})
		if got, want := got.Version, int64(2); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		p := got.Rotation
		if p == nil {
			t.Fatal("rotation = null")
		}
		if p.Every != "30d" || !slices.Equal(p.Environments, []string{"production"}) || p.Length != 40 || p.Alphabet != "abcdefghijklmnopqrstuvwxyz0123456789" {
			t.Errorf("rotation = %+v", p)
		}
		if got, want := p.NextAt, c.Now().Add(30*24*time.Hour); !got.Equal(want) {
			t.Errorf("next_at = %v, want %v", got, want)
		}
		if p.LastAt != nil {
			t.Errorf("last_at = %v, want null before the first rotation", p.LastAt)
		}
		if !masksEqual(got.Masked, before.Masked) {
			t.Errorf("masks = %s, want them unchanged: %s", showMasks(got.Masked), showMasks(before.Masked))
		}
		c.Advance(time.Minute)
	})
	t.Run("a new policy replaces the old; length and alphabet default to 32 letters and digits", func(t *testing.T) {
		got := e.setRotation(t, super, sec.ID, map[string]any{"every": "12h", "environments": []string{"staging"}})
		p := got.Rotation
		if p == nil {
			t.Fatal("rotation = null")
		}
		if p.Every != "12h" || !slices.Equal(p.Environments, []string{"staging"}) || p.Length != service.DefaultRotationLength || p.Alphabet != service.DefaultAlphabet {
			t.Errorf("rotation = %+v", p)
		}
		if got, want := p.NextAt, c.Now().Add(12*time.Hour); !got.Equal(want) {
			t.Errorf("next_at = %v, want %v", got, want)
		}
	})
	t.Run("nothing rotates before the policy is due", func(t *testing.T) {
		c.Advance(12*time.Hour - time.Second)
		if got := e.rotateDue(t, "every-5-minutes"); got.Rotated != 0 {
			t.Errorf("report = %+v, want nothing rotated", got)
		}
		if got, want := e.getSecret(t, super, sec.ID).Version, int64(3); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
	t.Run("once due the sweep rotates the policy's environments and the detail shows masks only", func(t *testing.T) {
		c.Advance(time.Second)
		if got := e.rotateDue(t, "every-5-minutes"); got.Rotated != 1 {
			t.Fatalf("report = %+v, want one rotated", got)
		}
		got := e.getSecret(t, super, sec.ID)
		if got, want := got.Version, int64(4); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
		if got, want := got.Environments, map[string]bool{"development": true, "staging": true, "production": true}; !mapsEqual(got, want) {
			t.Errorf("environments = %v, want staging filled in by the rotation: %v", got, want)
		}
		if m := got.Masked["staging"]; m == nil || !strings.HasPrefix(*m, "***") || len(*m) != len("***")+4 {
			t.Errorf("staging mask = %v, want *** and 4 characters", showMasks(got.Masked))
		}
		for _, env := range []string{"development", "production"} {
			if !masksEqual(map[string]*string{env: got.Masked[env]}, map[string]*string{env: before.Masked[env]}) {
				t.Errorf("%s changed; the policy rotates staging only: %s", env, showMasks(got.Masked))
			}
		}
		p := got.Rotation
		if p == nil || p.LastAt == nil || !p.LastAt.Equal(c.Now()) || !p.NextAt.Equal(c.Now().Add(12*time.Hour)) {
			t.Errorf("rotation = %+v, want last_at now and next_at 12h on", p)
		}
	})
	t.Run("the new version says rotate and who rotated it: the schedule", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets/"+sec.ID+"/versions", super, nil)
		wantStatus(t, r, http.StatusOK)
		versions := decode[struct {
			Versions []struct {
				Version   int64             `json:"version"`
				Change    string            `json:"change"`
				UpdatedBy secrets.Principal `json:"updated_by"`
			} `json:"versions"`
		}](t, r).Versions
		var changes []string
		for _, v := range versions {
			changes = append(changes, v.Change)
		}
		if want := []string{"rotate", "rotation-policy", "rotation-policy", "create"}; !slices.Equal(changes, want) {
			t.Errorf("changes = %v, want %v", changes, want)
		}
		if got, want := versions[0].UpdatedBy.Subject, "schedule:every-5-minutes"; got != want {
			t.Errorf("updated_by = %q, want %q", got, want)
		}
	})
	t.Run("the audit names the schedule", func(t *testing.T) {
		all, _ := auditAll(t, e, super, 100)
		var records []auditJSON
		var actions []string
		for _, rec := range all {
			if rec.SecretID == sec.ID {
				records = append(records, rec)
				actions = append(actions, rec.Action)
			}
		}
		if want := []string{"secret.rotate", "rotation.set", "rotation.set", "secret.create"}; !slices.Equal(actions, want) {
			t.Fatalf("actions on the secret = %v, want %v", actions, want)
		}
		if got := records[0].Actor; got.Kind != "system" || got.Subject != "schedule:every-5-minutes" {
			t.Errorf("rotation actor = %+v, want the schedule", got)
		}
	})
	t.Run("clearing the policy is a new version and stops rotation", func(t *testing.T) {
		r := e.do(t, "DELETE", path, super, nil)
		wantStatus(t, r, http.StatusOK)
		got := decode[secretJSON](t, r)
		if got.Rotation != nil || got.Version != 5 {
			t.Errorf("after DELETE: rotation %+v, version %d; want null, 5", got.Rotation, got.Version)
		}
		c.Advance(48 * time.Hour)
		if got := e.rotateDue(t, "every-5-minutes"); got.Due != 0 || got.Rotated != 0 {
			t.Errorf("report = %+v, want nothing due", got)
		}
		if got, want := e.getSecret(t, super, sec.ID).Version, int64(5); got != want {
			t.Errorf("version = %d, want %d", got, want)
		}
	})
	t.Run("clearing a policy that is not there is 404", func(t *testing.T) {
		wantError(t, e.do(t, "DELETE", path, super, nil), http.StatusNotFound, "not_found", "DB_PASSWORD has no rotation policy")
	})
}

// ---------------------------------------------------------------------------
// Audit, layers, org.

type auditJSON struct {
	ID     string    `json:"id"`
	Time   time.Time `json:"time"`
	Action string    `json:"action"`
	Actor  struct {
		Kind    string `json:"kind"`
		TokenID string `json:"token_id"`
		Subject string `json:"subject"`
		Name    string `json:"name"`
	} `json:"actor"`
	SecretID    string `json:"secret_id"`
	Environment string `json:"environment"`
	TokenID     string `json:"token_id"`
	Detail      string `json:"detail"`
	Secrets     []struct {
		Name    string `json:"name"`
		Layer   string `json:"layer"`
		Version int64  `json:"version"`
	} `json:"secrets"`
}

// auditAll reads the whole audit trail page by page.
func auditAll(tb testing.TB, e *env, token string, limit int) (records []auditJSON, pages int) {
	tb.Helper()
	cursor := ""
	for {
		path := fmt.Sprintf("/v1/audit?limit=%d", limit)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := e.do(tb, "GET", path, token, nil)
		wantStatus(tb, r, http.StatusOK)
		page := decode[struct {
			Records    []auditJSON `json:"records"`
			NextCursor *string     `json:"next_cursor"`
		}](tb, r)
		if page.NextCursor == nil {
			tb.Fatalf("no next_cursor in %s", r.Body)
		}
		if len(page.Records) > limit {
			tb.Fatalf("a page of %d records, limit %d", len(page.Records), limit)
		}
		pages++
		records = append(records, page.Records...)
		if *page.NextCursor == "" {
			return records, pages
		}
		if pages > 100 {
			tb.Fatal("the audit trail does not end")
		}
		cursor = *page.NextCursor
	}
}

func TestAudit(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	ann := e.mint(t, super, map[string]any{"kind": "user", "subject": "ann@acme.test", "name": "Ann", "role": "member"})
	sec := e.createSecret(t, ann.Token, map[string]any{"name": "API_KEY", "values": map[string]string{"development": "audited-value-1"}})
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, ann.Token, map[string]any{"version": 1, "values": map[string]any{"development": "audited-value-2"}}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "OTHER", "value": "audited-value-3"}), 201)
	e.resolve(t, ann.Token, map[string]any{"environment": "development"})
	wantStatus(t, e.do(t, "POST", "/v1/secrets/"+sec.ID+"/versions/1/restore", super, nil), 200)
	wantStatus(t, e.do(t, "DELETE", "/v1/org/secrets/OTHER", super, nil), 204)
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+ann.ID, super, nil), 204)
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "staging"}}), 200)

	records, pages := auditAll(t, e, super, 3)
	t.Run("records come newest first over several pages", func(t *testing.T) {
		var actions []string
		for _, r := range records {
			actions = append(actions, r.Action)
		}
		want := []string{"org.update", "token.revoke", "secret.delete", "secret.restore", "resolve", "secret.create", "secret.update", "secret.create", "token.create", "token.create"}
		if !slices.Equal(actions, want) {
			t.Errorf("actions = %v\nwant      %v", actions, want)
		}
		if pages < 4 {
			t.Errorf("read %d pages of 3 for %d records", pages, len(records))
		}
		for i := 1; i < len(records); i++ {
			if records[i].Time.After(records[i-1].Time) || records[i].ID >= records[i-1].ID {
				t.Errorf("record %d (%s) is newer than record %d (%s)", i, records[i].ID, i-1, records[i-1].ID)
			}
		}
	})

	byAction := func(action string) auditJSON {
		for _, r := range records {
			if r.Action == action {
				return r
			}
		}
		t.Fatalf("no %s record", action)
		return auditJSON{}
	}
	t.Run("a resolve names the secrets and versions it returned", func(t *testing.T) {
		r := byAction("resolve")
		if r.Actor.Name != "Ann" || r.Actor.Subject != "ann@acme.test" || r.Actor.Kind != "user" || r.Environment != "development" {
			t.Errorf("resolve record = %+v", r)
		}
		got := map[string]int64{}
		for _, s := range r.Secrets {
			got[s.Name] = s.Version
		}
		if want := map[string]int64{"API_KEY": 2, "OTHER": 1}; !mapsEqual(got, want) {
			t.Errorf("resolved names and versions = %v, want %v", got, want)
		}
	})
	t.Run("writes name the secret and its new version", func(t *testing.T) {
		r := byAction("secret.restore")
		if r.SecretID != sec.ID || len(r.Secrets) != 1 || r.Secrets[0].Name != "API_KEY" || r.Secrets[0].Version != 3 || r.Actor.Name != "Root" {
			t.Errorf("restore record = %+v", r)
		}
		r = byAction("secret.update")
		if len(r.Secrets) != 1 || r.Secrets[0].Name != "API_KEY" || r.Secrets[0].Version != 2 || r.Actor.Name != "Ann" {
			t.Errorf("update record = %+v", r)
		}
		r = byAction("secret.delete")
		if len(r.Secrets) != 1 || r.Secrets[0].Name != "OTHER" || r.Secrets[0].Layer != "g" {
			t.Errorf("delete record = %+v", r)
		}
	})
	t.Run("token changes name the token", func(t *testing.T) {
		if r := byAction("token.revoke"); r.TokenID != ann.ID || r.Actor.Name != "Root" {
			t.Errorf("revoke record = %+v", r)
		}
		if r := records[len(records)-2]; r.Action != "token.create" || r.TokenID != ann.ID {
			t.Errorf("mint record = %+v", r)
		}
	})
	t.Run("an admin reads the audit, other orgs see none of it", func(t *testing.T) {
		admin := e.mintUser(t, super, "adm@acme.test", "Adm", "admin")
		if got, _ := auditAll(t, e, admin, 50); len(got) != len(records)+1 {
			t.Errorf("an admin read %d records, want %d", len(got), len(records)+1)
		}
		other := e.bootstrap(t, "globex", "root@globex.test", "G")
		got, _ := auditAll(t, e, other, 50)
		if len(got) != 1 || got[0].Action != "token.create" {
			t.Errorf("another org's audit holds %d records: %+v", len(got), got)
		}
	})
}

func TestLayers(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	r := e.do(t, "GET", "/v1/layers", super, nil)
	wantStatus(t, r, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.Body)), `{"layers":[]}`; got != want {
		t.Errorf("no layers = %s, want %s", got, want)
	}
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets", "/v1/apps/api/secrets"} {
		wantStatus(t, e.do(t, "POST", base, super, map[string]string{"name": "X", "value": "x"}), http.StatusCreated)
	}
	r = e.do(t, "GET", "/v1/layers", super, nil)
	wantStatus(t, r, http.StatusOK)
	if got, want := strings.TrimSpace(string(r.Body)), `{"layers":[{"app":"api","machine":null},{"app":"web","machine":null},{"app":"web","machine":"m1"}]}`; got != want {
		t.Errorf("layers = %s\nwant       %s", got, want)
	}
}

func TestOrgSettings(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	r := e.do(t, "GET", "/v1/org", super, nil)
	wantStatus(t, r, http.StatusOK)
	org := object(t, r)
	wantHasKeys(t, "org", org, "id", "created_at", "user_resolve_environments")
	if org["id"] != "acme" || fmt.Sprint(org["user_resolve_environments"]) != "[development]" {
		t.Errorf("org = %v", org)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "production"}})
	wantStatus(t, r, http.StatusOK)
	if got := fmt.Sprint(object(t, r)["user_resolve_environments"]); got != "[development production]" {
		t.Errorf("after PATCH user_resolve_environments = %s", got)
	}
	if got := fmt.Sprint(object(t, e.do(t, "GET", "/v1/org", super, nil))["user_resolve_environments"]); got != "[development production]" {
		t.Errorf("GET after PATCH user_resolve_environments = %s", got)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{}})
	wantStatus(t, r, http.StatusBadRequest)
	if got := errorOf(t, r).Field; got != "user_resolve_environments" {
		t.Errorf("an empty list: error field = %q, want user_resolve_environments", got)
	}

	if got := fmt.Sprint(org["audit_retention_days"]); got != "400" {
		t.Errorf("audit_retention_days = %s, want the default 400", got)
	}
	r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"audit_retention_days": 90})
	wantStatus(t, r, http.StatusOK)
	if got := fmt.Sprint(object(t, r)["audit_retention_days"]); got != "90" {
		t.Errorf("after PATCH audit_retention_days = %s, want 90", got)
	}
	r = e.do(t, "GET", "/v1/audit?limit=1", super, nil)
	wantStatus(t, r, http.StatusOK)
	var page struct {
		Records []struct {
			Action, Detail string
			Time           time.Time
			ExpiresAt      time.Time `json:"expires_at"`
		} `json:"records"`
	}
	if err := json.Unmarshal(r.Body, &page); err != nil || len(page.Records) != 1 {
		t.Fatalf("audit page: %v %s", err, r.Body)
	}
	// Shortening the retention keeps its own record for the old one.
	if rec := page.Records[0]; rec.Detail != "audit_retention_days: 400→90" || !rec.ExpiresAt.Equal(rec.Time.Add(400*24*time.Hour).Truncate(time.Second)) {
		t.Errorf("the change's record: %q, expires %s (at %s); want it kept 400 days", rec.Detail, rec.ExpiresAt, rec.Time)
	}
	for _, days := range []any{0, 3651, "400"} {
		r = e.do(t, "PATCH", "/v1/org", super, map[string]any{"audit_retention_days": days})
		wantStatus(t, r, http.StatusBadRequest)
		if got := errorOf(t, r).Field; got != "audit_retention_days" {
			t.Errorf("audit_retention_days %v: error field = %q, want audit_retention_days", days, got)
		}
	}
}

// ---------------------------------------------------------------------------
// Error paths.

func TestValidationErrors(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "EXISTING", "values": map[string]string{"development": "d"}})
	patch := "/v1/secrets/" + sec.ID
	rotation := patch + "/rotation"
	big := strings.Repeat("v", 64*1024+1)

	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		field        string // "" when the error is about the whole body
		contains     string
	}{
		{"a name that starts with a digit", "POST", "/v1/org/secrets", map[string]string{"name": "1ABC", "value": "v"}, "name", "letter or underscore"},
		{"a name with a hyphen", "POST", "/v1/secrets", map[string]any{"name": "MY-SECRET"}, "name", "letter or underscore"},
		{"a missing name", "POST", "/v1/secrets", map[string]any{"description": "d"}, "name", "required"},
		{"a name over 128 characters", "POST", "/v1/apps/web/secrets", map[string]string{"name": strings.Repeat("A", 129), "value": "v"}, "name", "128"},
		{"a bad name in a delete path", "DELETE", "/v1/org/secrets/1ABC", nil, "name", "letter or underscore"},
		{"an app id with capitals in the path", "POST", "/v1/apps/Web/secrets", map[string]string{"name": "A", "value": "v"}, "app", "lowercase"},
		{"an app id with an underscore in a body", "POST", "/v1/secrets", map[string]any{"name": "A", "app": "my_app"}, "app", "lowercase"},
		{"an app id in a query", "GET", "/v1/secrets?app=-web", nil, "app", "lowercase"},
		{"a machine id with capitals", "POST", "/v1/apps/web/machines/VM1/secrets", map[string]string{"name": "A", "value": "v"}, "machine", "lowercase"},
		{"a machine without an app in a body", "POST", "/v1/secrets", map[string]any{"name": "A", "machine": "m1"}, "app", "machine"},
		{"a machine without an app in a query", "GET", "/v1/secrets?machine=m1", nil, "app", "machine"},
		{"a machine without an app in a resolve", "POST", "/v1/resolve", map[string]any{"environment": "development", "machine": "m1"}, "app", "machine"},
		{"an unknown environment on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": "v", "environment": "prod"}, "environment", "development, staging or production"},
		{"an unknown environment in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"qa": "v"}}, "values", "development, staging or production"},
		{"an unknown environment in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"Production": "v"}}, "values", "development, staging or production"},
		{"an unknown environment to resolve", "POST", "/v1/resolve", map[string]string{"environment": "qa"}, "environment", "development, staging or production"},
		{"a resolve without an environment", "POST", "/v1/resolve", map[string]string{}, "environment", "required"},
		{"an empty value on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": ""}, "value", "empty"},
		{"a missing value on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A"}, "value", "empty"},
		{"an empty value in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"staging": ""}}, "values.staging", "empty"},
		{"an empty value in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"staging": ""}}, "values.staging", "null"},
		{"a value over 64 KiB on the layer API", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": big}, "value", "64 KiB"},
		{"a value over 64 KiB in values", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"production": big}}, "values.production", "64 KiB"},
		{"a value over 64 KiB in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]any{"production": big}}, "values.production", "64 KiB"},
		{"a description over 1000 characters", "POST", "/v1/secrets", map[string]any{"name": "A", "description": strings.Repeat("d", 1001)}, "description", "1000"},
		{"a description over 1000 characters in a PATCH", "PATCH", patch, map[string]any{"version": 1, "description": strings.Repeat("d", 1001)}, "description", "1000"},
		{"an unknown field", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": "v", "colour": "blue"}, "colour", "not a field"},
		{"an unknown field in a PATCH", "PATCH", patch, map[string]any{"version": 1, "owner": "me"}, "owner", "not a field"},
		{"a number for a name", "POST", "/v1/secrets", `{"name": 12}`, "name", "a string"},
		{"a string for a version", "PATCH", patch, `{"version": "1", "description": "x"}`, "version", "an integer"},
		{"a number for a value", "POST", "/v1/secrets", `{"name": "A", "values": {"development": 5}}`, "values", "a string"},
		{"an object for values", "POST", "/v1/secrets", `{"name": "A", "values": "x"}`, "values", "an object"},
		{"a string for environments", "POST", "/v1/tokens", `{"kind":"service","name":"s","environments":"production"}`, "environments", "an array"},
		{"invalid JSON", "POST", "/v1/secrets", `{"name": "A",`, "", "not valid JSON"},
		{"JSON with a syntax error", "POST", "/v1/org/secrets", `{"name" "A"}`, "", "not valid JSON"},
		{"a JSON array for a body", "POST", "/v1/secrets", `[{"name":"A"}]`, "", "JSON object"},
		{"two JSON objects", "POST", "/v1/org/secrets", `{"name":"A","value":"v"} {"name":"B","value":"v"}`, "", "single JSON object"},
		{"an empty body", "POST", "/v1/secrets", "", "", "JSON body is required"},
		{"a PATCH without a version", "PATCH", patch, map[string]any{"description": "x"}, "version", "required"},
		{"a PATCH with version 0", "PATCH", patch, map[string]any{"version": 0, "description": "x"}, "version", "required"},
		{"a PATCH that renames", "PATCH", patch, map[string]any{"version": 1, "name": "RENAMED"}, "name", "cannot be changed"},
		{"a PATCH with nothing to change", "PATCH", patch, map[string]any{"version": 1}, "", "nothing to change"},
		{"a PATCH with an empty object", "PATCH", patch, map[string]any{}, "version", "required"},
		{"a PATCH without a body", "PATCH", patch, "", "", "JSON body is required"},
		{"a restore of version zero", "POST", patch + "/versions/0/restore", nil, "n", "version number"},
		{"a restore of a version that is not a number", "POST", patch + "/versions/latest/restore", nil, "n", "version number"},
		{"a restore with an unknown field", "POST", patch + "/versions/1/restore", map[string]any{"force": true}, "force", "not a field"},
		{"an audit limit of zero", "GET", "/v1/audit?limit=0", nil, "limit", "1 to 500"},
		{"an audit limit over 500", "GET", "/v1/audit?limit=501", nil, "limit", "500"},
		{"a token of an unknown kind", "POST", "/v1/tokens", map[string]any{"kind": "robot", "name": "r"}, "kind", "user, service or iam"},
		{"a user token with an unknown role", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "root"}, "role", "member, admin or superadmin"},
		{"a user token without a subject", "POST", "/v1/tokens", map[string]any{"kind": "user", "name": "X", "role": "member"}, "subject", "required"},
		{"a token without a name", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "role": "member"}, "name", "required"},
		{"a service token without environments", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s"}, "environments", "required"},
		{"a service token with an unknown environment", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "environments": []string{"prod"}}, "environments", "development, staging or production"},
		{"a service token with a role", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "role": "admin", "environments": []string{"production"}}, "role", "service tokens"},
		{"a token that expired before it was made", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "member", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at", "future"},
		{"an org setting with an unknown environment", "PATCH", "/v1/org", map[string]any{"user_resolve_environments": []string{"prod"}}, "user_resolve_environments", "development, staging or production"},
		{"an iam token with an ARN of a short account", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::12345:role/web", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token for a group", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::123456789012:group/devs", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token for something that is not an ARN", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "web-prod", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token without a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "environments": []string{"production"}}, "principal_arn", "IAM role or user ARN"},
		{"an iam token without environments", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "principal_arn": "arn:aws:iam::123456789012:role/web"}, "environments", "required"},
		{"an iam token with a role", "POST", "/v1/tokens", map[string]any{"kind": "iam", "name": "r", "role": "admin", "principal_arn": "arn:aws:iam::123456789012:role/web", "environments": []string{"production"}}, "role", "user tokens"},
		{"a user token with a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "x@y", "name": "X", "role": "member", "principal_arn": "arn:aws:iam::123456789012:role/web"}, "principal_arn", "iam tokens"},
		{"a service token with a principal ARN", "POST", "/v1/tokens", map[string]any{"kind": "service", "name": "s", "environments": []string{"production"}, "principal_arn": "arn:aws:iam::123456789012:role/web"}, "principal_arn", "iam tokens"},
		{"a rotation every 0 days", "PUT", rotation, map[string]any{"every": "0d", "environments": []string{"production"}}, "every", "between 1m and 366d"},
		{"a rotation in an unknown unit", "PUT", rotation, map[string]any{"every": "5x", "environments": []string{"production"}}, "every", "unit d, h, m or s"},
		{"a rotation with an empty interval", "PUT", rotation, map[string]any{"every": "", "environments": []string{"production"}}, "every", "e.g. \"30d\""},
		{"a rotation without an interval", "PUT", rotation, map[string]any{"environments": []string{"production"}}, "every", "e.g. \"30d\""},
		{"a rotation every 400 days", "PUT", rotation, map[string]any{"every": "400d", "environments": []string{"production"}}, "every", "366d"},
		{"a rotation every 30 seconds", "PUT", rotation, map[string]any{"every": "30s", "environments": []string{"production"}}, "every", "between 1m"},
		{"a rotation of 8 characters", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 8}, "length", "16 to 4096"},
		{"a rotation of 5000 characters", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 5000}, "length", "16 to 4096"},
		{"a rotation of too little entropy", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 20, "alphabet": "ab"}, "length", "16 bits of entropy"},
		{"a rotation alphabet with a space", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghij klmnopqrstuvwxyz"}, "alphabet", "no spaces"},
		{"a rotation alphabet with a character twice", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghijklmnopqrstuvwxyza"}, "alphabet", "'a' twice"},
		{"a rotation alphabet of one character", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "length": 4096, "alphabet": "a"}, "alphabet", "2 to 95"},
		{"a rotation alphabet beyond ASCII", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "alphabet": "abcdefghijklmnopqrstuvwxyzé"}, "alphabet", "printable ASCII"},
		{"a rotation without environments", "PUT", rotation, map[string]any{"every": "30d"}, "environments", "required"},
		{"a rotation of no environments", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{}}, "environments", "required"},
		{"a rotation of an unknown environment", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"prod"}}, "environments", "development, staging or production"},
		{"a rotation with an unknown field", "PUT", rotation, map[string]any{"every": "30d", "environments": []string{"production"}, "jitter": "1h"}, "jitter", "not a field"},
		{"a rotation with a string for a length", "PUT", rotation, `{"every":"30d","environments":["production"],"length":"32"}`, "length", "an integer"},
		{"a rotation without a body", "PUT", rotation, "", "", "JSON body is required"},
	} {
		t.Run(tc.name+" is 400", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, super, tc.body)
			got := wantError(t, r, http.StatusBadRequest, "invalid", tc.contains)
			if got.Field != tc.field {
				t.Errorf("field = %q, want %q (message %q)", got.Field, tc.field, got.Message)
			}
			if tc.field != "" && !strings.Contains(got.Message, tc.field) {
				t.Errorf("message %q does not name the field %q", got.Message, tc.field)
			}
		})
	}

	t.Run("nothing was written by the rejected requests", func(t *testing.T) {
		if got := e.getSecret(t, super, sec.ID); got.Version != 1 {
			t.Errorf("version = %d, want 1", got.Version)
		}
		r := e.do(t, "GET", "/v1/secrets", super, nil)
		rows := decode[struct {
			Secrets []secretJSON `json:"secrets"`
		}](t, r).Secrets
		if len(rows) != 1 || rows[0].Name != "EXISTING" {
			t.Errorf("secrets = %s, want EXISTING only", r.Body)
		}
		if got := len(decode[struct {
			Tokens []tokenJSON `json:"tokens"`
		}](t, e.do(t, "GET", "/v1/tokens", super, nil)).Tokens); got != 1 {
			t.Errorf("%d tokens, want the bootstrap token only", got)
		}
	})
}

func TestUnauthorized(t *testing.T) {
	c := &clock{t: time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnvWithClock(t, c)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	revoked := e.mint(t, super, map[string]any{"kind": "user", "subject": "r@acme.test", "name": "R", "role": "admin"})
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+revoked.ID, super, nil), http.StatusNoContent)
	expiring := e.mint(t, super, map[string]any{"kind": "user", "subject": "x@acme.test", "name": "X", "role": "admin", "expires_at": c.Now().Add(time.Hour)})
	expiringSvc := e.mint(t, super, map[string]any{"kind": "service", "name": "s", "environments": []string{"development"}, "expires_at": c.Now().Add(time.Hour)})

	t.Run("a token works until it expires", func(t *testing.T) {
		wantStatus(t, e.do(t, "GET", "/v1/me", expiring.Token, nil), http.StatusOK)
		c.Advance(59 * time.Minute)
		wantStatus(t, e.do(t, "GET", "/v1/me", expiring.Token, nil), http.StatusOK)
		c.Advance(time.Minute)
	})

	forged := service.UserTokenPrefix + strings.Repeat("A", 43)
	for _, tc := range []struct {
		name     string
		header   string
		contains string
	}{
		{"a missing Authorization header", "", "missing token"},
		{"a Basic header", "Basic cm9vdDpyb290", "Bearer <token>"},
		{"a Bearer header without a token", "Bearer", "Bearer <token>"},
		{"a Bearer header with a blank token", "Bearer    ", "Bearer <token>"},
		{"a token without a known prefix", "Bearer not-a-token", "not valid"},
		{"an unknown token", "Bearer " + forged, "not valid"},
		{"a token of another kind's prefix", "Bearer " + service.ServiceTokenPrefix + super[len(service.UserTokenPrefix):], "not valid"},
		{"a revoked token", "Bearer " + revoked.Token, "revoked"},
		{"an expired user token", "Bearer " + expiring.Token, "expired"},
		{"an expired service token", "Bearer " + expiringSvc.Token, "expired"},
	} {
		t.Run(tc.name+" is 401", func(t *testing.T) {
			for _, call := range []struct {
				method, path string
				body         any
			}{
				{"GET", "/v1/me", nil},
				{"GET", "/v1/org/secrets", nil},
				{"POST", "/v1/secrets", map[string]string{"name": "A"}},
				{"POST", "/v1/resolve", map[string]string{"environment": "development"}},
				{"GET", "/v1/audit", nil},
				{"PUT", "/v1/secrets/8f0c6a4e-2b1d-4c3e-9f7a-5d6b8e9c0a1b/rotation", map[string]any{"every": "30d", "environments": []string{"production"}}},
			} {
				r := e.do(t, call.method, call.path, "", call.body, "Authorization", tc.header)
				wantError(t, r, http.StatusUnauthorized, "unauthorized", tc.contains)
				if got, want := r.Header.Get("WWW-Authenticate"), `Bearer realm="zwrm"`; got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			}
		})
	}
	t.Run("the scheme is case-insensitive", func(t *testing.T) {
		wantStatus(t, e.do(t, "GET", "/v1/me", "", nil, "Authorization", "bearer "+super), http.StatusOK)
	})
	t.Run("nothing was written with a bad token", func(t *testing.T) {
		r := e.do(t, "GET", "/v1/secrets", super, nil)
		if got, want := strings.TrimSpace(string(r.Body)), `{"secrets":[]}`; got != want {
			t.Errorf("secrets = %s, want %s", got, want)
		}
	})
}

func TestForbiddenNamesTheOwner(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	ann := e.mintUser(t, super, "ann@acme.test", "Ann Owner", "member")
	bob := e.mintUser(t, super, "bob@acme.test", "Bob", "member")
	sec := e.createSecret(t, ann, map[string]any{"name": "ANNS", "values": map[string]string{"development": "a"}})
	wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", ann, map[string]string{"name": "ANNS_APP", "value": "a", "environment": "development"}), http.StatusCreated)

	for _, tc := range []struct {
		name         string
		method, path string
		body         any
	}{
		{"a PATCH", "PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 1, "description": "mine now"}},
		{"a stale PATCH", "PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 7, "description": "mine now"}},
		{"a DELETE", "DELETE", "/v1/secrets/" + sec.ID, nil},
		{"a restore", "POST", "/v1/secrets/" + sec.ID + "/versions/1/restore", nil},
		{"a set by name", "POST", "/v1/apps/web/secrets", map[string]string{"name": "ANNS_APP", "value": "b"}},
		{"a delete by name", "DELETE", "/v1/apps/web/secrets/ANNS_APP", nil},
		{"a rotation policy", "PUT", "/v1/secrets/" + sec.ID + "/rotation", map[string]any{"every": "30d", "environments": []string{"production"}}},
		{"clearing a rotation policy", "DELETE", "/v1/secrets/" + sec.ID + "/rotation", nil},
	} {
		t.Run(tc.name+" by a non-owner member is 403 with the owner's name", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, bob, tc.body)
			got := wantError(t, r, http.StatusForbidden, "forbidden")
			if want := "Only Ann Owner can modify this secret"; got.Message != want {
				t.Errorf("message = %q, want %q", got.Message, want)
			}
		})
	}
	if got := e.getSecret(t, ann, sec.ID); got.Version != 1 || got.Description != "" {
		t.Errorf("the secret changed: version %d, description %q", got.Version, got.Description)
	}
}

func TestNotFound(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	absent := uuid.NewString()
	unrotated := e.createSecret(t, super, map[string]any{"name": "UNROTATED"})
	policy := map[string]any{"every": "30d", "environments": []string{"production"}}
	for _, tc := range []struct {
		name         string
		method, path string
		token        string
		body         any
	}{
		{"an absent id", "GET", "/v1/secrets/" + absent, super, nil},
		{"an id that is not a UUID", "GET", "/v1/secrets/not-a-uuid", super, nil},
		{"a PATCH of an absent id", "PATCH", "/v1/secrets/" + absent, super, map[string]any{"version": 1, "description": "x"}},
		{"a DELETE of an absent id", "DELETE", "/v1/secrets/" + absent, super, nil},
		{"a DELETE of a non-UUID id", "DELETE", "/v1/secrets/DATADOG_API_KEY", super, nil},
		{"the versions of an absent id", "GET", "/v1/secrets/" + absent + "/versions", super, nil},
		{"a restore of an absent id", "POST", "/v1/secrets/" + absent + "/versions/1/restore", super, nil},
		{"a rotation policy for an absent id", "PUT", "/v1/secrets/" + absent + "/rotation", super, policy},
		{"clearing the rotation policy of an absent id", "DELETE", "/v1/secrets/" + absent + "/rotation", super, nil},
		{"clearing a rotation policy that was never set", "DELETE", "/v1/secrets/" + unrotated.ID + "/rotation", super, nil},
		{"a delete by an absent name", "DELETE", "/v1/org/secrets/NOPE", super, nil},
		{"a delete by an absent name at an app", "DELETE", "/v1/apps/web/secrets/NOPE", super, nil},
		{"a delete by an absent name at a machine", "DELETE", "/v1/apps/web/machines/m1/secrets/NOPE", super, nil},
		{"a revoke of an absent token", "DELETE", "/v1/tokens/nope", super, nil},
		{"an unknown path", "GET", "/v1/nothing-here", super, nil},
		{"an unknown path without a token", "GET", "/v2/secrets", "", nil},
		{"the root", "GET", "/", "", nil},
		{"a path below a route", "GET", "/v1/secrets/" + absent + "/versions/1", super, nil},
	} {
		t.Run(tc.name+" is 404", func(t *testing.T) {
			wantError(t, e.do(t, tc.method, tc.path, tc.token, tc.body), http.StatusNotFound, "not_found")
		})
	}
}

func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	id := "8f0c6a4e-2b1d-4c3e-9f7a-5d6b8e9c0a1b" // fixed, so that subtest names are stable
	for _, tc := range []struct {
		method, path, allow string
	}{
		{"PUT", "/v1/secrets/" + id, "DELETE, GET, PATCH"},
		{"DELETE", "/v1/org/secrets", "GET, POST"},
		{"PATCH", "/v1/apps/web/secrets", "GET, POST"},
		{"GET", "/v1/apps/web/machines/m1/secrets/X", "DELETE"},
		{"GET", "/v1/resolve", "POST"},
		{"POST", "/healthz", "GET"},
		{"DELETE", "/v1/secrets", "GET, POST"},
		{"GET", "/v1/secrets/" + id + "/versions/1/restore", "POST"},
		{"PUT", "/v1/org", "GET, PATCH"},
		{"PATCH", "/v1/tokens", "GET, POST"},
		{"GET", "/v1/secrets/" + id + "/rotation", "DELETE, PUT"},
		{"POST", "/v1/secrets/" + id + "/rotation", "DELETE, PUT"},
		{"GET", "/v1/resolve/iam", "POST"},
	} {
		t.Run(tc.method+" "+tc.path+" is 405 and says what is allowed", func(t *testing.T) {
			r := e.do(t, tc.method, tc.path, super, nil)
			wantError(t, r, http.StatusMethodNotAllowed, "method_not_allowed", tc.method)
			if got := r.Header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow = %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestConflicts(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "STRIPE_API_KEY", "values": map[string]string{"development": "x"}})

	t.Run("a duplicate name is 409 saying the name is taken in this organization", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "STRIPE_API_KEY", "description": "again"})
		got := wantError(t, r, http.StatusConflict, "conflict", "STRIPE_API_KEY", "already taken in this organization")
		if got.Field != "name" {
			t.Errorf("field = %q, want name", got.Field)
		}
	})
	t.Run("a duplicate name at an app layer is 409 too", func(t *testing.T) {
		e.createSecret(t, super, map[string]any{"name": "APP_KEY", "app": "web"})
		wantError(t, e.do(t, "POST", "/v1/secrets", super, map[string]any{"name": "APP_KEY", "app": "web"}), http.StatusConflict, "conflict", "taken")
	})
	t.Run("a stale version is 409 and changes nothing", func(t *testing.T) {
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": "first"}), http.StatusOK)
		r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": "second"})
		got := wantError(t, r, http.StatusConflict, "conflict", "stale", "version 2")
		if got.Field != "version" {
			t.Errorf("field = %q, want version", got.Field)
		}
		if d := e.getSecret(t, super, sec.ID); d.Version != 2 || d.Description != "first" {
			t.Errorf("after a stale PATCH: version %d, description %q", d.Version, d.Description)
		}
	})
}

func TestBodyLimits(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "A"})
	huge := `{"name":"B","description":"` + strings.Repeat("x", 256<<10) + `"}`

	t.Run("a body over 256 KiB is 413", func(t *testing.T) {
		for _, c := range []struct{ method, path string }{
			{"POST", "/v1/secrets"}, {"POST", "/v1/org/secrets"}, {"PATCH", "/v1/secrets/" + sec.ID},
			{"POST", "/v1/resolve"}, {"POST", "/v1/tokens"}, {"PATCH", "/v1/org"},
			{"POST", "/v1/secrets/" + sec.ID + "/versions/1/restore"}, {"PUT", "/v1/secrets/" + sec.ID + "/rotation"},
		} {
			wantError(t, e.do(t, c.method, c.path, super, huge), http.StatusRequestEntityTooLarge, "too_large", "256 KiB")
		}
	})
	t.Run("a body of exactly 256 KiB is read", func(t *testing.T) {
		body := `{"name":"B","description":""}`
		body = body + strings.Repeat(" ", 256<<10-len(body))
		wantStatus(t, e.do(t, "POST", "/v1/secrets", super, body), http.StatusCreated)
	})
	t.Run("a body sent as text/plain is 415", func(t *testing.T) {
		for _, c := range []struct{ method, path, body string }{
			{"POST", "/v1/org/secrets", `{"name":"C","value":"v"}`},
			{"POST", "/v1/secrets", `{"name":"C"}`},
			{"PATCH", "/v1/secrets/" + sec.ID, `{"version":1,"description":"x"}`},
			{"POST", "/v1/resolve", `{"environment":"development"}`},
			{"POST", "/v1/secrets/" + sec.ID + "/versions/1/restore", `{}`},
			{"PUT", "/v1/secrets/" + sec.ID + "/rotation", `{"every":"30d","environments":["production"]}`},
		} {
			r := e.do(t, c.method, c.path, super, c.body, "Content-Type", "text/plain")
			wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "application/json")
		}
	})
	t.Run("a body without a Content-Type is 415", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `{"name":"C","value":"v"}`, "Content-Type", "")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("a form post is 415", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `name=C&value=v`, "Content-Type", "application/x-www-form-urlencoded")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
	})
	t.Run("the IAM resolve bounds and types its body too", func(t *testing.T) {
		const role = "arn:aws:iam::123456789012:role/limits"
		e.mintIAM(t, super, "limits", role, "", "", "development")
		wantError(t, e.resolveIAM(t, role, huge), http.StatusRequestEntityTooLarge, "too_large", "256 KiB")
		r := e.resolveIAM(t, role, `{"environment":"development"}`, "Content-Type", "text/plain")
		wantError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type", "application/json")
	})
	t.Run("application/json with a charset is accepted", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, `{"name":"C","value":"v"}`, "Content-Type", "application/json; charset=utf-8")
		wantStatus(t, r, http.StatusCreated)
	})
}

// TestEveryResponseIsNoStore lists answers of every kind; do checks
// Cache-Control on each, and this test checks that the list was answered.
func TestEveryResponseIsNoStore(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	for _, tc := range []struct {
		method, path string
		token        string
		body         any
		status       int
	}{
		{"GET", "/healthz", "", nil, 200},
		{"GET", "/v1/openapi.json", "", nil, 200},
		{"POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "v"}, 201},
		{"DELETE", "/v1/org/secrets/A", super, nil, 204},
		{"GET", "/v1/org/secrets", "", nil, 401},
		{"GET", "/v1/nowhere", "", nil, 404},
		{"PUT", "/v1/org/secrets", super, nil, 405},
		{"POST", "/v1/secrets", super, "{", 400},
		{"POST", "/v1/secrets", super, `{"name":"A","description":"` + strings.Repeat("x", 300<<10) + `"}`, 413},
		{"POST", "/v1/secrets", super, `{"name":"A"}`, 415},
	} {
		hdr := []string{}
		if tc.status == 415 {
			hdr = []string{"Content-Type", "text/plain"}
		}
		r := e.do(t, tc.method, tc.path, tc.token, tc.body, hdr...)
		if r.Status != tc.status {
			t.Errorf("%s %s = %d, want %d", tc.method, tc.path, r.Status, tc.status)
		}
		if got := r.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("%s %s (%d): Cache-Control = %q", tc.method, tc.path, r.Status, got)
		}
	}
}

// ---------------------------------------------------------------------------
// Concurrency through HTTP.

func TestConcurrentSetsOfOneNameAllSucceed(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	const n = 100
	type result struct {
		status  int
		version int64
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "RACED", "value": fmt.Sprintf("value-%02d", i)})
			var v layerSecretJSON
			_ = json.Unmarshal(r.Body, &v)
			results[i] = result{r.Status, v.Version}
		}()
	}
	close(start)
	wg.Wait()

	created := 0
	var versions []int64
	for i, r := range results {
		switch r.status {
		case http.StatusCreated:
			created++
		case http.StatusOK:
		default:
			t.Errorf("writer %d: status %d", i, r.status)
		}
		versions = append(versions, r.version)
	}
	if created != 1 {
		t.Errorf("%d writers got 201, want exactly 1", created)
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions = %v, want 1 to %d, each once", versions, n)
		}
	}

	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	list := decode[struct {
		Secrets []layerSecretJSON `json:"secrets"`
	}](t, r)
	if len(list.Secrets) != 1 || list.Secrets[0].Version != n {
		t.Fatalf("list = %s, want RACED at version %d", r.Body, n)
	}

	row := findRow(t, e, super, "", "RACED")
	r = e.do(t, "GET", "/v1/secrets/"+row.ID+"/versions", super, nil)
	wantStatus(t, r, http.StatusOK)
	var history []int64
	for _, v := range decode[struct {
		Versions []struct {
			Version int64 `json:"version"`
		} `json:"versions"`
	}](t, r).Versions {
		history = append(history, v.Version)
	}
	want := make([]int64, 20) // the versions kept
	for i := range want {
		want[i] = int64(n - i)
	}
	if !slices.Equal(history, want) {
		t.Errorf("history = %v, want %v", history, want)
	}
}

func TestConcurrentPatchesWithOneVersion(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	sec := e.createSecret(t, super, map[string]any{"name": "CONTENDED", "values": map[string]string{"development": "v0"}})
	const n = 10
	statuses := make([]int, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			r := e.do(t, "PATCH", "/v1/secrets/"+sec.ID, super, map[string]any{"version": 1, "description": fmt.Sprint("writer ", i)})
			statuses[i] = r.Status
		}()
	}
	close(start)
	wg.Wait()
	ok, conflict := 0, 0
	for i, s := range statuses {
		switch s {
		case http.StatusOK:
			ok++
		case http.StatusConflict:
			conflict++
		default:
			t.Errorf("writer %d: status %d", i, s)
		}
	}
	if ok != 1 || conflict != n-1 {
		t.Errorf("%d × 200 and %d × 409, want 1 and %d", ok, conflict, n-1)
	}
	if got := e.getSecret(t, super, sec.ID); got.Version != 2 {
		t.Errorf("version = %d, want 2", got.Version)
	}
}

// ---------------------------------------------------------------------------
// Request ids and internal errors.

func TestRequestIDs(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")

	t.Run("a plain X-Request-Id is kept, answered and audited", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "v"}, "X-Request-Id", "req-123.abc_DEF")
		wantStatus(t, r, http.StatusCreated)
		if got, want := r.Header.Get("X-Request-Id"), "req-123.abc_DEF"; got != want {
			t.Errorf("X-Request-Id = %q, want %q", got, want)
		}
		records, _, err := e.store.ListAudit(context.Background(), "acme", "", 1)
		if err != nil || len(records) != 1 {
			t.Fatalf("audit: %v, %d records", err, len(records))
		}
		if got, want := records[0].RequestID, "req-123.abc_DEF"; got != want {
			t.Errorf("audit request_id = %q, want %q", got, want)
		}
	})
	t.Run("an X-Request-Id that could forge log lines is replaced", func(t *testing.T) {
		for _, bad := range []string{`x"y`, "a b", strings.Repeat("a", 65), "é"} {
			r := e.do(t, "GET", "/healthz", "", nil, "X-Request-Id", bad)
			if got := r.Header.Get("X-Request-Id"); got == bad || got == "" {
				t.Errorf("X-Request-Id %q answered as %q", bad, got)
			}
		}
	})
	t.Run("without one, each request gets its own", func(t *testing.T) {
		a := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		b := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		if a == "" || a == b {
			t.Errorf("request ids %q and %q", a, b)
		}
	})
}

// TestInternalErrorsHideTheirCause closes the store under the running API:
// the client gets "internal error" and the request id, never the cause; the
// log gets the cause with that request id.
func TestInternalErrorsHideTheirCause(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/secrets", super, nil)
	got := wantError(t, r, http.StatusInternalServerError, "internal", "internal error")
	rid := r.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(got.Message, rid) {
		t.Errorf("message %q does not quote the request id %q", got.Message, rid)
	}
	for _, cause := range []string{"database", "bolt", "get token", "not open"} {
		if strings.Contains(strings.ToLower(string(r.Body)), cause) {
			t.Errorf("the answer shows the cause (%q): %s", cause, r.Body)
		}
	}
	e.stop()
	logged := false
	for _, line := range e.logLines(t) {
		if line["msg"] == "request failed" && line["request_id"] == rid {
			logged = true
			if s, _ := line["error"].(string); s == "" {
				t.Errorf("the log line has no error: %v", line)
			}
		}
	}
	if !logged {
		t.Errorf("no \"request failed\" log line with request id %s:\n%s", rid, e.logs.String())
	}
}

func TestHeadAndUncleanPaths(t *testing.T) {
	e := newEnv(t)
	t.Run("HEAD on a GET route answers like GET without a body", func(t *testing.T) {
		resp, err := http.Head(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD /healthz = %d %q, want 200 and no body", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q", got)
		}
	})
	t.Run("an unclean path is a JSON 404, not a redirect", func(t *testing.T) {
		for _, p := range []string{"/v1//secrets", "/v1/org/../secrets", "/v1/./me"} {
			r := e.do(t, "GET", p, "", nil)
			wantStatus(t, r, http.StatusNotFound)
			if got := errorOf(t, r).Code; got != "not_found" {
				t.Errorf("%s: code = %q, want not_found", p, got)
			}
		}
	})
}

func TestABodyThatIsNotUTF8IsRefusedNotRewritten(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	body := "{\"name\":\"LATIN1\",\"value\":\"caf\xe9-pass\"}"
	wantError(t, e.do(t, "POST", "/v1/org/secrets", super, body), http.StatusBadRequest, "invalid", "UTF-8")
	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	if strings.Contains(string(r.Body), "LATIN1") {
		t.Fatalf("the refused secret was stored: %s", r.Body)
	}
}
