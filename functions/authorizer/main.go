// Command authorizer is the authorizer Lambda function: the API Gateway HTTP API Lambda authorizer.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnAuthorizer, func(a *lambdaapp.App) any { return a.Authorize })
}
