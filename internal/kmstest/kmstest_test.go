package kmstest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
	"github.com/aws/smithy-go"

	"github.com/zwrm/secrets/internal/kmstest"
)

// post sends a raw KMS request, signed in form only, and returns the
// status and the decoded JSON answer.
func post(t *testing.T, s *kmstest.Server, target string, body any, signed bool) (int, map[string]any) {
	t.Helper()
	b, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, s.URL+"/", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	req.Header.Set("X-Amz-Target", target)
	if signed {
		req.Header.Set("X-Amz-Date", "20260101T000000Z")
		req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+kmstest.AccessKeyID+"/20260101/"+kmstest.Region+
			"/kms/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=00")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if got, want := resp.Header.Get("Content-Type"), "application/x-amz-json-1.1"; got != want {
		t.Fatalf("Content-Type = %q, want %q", got, want)
	}
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, out
}

func TestWireProtocol(t *testing.T) {
	s := kmstest.NewServer(t)
	keyID, arn := s.CreateKey()
	ec := map[string]string{"org": "acme", "environment": "production"}

	var blob string
	t.Run("GenerateDataKey answers base64 blobs and the key ARN", func(t *testing.T) {
		status, out := post(t, s, "TrentService.GenerateDataKey", map[string]any{"KeyId": keyID, "KeySpec": "AES_256", "EncryptionContext": ec}, true)
		if got, want := status, http.StatusOK; got != want {
			t.Fatalf("status = %d, want %d (%v)", got, want, out)
		}
		if got, want := out["KeyId"], arn; got != want {
			t.Fatalf("KeyId = %v, want %v", got, want)
		}
		var plain []byte
		if err := json.Unmarshal([]byte(`"`+out["Plaintext"].(string)+`"`), &plain); err != nil {
			t.Fatalf("Plaintext is not base64: %v", err)
		}
		if got, want := len(plain), 32; got != want {
			t.Fatalf("Plaintext is %d bytes, want %d", got, want)
		}
		blob = out["CiphertextBlob"].(string)
	})
	t.Run("Decrypt answers the key ARN and the algorithm", func(t *testing.T) {
		status, out := post(t, s, "TrentService.Decrypt", map[string]any{"CiphertextBlob": blob, "EncryptionContext": ec}, true)
		if got, want := status, http.StatusOK; got != want {
			t.Fatalf("status = %d, want %d (%v)", got, want, out)
		}
		if got, want := out["KeyId"], arn; got != want {
			t.Fatalf("KeyId = %v, want %v", got, want)
		}
		if got, want := out["EncryptionAlgorithm"], "SYMMETRIC_DEFAULT"; got != want {
			t.Fatalf("EncryptionAlgorithm = %v, want %v", got, want)
		}
	})
	t.Run("Decrypt with another context answers InvalidCiphertextException with 400", func(t *testing.T) {
		status, out := post(t, s, "TrentService.Decrypt", map[string]any{"CiphertextBlob": blob, "EncryptionContext": map[string]string{"org": "acme", "environment": "staging"}}, true)
		if got, want := status, http.StatusBadRequest; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := out["__type"], "InvalidCiphertextException"; got != want {
			t.Fatalf("__type = %v, want %v", got, want)
		}
	})
	t.Run("an operation it does not serve answers UnsupportedOperationException with 400", func(t *testing.T) {
		status, out := post(t, s, "TrentService.Encrypt", map[string]any{"KeyId": keyID, "Plaintext": "eA=="}, true)
		if got, want := status, http.StatusBadRequest; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := out["__type"], "UnsupportedOperationException"; got != want {
			t.Fatalf("__type = %v, want %v", got, want)
		}
		if out["message"] == "" {
			t.Fatal("no message")
		}
	})
	t.Run("an unsigned request is refused", func(t *testing.T) {
		status, out := post(t, s, "TrentService.GenerateDataKey", map[string]any{"KeyId": keyID, "KeySpec": "AES_256"}, false)
		if got, want := status, http.StatusBadRequest; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := out["__type"], "MissingAuthenticationTokenException"; got != want {
			t.Fatalf("__type = %v, want %v", got, want)
		}
	})
	t.Run("an injected KMSInternalException answers 500", func(t *testing.T) {
		s.FailNext(kmstest.OpDecrypt, 1, "KMSInternalException")
		status, out := post(t, s, "TrentService.Decrypt", map[string]any{"CiphertextBlob": blob, "EncryptionContext": ec}, true)
		if got, want := status, http.StatusInternalServerError; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := out["__type"], "KMSInternalException"; got != want {
			t.Fatalf("__type = %v, want %v", got, want)
		}
	})
	t.Run("Calls counts requests and Reset zeroes them", func(t *testing.T) {
		if got, want := s.Calls(kmstest.OpDecrypt), 3; got != want {
			t.Fatalf("Decrypt calls = %d, want %d", got, want)
		}
		s.Reset()
		if got, want := s.Calls(kmstest.OpDecrypt), 0; got != want {
			t.Fatalf("Decrypt calls after Reset = %d, want %d", got, want)
		}
	})
}

func TestSDKClient(t *testing.T) {
	ctx := context.Background()
	s := kmstest.NewServer(t)
	keyID, arn := s.CreateKey()
	client := s.Client(t)

	t.Run("the SDK parses the fake's answers", func(t *testing.T) {
		out, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), NumberOfBytes: aws.Int32(64)})
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(out.Plaintext), 64; got != want {
			t.Fatalf("Plaintext is %d bytes, want %d", got, want)
		}
		if got, want := aws.ToString(out.KeyId), arn; got != want {
			t.Fatalf("KeyId = %q, want %q", got, want)
		}
		dec, err := client.Decrypt(ctx, &kms.DecryptInput{CiphertextBlob: out.CiphertextBlob})
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(dec.Plaintext, out.Plaintext) {
			t.Fatal("Decrypt returned another key")
		}
	})
	t.Run("the SDK sees an unsupported operation as its modelled error", func(t *testing.T) {
		_, err := client.Encrypt(ctx, &kms.EncryptInput{KeyId: aws.String(keyID), Plaintext: []byte("x")})
		var unsupported *types.UnsupportedOperationException
		if !errors.As(err, &unsupported) {
			t.Fatalf("err = %v, want UnsupportedOperationException", err)
		}
	})
	t.Run("an unknown key is NotFoundException", func(t *testing.T) {
		_, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String("no-such-key"), KeySpec: types.DataKeySpecAes256})
		var notFound *types.NotFoundException
		if !errors.As(err, &notFound) {
			t.Fatalf("err = %v, want NotFoundException", err)
		}
	})
	t.Run("a request signed for another region is refused", func(t *testing.T) {
		_, err := client.GenerateDataKey(ctx, &kms.GenerateDataKeyInput{KeyId: aws.String(keyID), KeySpec: types.DataKeySpecAes256},
			func(o *kms.Options) { o.Region = "eu-west-1" })
		var apiErr smithy.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("err = %v, want an API error", err)
		}
		if got, want := apiErr.ErrorCode(), "InvalidSignatureException"; got != want {
			t.Fatalf("code = %q, want %q", got, want)
		}
	})
}
