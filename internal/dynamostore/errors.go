package dynamostore

import (
	"context"
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/zwrm/secrets/internal/secrets"
)

// unavailableCodes are the error codes of a DynamoDB that is throttling or
// failing for a while: the SDK retries them, and when its retries run out
// the caller should retry later. Matched by code as well as by type, since
// some (ThrottlingException from the control plane, ServiceUnavailable)
// arrive as generic API errors.
var unavailableCodes = map[string]bool{
	"ProvisionedThroughputExceededException": true,
	"ThrottlingException":                    true,
	"Throttling":                             true,
	"RequestLimitExceeded":                   true,
	"InternalServerError":                    true,
	"InternalFailure":                        true,
	"ServiceUnavailable":                     true,
	"ReplicatedWriteConflictException":       true,
}

// storeErr translates an SDK error that is not a failed condition (the
// callers handle those) at the store's edge: throttling and server
// failures, after the SDK's retries, and a DynamoDB that cannot be reached
// become CodeUnavailable; anything else stays as it is, for the caller to
// wrap with what it was doing (CodeInternal).
func storeErr(err error) error {
	if err == nil || !unavailable(err) {
		return err
	}
	return &secrets.Error{
		Code:    secrets.CodeUnavailable,
		Message: "the database is throttling requests or cannot be reached; retry later",
		Err:     err,
	}
}

func unavailable(err error) bool {
	// A cancelled or expired request is the caller's doing: it keeps its
	// context error.
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var (
		apiErr   smithy.APIError
		sendErr  *smithyhttp.RequestSendError
		quotaErr ratelimit.QuotaExceededError
	)
	return (errors.As(err, &apiErr) && unavailableCodes[apiErr.ErrorCode()]) ||
		errors.As(err, &sendErr) || errors.As(err, &quotaErr)
}

// conditionFailed reports whether err is a failed condition, and returns
// the item as it was when the condition failed if DynamoDB returned it
// (ReturnValuesOnConditionCheckFailure ALL_OLD; not every DynamoDB API
// does, dynalite does not). A nil item is either absent or not returned:
// callers read it to tell.
func conditionFailed(err error) (bool, map[string]types.AttributeValue) {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return true, ccf.Item
	}
	return false, nil
}
