package kmskeys

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/kms"
)

// The parts of the KMS client the adapters use, so that a test can stand in
// at that seam (to count or fail calls); *kms.Client has both.

// API is the part of the KMS client the wrapper uses.
type API interface {
	GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, optFns ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error)
	Decrypt(ctx context.Context, in *kms.DecryptInput, optFns ...func(*kms.Options)) (*kms.DecryptOutput, error)
}

// MacAPI is the part of the KMS client the MAC adapter uses.
type MacAPI interface {
	GenerateMac(ctx context.Context, in *kms.GenerateMacInput, optFns ...func(*kms.Options)) (*kms.GenerateMacOutput, error)
	VerifyMac(ctx context.Context, in *kms.VerifyMacInput, optFns ...func(*kms.Options)) (*kms.VerifyMacOutput, error)
}

var (
	_ API    = (*kms.Client)(nil)
	_ MacAPI = (*kms.Client)(nil)
)
