// Package lambdaext is the zwrm secrets Lambda extension: it registers with
// the Lambda Extensions API, resolves the function's secrets at init (with a
// service token or the function's role), keeps them in a TTL cache that a
// change check refreshes, and serves them on localhost to the function.
package lambdaext

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Defaults of the optional settings.
const (
	DefaultTTL  = 300 * time.Second
	DefaultPort = 2773
)

// Config is the extension's configuration, read from the function's
// environment.
type Config struct {
	RuntimeAPI string // AWS_LAMBDA_RUNTIME_API: host:port of the Extensions API
	Name       string // the extension's name: its file name under /opt/extensions

	Endpoint string // ZWRM_ENDPOINT: the API's base URL
	Token    string // ZWRM_TOKEN: a service token; when empty, the function's role signs (IAM)
	Org      string // ZWRM_ORG: the org the IAM route resolves from (IAM only)
	Region   string // AWS_REGION: for the SigV4 signature (IAM only)

	Environment secrets.Environment // ZWRM_ENV
	Layer       secrets.Layer       // ZWRM_APP, ZWRM_MACHINE
	Names       []string            // ZWRM_NAMES: comma-separated; all names when empty

	TTL  time.Duration // ZWRM_CACHE_TTL: a duration (300s, 5m) or seconds; DefaultTTL when unset
	Port int           // ZWRM_PORT: DefaultPort when unset

	// SessionToken is AWS_SESSION_TOKEN: a request to the local endpoint
	// must carry it. When it is empty every request is refused.
	SessionToken string
}

// IAM says whether the extension resolves with the function's role.
func (c Config) IAM() bool { return c.Token == "" }

// ConfigFromEnv reads the configuration with getenv (os.Getenv). Its errors
// name the variable and never quote a token.
func ConfigFromEnv(name string, getenv func(string) string) (Config, error) {
	c := Config{
		RuntimeAPI:   getenv("AWS_LAMBDA_RUNTIME_API"),
		Name:         name,
		Endpoint:     strings.TrimSpace(getenv("ZWRM_ENDPOINT")),
		Token:        strings.TrimSpace(getenv("ZWRM_TOKEN")),
		Org:          strings.TrimSpace(getenv("ZWRM_ORG")),
		Region:       getenv("AWS_REGION"),
		Environment:  secrets.Environment(strings.TrimSpace(getenv("ZWRM_ENV"))),
		Layer:        secrets.Layer{App: strings.TrimSpace(getenv("ZWRM_APP")), Machine: strings.TrimSpace(getenv("ZWRM_MACHINE"))},
		TTL:          DefaultTTL,
		Port:         DefaultPort,
		SessionToken: getenv("AWS_SESSION_TOKEN"),
	}
	if c.RuntimeAPI == "" {
		return c, fmt.Errorf("AWS_LAMBDA_RUNTIME_API is not set: the extension runs inside Lambda")
	}
	if c.Endpoint == "" {
		return c, fmt.Errorf("ZWRM_ENDPOINT is not set: the API's URL (the stack's ApiUrl output)")
	}
	if c.Environment == "" {
		return c, fmt.Errorf("ZWRM_ENV is not set: the environment to resolve, for example production")
	}
	if c.IAM() {
		if c.Org == "" {
			return c, fmt.Errorf("ZWRM_ORG is not set: without ZWRM_TOKEN the extension resolves with the function's role from that org")
		}
		if c.Region == "" {
			return c, fmt.Errorf("AWS_REGION is not set: the function's role signs for the API's region")
		}
	}
	for _, n := range strings.Split(getenv("ZWRM_NAMES"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			c.Names = append(c.Names, n)
		}
	}
	if v := strings.TrimSpace(getenv("ZWRM_CACHE_TTL")); v != "" {
		d, err := parseTTL(v)
		if err != nil {
			return c, fmt.Errorf("ZWRM_CACHE_TTL %q: %v", v, err)
		}
		c.TTL = d
	}
	if v := strings.TrimSpace(getenv("ZWRM_PORT")); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 65535 {
			return c, fmt.Errorf("ZWRM_PORT %q: must be a port number", v)
		}
		c.Port = p
	}
	return c, nil
}

// parseTTL accepts a Go duration (300s, 5m) or a number of seconds, as
// AWS's extension takes its TTL.
func parseTTL(v string) (time.Duration, error) {
	d, err := time.ParseDuration(v)
	if err != nil {
		n, nerr := strconv.Atoi(v)
		if nerr != nil {
			return 0, fmt.Errorf("must be a duration such as 300s or a number of seconds")
		}
		d = time.Duration(n) * time.Second
	}
	if d <= 0 {
		return 0, fmt.Errorf("must be positive")
	}
	return d, nil
}
