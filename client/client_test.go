package client_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/secrets"
)

// stack is the real API (embedded store, local master key, the one
// handler) behind an httptest server that records which route each request
// matched.
type stack struct {
	url   string
	token string // a superadmin's
	data  *local.Data

	mu  sync.Mutex
	hit map[string]bool // "METHOD pattern"
}

func newStack(t *testing.T) *stack {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	data, err := local.Open(t.TempDir(), time.Second, logger, local.Tuning{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { data.Close() })
	token, err := data.Service.Bootstrap(context.Background(), "acme", "ann@acme.test", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{token: token, data: data, hit: map[string]bool{}}
	routes := http.NewServeMux()
	for _, rt := range httpapi.Routes() {
		routes.HandleFunc(rt.Method+" "+rt.Pattern, func(http.ResponseWriter, *http.Request) {})
	}
	api := httpapi.New(data.Service, httpapi.Options{Logger: logger})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, pattern := routes.Handler(r); pattern != "" {
			s.mu.Lock()
			s.hit[pattern] = true
			s.mu.Unlock()
		}
		api.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	s.url = srv.URL
	return s
}

// newStackClient builds the stack and a client of its first user.
func newStackClient(t *testing.T) (*stack, *client.Client) {
	t.Helper()
	s := newStack(t)
	return s, s.client(t, s.token)
}

func (s *stack) client(t *testing.T, token string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(s.url, token, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func TestEveryRouteHasAMethod(t *testing.T) {
	s, c := newStackClient(t)
	ctx := context.Background()
	web := secrets.Layer{App: "web"}
	machine := secrets.Layer{App: "web", Machine: "web-1"}

	if err := c.Health(ctx); err != nil {
		t.Fatal(err)
	}
	doc := must[[]byte](t)(c.OpenAPI(ctx))
	if !strings.Contains(string(doc), `"openapi"`) {
		t.Errorf("OpenAPI returned %.40q", doc)
	}
	me := must[*client.Me](t)(c.Me(ctx))
	if me.Org != "acme" || me.RoleName() != secrets.RoleSuperadmin || me.Kind != secrets.TokenUser {
		t.Errorf("Me = %+v", me)
	}
	for _, layer := range []secrets.Layer{secrets.Global, web, machine} {
		s1, created, err := c.SetLayerSecret(ctx, layer, "API_KEY", "value-"+layer.Key(), "")
		if err != nil || !created || s1.Version != 1 {
			t.Fatalf("set at %s = %+v, %v, %v; want created version 1", layer, s1, created, err)
		}
		s2, created, err := c.SetLayerSecret(ctx, layer, "API_KEY", "staging-"+layer.Key(), secrets.Staging)
		if err != nil || created || s2.Version != 2 {
			t.Fatalf("set again at %s = %+v, %v, %v; want updated version 2", layer, s2, created, err)
		}
		list := must[[]client.LayerSecret](t)(c.ListLayerSecrets(ctx, layer))
		if len(list) != 1 || list[0].Name != "API_KEY" || list[0].Version != 2 {
			t.Errorf("list at %s = %+v", layer, list)
		}
	}
	layers := must[[]secrets.Layer](t)(c.ListLayers(ctx))
	if !slices.Equal(layers, []secrets.Layer{web, machine}) {
		t.Errorf("layers = %+v", layers)
	}

	created := must[*client.SecretDetail](t)(c.CreateSecret(ctx, client.CreateSecretRequest{Name: "DB_URL", Description: "the database", App: "web",
		Values: client.Values(map[secrets.Environment]string{secrets.Development: "postgres://dev-db-credential"})}))
	if created.Layer().App != "web" || !created.Environments.Development || created.Environments.Staging || created.Masked[secrets.Development] == nil || !created.CanModify {
		t.Errorf("created = %+v", created)
	}
	rows := must[[]client.Secret](t)(c.ListSecrets(ctx, web))
	if len(rows) != 2 {
		t.Errorf("rows at web = %+v", rows)
	}
	found := must[*client.Secret](t)(c.SecretByName(ctx, web, "DB_URL"))
	got := must[*client.SecretDetail](t)(c.GetSecret(ctx, found.ID))
	if got.ID != created.ID || got.Description != "the database" {
		t.Errorf("get = %+v", got)
	}
	staging := "postgres://staging-db-credential"
	desc := "the web database"
	updated := must[*client.SecretDetail](t)(c.UpdateSecret(ctx, got.ID, client.UpdateSecretRequest{Version: got.Version, Description: &desc,
		Values: map[secrets.Environment]*string{secrets.Staging: &staging, secrets.Development: nil}}))
	if updated.Version != 2 || updated.Environments.Development || !updated.Environments.Staging || updated.Description != desc {
		t.Errorf("updated = %+v", updated)
	}
	versions := must[*client.VersionList](t)(c.ListVersions(ctx, got.ID))
	if len(versions.Versions) != 2 || !versions.Versions[0].Current || versions.Versions[1].Version != 1 {
		t.Errorf("versions = %+v", versions)
	}
	restored := must[*client.SecretDetail](t)(c.RestoreVersion(ctx, got.ID, 1))
	if restored.Version != 3 || !restored.Environments.Development || restored.Environments.Staging {
		t.Errorf("restored = %+v", restored)
	}
	rotating := must[*client.SecretDetail](t)(c.SetRotation(ctx, got.ID, client.RotationRequest{Every: "30d", Environments: []secrets.Environment{secrets.Production}}))
	if rotating.Rotation == nil || rotating.Rotation.Every != "30d" || rotating.Rotation.Length != 32 {
		t.Errorf("rotation = %+v", rotating.Rotation)
	}
	cleared := must[*client.SecretDetail](t)(c.ClearRotation(ctx, got.ID))
	if cleared.Rotation != nil {
		t.Errorf("rotation after clear = %+v", cleared.Rotation)
	}

	res := must[*client.Resolved](t)(c.Resolve(ctx, secrets.Development, machine))
	if res.Environment != secrets.Development || res.Secrets["API_KEY"] != "value-m/web/web-1" || res.Secrets["DB_URL"] != "postgres://dev-db-credential" {
		t.Errorf("resolve = %+v", res)
	}
	eff := must[*client.Effective](t)(c.Effective(ctx, secrets.Development, machine))
	if len(eff.Secrets) != 2 || eff.Secrets[0].Name != "API_KEY" || eff.Secrets[0].Layer != "machine" {
		t.Errorf("effective = %+v", eff)
	}
	if _, err := c.ResolveIAM(ctx, "acme", secrets.Development, web); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("ResolveIAM locally = %v, want 401 (no API Gateway to verify a signature)", err)
	}

	tok := must[*client.Token](t)(c.CreateToken(ctx, client.CreateTokenRequest{Kind: secrets.TokenService, Name: "web-dev", App: "web",
		Environments: []secrets.Environment{secrets.Development}}))
	if !strings.HasPrefix(tok.Token, "zwrm_s_") || tok.App != "web" {
		t.Errorf("created token = %+v", tok)
	}
	svc := s.client(t, tok.Token)
	scoped := must[*client.Resolved](t)(svc.Resolve(ctx, secrets.Development, secrets.Layer{}))
	if scoped.Secrets["API_KEY"] != "value-a/web" {
		t.Errorf("a service token resolves at its scope: %+v", scoped)
	}
	tokens := must[[]client.Token](t)(c.ListTokens(ctx))
	if len(tokens) != 2 {
		t.Errorf("tokens = %+v", tokens)
	}
	for _, listed := range tokens {
		if listed.Token != "" {
			t.Errorf("list shows a token: %+v", listed)
		}
	}
	if err := c.RevokeToken(ctx, tok.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Me(ctx); !client.IsStatus(err, http.StatusUnauthorized) {
		t.Errorf("revoked token Me = %v, want 401", err)
	}
	page := must[*client.AuditPage](t)(c.Audit(ctx, 2, ""))
	if len(page.Records) != 2 || page.NextCursor == "" || page.Records[0].Action != secrets.ActionTokenRevoke {
		t.Errorf("audit page = %+v", page)
	}
	next := must[*client.AuditPage](t)(c.Audit(ctx, 0, page.NextCursor))
	if len(next.Records) == 0 || next.Records[0].ID >= page.Records[1].ID {
		t.Errorf("the next page does not follow: %+v", next.Records)
	}
	org := must[*client.Org](t)(c.Org(ctx))
	if org.ID != "acme" {
		t.Errorf("org = %+v", org)
	}
	org = must[*client.Org](t)(c.SetUserResolveEnvironments(ctx, []secrets.Environment{secrets.Development, secrets.Staging}))
	if !slices.Equal(org.UserResolveEnvironments, []secrets.Environment{secrets.Development, secrets.Staging}) {
		t.Errorf("org after update = %+v", org)
	}
	for _, layer := range []secrets.Layer{machine, web, secrets.Global} {
		if err := c.DeleteLayerSecret(ctx, layer, "API_KEY"); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.DeleteSecret(ctx, got.ID); err != nil {
		t.Fatal(err)
	}

	for _, rt := range httpapi.Routes() {
		if !s.hit[rt.Method+" "+rt.Pattern] {
			t.Errorf("no client method called %s %s (%s)", rt.Method, rt.Pattern, rt.Name)
		}
	}
}

func TestErrorsCarryTheAPIsCodeMessageFieldAndStatus(t *testing.T) {
	s, c := newStackClient(t)
	ctx := context.Background()
	member := must[*client.Token](t)(c.CreateToken(ctx, client.CreateTokenRequest{Kind: secrets.TokenUser, Name: "Bob", Subject: "bob@acme.test", Role: secrets.RoleMember}))
	must[*client.LayerSecret](t)(func() (*client.LayerSecret, error) {
		ls, _, err := c.SetLayerSecret(ctx, secrets.Global, "ANNS", "anns-value", "")
		return ls, err
	}())

	tests := []struct {
		name   string
		call   func() error
		status int
		code   secrets.Code
		field  string
		says   string
	}{
		{"an invalid name is a 400 naming the field", func() error {
			_, _, err := c.SetLayerSecret(ctx, secrets.Global, "1BAD", "x", "")
			return err
		}, 400, secrets.CodeInvalid, "name", "letter or underscore"},
		{"a bad token is a 401", func() error {
			_, err := s.client(t, "zwrm_u_"+strings.Repeat("A", 43)).Me(ctx)
			return err
		}, 401, secrets.CodeUnauthorized, "", "token"},
		{"a member modifying another's secret is a 403", func() error {
			_, _, err := s.client(t, member.Token).SetLayerSecret(ctx, secrets.Global, "ANNS", "mine-now", "")
			return err
		}, 403, secrets.CodeForbidden, "", "Only Ann can modify this secret"},
		{"an absent secret is a 404", func() error {
			return c.DeleteLayerSecret(ctx, secrets.Global, "ABSENT")
		}, 404, secrets.CodeNotFound, "", "ABSENT"},
		{"a taken name is a 409", func() error {
			_, err := c.CreateSecret(ctx, client.CreateSecretRequest{Name: "ANNS", Values: client.Values(map[secrets.Environment]string{secrets.Development: "x"})})
			return err
		}, 409, secrets.CodeConflict, "name", "already taken"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.call()
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v (%T), want *client.Error", err, err)
			}
			if e.Status != tt.status || e.Code != tt.code || e.Field != tt.field || !strings.Contains(e.Message, tt.says) || e.RequestID == "" {
				t.Errorf("err = %+v, want status %d, code %s, field %q, a message with %q and a request id", e, tt.status, tt.code, tt.field, tt.says)
			}
			if e.Error() != e.Message {
				t.Errorf("Error() = %q, want the API's message", e.Error())
			}
			for _, v := range []string{"mine-now", "anns-value"} {
				if strings.Contains(e.Error(), v) {
					t.Errorf("the error quotes a value: %v", e)
				}
			}
		})
	}
}

func TestAnswersThatAreNotTheAPIsNeverQuoteTheBody(t *testing.T) {
	const plaintext = "sk_live_do-not-print-me"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/v1/me":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway "+plaintext+"</html>")
		case "/v1/resolve":
			io.WriteString(w, `{"environment": "development", "secrets": {"A": "`+plaintext+`"`) // cut short
		}
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Me(context.Background())
	var e *client.Error
	if !errors.As(err, &e) || e.Status != http.StatusBadGateway || e.Code != secrets.CodeUnavailable {
		t.Errorf("Me = %#v, want a 502 *Error with code unavailable", err)
	}
	_, rerr := c.Resolve(context.Background(), secrets.Development, secrets.Global)
	if rerr == nil {
		t.Fatal("a truncated resolve answer decoded")
	}
	for _, err := range []error{err, rerr} {
		if strings.Contains(err.Error(), plaintext) {
			t.Errorf("the error quotes the body: %v", err)
		}
	}
}

func TestCallsFollowTheContextAndTheHTTPClient(t *testing.T) {
	release := make(chan struct{})
	var agents []string
	var mu sync.Mutex
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		agents = append(agents, r.UserAgent()+" "+r.URL.Path+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/stage/v1/me" {
			<-release
		}
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status": "ok"}`)
	}))
	defer srv.Close()
	defer close(release)

	var through int
	hc := &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		through++
		return http.DefaultTransport.RoundTrip(r)
	})}
	c, err := client.New(srv.URL+"/stage/", "tok", client.WithHTTPClient(hc), client.WithUserAgent("test-agent"))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := c.Endpoint(), srv.URL+"/stage"; got != want {
		t.Errorf("Endpoint() = %q, want %q", got, want)
	}
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = c.Me(ctx)
	var ne *client.NetworkError
	if !errors.As(err, &ne) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Me past its deadline = %v, want a NetworkError wrapping context.DeadlineExceeded", err)
	}
	if through != 2 {
		t.Errorf("%d calls went through the configured http.Client, want 2", through)
	}
	mu.Lock()
	defer mu.Unlock()
	if got, want := agents, []string{"test-agent /stage/healthz ", "test-agent /stage/v1/me Bearer tok"}; !slices.Equal(got, want) {
		t.Errorf("requests = %q, want %q (public routes carry no token)", got, want)
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestNewRefusesEndpointsThatAreNotBaseURLs(t *testing.T) {
	for _, endpoint := range []string{"", "127.0.0.1:8080", "ftp://host", "http://", "https://user:pw@host", "http://host/?x=1", "http://host/#f"} {
		if _, err := client.New(endpoint, "t"); err == nil {
			t.Errorf("New(%q) succeeded", endpoint)
		}
	}
	for _, endpoint := range []string{"http://127.0.0.1:8080", "https://abc.execute-api.eu-west-1.amazonaws.com/prod/"} {
		if _, err := client.New(endpoint, "t"); err != nil {
			t.Errorf("New(%q) = %v", endpoint, err)
		}
	}
}
