// Command resolve is the resolve Lambda function: POST /v1/resolve (bearer)
// and POST /v1/resolve/iam (SigV4), invoked by API Gateway only.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnResolve, func(a *lambdaapp.App) any { return a.HTTP })
}
