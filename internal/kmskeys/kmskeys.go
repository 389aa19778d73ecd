// Package kmskeys wraps data keys with AWS KMS: GenerateDataKey makes each
// data key under one configured KMS key, and Decrypt unwraps it, both with
// the encryption context the envelope package builds (service, org,
// environment, generation). KMS refuses a Decrypt whose context differs, and
// IAM policies can name the context in kms:EncryptionContext:* conditions,
// e.g. a role that may decrypt staging keys but not production ones.
//
// MAC (mac.go) signs and checks messages with a KMS HMAC key: the
// authorizer's identities on AWS. Both name the few KMS calls they make in
// kmsapi.go.
package kmskeys

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/zwrm/secrets/internal/secrets"
)

// dataKeySize is the size of an AES-256 data key, what the envelope needs.
const dataKeySize = 32

// Wrapper is a secrets.KeyWrapper under one KMS key.
type Wrapper struct {
	api   API
	keyID string
}

var _ secrets.KeyWrapper = (*Wrapper)(nil)

// New returns a Wrapper that makes and unwraps data keys under the KMS key
// keyID (a key id, key ARN, alias name or alias ARN). Unwrap sends keyID with
// every Decrypt, so it must name the key itself (id or ARN) or an alias of it.
func New(api API, keyID string) *Wrapper {
	return &Wrapper{api: api, keyID: keyID}
}

// GenerateDataKey returns a new AES-256 data key and its KMS ciphertext
// blob, bound to ec. It returns CodeUnavailable when KMS throttles, fails on
// its side or cannot be reached (after the SDK's retries), and CodeInternal
// when KMS refuses (access denied, key disabled or missing) or answers with
// something that is not a 32-byte key.
func (w *Wrapper) GenerateDataKey(ctx context.Context, ec secrets.EncryptionContext) (plaintext, wrapped []byte, err error) {
	out, err := w.api.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{
		KeyId:             aws.String(w.keyID),
		KeySpec:           types.DataKeySpecAes256,
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, nil, w.translate("GenerateDataKey", err)
	}
	if len(out.Plaintext) != dataKeySize || len(out.CiphertextBlob) == 0 {
		n := len(out.Plaintext)
		clear(out.Plaintext)
		return nil, nil, secrets.Internalf(fmt.Errorf("kms GenerateDataKey under %s: got a %d-byte key and a %d-byte blob", w.keyID, n, len(out.CiphertextBlob)),
			"KMS returned a malformed data key; want %d bytes", dataKeySize)
	}
	return out.Plaintext, out.CiphertextBlob, nil
}

// Unwrap asks KMS to decrypt wrapped under the wrapper's key with ec. A blob
// made with another context or under another key, or altered, returns
// CodeInternal, as do a refusal (access denied, key disabled or missing) and
// an answer that is not a 32-byte key. Throttling, KMS-side failures and an
// unreachable KMS return CodeUnavailable (after the SDK's retries).
func (w *Wrapper) Unwrap(ctx context.Context, wrapped []byte, ec secrets.EncryptionContext) ([]byte, error) {
	out, err := w.api.Decrypt(ctx, &kms.DecryptInput{
		CiphertextBlob: wrapped,
		// Naming the key makes KMS refuse a blob made under any other key,
		// rather than decrypting with whatever key the blob names.
		KeyId:             aws.String(w.keyID),
		EncryptionContext: ec,
	})
	if err != nil {
		return nil, w.translate("Decrypt", err)
	}
	if len(out.Plaintext) != dataKeySize {
		n := len(out.Plaintext)
		clear(out.Plaintext)
		return nil, secrets.Internalf(fmt.Errorf("kms Decrypt under %s: got a %d-byte key", w.keyID, n),
			"KMS returned a malformed data key; want %d bytes", dataKeySize)
	}
	return out.Plaintext, nil
}

// translate maps an SDK error to a domain error, keeping the SDK error (which
// holds the operation, request id and KMS's message, never key material) as
// the cause for logs.
func (w *Wrapper) translate(op string, err error) error {
	code, msg := classify(op, err)
	return &secrets.Error{Code: code, Message: msg, Err: fmt.Errorf("kms %s under %s: %w", op, w.keyID, err)}
}

// unavailableCodes are KMS error codes that mean "try again later". Some are
// modelled in kms/types, others (ThrottlingException) reach the client as
// generic API errors, so both are matched by code.
var unavailableCodes = map[string]bool{
	"ThrottlingException":         true,
	"LimitExceededException":      true, // request quota exceeded
	"KMSInternalException":        true,
	"DependencyTimeoutException":  true,
	"KeyUnavailableException":     true,
	"ServiceUnavailableException": true,
}

// classify returns the domain code and an actionable message for err.
func classify(op string, err error) (secrets.Code, string) {
	var (
		limit        *types.LimitExceededException
		internal     *types.KMSInternalException
		timeout      *types.DependencyTimeoutException
		unavailable  *types.KeyUnavailableException
		invalidCT    *types.InvalidCiphertextException
		incorrectKey *types.IncorrectKeyException
		disabled     *types.DisabledException
		invalidState *types.KMSInvalidStateException
		notFound     *types.NotFoundException
		invalidARN   *types.InvalidArnException
		keyUsage     *types.InvalidKeyUsageException
		quota        ratelimit.QuotaExceededError
		maxAttempts  *retry.MaxAttemptsError
		apiErr       smithy.APIError
		respErr      *smithyhttp.ResponseError
		sendErr      *smithyhttp.RequestSendError
	)
	const retryLater = "KMS is throttling or unavailable; try again shortly"
	switch {
	case errors.As(err, &limit), errors.As(err, &internal), errors.As(err, &timeout), errors.As(err, &unavailable):
		return secrets.CodeUnavailable, retryLater
	case errors.As(err, &apiErr) && unavailableCodes[apiErr.ErrorCode()]:
		return secrets.CodeUnavailable, retryLater
	case errors.As(err, &quota):
		return secrets.CodeUnavailable, retryLater
	case errors.As(err, &invalidCT), errors.As(err, &incorrectKey):
		return secrets.CodeInternal, "KMS refused to decrypt the data key: wrong key or encryption context, or the wrapped key was altered"
	case errors.As(err, &disabled), errors.As(err, &invalidState):
		// A dependency that is down, not a bug: nothing was changed, and
		// the call works again once an operator enables the key.
		return secrets.CodeUnavailable, "the KMS key is disabled or pending deletion; enable it or configure another key"
	case errors.As(err, &notFound), errors.As(err, &invalidARN):
		return secrets.CodeInternal, "the KMS key was not found; check the configured key id and region"
	case errors.As(err, &keyUsage):
		return secrets.CodeInternal, "the KMS key is not a symmetric encryption key; configure one that is"
	case errors.As(err, &apiErr) && apiErr.ErrorCode() == "AccessDeniedException":
		return secrets.CodeInternal, "KMS denied kms:" + op + "; check the key policy and the role's permissions and kms:EncryptionContext conditions"
	case errors.As(err, &respErr) && respErr.HTTPStatusCode() >= 500:
		return secrets.CodeUnavailable, retryLater
	case errors.As(err, &sendErr), errors.As(err, &maxAttempts), errors.Is(err, context.DeadlineExceeded):
		// No answer from KMS, or retryable failures until the SDK gave up.
		return secrets.CodeUnavailable, "KMS could not be reached; try again shortly"
	}
	return secrets.CodeInternal, "KMS " + op + " failed"
}
