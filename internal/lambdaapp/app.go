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
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/envelope"
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
	// Now is the clock; time.Now by default. Tests move it.
	Now func() time.Time
}

// ConfigFromEnv reads Config from the environment.
func ConfigFromEnv() (Config, error) {
	c := Config{Table: os.Getenv("TABLE_NAME"), KeyID: os.Getenv("KMS_KEY_ID")}
	if c.Table == "" || c.KeyID == "" {
		return c, fmt.Errorf("TABLE_NAME and KMS_KEY_ID must be set")
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

// App is the service as one Lambda container holds it.
type App struct {
	Service *service.Service
	Logger  *slog.Logger
	adapter *httpadapter.HandlerAdapterV2
}

// New builds the App of function fn over a store and a key wrapper.
func New(fn httpapi.Function, store secrets.Store, wrapper secrets.KeyWrapper, cfg Config, logger *slog.Logger) *App {
	sealer := envelope.New(wrapper, store, envelope.Options{CacheTTL: cfg.KeyCacheTTL, CacheSize: cfg.KeyCacheSize, Now: cfg.Now})
	svc := service.New(store, sealer, service.Config{Logger: logger, MaxVersions: cfg.MaxVersions, Now: cfg.Now})
	h := httpapi.New(svc, httpapi.Options{
		Logger:    logger,
		Auth:      authorizerContext{},
		IAM:       iamContext{svc: svc},
		RequestID: apiGatewayRequestID,
		Function:  fn,
	})
	return &App{Service: svc, Logger: logger, adapter: httpadapter.NewV2(h)}
}

// FromEnv builds the App for function fn: configuration from the
// environment, AWS clients from the default credential chain, once. The
// authorizer passes "" for fn: it serves no route.
func FromEnv(ctx context.Context, fn httpapi.Function) (*App, error) {
	cfg, err := ConfigFromEnv()
	if err != nil {
		return nil, err
	}
	store, wrapper, err := Connect(ctx, AWSOptions{Table: cfg.Table, KeyID: cfg.KeyID})
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(os.Stdout, nil))
	return New(fn, store, wrapper, cfg, logger), nil
}

// AWSOptions say where the deployed service keeps its data.
type AWSOptions struct {
	Table    string // the DynamoDB table
	KeyID    string // the KMS key (id, ARN or alias)
	Region   string // overrides the default chain's region when set
	Endpoint string // a DynamoDB endpoint other than AWS's (dynalite in tests)
}

// Connect builds the DynamoDB store and the KMS key wrapper of a deployed
// service, with credentials from the default chain: what the functions
// use, and what `zwrm admin bootstrap --table` uses to reach a deployment.
func Connect(ctx context.Context, o AWSOptions) (*dynamostore.Store, *kmskeys.Wrapper, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	awsCfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	ddb := dynamodb.NewFromConfig(awsCfg, func(d *dynamodb.Options) {
		if o.Endpoint != "" {
			d.BaseEndpoint = &o.Endpoint
		}
	})
	return dynamostore.New(ddb, o.Table), kmskeys.New(kms.NewFromConfig(awsCfg), o.KeyID), nil
}

// Bootstrap creates org (if new) and a superadmin token in it, in a
// deployed service's table, and returns the token. It writes no secret
// value, so it makes no KMS call.
func Bootstrap(ctx context.Context, o AWSOptions, org, subject, name string) (string, error) {
	if o.Table == "" {
		return "", fmt.Errorf("the table name is required")
	}
	store, wrapper, err := Connect(ctx, o)
	if err != nil {
		return "", err
	}
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	return New("", store, wrapper, Config{}, quiet).Service.Bootstrap(ctx, org, subject, name)
}

// HTTP serves an API Gateway HTTP API (payload 2.0) request with the one
// HTTP handler.
func (a *App) HTTP(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return a.adapter.ProxyWithContext(ctx, req)
}

// Start is a function's whole main: build the App of fn from the
// environment, once, and serve the handler pick chooses. A configuration
// that cannot work stops the container at init, before any request.
func Start(fn httpapi.Function, pick func(*App) any) {
	app, err := FromEnv(context.Background(), fn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "zwrm %s function: init: %v\n", fn, err)
		os.Exit(1)
	}
	lambda.Start(pick(app))
}
