package httpapi_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
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
	logs  *testkit.SyncBuffer
	clock *testkit.Clock // nil on the real clock

	mu        sync.Mutex
	exchanges []exchange
}

// exchange is one request and its answer, as the client saw them.
type exchange struct {
	method, path string
	status       int
	body         []byte
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

// newAcme builds the whole stack with one organization, acme, and returns
// the token of its first superadmin, root@acme.test: where most tests start.
func newAcme(tb testing.TB) (*env, string) {
	tb.Helper()
	e := newEnv(tb)
	return e, e.bootstrap(tb, "acme", "root@acme.test", "Root")
}

// newClock is a clock for newEnvWithClock that a test moves by hand,
// standing at noon UTC on 1 January 2030 until then.
func newClock() *testkit.Clock {
	return testkit.NewClock(time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC))
}

// newEnvWithClock builds the whole stack; the service reads c for the time
// when c is not nil.
func newEnvWithClock(tb testing.TB, c *testkit.Clock) *env {
	tb.Helper()
	return buildEnv(tb, envOptions{clock: c})
}

// newBearerOnlyEnv builds the whole stack without an IAM authenticator, as
// the local server runs: no API Gateway verifies SigV4 in front of it.
func newBearerOnlyEnv(tb testing.TB) *env {
	tb.Helper()
	return buildEnv(tb, envOptions{bearerOnly: true})
}

// envOptions vary the stack; the zero value is newEnv's.
type envOptions struct {
	clock      *testkit.Clock // the service's time; nil is the real clock
	bearerOnly bool           // no IAM authenticator
	timeout    time.Duration  // each request's deadline; 0 is none
	// store, when set, wraps the store the service uses (to hold up or
	// fail its calls); env.store stays the embedded store beneath.
	store func(secrets.Store) secrets.Store
}

// buildEnv builds the stack of the test kit, with the one HTTP handler in
// front of it and a log that keeps every level.
func buildEnv(tb testing.TB, o envOptions) *env {
	tb.Helper()
	logs := &testkit.SyncBuffer{}
	logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := service.Config{Logger: logger}
	k := testkit.New(tb, testkit.Options{Config: cfg, Clock: o.clock, Store: boltstore.Options{Timeout: time.Second}})
	svc := k.Service
	if o.store != nil {
		svc = k.ServiceOver(o.store(k.Store), cfg)
	}
	opts := httpapi.Options{Logger: logger, Timeout: o.timeout}
	if !o.bearerOnly {
		opts.IAM = headerIAM{svc}
	}
	h := httpapi.New(svc, opts)
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return &env{srv: srv, h: h, svc: svc, store: k.Store, path: k.Path, logs: logs, clock: o.clock}
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
// no-store, a JSON body (none for 204 and 304), and for errors the
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
	if r.Status == http.StatusNoContent || r.Status == http.StatusNotModified {
		if len(r.Body) != 0 {
			tb.Errorf("%s: %d with a body: %s", what, r.Status, r.Body)
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

// keysOf returns m's keys in order.
func keysOf[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
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

// versionNumbers returns the versions GET /v1/secrets/{id}/versions lists,
// newest first.
func (e *env) versionNumbers(tb testing.TB, token, id string) []int64 {
	tb.Helper()
	r := e.do(tb, "GET", "/v1/secrets/"+id+"/versions", token, nil)
	wantStatus(tb, r, http.StatusOK)
	var out []int64
	for _, v := range decode[struct {
		Versions []struct {
			Version int64 `json:"version"`
		} `json:"versions"`
	}](tb, r).Versions {
		out = append(out, v.Version)
	}
	return out
}

// race runs f(0) to f(n-1) in n goroutines let go at the same moment, and
// waits for them all.
func race(n int, f func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			f(i)
		}()
	}
	close(start)
	wg.Wait()
}

// listTokens returns the answer of GET /v1/tokens and its tokens, each as
// the JSON object it is.
func (e *env) listTokens(tb testing.TB, token string) (response, []map[string]any) {
	tb.Helper()
	r := e.do(tb, "GET", "/v1/tokens", token, nil)
	wantStatus(tb, r, http.StatusOK)
	return r, decode[struct {
		Tokens []map[string]any `json:"tokens"`
	}](tb, r).Tokens
}

// resolve returns the values of POST /v1/resolve.
func (e *env) resolve(tb testing.TB, token string, body map[string]any) map[string]string {
	tb.Helper()
	r := e.do(tb, "POST", "/v1/resolve", token, body)
	if r.Status != http.StatusOK {
		tb.Fatalf("resolve %v: %s", body, r)
	}
	return resolved(tb, r)
}

// resolved decodes the values of a POST /v1/resolve answer.
func resolved(tb testing.TB, r response) map[string]string {
	tb.Helper()
	return decode[struct {
		Secrets map[string]string `json:"secrets"`
	}](tb, r).Secrets
}

// wantResolve checks a POST /v1/resolve answer: the values want or, when
// want is nil, the refusal of this kind of token, showing no production
// value (the access tests' production values all hold "prd").
func wantResolve(tb testing.TB, r response, kind string, want map[string]string) {
	tb.Helper()
	if want == nil {
		wantError(tb, r, http.StatusForbidden, "forbidden", "this "+kind+" token may not resolve")
		if strings.Contains(string(r.Body), "prd") {
			tb.Errorf("a refused resolve shows values: %s", r.Body)
		}
		return
	}
	wantStatus(tb, r, http.StatusOK)
	if got := resolved(tb, r); !mapsEqual(got, want) {
		tb.Errorf("secrets = %v, want %v", got, want)
	}
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
