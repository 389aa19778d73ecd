// Command resolve is the resolve Lambda function: resolve over HTTP (bearer or IAM) and by direct invocation.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	app, err := lambdaapp.FromEnv(context.Background(), httpapi.FnResolve)
	if err != nil {
		fmt.Fprintln(os.Stderr, "resolve: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.Resolve)
}
