// Command delete is the delete Lambda function: delete by id and by name.
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
	app, err := lambdaapp.FromEnv(context.Background(), httpapi.FnDelete)
	if err != nil {
		fmt.Fprintln(os.Stderr, "delete: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.HTTP)
}
