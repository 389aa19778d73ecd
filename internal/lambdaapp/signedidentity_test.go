package lambdaapp_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/testkit"
)

// countingTransport counts the HTTP requests the SDK sends: every KMS call
// and every retry of one.
type countingTransport struct {
	next http.RoundTripper
	n    atomic.Int64
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return c.next.RoundTrip(r)
}

// signedDeployment is an authorizer and a list function whose identity MAC
// is an HMAC key in local-kms, reached through the real SDK client; the
// list function's KMS requests are counted.
type signedDeployment struct {
	kms      *localkms.Server
	keyARN   string
	clock    *testkit.Clock
	calls    *countingTransport
	auth     *lambdaapp.App
	list     *lambdaapp.App
	newList  func() *lambdaapp.App // a new container of the list function
	token    string
	cacheTTL time.Duration
}

func newSignedDeployment(t *testing.T) *signedDeployment {
	t.Helper()
	k := testkit.New(t, testkit.Options{Clock: testkit.NewClock(time.Now().UTC())})
	store, wrapper := k.Store, k.Keys
	d := &signedDeployment{kms: localkms.Start(t), clock: k.Clock, cacheTTL: time.Minute,
		calls: &countingTransport{next: http.DefaultTransport}}
	d.keyARN = d.kms.NewHMACKey(t)
	logger := testkit.Quiet()
	cfg := lambdaapp.Config{Now: d.clock.Now, AuthorizerCacheTTL: d.cacheTTL}
	d.auth = lambdaapp.New(httpapi.FnAuthorizer, store, wrapper, kmskeys.NewMAC(d.kms.Client(), d.keyARN), cfg, logger)
	counted := d.kms.Client(func(o *kms.Options) { o.HTTPClient = &http.Client{Transport: d.calls} })
	d.newList = func() *lambdaapp.App {
		return lambdaapp.New(httpapi.FnList, store, wrapper, kmskeys.NewMAC(counted, d.keyARN), cfg, logger)
	}
	d.list = d.newList()
	d.token = k.BootstrapAs(t, "acme", "ann@acme.test", "Ann").Token
	return d
}

// identity is the authorizer's answer for the deployment's token.
func (d *signedDeployment) identity(t *testing.T) map[string]any {
	t.Helper()
	resp, err := d.auth.Authorize(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteKey: "GET /v1/me",
		Headers:        map[string]string{"authorization": "Bearer " + d.token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "authz"},
	})
	if err != nil || !resp.IsAuthorized {
		t.Fatalf("authorize: %+v, %v", resp, err)
	}
	return resp.Context
}

// me sends GET /v1/me with the authorizer context c to app, and returns
// the status, the body and how many KMS requests it made.
func (d *signedDeployment) me(t *testing.T, app *lambdaapp.App, c map[string]any) (int, string, int64) {
	t.Helper()
	before := d.calls.n.Load()
	resp, err := app.HTTP(context.Background(), events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: "GET /v1/me", RawPath: "/v1/me",
		Headers: map[string]string{"host": "api.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: "GET /v1/me", Stage: "$default", RequestID: "req",
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: "GET", Path: "/v1/me", Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"},
			Authorizer: &events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: c},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Body, d.calls.n.Load() - before
}

// altered is mac with its first character changed: always another MAC
// (replacing it with "A" left a MAC that starts with "A" as it was).
func altered(mac string) string {
	if strings.HasPrefix(mac, "A") {
		return "B" + mac[1:]
	}
	return "A" + mac[1:]
}

func clone(c map[string]any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}

func TestSignedIdentitiesAgainstLocalKMS(t *testing.T) {
	d := newSignedDeployment(t)
	signed := d.identity(t)

	t.Run("a signed identity is accepted, with one VerifyMac", func(t *testing.T) {
		status, body, calls := d.me(t, d.list, signed)
		if status != 200 || !strings.Contains(body, `"ann@acme.test"`) {
			t.Fatalf("status %d, body %s", status, body)
		}
		if got, want := calls, int64(1); got != want {
			t.Errorf("KMS requests = %d, want %d", got, want)
		}
	})
	t.Run("a warm request makes no KMS call", func(t *testing.T) {
		for range 3 {
			if status, body, calls := d.me(t, d.list, signed); status != 200 || calls != 0 {
				t.Fatalf("status %d, %d KMS requests; body %s", status, calls, body)
			}
		}
	})
	t.Run("an altered field is refused, whichever it is", func(t *testing.T) {
		// Every field the authorizer answers, so that a field added to
		// its answer but left out of what it signs fails here.
		var fields []string
		for k := range signed {
			if k != "mac" {
				fields = append(fields, k)
			}
		}
		slices.Sort(fields)
		if len(fields) < 10 {
			t.Fatalf("the authorizer answers only %v", fields)
		}
		for _, k := range fields {
			c := clone(signed)
			switch k {
			case "expires":
				c[k] = "9999999999"
			case "kind":
				c[k] = "service"
			default:
				c[k] = c[k].(string) + "x"
			}
			if status, body, _ := d.me(t, d.list, c); status != 401 || !strings.Contains(body, "not signed") {
				t.Errorf("%s altered: status %d, body %s", k, status, body)
			}
		}
	})
	t.Run("an altered, missing or foreign MAC is refused", func(t *testing.T) {
		other := newSignedDeployment(t) // its own key: a MAC it makes is foreign here
		forged := map[string]map[string]any{
			"altered MAC":   func() map[string]any { c := clone(signed); c["mac"] = altered(c["mac"].(string)); return c }(),
			"unsigned":      func() map[string]any { c := clone(signed); delete(c, "mac"); delete(c, "expires"); return c }(),
			"no expiry":     func() map[string]any { c := clone(signed); delete(c, "expires"); return c }(),
			"empty MAC":     func() map[string]any { c := clone(signed); c["mac"] = ""; return c }(),
			"foreign key":   func() map[string]any { c := clone(other.identity(t)); c["token_id"] = signed["token_id"]; return c }(),
			"no identity":   {},
			"truncated MAC": func() map[string]any { c := clone(signed); c["mac"] = c["mac"].(string)[:8]; return c }(),
		}
		for name, c := range forged {
			if status, body, _ := d.me(t, d.list, c); status != 401 {
				t.Errorf("%s: status %d, body %s", name, status, body)
			}
		}
		if status, _, _ := d.me(t, d.list, nil); status != 401 {
			t.Errorf("no authorizer context: status %d", status)
		}
	})
	t.Run("a signature is remembered no longer than the authorizer cache TTL", func(t *testing.T) {
		fresh := d.newList()
		if _, _, calls := d.me(t, fresh, signed); calls != 1 {
			t.Fatalf("cold: %d KMS requests, want 1", calls)
		}
		d.clock.Advance(d.cacheTTL + time.Second) // past the cache TTL, within the expiry's margin
		defer d.clock.Advance(-(d.cacheTTL + time.Second))
		if status, body, calls := d.me(t, fresh, signed); status != 200 || calls != 1 {
			t.Fatalf("after the cache TTL: status %d, %d KMS requests (want 200, 1); body %s", status, calls, body)
		}
	})
	t.Run("an expired identity is refused, cached or not, without a KMS call", func(t *testing.T) {
		d.clock.Advance(d.cacheTTL + 30*time.Second)
		defer d.clock.Advance(-(d.cacheTTL + 30*time.Second))
		for _, app := range []*lambdaapp.App{d.list, d.newList()} {
			if status, body, calls := d.me(t, app, signed); status != 401 || calls != 0 || !strings.Contains(body, "expired") {
				t.Errorf("status %d, %d KMS requests, body %s; want 401 without a call", status, calls, body)
			}
		}
	})
	t.Run("a disabled key answers 503, not 401 or 500, and the authorizer fails rather than allow", func(t *testing.T) {
		d.kms.DisableKey(t, d.keyARN)
		status, body, _ := d.me(t, d.newList(), signed)
		if status != 503 || !strings.Contains(body, `"code":"unavailable"`) {
			t.Fatalf("status %d, body %s; want 503", status, body)
		}
		if strings.Contains(body, d.keyARN) || strings.Contains(body, "Disabled") {
			t.Errorf("the answer names the key or KMS's error: %s", body)
		}
		resp, err := d.auth.Authorize(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{
			Headers: map[string]string{"authorization": "Bearer " + d.token},
		})
		if err == nil || resp.IsAuthorized {
			t.Fatalf("authorize with a disabled key: %+v, %v; want an error", resp, err)
		}
		// A container that checked the signature before keeps accepting it
		// for what remains of the cache TTL.
		if status, _, calls := d.me(t, d.list, signed); status != 200 || calls != 0 {
			t.Errorf("warm container: status %d, %d KMS requests", status, calls)
		}
	})
}

func TestAFunctionWithoutAnIdentityKeyTrustsNoContext(t *testing.T) {
	d := newSignedDeployment(t)
	signed := d.identity(t)
	store, err := boltstore.Open(filepath.Join(t.TempDir(), "db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	wrapper, _ := localkey.New(make([]byte, 32))
	app := lambdaapp.New(httpapi.FnList, store, wrapper, nil, lambdaapp.Config{AuthorizerCacheTTL: time.Minute}, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	if status, body, _ := d.me(t, app, signed); status != 500 {
		t.Fatalf("status %d, body %s; want 500 (misconfigured), never 200", status, body)
	}
}
