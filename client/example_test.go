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
