package client_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// TestResolveIAMSendsARequestSignedForAPIGateway checks the signature the
// way API Gateway does: the server signs its own copy of the request with
// the same credentials and the request's date, and compares.
func TestResolveIAMSendsARequestSignedForAPIGateway(t *testing.T) {
	creds := credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "session-token")
	at := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	var checked bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got := r.Header.Get("Authorization")
		if !strings.HasPrefix(got, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261122/eu-west-1/execute-api/aws4_request") {
			t.Errorf("Authorization = %q", got)
		}
		if r.Header.Get("X-Amz-Security-Token") != "session-token" {
			t.Errorf("the session token was not sent")
		}
		if r.URL.Path != "/v1/resolve/iam" || r.URL.Query().Get("org") != "acme" {
			t.Errorf("request %s", r.URL)
		}
		// Like API Gateway, verify over the headers the signature names
		// (the transport adds Accept-Encoding after signing).
		again, _ := http.NewRequest(r.Method, "http://"+r.Host+r.URL.RequestURI(), strings.NewReader(string(body)))
		_, list, _ := strings.Cut(got, "SignedHeaders=")
		list, _, _ = strings.Cut(list, ",")
		for _, h := range strings.Split(list, ";") {
			if h != "host" && h != "content-length" {
				again.Header.Set(h, r.Header.Get(h))
			}
		}
		sum := sha256.Sum256(body)
		c, _ := creds.Retrieve(context.Background())
		if err := v4.NewSigner().SignHTTP(context.Background(), c, again, hex.EncodeToString(sum[:]), "execute-api", "eu-west-1", at); err != nil {
			t.Fatal(err)
		}
		if want := again.Header.Get("Authorization"); got != want {
			t.Errorf("signature does not verify:\n got %s\nwant %s", got, want)
		}
		checked = true
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"environment":"production","secrets":{"API_KEY":"v"}}`)
	}))
	defer srv.Close()

	hc := &http.Client{Transport: &client.SigV4Transport{Credentials: creds, Region: "eu-west-1", Now: func() time.Time { return at }}}
	c, err := client.New(srv.URL, "", client.WithHTTPClient(hc))
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.ResolveIAM(context.Background(), "acme", secrets.Production, secrets.Layer{App: "web"})
	if err != nil {
		t.Fatal(err)
	}
	if !checked || res.Secrets["API_KEY"] != "v" {
		t.Fatalf("resolve = %+v (checked %v)", res, checked)
	}
	if _, err := (&client.SigV4Transport{Credentials: aws.AnonymousCredentials{}}).RoundTrip(httptest.NewRequest("GET", "/", nil)); err == nil {
		t.Fatal("a transport without a region signed anyway")
	}
}

func TestTheClientFollowsNoRedirect(t *testing.T) {
	var leaked bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		leaked = r.Header.Get("Authorization") != ""
	}))
	defer elsewhere.Close()
	redirector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	defer redirector.Close()
	c, err := client.New(redirector.URL, "zwrm_u_secret")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Me(context.Background()); err == nil {
		t.Fatal("a redirect answered as a success")
	}
	if leaked {
		t.Fatal("the token followed the redirect")
	}
}

func TestABareForbiddenFromAPIGatewayIsARefusedToken(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		io.WriteString(w, `{"message":"Forbidden"}`)
	}))
	defer srv.Close()
	c, _ := client.New(srv.URL, "zwrm_u_revoked")
	_, err := c.Me(context.Background())
	var e *client.Error
	if !errors.As(err, &e) || e.Code != secrets.CodeUnauthorized || !strings.Contains(e.Message, "refused") {
		t.Fatalf("err = %v, want an unauthorized error saying the token was refused", err)
	}
}
