// Command delete is the delete Lambda function: delete by id and by name.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnDelete, func(a *lambdaapp.App) any { return a.HTTP })
}
