// Command extension is the zwrm-secrets Lambda extension (a layer's
// extensions/zwrm-secrets): it serves the function's secrets on
// http://localhost:2773 from a cache it keeps fresh (docs/aws.md, "The
// Lambda extension").
package main

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/lambdaext"
)

func main() {
	log.SetFlags(0)
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx); err != nil {
		log.Printf("zwrm-secrets: %v", err)
		os.Exit(1)
	}
}

func run(ctx context.Context) error {
	// Lambda knows the extension by its file name under /opt/extensions.
	name := filepath.Base(os.Args[0])
	api := lambdaext.NewExtensionsAPI(os.Getenv("AWS_LAMBDA_RUNTIME_API"), name)
	if err := api.Register(ctx); err != nil {
		return err
	}
	cfg, err := lambdaext.ConfigFromEnv(name, os.Getenv)
	var src *lambdaext.Source
	if err == nil {
		src, err = source(ctx, cfg)
	}
	if err != nil {
		_ = api.InitError(ctx, "Extension.ConfigInvalid", err)
		return err
	}
	return lambdaext.Serve(ctx, api, cfg, src, log.Printf)
}

// source calls the API with the service token, or signs with the
// function's role (its credentials from the environment Lambda sets).
func source(ctx context.Context, cfg lambdaext.Config) (*lambdaext.Source, error) {
	hc := &http.Client{Timeout: 15 * time.Second}
	if cfg.IAM() {
		aws, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
		if err != nil {
			return nil, fmt.Errorf("the function's AWS credentials: %w", err)
		}
		hc.Transport = &client.SigV4Transport{Credentials: aws.Credentials, Region: cfg.Region}
	}
	return lambdaext.NewSource(cfg, hc)
}
