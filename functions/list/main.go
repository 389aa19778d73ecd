// Command list is the list Lambda function: list, detail, versions, layers, me, openapi and health.
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
	app, err := lambdaapp.FromEnv(context.Background(), httpapi.FnList)
	if err != nil {
		fmt.Fprintln(os.Stderr, "list: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.HTTP)
}
