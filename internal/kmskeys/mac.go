package kmskeys

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// MaxMACMessage is the largest message KMS takes in GenerateMac and
// VerifyMac (4096 bytes).
const MaxMACMessage = 4096

// MAC makes and checks HMAC-SHA-256 codes under one KMS HMAC key (key spec
// HMAC_256, key usage GENERATE_VERIFY_MAC). The key never leaves KMS: who
// may sign and who may only check is a matter of IAM (kms:GenerateMac,
// kms:VerifyMac).
type MAC struct {
	api   MacAPI
	keyID string
}

// NewMAC returns a MAC under the KMS key keyID (a key id, key ARN, alias
// name or alias ARN).
func NewMAC(api MacAPI, keyID string) *MAC {
	return &MAC{api: api, keyID: keyID}
}

// Sign returns the HMAC-SHA-256 of msg under the key. It returns
// CodeUnavailable when KMS throttles, fails on its side, cannot be reached
// or the key is disabled or pending deletion, and CodeInternal for a
// message KMS cannot take, a refusal (access denied, no such key, not an
// HMAC key) or an empty answer.
func (m *MAC) Sign(ctx context.Context, msg []byte) ([]byte, error) {
	if len(msg) == 0 || len(msg) > MaxMACMessage {
		return nil, secrets.Internalf(fmt.Errorf("kms GenerateMac under %s: a %d-byte message", m.keyID, len(msg)),
			"a MAC message must be 1 to %d bytes", MaxMACMessage)
	}
	out, err := m.api.GenerateMac(ctx, &kms.GenerateMacInput{
		KeyId:        aws.String(m.keyID),
		Message:      msg,
		MacAlgorithm: types.MacAlgorithmSpecHmacSha256,
	})
	if err != nil {
		return nil, m.translate("GenerateMac", err)
	}
	if len(out.Mac) == 0 {
		return nil, secrets.Internalf(fmt.Errorf("kms GenerateMac under %s: an empty MAC", m.keyID), "KMS returned an empty MAC")
	}
	return out.Mac, nil
}

// Verify checks that mac is msg's HMAC-SHA-256 under the key. It returns
// nil if so and CodeUnauthorized if not (KMS's KMSInvalidMacException, or
// MacValid false); a message or MAC no Sign could have made is refused
// without asking KMS. Throttling, KMS-side failures, an unreachable KMS and
// a disabled key or one pending deletion return CodeUnavailable: the MAC
// cannot be checked now, which says nothing about the caller. A refusal
// (access denied, no such key, not an HMAC key) returns CodeInternal.
func (m *MAC) Verify(ctx context.Context, msg, mac []byte) error {
	if len(msg) == 0 || len(msg) > MaxMACMessage || len(mac) != sha256.Size {
		return errInvalidMAC
	}
	out, err := m.api.VerifyMac(ctx, &kms.VerifyMacInput{
		KeyId:        aws.String(m.keyID),
		Message:      msg,
		Mac:          mac,
		MacAlgorithm: types.MacAlgorithmSpecHmacSha256,
	})
	if err != nil {
		return m.translate("VerifyMac", err)
	}
	if !out.MacValid {
		return errInvalidMAC
	}
	return nil
}

// errInvalidMAC says no more than that: which field or byte differs is
// nobody's business.
var errInvalidMAC = secrets.Errorf(secrets.CodeUnauthorized, "the signature does not match")

func (m *MAC) translate(op string, err error) error {
	code, msg := classifyMAC(op, err)
	return &secrets.Error{Code: code, Message: msg, Err: fmt.Errorf("kms %s under %s: %w", op, m.keyID, err)}
}

// classifyMAC is classify for the MAC operations: an invalid MAC is the
// caller's fault, and the wrong kind of key is named as an HMAC key.
// Everything else, a disabled key included (unavailable), is classify's.
func classifyMAC(op string, err error) (secrets.Code, string) {
	var (
		invalidMAC *types.KMSInvalidMacException
		keyUsage   *types.InvalidKeyUsageException
	)
	switch {
	case errors.As(err, &invalidMAC):
		return secrets.CodeUnauthorized, errInvalidMAC.Message
	case errors.As(err, &keyUsage):
		return secrets.CodeInternal, "the KMS key is not an HMAC key for GenerateMac and VerifyMac; configure one that is"
	}
	return classify(op, err)
}
