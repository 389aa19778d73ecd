package localkms_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/zwrm/secrets/internal/emulator"
	"github.com/zwrm/secrets/internal/localkms"
)

func TestServerMakesHMACKeysAndStopsWithTheTest(t *testing.T) {
	emulator.RunStopsWithItsTest(t, "a started server makes HMAC keys that sign and verify", func(t *testing.T) string {
		srv := localkms.Start(t)
		key := srv.NewHMACKey(t)
		client := srv.Client()
		out, err := client.DescribeKey(t.Context(), &kms.DescribeKeyInput{KeyId: aws.String(key)})
		if err != nil {
			t.Fatalf("DescribeKey: %v", err)
		}
		if got, want := out.KeyMetadata.KeySpec, types.KeySpecHmac256; got != want {
			t.Errorf("key spec = %s, want %s", got, want)
		}
		if got, want := out.KeyMetadata.KeyUsage, types.KeyUsageTypeGenerateVerifyMac; got != want {
			t.Errorf("key usage = %s, want %s", got, want)
		}
		mac, err := client.GenerateMac(t.Context(), &kms.GenerateMacInput{KeyId: aws.String(key), Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		if err != nil {
			t.Fatalf("GenerateMac: %v", err)
		}
		ok, err := client.VerifyMac(t.Context(), &kms.VerifyMacInput{KeyId: aws.String(key), Message: []byte("m"), Mac: mac.Mac, MacAlgorithm: types.MacAlgorithmSpecHmacSha256})
		if err != nil || !ok.MacValid {
			t.Fatalf("VerifyMac: %+v, %v", ok, err)
		}
		srv.DisableKey(t, key)
		if _, err := client.GenerateMac(t.Context(), &kms.GenerateMacInput{KeyId: aws.String(key), Message: []byte("m"), MacAlgorithm: types.MacAlgorithmSpecHmacSha256}); err == nil {
			t.Fatal("GenerateMac with a disabled key succeeded")
		}
		return srv.URL
	})
}

func TestCallsCountsEachAttemptAndFailsWhenAsked(t *testing.T) {
	srv := localkms.Start(t)
	key := srv.NewSymmetricKey(t)
	calls := localkms.NewCalls()
	client := srv.Client(calls.Use)
	generate := func() error {
		_, err := client.GenerateDataKey(t.Context(), &kms.GenerateDataKeyInput{KeyId: aws.String(key), KeySpec: types.DataKeySpecAes256})
		return err
	}

	t.Run("a call that succeeds counts once, under its operation", func(t *testing.T) {
		if err := generate(); err != nil {
			t.Fatal(err)
		}
		if got, want := calls.Count(localkms.OpGenerateDataKey), 1; got != want {
			t.Errorf("GenerateDataKey requests = %d, want %d", got, want)
		}
		if got, want := calls.Count(localkms.OpDecrypt), 0; got != want {
			t.Errorf("Decrypt requests = %d, want %d", got, want)
		}
	})
	t.Run("an injected throttle reaches the caller as KMS's error, each retry counted", func(t *testing.T) {
		calls.Reset()
		calls.FailNext(localkms.OpGenerateDataKey, localkms.MaxAttempts, "ThrottlingException")
		err := generate()
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) || apiErr.ErrorCode() != "ThrottlingException" {
			t.Fatalf("err = %v, want ThrottlingException", err)
		}
		if got, want := calls.Count(), localkms.MaxAttempts; got != want {
			t.Errorf("requests = %d, want %d (the SDK's attempts)", got, want)
		}
	})
	t.Run("once the failures are delivered, calls reach local-kms again", func(t *testing.T) {
		calls.Reset()
		calls.FailNext(localkms.OpGenerateDataKey, 1, "KMSInternalException")
		if err := generate(); err != nil {
			t.Fatalf("err = %v, want the retry to succeed", err)
		}
		if got, want := calls.Count(localkms.OpGenerateDataKey), 2; got != want {
			t.Errorf("requests = %d, want %d", got, want)
		}
	})
}
