package lambdaapp_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	sampleevents "github.com/zwrm/secrets/events"
	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fixture is one deployment: a function App per function over one store,
// as the functions share one table, and the tokens the samples stand for.
type fixture struct {
	apps         map[httpapi.Function]*lambdaapp.App
	authorizer   *lambdaapp.App
	clock        *clock
	userToken    string
	serviceToken string
	admin        secrets.Identity
	logs         *bytes.Buffer
}

const stripeLive = "sk_live_51HxyzabcdRgA1"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	master := make([]byte, 32)
	rand.Read(master)
	wrapper, err := localkey.New(master)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{apps: map[httpapi.Function]*lambdaapp.App{}, clock: &clock{now: time.Now().UTC()}, logs: &bytes.Buffer{}}
	logger := slog.New(slog.NewJSONHandler(f.logs, nil))
	cfg := lambdaapp.Config{Now: f.clock.Now}
	for _, fn := range []httpapi.Function{httpapi.FnSet, httpapi.FnList, httpapi.FnDelete, httpapi.FnResolve, httpapi.FnAdmin, httpapi.FnResolveDirect} {
		f.apps[fn] = lambdaapp.New(fn, store, wrapper, cfg, logger)
	}
	f.authorizer = lambdaapp.New("", store, wrapper, cfg, logger)

	ctx := context.Background()
	svc := f.apps[httpapi.FnAdmin].Service
	if f.userToken, err = svc.Bootstrap(ctx, "acme", "ann@acme.test", "Ann"); err != nil {
		t.Fatal(err)
	}
	if f.admin, err = svc.Authenticate(ctx, f.userToken); err != nil {
		t.Fatal(err)
	}
	if f.serviceToken, _, err = svc.CreateToken(ctx, f.admin, service.TokenInput{Kind: secrets.TokenService, Name: "web-prod", App: "web", Envs: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err = svc.CreateToken(ctx, f.admin, service.TokenInput{Kind: secrets.TokenIAM, Name: "web-prod role", PrincipalARN: "arn:aws:iam::123456789012:role/web-prod", App: "web", Envs: []string{"production"}}); err != nil {
		t.Fatal(err)
	}
	return f
}

// sample reads an event, with the fixture's tokens in place of the
// placeholders.
func (f *fixture) sample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := sampleevents.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("${USER_TOKEN}"), []byte(f.userToken))
	b = bytes.ReplaceAll(b, []byte("${SERVICE_TOKEN}"), []byte(f.serviceToken))
	return b
}

// strictDecode checks that a sample is a valid v of aws-lambda-go's types:
// no field it does not know.
func strictDecode(t *testing.T, raw []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("sample does not decode as %T: %v", v, err)
	}
}

func (f *fixture) httpSample(t *testing.T, fn httpapi.Function, name string) events.APIGatewayV2HTTPResponse {
	t.Helper()
	raw := f.sample(t, name)
	var req events.APIGatewayV2HTTPRequest
	strictDecode(t, raw, &req)
	app := f.apps[fn]
	var out any
	var err error
	switch fn {
	case httpapi.FnSet:
		out, err = app.Set(context.Background(), raw)
	default:
		out, err = app.HTTP(context.Background(), req)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	resp, ok := out.(events.APIGatewayV2HTTPResponse)
	if !ok {
		t.Fatalf("%s: answer is %T, want an HTTP response", name, out)
	}
	if got := resp.Headers["Cache-Control"]; got != "no-store" {
		t.Errorf("%s: Cache-Control = %q", name, got)
	}
	return resp
}

func wantResponse(t *testing.T, name string, resp events.APIGatewayV2HTTPResponse, status int, contains ...string) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: status %d, want %d; body %s", name, resp.StatusCode, status, resp.Body)
	}
	for _, c := range contains {
		if !strings.Contains(resp.Body, c) {
			t.Errorf("%s: body %s lacks %s", name, resp.Body, c)
		}
	}
}

func TestEverySampleEventThroughItsFunction(t *testing.T) {
	f := newFixture(t)

	t.Run("the authorizer allows a good token and passes the identity on", func(t *testing.T) {
		raw := f.sample(t, "authorizer.json")
		var req events.APIGatewayV2CustomAuthorizerV2Request
		strictDecode(t, raw, &req)
		resp, err := f.authorizer.Authorize(context.Background(), req)
		if err != nil || !resp.IsAuthorized {
			t.Fatalf("authorize = %+v, %v", resp, err)
		}
		for k, want := range map[string]string{"org": "acme", "subject": "ann@acme.test", "name": "Ann", "kind": "user", "role": "superadmin"} {
			if got := resp.Context[k]; got != want {
				t.Errorf("context %s = %v, want %s", k, got, want)
			}
		}
	})
	t.Run("the authorizer denies a bad, missing or non-bearer token without an error", func(t *testing.T) {
		for _, header := range []string{"Bearer zwrm_u_nope", "", "Basic abc", "Bearer " + strings.Replace(f.userToken, "zwrm_u_", "zwrm_s_", 1)} {
			var req events.APIGatewayV2CustomAuthorizerV2Request
			strictDecode(t, f.sample(t, "authorizer.json"), &req)
			req.Headers["authorization"] = header
			resp, err := f.authorizer.Authorize(context.Background(), req)
			if err != nil || resp.IsAuthorized {
				t.Errorf("header %q: authorize = %+v, %v; want a denial", header, resp, err)
			}
		}
	})
	t.Run("set serves POST /v1/org/secrets", func(t *testing.T) {
		wantResponse(t, "set-org-secret", f.httpSample(t, httpapi.FnSet, "set-org-secret.json"), 201, `"name":"DATADOG_API_KEY"`, `"version":1`)
	})
	t.Run("set serves POST /v1/secrets", func(t *testing.T) {
		resp := f.httpSample(t, httpapi.FnSet, "set-create-secret.json")
		wantResponse(t, "set-create-secret", resp, 201, `"sk_live_***RgA1"`, `"owner":{"subject":"ann@acme.test","name":"Ann"}`)
		if strings.Contains(resp.Body, stripeLive) {
			t.Error("the create answer holds the value")
		}
	})
	t.Run("list serves GET /v1/secrets and GET /v1/org/secrets without values", func(t *testing.T) {
		resp := f.httpSample(t, httpapi.FnList, "list-secrets.json")
		wantResponse(t, "list-secrets", resp, 200, `"STRIPE_API_KEY"`, `"production":true`, `"development":false`)
		wantResponse(t, "list-org-secrets", f.httpSample(t, httpapi.FnList, "list-org-secrets.json"), 200, `"DATADOG_API_KEY"`)
		if strings.Contains(resp.Body, stripeLive) {
			t.Error("the list holds a value")
		}
	})
	t.Run("resolve serves a service token over HTTP (API Gateway invokes it; workloads may not)", func(t *testing.T) {
		wantResponse(t, "resolve-http", f.httpSample(t, httpapi.FnResolve, "resolve-http.json"), 200, `"STRIPE_API_KEY":"`+stripeLive+`"`, `"environment":"production"`)
	})
	t.Run("resolve serves an IAM caller whose role is registered", func(t *testing.T) {
		wantResponse(t, "resolve-iam", f.httpSample(t, httpapi.FnResolve, "resolve-iam.json"), 200, `"STRIPE_API_KEY":"`+stripeLive+`"`)
	})
	t.Run("resolve-direct answers a direct invocation with a service token", func(t *testing.T) {
		res, err := f.apps[httpapi.FnResolveDirect].ResolveDirect(context.Background(), f.sample(t, "resolve-direct.json"))
		if err != nil {
			t.Fatal(err)
		}
		if res.Error != nil || res.Secrets["STRIPE_API_KEY"] != stripeLive || res.Environment != "production" {
			t.Fatalf("direct resolve = %+v", res)
		}
	})
	t.Run("resolve-direct refuses an event shaped like API Gateway's, whatever authorizer context it claims", func(t *testing.T) {
		// A workload allowed to invoke resolve-direct could write any
		// authorizer context: a forged service identity of another org,
		// or an IAM caller.
		for _, sample := range []string{"resolve-http.json", "resolve-iam.json"} {
			res, err := f.apps[httpapi.FnResolveDirect].ResolveDirect(context.Background(), f.sample(t, sample))
			if err != nil || res.Error == nil || res.Error.Code != secrets.CodeForbidden || len(res.Secrets) != 0 {
				t.Errorf("%s: answer %+v, %v; want a refusal", sample, res, err)
			}
		}
	})
	t.Run("a direct invocation with a bad token or payload answers an error body", func(t *testing.T) {
		for payload, code := range map[string]secrets.Code{
			`{"token":"zwrm_s_nope","environment":"production"}`:                                      secrets.CodeUnauthorized,
			`{"token":"` + f.serviceToken + `","environment":"staging","app":"web"}`:                  secrets.CodeForbidden,
			`{"token":"` + f.serviceToken + `","environment":"production","app":"api"}`:               secrets.CodeForbidden,
			`{"token":"` + f.serviceToken + `","environment":"prod"}`:                                 secrets.CodeInvalid,
			`{"token":"` + f.serviceToken + `","environment":"production","extra":1}`:                 secrets.CodeInvalid,
			`{"token":"` + f.serviceToken + `","environment":"production","app":"web","machine":"X"}`: secrets.CodeInvalid,
			`{"token":"` + f.userToken + `","environment":"development"}`:                             secrets.CodeForbidden,
		} {
			res, err := f.apps[httpapi.FnResolveDirect].ResolveDirect(context.Background(), json.RawMessage(payload))
			if err != nil || res.Error == nil || res.Error.Code != code || len(res.Secrets) != 0 {
				t.Errorf("%s: answer %+v, %v; want error code %s", payload, res, err, code)
			}
		}
	})
	t.Run("admin serves GET /v1/tokens", func(t *testing.T) {
		wantResponse(t, "admin-list-tokens", f.httpSample(t, httpapi.FnAdmin, "admin-list-tokens.json"), 200, `"web-prod"`, `"principal_arn":"arn:aws:iam::123456789012:role/web-prod"`)
	})
	t.Run("delete serves DELETE /v1/org/secrets/{name}", func(t *testing.T) {
		wantResponse(t, "delete-org-secret", f.httpSample(t, httpapi.FnDelete, "delete-org-secret.json"), 204)
	})
	t.Run("a function answers 404 for another function's route", func(t *testing.T) {
		wantResponse(t, "set-org-secret to list", f.httpSample(t, httpapi.FnList, "set-org-secret.json"), 405)
		wantResponse(t, "list-secrets to set", f.httpSample(t, httpapi.FnSet, "list-secrets.json"), 405)
		wantResponse(t, "delete-org-secret to resolve", f.httpSample(t, httpapi.FnResolve, "delete-org-secret.json"), 404)
	})
	t.Run("the scheduled rotation event rotates what is due, once per delivery", func(t *testing.T) {
		ctx := context.Background()
		svc := f.apps[httpapi.FnSet].Service
		list, err := svc.List(ctx, f.admin, secrets.Layer{App: "web"})
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		if _, err := svc.SetRotation(ctx, f.admin, list[0].ID, service.RotationInput{Every: "1h", Environments: []string{"production"}}); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Hour + time.Minute)
		raw := f.sample(t, "rotation.json")
		for i, want := range []int{1, 0} {
			out, err := f.apps[httpapi.FnSet].Set(ctx, raw)
			if err != nil {
				t.Fatal(err)
			}
			rep, ok := out.(service.RotationReport)
			if !ok || rep.Rotated != want || rep.Failed != 0 {
				t.Fatalf("delivery %d: report %+v, want %d rotated", i+1, out, want)
			}
		}
		if res, _ := f.apps[httpapi.FnResolveDirect].ResolveDirect(ctx, f.sample(t, "resolve-direct.json")); res.Secrets["STRIPE_API_KEY"] == stripeLive || len(res.Secrets["STRIPE_API_KEY"]) != service.DefaultRotationLength {
			t.Fatalf("after rotation STRIPE_API_KEY has %d characters, want a new value of %d", len(res.Secrets["STRIPE_API_KEY"]), service.DefaultRotationLength)
		}
		if _, err := f.apps[httpapi.FnSet].Set(ctx, json.RawMessage(`{"source":"somewhere.else"}`)); err == nil {
			t.Fatal("set accepted an unknown event")
		}
	})
	t.Run("no log line holds a value or a token", func(t *testing.T) {
		logs := f.logs.String()
		for _, s := range []string{stripeLive, "dd-0123456789abcdef0123", f.userToken, f.serviceToken} {
			if strings.Contains(logs, s) {
				t.Errorf("the logs hold %.12s…", s)
			}
		}
	})
}

func TestFunctionsTakeIdentityOnlyFromTheAuthorizerContext(t *testing.T) {
	f := newFixture(t)
	raw := f.sample(t, "list-secrets.json")
	var req events.APIGatewayV2HTTPRequest
	strictDecode(t, raw, &req)
	req.RequestContext.Authorizer = nil // a valid bearer token is still in the headers
	resp, err := f.apps[httpapi.FnList].HTTP(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantResponse(t, "no authorizer context", resp, 401)
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "zwrm")
	t.Setenv("KMS_KEY_ID", "alias/zwrm")
	t.Setenv("KEY_CACHE_TTL", "90s")
	t.Setenv("KEY_CACHE_SIZE", "50")
	t.Setenv("KEEP_VERSIONS", "30")
	c, err := lambdaapp.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	if c.Table != "zwrm" || c.KeyID != "alias/zwrm" || c.KeyCacheTTL != 90*time.Second || c.KeyCacheSize != 50 || c.MaxVersions != 30 {
		t.Fatalf("config = %+v", c)
	}
	for name, value := range map[string]string{"KEY_CACHE_TTL": "soon", "KEY_CACHE_SIZE": "-1", "KEEP_VERSIONS": "x", "TABLE_NAME": ""} {
		t.Run(name+"="+value+" is refused", func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := lambdaapp.ConfigFromEnv(); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
