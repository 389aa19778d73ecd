// Command list is the list Lambda function: list, detail, versions, layers, me, openapi and health.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnList, func(a *lambdaapp.App) any { return a.HTTP })
}
