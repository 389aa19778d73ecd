// Command authorizer is the authorizer Lambda function: the API Gateway HTTP API Lambda authorizer.
package main

import (
	"context"
	"fmt"
	"os"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	app, err := lambdaapp.FromEnv(context.Background(), "")
	if err != nil {
		fmt.Fprintln(os.Stderr, "authorizer: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.Authorize)
}
