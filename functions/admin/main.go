// Command admin is the admin Lambda function: tokens, audit and organization settings.
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
	app, err := lambdaapp.FromEnv(context.Background(), httpapi.FnAdmin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "admin: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.HTTP)
}
