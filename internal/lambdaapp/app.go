// Package lambdaapp runs the secrets service on AWS Lambda: it builds the
// service once per container from the environment, and adapts the events
// each function receives (API Gateway HTTP API requests, the Lambda
// authorizer's requests, direct resolve invocations, the rotation
// schedule) to the one HTTP handler and the service.
package lambdaapp

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// Config is what a function reads from its environment, once, at init.
type Config struct {
	Table        string        // TABLE_NAME
	KeyID        string        // KMS_KEY_ID: the key's id, ARN or alias
	KeyCacheTTL  time.Duration // KEY_CACHE_TTL, e.g. "5m"
	KeyCacheSize int           // KEY_CACHE_SIZE
	MaxVersions  int           // KEEP_VERSIONS
	// IdentityKeyID is the KMS HMAC key that signs the authorizer's
	// identities (IDENTITY_KEY_ID): the authorizer signs with it, the
	// functions behind it check with it.
	IdentityKeyID string
	// AuthorizerCacheTTL is how long API Gateway caches the authorizer's
	// answers (AUTHORIZER_CACHE_TTL, e.g. "60s"; "0s" for no cache): a
	// signed identity expires that long after it was made (plus a small
	// margin), and the functions remember a checked signature no longer.
	AuthorizerCacheTTL time.Duration
	// Now is the clock; time.Now by default. Tests move it.
	Now func() time.Time
}

// ConfigFromEnv reads the Config of function fn from the environment.
// The authorizer and the functions behind it need the identity key and the
// authorizer cache TTL; resolve-direct, which API Gateway never invokes,
// needs neither.
func ConfigFromEnv(fn httpapi.Function) (Config, error) {
	c := Config{Table: os.Getenv("TABLE_NAME"), KeyID: os.Getenv("KMS_KEY_ID")}
	if c.Table == "" || c.KeyID == "" {
		return c, fmt.Errorf("TABLE_NAME and KMS_KEY_ID must be set")
	}
	if UsesIdentityKey(fn) {
		c.IdentityKeyID = os.Getenv("IDENTITY_KEY_ID")
		s := os.Getenv("AUTHORIZER_CACHE_TTL")
		if c.IdentityKeyID == "" || s == "" {
			return c, fmt.Errorf("IDENTITY_KEY_ID and AUTHORIZER_CACHE_TTL must be set for the %s function", fn)
		}
		d, err := time.ParseDuration(s)
		if err != nil || d < 0 || d > time.Hour {
			return c, fmt.Errorf("AUTHORIZER_CACHE_TTL %q: want a duration from 0s to 1h, as the stack's authorizer cache", s)
		}
		c.AuthorizerCacheTTL = d
	}
	if s := os.Getenv("KEY_CACHE_TTL"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return c, fmt.Errorf("KEY_CACHE_TTL %q: want a positive duration such as 5m", s)
		}
		c.KeyCacheTTL = d
	}
	for name, dst := range map[string]*int{"KEY_CACHE_SIZE": &c.KeyCacheSize, "KEEP_VERSIONS": &c.MaxVersions} {
		if s := os.Getenv(name); s != "" {
			n, err := strconv.Atoi(s)
			if err != nil || n <= 0 {
				return c, fmt.Errorf("%s %q: want a positive whole number", name, s)
			}
			*dst = n
		}
	}
	return c, nil
}

// UsesIdentityKey tells whether function fn signs the authorizer's
// identities (the authorizer) or checks them (any function serving a
// bearer route, which the authorizer stands in front of).
func UsesIdentityKey(fn httpapi.Function) bool {
	if fn == httpapi.FnAuthorizer {
		return true
	}
	for _, r := range httpapi.Routes() {
		if r.Function == fn && r.Auth == httpapi.AuthBearer {
			return true
		}
	}
	return false
}

// App is the service as one Lambda container holds it.
type App struct {
	Service *service.Service
	Logger  *slog.Logger
	adapter *httpadapter.HandlerAdapterV2
	signer  identitySigner
}

// New builds the App of function fn over a store, a key wrapper and the
// identity MAC. ids may be nil where no identity is signed or checked
// (resolve-direct, bootstrap): the authorizer then fails and bearer routes
// answer 500, never trusting an unsigned context.
func New(fn httpapi.Function, store secrets.Store, wrapper secrets.KeyWrapper, ids IdentityMAC, cfg Config, logger *slog.Logger) *App {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	svc := service.New(store, wrapper, service.Config{Logger: logger, MaxVersions: cfg.MaxVersions, Now: cfg.Now, KeyCacheTTL: cfg.KeyCacheTTL, KeyCacheSize: cfg.KeyCacheSize})
	h := httpapi.New(svc, httpapi.Options{
		Logger:    logger,
		Auth:      authorizerContext{verifier: newIdentityVerifier(ids, cfg.AuthorizerCacheTTL, now), logger: logger},
		IAM:       iamContext{svc: svc},
		RequestID: apiGatewayRequestID,
		Function:  fn,
	})
	return &App{Service: svc, Logger: logger, adapter: httpadapter.NewV2(h),
		signer: identitySigner{mac: ids, ttl: cfg.AuthorizerCacheTTL, now: now}}
}

// FromEnv builds the App for function fn: configuration from the
// environment, AWS clients from the default credential chain, once. The
// authorizer passes "" for fn: it serves no route.
func FromEnv(ctx context.Context, fn httpapi.Function) (*App, error) {
	cfg, err := ConfigFromEnv(fn)
	if err != nil {
		return nil, err
	}
	d, err := Connect(ctx, AWSOptions{Table: cfg.Table, KeyID: cfg.KeyID, IdentityKeyID: cfg.IdentityKeyID})
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	return New(fn, d.Store, d.Keys, d.Identity, cfg, logger), nil
}

// AWSOptions say where the deployed service keeps its data.
type AWSOptions struct {
	Table string // the DynamoDB table
	KeyID string // the KMS key (id, ARN or alias)
	// IdentityKeyID is the KMS HMAC key of the authorizer's identities;
	// empty where none is used.
	IdentityKeyID string
	Region        string // overrides the default chain's region when set
	Endpoint      string // a DynamoDB endpoint other than AWS's (dynalite in tests)
}

// Deployment is what a function reaches of a deployed service.
type Deployment struct {
	Store *dynamostore.Store
	Keys  *kmskeys.Wrapper
	// Identity is nil unless AWSOptions named an identity key.
	Identity IdentityMAC
}

// Connect builds the DynamoDB store, the KMS key wrapper and (when
// o.IdentityKeyID is set) the identity MAC of a deployed service, with
// credentials from the default chain: what the functions use, and what
// `zwrm admin bootstrap --table` uses to reach a deployment.
func Connect(ctx context.Context, o AWSOptions) (Deployment, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return Deployment{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	ddb := dynamodb.NewFromConfig(awsCfg, func(d *dynamodb.Options) {
		if o.Endpoint != "" {
			d.BaseEndpoint = &o.Endpoint
		}
	})
	kmsClient := kms.NewFromConfig(awsCfg)
	d := Deployment{Store: dynamostore.New(ddb, o.Table), Keys: kmskeys.New(kmsClient, o.KeyID)}
	if o.IdentityKeyID != "" {
		d.Identity = kmskeys.NewMAC(kmsClient, o.IdentityKeyID)
	}
	return d, nil
}

// Bootstrap creates org (if new) and a superadmin token in it, in a
// deployed service's table, and returns the token. It writes no secret
// value, so it makes no KMS call.
func Bootstrap(ctx context.Context, o AWSOptions, org, subject, name string) (string, error) {
	if o.Table == "" {
		return "", fmt.Errorf("the table name is required")
	}
	d, err := Connect(ctx, o)
	if err != nil {
		return "", err
	}
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return New("", d.Store, d.Keys, nil, Config{}, quiet).Service.Bootstrap(ctx, org, subject, name)
}

// HTTP serves an API Gateway HTTP API (payload 2.0) request with the one
// HTTP handler.
func (a *App) HTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	ctx, cancel := withinDeadline(ctx)
	defer cancel()
	return a.adapter.ProxyWithContext(ctx, req)
}

// withinDeadline returns ctx with a deadline a margin before the
// function's own (Lambda's context carries it): every call and every
// retry under it, the AWS SDK's included, stops in time for the function
// to answer (503) before Lambda stops it. The margin is a tenth of the
// time left, between 100 ms and 1 s.
func withinDeadline(ctx context.Context) (context.Context, context.CancelFunc) {
	deadline, ok := ctx.Deadline()
	if !ok {
		return context.WithCancel(ctx)
	}
	margin := min(time.Second, max(100*time.Millisecond, time.Until(deadline)/10))
	return context.WithDeadline(ctx, deadline.Add(-margin))
}

// MustFromEnv builds the App of function fn from the environment (the
// DynamoDB table, the KMS data key, the identity key, the tuning; see
// ConfigFromEnv), once per container. A configuration that cannot work
// stops the container at init, before any request.
func MustFromEnv(fn httpapi.Function) *App {
	app, err := FromEnv(context.Background(), fn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "zwrm %s function: init: %v\n", fn, err)
		os.Exit(1)
	}
	return app
}
