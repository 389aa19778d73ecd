package lambdaext

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// resolveRequest is the body of POST /v1/resolve and /v1/resolve/iam, with
// the selected names and the change check (if_none_match).
type resolveRequest struct {
	Environment secrets.Environment `json:"environment"`
	App         string              `json:"app,omitempty"`
	Machine     string              `json:"machine,omitempty"`
	Names       []string            `json:"names,omitempty"`
	IfNoneMatch string              `json:"if_none_match,omitempty"`
}

// resolved is a 200 answer of a resolve.
type resolved struct {
	Secrets     map[string]string `json:"secrets"`
	Fingerprint string            `json:"fingerprint"`
}

// maxAnswer bounds the answer read, like the Go client's bound.
const maxAnswer = 128 << 20

// Source calls the API's resolve route.
type Source struct {
	URL  string       // the resolve route's full URL
	Auth string       // "Bearer TOKEN", or empty when HC signs (IAM)
	HC   *http.Client // with a SigV4Transport for IAM
	Body resolveRequest
}

// NewSource builds the source of cfg: the bearer route with a service
// token, the IAM route (signed by hc's transport) without.
func NewSource(cfg Config, hc *http.Client) (*Source, error) {
	u, err := url.Parse(cfg.Endpoint)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("ZWRM_ENDPOINT: must be an http:// or https:// URL without credentials or a query")
	}
	base := strings.TrimRight(u.String(), "/")
	s := &Source{HC: hc, Body: resolveRequest{Environment: cfg.Environment, App: cfg.Layer.App, Machine: cfg.Layer.Machine, Names: cfg.Names}}
	// Never follow a redirect: it would resend the token and the body.
	c := *hc
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	s.HC = &c
	if cfg.IAM() {
		s.URL = base + "/v1/resolve/iam?" + url.Values{"org": {cfg.Org}}.Encode()
	} else {
		s.URL = base + "/v1/resolve"
		s.Auth = "Bearer " + cfg.Token
	}
	return s, nil
}

// ErrRefused is a 4xx answer: the token, the role or the request is not
// accepted; retrying will not help until someone changes something.
var ErrRefused = errors.New("refused")

// Fetch resolves. With a fingerprint it asks for a change check: a 304
// answers notModified with no values. The error never quotes the answer's
// body, which may hold values.
func (s *Source) Fetch(ctx context.Context, fingerprint string) (values map[string]string, newFingerprint string, notModified bool, err error) {
	body := s.Body
	body.IfNoneMatch = fingerprint
	b, err := json.Marshal(body)
	if err != nil {
		return nil, "", false, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.URL, bytes.NewReader(b))
	if err != nil {
		return nil, "", false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "zwrm-lambda-extension")
	if s.Auth != "" {
		req.Header.Set("Authorization", s.Auth)
	}
	resp, err := s.HC.Do(req)
	if err != nil {
		return nil, "", false, fmt.Errorf("resolve: cannot reach the API: %w", unwrapURL(err))
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, "", false, fmt.Errorf("resolve: read the answer: %w", err)
	}
	etag := strings.Trim(resp.Header.Get("ETag"), `"`)
	switch {
	case resp.StatusCode == http.StatusNotModified:
		if etag == "" {
			etag = fingerprint
		}
		return nil, etag, true, nil
	case resp.StatusCode == http.StatusRequestTimeout || resp.StatusCode == http.StatusTooManyRequests:
		// Throttled or timed out: the service is busy, not refusing, so
		// the values stay and are served stale until it answers.
		return nil, "", false, fmt.Errorf("resolve: the API answered %d (busy)", resp.StatusCode)
	case resp.StatusCode >= 400 && resp.StatusCode < 500:
		return nil, "", false, fmt.Errorf("resolve: the API answered %d: %w", resp.StatusCode, ErrRefused)
	case resp.StatusCode != http.StatusOK:
		return nil, "", false, fmt.Errorf("resolve: the API answered %d", resp.StatusCode)
	case len(raw) > maxAnswer:
		return nil, "", false, fmt.Errorf("resolve: the answer is over %d MiB", maxAnswer>>20)
	}
	var out resolved
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, "", false, fmt.Errorf("resolve: the answer is not the JSON expected")
	}
	if out.Secrets == nil {
		out.Secrets = map[string]string{}
	}
	if out.Fingerprint == "" {
		out.Fingerprint = etag
	}
	return out.Secrets, out.Fingerprint, false, nil
}

// unwrapURL drops url.Error's wrapping, which repeats the URL (no secret in
// it, but noise in a log line).
func unwrapURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// fetchTimeout bounds one call to the API.
const fetchTimeout = 10 * time.Second
