// Command resolve-direct is the resolve-direct Lambda function: workloads
// invoke it directly (lambda:InvokeFunction) with a service token in the
// payload. It serves no API Gateway request.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnResolveDirect, func(a *lambdaapp.App) any { return a.ResolveDirect })
}
