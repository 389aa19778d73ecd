package lambdaapp_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
	"github.com/zwrm/secrets/sampleevents"
)

// fixture is one deployment: a function App per function over one store,
// as the functions share one table, and the tokens the samples stand for.
// The authorizer signs identities with an HMAC key in local-kms, and the
// functions behind it check them there.
type fixture struct {
	apps         map[httpapi.Function]*lambdaapp.App
	authorizer   *lambdaapp.App
	clock        *testkit.Clock
	userToken    string
	serviceToken string
	admin        secrets.Identity
	logs         *testkit.SyncBuffer
}

const stripeLive = "sk_live_51H8xyzQWERTYRgA1"

func newFixture(t *testing.T) *fixture {
	t.Helper()
	k := testkit.New(t, testkit.Options{Clock: testkit.NewClock(time.Now().UTC())})
	kms := localkms.Start(t)
	ids := kmskeys.NewMAC(kms.Client(), kms.NewHMACKey(t))
	f := &fixture{apps: map[httpapi.Function]*lambdaapp.App{}, clock: k.Clock, logs: k.Logs}
	logger := k.Logger()
	cfg := lambdaapp.Config{Now: k.Clock.Now, AuthorizerCacheTTL: time.Minute}
	for _, fn := range behindTheAuthorizer {
		f.apps[fn] = lambdaapp.New(fn, k.Store, k.Keys, ids, cfg, logger)
	}
	f.apps[httpapi.FnResolveDirect] = lambdaapp.New(httpapi.FnResolveDirect, k.Store, k.Keys, nil, cfg, logger)
	f.authorizer = lambdaapp.New(httpapi.FnAuthorizer, k.Store, k.Keys, ids, cfg, logger)

	ann := k.BootstrapAs(t, "acme", "ann@acme.test", "Ann")
	f.userToken, f.admin = ann.Token, ann.Identity
	f.serviceToken = k.ServiceToken(t, f.admin, "web-prod", "web", "", "production").Token
	k.IAMToken(t, f.admin, "web-prod role", "arn:aws:iam::123456789012:role/web-prod", "web", "production")
	return f
}

// behindTheAuthorizer are the functions that serve bearer routes, and so
// take identity from the authorizer's context.
var behindTheAuthorizer = []httpapi.Function{httpapi.FnSet, httpapi.FnList, httpapi.FnDelete, httpapi.FnResolve, httpapi.FnAdmin}

// handWritten reads an event as the file has it, with the fixture's tokens
// in place of the placeholders. Its authorizer context, if any, is the
// shape of the authorizer's answer, unsigned ("${IDENTITY_MAC}"): what a
// caller invoking the function directly could write.
func (f *fixture) handWritten(t *testing.T, name string) json.RawMessage {
	t.Helper()
	b, err := sampleevents.FS.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte("${USER_TOKEN}"), []byte(f.userToken))
	b = bytes.ReplaceAll(b, []byte("${SERVICE_TOKEN}"), []byte(f.serviceToken))
	return b
}

// sample reads an event as API Gateway would send it: an authorizer
// context in the file is replaced with the authorizer's signed answer for
// the event's Authorization header. (The MAC cannot be in the file: the
// key is made per test run, and so are the tokens and their ids.)
func (f *fixture) sample(t *testing.T, name string) json.RawMessage {
	t.Helper()
	return f.withContext(t, f.handWritten(t, name), func(ev map[string]any, c map[string]any) map[string]any {
		header, _ := ev["headers"].(map[string]any)["authorization"].(string)
		return f.authorize(t, header)
	})
}

// withContext replaces the authorizer context of the HTTP event raw, if it
// has one, with what edit returns for it (nil removes it).
func (f *fixture) withContext(t *testing.T, raw json.RawMessage, edit func(ev, c map[string]any) map[string]any) json.RawMessage {
	t.Helper()
	var ev map[string]any
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	rc, _ := ev["requestContext"].(map[string]any)
	authz, _ := rc["authorizer"].(map[string]any)
	c, ok := authz["lambda"].(map[string]any)
	if !ok {
		return raw
	}
	if c = edit(ev, c); c == nil {
		delete(authz, "lambda")
	} else {
		authz["lambda"] = c
	}
	b, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// authorize asks the authorizer about an Authorization header, as API
// Gateway does, and returns the context it answers.
func (f *fixture) authorize(t *testing.T, header string) map[string]any {
	t.Helper()
	var req events.APIGatewayV2CustomAuthorizerV2Request
	strictDecode(t, f.handWritten(t, "authorizer.json"), &req)
	req.Headers["authorization"] = header
	resp, err := f.authorizer.Authorize(context.Background(), req)
	if err != nil || !resp.IsAuthorized {
		t.Fatalf("authorize %.20q…: %+v, %v", header, resp, err)
	}
	return resp.Context
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
	return f.httpEvent(t, fn, name, f.sample(t, name))
}

// httpEvent sends fn the HTTP event raw through the entry point its main
// uses.
func (f *fixture) httpEvent(t *testing.T, fn httpapi.Function, name string, raw json.RawMessage) events.APIGatewayV2HTTPResponse {
	t.Helper()
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
		// Signed: good for the authorizer cache TTL and a margin.
		if mac, _ := resp.Context["mac"].(string); len(mac) < 40 {
			t.Errorf("context mac = %q, want a base64 HMAC-SHA-256", mac)
		}
		wantExpires := strconv.FormatInt(f.clock.Now().Add(time.Minute+30*time.Second).Unix(), 10)
		if got := resp.Context["expires"]; got != wantExpires {
			t.Errorf("context expires = %v, want %s (now + cache TTL + 30s)", got, wantExpires)
		}
		// The sample's context is the shape of the authorizer's answer.
		var sample events.APIGatewayV2HTTPRequest
		strictDecode(t, f.handWritten(t, "list-secrets.json"), &sample)
		for k := range resp.Context {
			if _, ok := sample.RequestContext.Authorizer.Lambda[k]; !ok {
				t.Errorf("the sample events' authorizer context lacks %q", k)
			}
		}
		for k := range sample.RequestContext.Authorizer.Lambda {
			if _, ok := resp.Context[k]; !ok {
				t.Errorf("the sample events' authorizer context has %q, which the authorizer does not answer", k)
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
	t.Run("resolve-direct resolves selected names and answers not_modified by fingerprint", func(t *testing.T) {
		direct := f.apps[httpapi.FnResolveDirect]
		payload := `{"token":"` + f.serviceToken + `","environment":"production","app":"web","names":["STRIPE_API_KEY","NOT_THERE"]`
		res, err := direct.ResolveDirect(context.Background(), json.RawMessage(payload+`}`))
		if err != nil || res.Error != nil || len(res.Secrets) != 1 || res.Secrets["STRIPE_API_KEY"] != stripeLive || res.Fingerprint == "" {
			t.Fatalf("direct resolve of names = %+v, %v; want STRIPE_API_KEY only and a fingerprint", res, err)
		}
		same, err := direct.ResolveDirect(context.Background(), json.RawMessage(payload+`,"if_none_match":"`+res.Fingerprint+`"}`))
		if err != nil || same.Error != nil || !same.NotModified || len(same.Secrets) != 0 || same.Fingerprint != res.Fingerprint {
			t.Fatalf("direct resolve with the current fingerprint = %+v, %v; want not_modified and no secrets", same, err)
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
		list, _, err := svc.List(ctx, f.admin, secrets.Layer{App: "web"}, service.PageRequest{})
		if err != nil || len(list) != 1 {
			t.Fatalf("list = %v, %v", list, err)
		}
		if _, err := svc.SetRotation(ctx, f.admin, list[0].ID, service.RotationInput{Every: "1h", Environments: []string{"production"}}); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour + time.Minute)
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

// forgeries are authorizer contexts a direct invoker could write, each
// made from genuine signed answers of the authorizer: own, for the token of
// the sample event (ann, a superadmin, or the web-prod service), and bob's
// (a member of acme).
var forgeries = map[string]func(own, bob map[string]any) map[string]any{
	"no authorizer context": func(own, bob map[string]any) map[string]any { return nil },
	"an unsigned context": func(own, bob map[string]any) map[string]any {
		delete(own, "mac")
		delete(own, "expires")
		return own
	},
	"a context without its MAC":    func(own, bob map[string]any) map[string]any { delete(own, "mac"); return own },
	"a context without its expiry": func(own, bob map[string]any) map[string]any { delete(own, "expires"); return own },
	"a MAC that is not base64":     func(own, bob map[string]any) map[string]any { own["mac"] = "not base64!"; return own },
	"a MAC with one bit flipped": func(own, bob map[string]any) map[string]any {
		mac, _ := base64.StdEncoding.DecodeString(own["mac"].(string))
		mac[len(mac)-1] ^= 1
		own["mac"] = base64.StdEncoding.EncodeToString(mac)
		return own
	},
	"another identity's MAC": func(own, bob map[string]any) map[string]any { own["mac"] = bob["mac"]; return own },
	"a later expiry":         func(own, bob map[string]any) map[string]any { own["expires"] = "9999999999"; return own },
	"bob's context raised to superadmin": func(own, bob map[string]any) map[string]any {
		bob["role"] = "superadmin"
		return bob
	},
	"the caller's context moved to another org": func(own, bob map[string]any) map[string]any {
		own["org"] = "evil"
		return own
	},
	"bob's context with the caller's token id": func(own, bob map[string]any) map[string]any {
		bob["token_id"] = own["token_id"]
		return bob
	},
	"a context with another scope": func(own, bob map[string]any) map[string]any {
		own["scope_app"], own["scope_environments"] = "api", "development,staging,production"
		return own
	},
	"a field moved across a boundary": func(own, bob map[string]any) map[string]any {
		// "ann@acme.test" + "Ann" → "ann@acme.testA" + "nn": the same
		// bytes run together, told apart by the length prefixes.
		subject, name := own["subject"].(string), own["name"].(string)
		own["subject"], own["name"] = subject+name[:1], name[1:]
		return own
	},
	"a number where a string was signed": func(own, bob map[string]any) map[string]any { own["expires"] = 9999999999; return own },
}

func TestAForgedIdentityIsRefusedByEveryFunctionBehindTheAuthorizer(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	// bob: a genuine member token of acme.
	bobToken, _, err := f.apps[httpapi.FnAdmin].Service.CreateToken(ctx, f.admin, service.TokenInput{Kind: secrets.TokenUser, Subject: "bob@acme.test", Name: "Bob", Role: "member"})
	if err != nil {
		t.Fatal(err)
	}
	samples := map[httpapi.Function]string{
		httpapi.FnSet: "set-org-secret.json", httpapi.FnList: "list-secrets.json", httpapi.FnDelete: "delete-org-secret.json",
		httpapi.FnResolve: "resolve-http.json", httpapi.FnAdmin: "admin-list-tokens.json",
	}
	for _, fn := range behindTheAuthorizer {
		name := samples[fn]
		t.Run(string(fn)+" refuses the sample's hand-written context", func(t *testing.T) {
			resp := f.httpEvent(t, fn, name, f.handWritten(t, name))
			wantResponse(t, name, resp, 401, `"code":"unauthorized"`)
		})
		for forgery, forge := range forgeries {
			t.Run(string(fn)+" refuses "+forgery, func(t *testing.T) {
				raw := f.withContext(t, f.handWritten(t, name), func(ev, _ map[string]any) map[string]any {
					header, _ := ev["headers"].(map[string]any)["authorization"].(string)
					return forge(f.authorize(t, header), f.authorize(t, "Bearer "+bobToken))
				})
				resp := f.httpEvent(t, fn, name, raw)
				wantResponse(t, name, resp, 401, `"code":"unauthorized"`)
				for _, leak := range []string{"kms", "KMS", "arn:", "mac", "expected"} {
					if strings.Contains(resp.Body, leak) {
						t.Errorf("the refusal says %q: %s", leak, resp.Body)
					}
				}
			})
		}
		t.Run(string(fn)+" refuses a signed context once it has expired", func(t *testing.T) {
			raw := f.sample(t, name)
			f.clock.Advance(time.Minute + 31*time.Second)
			defer f.clock.Advance(-(time.Minute + 31*time.Second))
			wantResponse(t, name, f.httpEvent(t, fn, name, raw), 401, "expired")
		})
	}
	if !strings.Contains(f.logs.String(), "authorizer context refused") {
		t.Error("no refusal was logged")
	}
	// And a signed one still works (the samples' own tests cover each).
	wantResponse(t, "list-secrets", f.httpSample(t, httpapi.FnList, "list-secrets.json"), 200)
}

func TestConfigFromEnv(t *testing.T) {
	t.Setenv("TABLE_NAME", "zwrm")
	t.Setenv("KMS_KEY_ID", "alias/zwrm")
	t.Setenv("KEY_CACHE_TTL", "90s")
	t.Setenv("KEY_CACHE_SIZE", "50")
	t.Setenv("KEEP_VERSIONS", "30")
	t.Setenv("IDENTITY_KEY_ID", "arn:aws:kms:eu-west-1:123456789012:key/identity")
	t.Setenv("AUTHORIZER_CACHE_TTL", "1m0s")
	for _, fn := range []httpapi.Function{httpapi.FnAuthorizer, httpapi.FnSet, httpapi.FnList, httpapi.FnDelete, httpapi.FnResolve, httpapi.FnAdmin, httpapi.FnResolveDirect} {
		c, err := lambdaapp.ConfigFromEnv(fn)
		if err != nil {
			t.Fatal(err)
		}
		if c.Table != "zwrm" || c.KeyID != "alias/zwrm" || c.KeyCacheTTL != 90*time.Second || c.KeyCacheSize != 50 || c.MaxVersions != 30 {
			t.Fatalf("%s: config = %+v", fn, c)
		}
		wantKey, wantTTL := "arn:aws:kms:eu-west-1:123456789012:key/identity", time.Minute
		if fn == httpapi.FnResolveDirect {
			wantKey, wantTTL = "", 0 // API Gateway never invokes it
		}
		if c.IdentityKeyID != wantKey || c.AuthorizerCacheTTL != wantTTL {
			t.Errorf("%s: identity key %q, authorizer cache TTL %s; want %q, %s", fn, c.IdentityKeyID, c.AuthorizerCacheTTL, wantKey, wantTTL)
		}
	}
	for name, value := range map[string]string{"KEY_CACHE_TTL": "soon", "KEY_CACHE_SIZE": "-1", "KEEP_VERSIONS": "x", "TABLE_NAME": "",
		"IDENTITY_KEY_ID": "", "AUTHORIZER_CACHE_TTL": "", "AUTHORIZER_CACHE_TTL=": "-1s", "AUTHORIZER_CACHE_TTL==": "2h"} {
		name = strings.TrimRight(name, "=")
		t.Run(name+"="+value+" is refused", func(t *testing.T) {
			t.Setenv(name, value)
			if _, err := lambdaapp.ConfigFromEnv(httpapi.FnList); err == nil {
				t.Fatal("accepted")
			}
		})
	}
	t.Run("resolve-direct needs no identity key", func(t *testing.T) {
		t.Setenv("IDENTITY_KEY_ID", "")
		t.Setenv("AUTHORIZER_CACHE_TTL", "")
		if _, err := lambdaapp.ConfigFromEnv(httpapi.FnResolveDirect); err != nil {
			t.Fatal(err)
		}
	})
}

// TestResolveDirectAnswersUnavailableWhenTheKeyIsDisabled: a disabled
// master key is a dependency that is down, not a bug: resolve-direct
// answers unavailable (retry later), and no value leaves.
func TestResolveDirectAnswersUnavailableWhenTheKeyIsDisabled(t *testing.T) {
	kms := localkms.Start(t)
	key := kms.NewSymmetricKey(t)
	wrapper := kmskeys.New(kms.Client(), key)
	k := testkit.New(t, testkit.Options{Keys: wrapper})
	ctx := context.Background()
	admin := k.BootstrapAs(t, "acme", "ann@acme.test", "Ann").Identity
	if _, _, err := k.Service.SetValue(ctx, admin, secrets.Layer{App: "web"}, "STRIPE_API_KEY", stripeLive, secrets.Production); err != nil {
		t.Fatal(err)
	}
	serviceToken := k.ServiceToken(t, admin, "web-prod", "web", "", "production").Token
	kms.DisableKey(t, key)
	// A fresh container: no data key cached.
	cold := lambdaapp.New(httpapi.FnResolveDirect, k.Store, wrapper, nil, lambdaapp.Config{}, k.Logger())
	payload, _ := json.Marshal(map[string]string{"token": serviceToken, "environment": "production", "app": "web"})
	res, err := cold.ResolveDirect(ctx, payload)
	if err != nil {
		t.Fatalf("ResolveDirect: %v", err)
	}
	if res.Error == nil || res.Error.Code != secrets.CodeUnavailable || len(res.Secrets) != 0 {
		t.Fatalf("resolve-direct with the key disabled = %+v, want unavailable and no values", res)
	}
}
