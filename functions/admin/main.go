// Command admin is the admin Lambda function: tokens, audit and organization settings.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnAdmin, func(a *lambdaapp.App) any { return a.HTTP })
}
