package client_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"time"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/local"
)

// A workload resolves its secrets with a service token: the machine's
// value, else the app's, else the organization's.
func ExampleClient_Resolve() {
	ctx := context.Background()
	endpoint, adminToken, stop := exampleServer()
	defer stop()

	// An admin sets a value and creates the workload's service token.
	admin, err := client.New(endpoint, adminToken)
	if err != nil {
		fmt.Println(err)
		return
	}
	web := client.Layer{App: "web"}
	if _, _, err := admin.SetLayerSecret(ctx, web, "DATABASE_URL", "postgres://db.internal/web", client.Production); err != nil {
		fmt.Println(err)
		return
	}
	tok, err := admin.CreateToken(ctx, client.CreateTokenRequest{Kind: "service", Name: "web", App: "web",
		Environments: []client.Environment{client.Production}})
	if err != nil {
		fmt.Println(err)
		return
	}

	// The workload resolves with its token; its scope supplies the app.
	workload, err := client.New(endpoint, tok.Token)
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := workload.Resolve(ctx, client.Production, client.Layer{})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Secrets["DATABASE_URL"])
	// Output: postgres://db.internal/web
}

// A workload that keeps running checks for changes cheaply: it sends the
// fingerprint of its last answer, and while nothing changed the server
// answers without a value.
func ExampleClient_ResolveIfChanged() {
	ctx := context.Background()
	endpoint, token, stop := exampleServer()
	defer stop()
	c, err := client.New(endpoint, token)
	if err != nil {
		fmt.Println(err)
		return
	}
	if _, _, err := c.SetLayerSecret(ctx, client.Layer{}, "LOG_LEVEL", "info", client.Development); err != nil {
		fmt.Println(err)
		return
	}
	res, _, err := c.ResolveIfChanged(ctx, client.Development, client.Layer{}, client.Names("LOG_LEVEL"))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Secrets["LOG_LEVEL"], res.Sources["LOG_LEVEL"].Layer, res.Sources["LOG_LEVEL"].Version)

	_, notModified, err := c.ResolveIfChanged(ctx, client.Development, client.Layer{}, client.Names("LOG_LEVEL"), client.IfNoneMatch(res.Fingerprint))
	fmt.Println("not modified:", notModified, err)

	if _, _, err := c.SetLayerSecret(ctx, client.Layer{}, "LOG_LEVEL", "debug", client.Development); err != nil {
		fmt.Println(err)
		return
	}
	changed, notModified, err := c.ResolveIfChanged(ctx, client.Development, client.Layer{}, client.Names("LOG_LEVEL"), client.IfNoneMatch(res.Fingerprint))
	fmt.Println("not modified:", notModified, err, changed.Secrets["LOG_LEVEL"])
	// Output:
	// info global 1
	// not modified: true <nil>
	// not modified: false <nil> debug
}

// exampleServer serves the API over an embedded store with a local key,
// as `zwrm dev` does, and returns its URL and a superadmin's token.
func exampleServer() (endpoint, token string, stop func()) {
	dir, err := os.MkdirTemp("", "zwrm-example-")
	if err != nil {
		panic(err)
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	data, err := local.Open(dir, time.Second, logger, local.Tuning{})
	if err != nil {
		panic(err)
	}
	token, err = data.Service.Bootstrap(context.Background(), "acme", "ann@acme.test", "Ann")
	if err != nil {
		panic(err)
	}
	srv := httptest.NewServer(httpapi.New(data.Service, httpapi.Options{Logger: logger}))
	return srv.URL, token, func() {
		srv.Close()
		data.Close()
		os.RemoveAll(dir)
	}
}
