package main_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

// Against a real zwrm dev with a service token: the extension's resolve is
// the service's, and a value set through the API reaches the function after
// the TTL.
func TestTheExtensionServesWhatARealServerResolvesAndSeesAChange(t *testing.T) {
	bin := buildExtension(t)
	dir := t.TempDir()
	srv := testkit.StartLocal(t, dir, nil, local.Tuning{RotateEvery: time.Hour})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	admin, err := client.New(srv.URL(), testkit.DevToken(t, dir))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.SetLayerSecret(ctx, secrets.Layer{}, "GREETING", "hello-from-global", secrets.Production); err != nil {
		t.Fatal(err)
	}
	if _, _, err := admin.SetLayerSecret(ctx, secrets.Layer{App: "web"}, "DB_URL", "postgres://real-one", secrets.Production); err != nil {
		t.Fatal(err)
	}
	tok, err := admin.CreateToken(ctx, client.CreateTokenRequest{Kind: secrets.TokenService, Name: "lambda-web", App: "web", Environments: []secrets.Environment{secrets.Production}})
	if err != nil {
		t.Fatal(err)
	}

	lambda := newExtensionsAPI(t)
	port := freePort(t)
	ext := start(t, bin,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(lambda.srv.URL, "http://"),
		"AWS_SESSION_TOKEN="+sessionToken,
		"ZWRM_ENDPOINT="+srv.URL(),
		"ZWRM_TOKEN="+tok.Token,
		"ZWRM_ENV=production",
		"ZWRM_CACHE_TTL=1",
		"ZWRM_PORT="+strconv.Itoa(port),
	)
	ext.base = "http://127.0.0.1:" + strconv.Itoa(port)
	receive(t, lambda.registered, "the registration")
	receive(t, lambda.nexts, "the first event/next")

	if resp, body := ext.get(t, "/secrets/GREETING", "X-Zwrm-Token", sessionToken); resp.StatusCode != 200 || body != "hello-from-global" {
		t.Fatalf("GREETING: %d %q\nlogs:\n%s", resp.StatusCode, body, ext.logs.String())
	}
	if _, body := ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken); body != "postgres://real-one" {
		t.Fatalf("DB_URL: %q", body)
	}
	if _, _, err := admin.SetLayerSecret(ctx, secrets.Layer{App: "web"}, "DB_URL", "postgres://real-two", secrets.Production); err != nil {
		t.Fatal(err)
	}
	lambda.events <- "INVOKE"
	eventually(t, 10*time.Second, "the changed value was not served", func() bool {
		_, body := ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken)
		return body == "postgres://real-two"
	})
	lambda.events <- "SHUTDOWN"
	receive(t, ext.done, "the extension's exit")
	if ext.err != nil {
		t.Errorf("exit: %v", ext.err)
	}
	logs := ext.logs.String()
	for _, s := range []string{"real-one", "real-two", "hello-from-global", tok.Token, sessionToken} {
		if strings.Contains(logs, s) {
			t.Errorf("the logs hold %q", s)
		}
	}
}
