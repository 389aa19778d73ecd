// Command set is the set Lambda function: create, update, restore and rotation policies, and the scheduled rotation sweep.
package main

import (
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	lambdaapp.Start(httpapi.FnSet, func(a *lambdaapp.App) any { return a.Set })
}
