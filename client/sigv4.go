package client

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SigV4Transport signs each request with AWS Signature Version 4 for API
// Gateway (service execute-api): what POST /v1/resolve/iam needs from an AWS
// workload. Give it to the client with
//
//	client.WithHTTPClient(&http.Client{Transport: &client.SigV4Transport{Credentials: cfg.Credentials, Region: cfg.Region}})
//
// with cfg from config.LoadDefaultConfig, and call ResolveIAM on the
// deployment's ApiUrl (the signature covers the host).
type SigV4Transport struct {
	Credentials aws.CredentialsProvider
	Region      string
	// Base sends the signed request; http.DefaultTransport when nil.
	Base http.RoundTripper
	// Now is the signing clock; time.Now when nil.
	Now func() time.Time
}

// RoundTrip signs a copy of req and sends it.
func (t *SigV4Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Credentials == nil || t.Region == "" {
		return nil, fmt.Errorf("sigv4: credentials and region are required")
	}
	var body []byte
	if req.Body != nil {
		var err error
		if body, err = io.ReadAll(req.Body); err != nil {
			return nil, fmt.Errorf("sigv4: read body: %w", err)
		}
		req.Body.Close()
	}
	signed := req.Clone(req.Context())
	signed.Body = io.NopCloser(bytes.NewReader(body))
	signed.ContentLength = int64(len(body))
	sum := sha256.Sum256(body)
	creds, err := t.Credentials.Retrieve(req.Context())
	if err != nil {
		return nil, fmt.Errorf("sigv4: credentials: %w", err)
	}
	now := time.Now
	if t.Now != nil {
		now = t.Now
	}
	if err := v4.NewSigner().SignHTTP(req.Context(), creds, signed, hex.EncodeToString(sum[:]), "execute-api", t.Region, now()); err != nil {
		return nil, fmt.Errorf("sigv4: sign: %w", err)
	}
	base := t.Base
	if base == nil {
		base = http.DefaultTransport
	}
	return base.RoundTrip(signed)
}
