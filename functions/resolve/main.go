// Command resolve is the resolve Lambda function: resolve over HTTP (bearer or IAM) and by direct invocation.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnResolve, func(a *lambdaapp.App) any { return a.Resolve })
}
