// Command authorizer is the authorizer Lambda function: the API Gateway HTTP API Lambda authorizer.
package main

import (
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func main() {
	// The DynamoDB store, the KMS data key and the identity key, from
	// the environment; the handler's type is checked by the compiler.
	lambda.StartHandlerFunc(lambdaapp.MustFromEnv(httpapi.FnAuthorizer).Authorize)
}
