// Command set is the set Lambda function: create, update, restore and rotation policies, and the scheduled rotation sweep.
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
	app, err := lambdaapp.FromEnv(context.Background(), httpapi.FnSet)
	if err != nil {
		fmt.Fprintln(os.Stderr, "set: init:", err)
		os.Exit(1)
	}
	lambda.Start(app.Set)
}
