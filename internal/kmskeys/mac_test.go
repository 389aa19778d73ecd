package kmskeys_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/secrets"
)

func TestMACAgainstLocalKMS(t *testing.T) {
	ctx := context.Background()
	srv := localkms.Start(t)
	keyARN := srv.NewHMACKey(t)
	m := kmskeys.NewMAC(srv.Client(), keyARN)
	msg := []byte("zwrm-identity-v1 acme ann")
	mac, err := m.Sign(ctx, msg)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}

	t.Run("a MAC is 32 bytes and verifies", func(t *testing.T) {
		if got, want := len(mac), 32; got != want {
			t.Fatalf("MAC is %d bytes, want %d (HMAC-SHA-256)", got, want)
		}
		if err := m.Verify(ctx, msg, mac); err != nil {
			t.Fatalf("Verify: %v", err)
		}
	})
	t.Run("an altered message or MAC is unauthorized", func(t *testing.T) {
		altered := bytes.Clone(mac)
		altered[0] ^= 1
		wantCode(t, m.Verify(ctx, append(bytes.Clone(msg), 'x'), mac), secrets.CodeUnauthorized)
		wantCode(t, m.Verify(ctx, msg, altered), secrets.CodeUnauthorized)
		wantCode(t, m.Verify(ctx, msg, mac[:16]), secrets.CodeUnauthorized)
		wantCode(t, m.Verify(ctx, msg, nil), secrets.CodeUnauthorized)
	})
	t.Run("a MAC made under another key is unauthorized", func(t *testing.T) {
		other := kmskeys.NewMAC(srv.Client(), srv.NewHMACKey(t))
		theirs, err := other.Sign(ctx, msg)
		if err != nil {
			t.Fatal(err)
		}
		wantCode(t, m.Verify(ctx, msg, theirs), secrets.CodeUnauthorized)
	})
	t.Run("a message KMS cannot take is refused without a call", func(t *testing.T) {
		calls := localkms.NewCalls()
		counted := kmskeys.NewMAC(srv.Client(calls.Use), keyARN)
		wantCode(t, counted.Verify(ctx, make([]byte, kmskeys.MaxMACMessage+1), mac), secrets.CodeUnauthorized)
		wantCode(t, counted.Verify(ctx, nil, mac), secrets.CodeUnauthorized)
		if _, err := counted.Sign(ctx, make([]byte, kmskeys.MaxMACMessage+1)); secrets.ErrorCode(err) != secrets.CodeInternal {
			t.Errorf("Sign of an oversized message: %v, want internal", err)
		}
		if n := calls.Count(); n != 0 {
			t.Errorf("%d KMS requests, want none", n)
		}
	})
	t.Run("an unknown key is internal: a misconfiguration", func(t *testing.T) {
		missing := kmskeys.NewMAC(srv.Client(), "arn:aws:kms:"+localkms.Region+":"+localkms.Account+":key/00000000-0000-0000-0000-000000000000")
		_, err := missing.Sign(ctx, msg)
		wantCode(t, err, secrets.CodeInternal)
		wantCode(t, missing.Verify(ctx, msg, mac), secrets.CodeInternal)
	})
	t.Run("throttling and KMS failures are unavailable; KMS's invalid-MAC answer is unauthorized", func(t *testing.T) {
		for code, want := range map[string]secrets.Code{
			"ThrottlingException":      secrets.CodeUnavailable,
			"KMSInternalException":     secrets.CodeUnavailable,
			"KeyUnavailableException":  secrets.CodeUnavailable,
			"KMSInvalidMacException":   secrets.CodeUnauthorized, // real KMS; local-kms answers MacValid false
			"AccessDeniedException":    secrets.CodeInternal,
			"InvalidKeyUsageException": secrets.CodeInternal,
		} {
			calls := localkms.NewCalls()
			calls.FailNext(localkms.OpVerifyMac, localkms.MaxAttempts, code)
			err := kmskeys.NewMAC(srv.Client(calls.Use), keyARN).Verify(ctx, msg, mac)
			if got := secrets.ErrorCode(err); got != want {
				t.Errorf("%s: code %s, want %s (%v)", code, got, want, err)
			}
			var e *secrets.Error
			if errors.As(err, &e) && strings.Contains(e.Message, "injected") {
				t.Errorf("%s: the message for clients quotes KMS: %q", code, e.Message)
			}
		}
	})
	t.Run("a disabled key is unavailable for signing and checking", func(t *testing.T) {
		srv.DisableKey(t, keyARN)
		_, err := m.Sign(ctx, msg)
		wantCode(t, err, secrets.CodeUnavailable)
		wantCode(t, m.Verify(ctx, msg, mac), secrets.CodeUnavailable)
	})
}
