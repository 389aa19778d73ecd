package kmskeys_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// fixture is local-kms with one symmetric key and a wrapper under it,
// spoken to through the real SDK client, whose requests calls counts (and
// fails, when a test asks it to).
type fixture struct {
	kms    *localkms.Server
	calls  *localkms.Calls
	client *kms.Client
	keyARN string
	w      *kmskeys.Wrapper
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	srv := localkms.Start(t)
	calls := localkms.NewCalls()
	client := srv.Client(calls.Use)
	keyARN := srv.NewSymmetricKey(t)
	return &fixture{kms: srv, calls: calls, client: client, keyARN: keyARN, w: kmskeys.New(client, keyARN)}
}

// closedEndpoint is the URL of a loopback port that nothing listens on.
func closedEndpoint(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	return "http://" + addr
}

func generate(t *testing.T, w *kmskeys.Wrapper, ec secrets.EncryptionContext) (plain, wrapped []byte) {
	t.Helper()
	plain, wrapped, err := w.GenerateDataKey(context.Background(), ec)
	if err != nil {
		t.Fatalf("GenerateDataKey: %v", err)
	}
	return plain, wrapped
}

// wantCode fails unless err carries code.
func wantCode(t *testing.T, err error, code secrets.Code) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want code %s", code)
	}
	if got, want := secrets.ErrorCode(err), code; got != want {
		t.Fatalf("code = %s, want %s (err: %v)", got, want, err)
	}
}

// wantNoKeyBytes fails if msg holds key in any common encoding.
func wantNoKeyBytes(t *testing.T, msg string, key []byte) {
	t.Helper()
	for _, enc := range []string{string(key), hex.EncodeToString(key), base64.StdEncoding.EncodeToString(key),
		base64.RawStdEncoding.EncodeToString(key), fmt.Sprint(key), fmt.Sprintf("%q", key)} {
		if strings.Contains(msg, enc) {
			t.Fatalf("error text holds key bytes: %s", msg)
		}
	}
}

func TestWrapper(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ec := envelope.EncryptionContext("acme", secrets.Production, 1)
	plain, wrapped := generate(t, f.w, ec)

	t.Run("a data key is 32 bytes and unwraps to itself", func(t *testing.T) {
		if got, want := len(plain), 32; got != want {
			t.Fatalf("data key is %d bytes, want %d", got, want)
		}
		if bytes.Contains(wrapped, plain) {
			t.Fatal("the wrapped key holds the plaintext key")
		}
		got, err := f.w.Unwrap(ctx, wrapped, ec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatal("unwrapped key differs from the generated one")
		}
	})

	t.Run("two data keys differ", func(t *testing.T) {
		other, _ := generate(t, f.w, ec)
		if bytes.Equal(other, plain) {
			t.Fatal("GenerateDataKey returned the same key twice")
		}
	})

	others := map[string]secrets.EncryptionContext{
		"another org's context":         envelope.EncryptionContext("evil", secrets.Production, 1),
		"another environment's context": envelope.EncryptionContext("acme", secrets.Development, 1),
		"another generation's context":  envelope.EncryptionContext("acme", secrets.Production, 2),
		"a context with an extra key": func() secrets.EncryptionContext {
			c := envelope.EncryptionContext("acme", secrets.Production, 1)
			c["x"] = ""
			return c
		}(),
		"no context": nil,
		"a context without the org": func() secrets.EncryptionContext {
			c := envelope.EncryptionContext("acme", secrets.Production, 1)
			delete(c, "org")
			return c
		}(),
	}
	for name, other := range others {
		t.Run("unwrapping with "+name+" fails as internal", func(t *testing.T) {
			_, err := f.w.Unwrap(ctx, wrapped, other)
			wantCode(t, err, secrets.CodeInternal)
			var invalid *types.InvalidCiphertextException
			if !errors.As(err, &invalid) {
				t.Fatalf("err = %v, want KMS's InvalidCiphertextException as its cause", err)
			}
			if !strings.Contains(err.Error(), "wrong key or encryption context") {
				t.Fatalf("err = %q, want it to say why", err)
			}
			wantNoKeyBytes(t, err.Error(), plain)
		})
	}

	t.Run("a blob made under another key is refused", func(t *testing.T) {
		_, otherBlob := generate(t, kmskeys.New(f.client, f.kms.NewSymmetricKey(t)), ec)
		_, err := f.w.Unwrap(ctx, otherBlob, ec)
		wantCode(t, err, secrets.CodeInternal)
		// KMS answers IncorrectKeyException; local-kms opens the blob with
		// the key the request names, which fails as an invalid ciphertext.
		var incorrect *types.IncorrectKeyException
		var invalid *types.InvalidCiphertextException
		if !errors.As(err, &incorrect) && !errors.As(err, &invalid) {
			t.Fatalf("err = %v, want KMS's IncorrectKeyException (or InvalidCiphertextException) as its cause", err)
		}
	})

	t.Run("a wrapper may name its key by ARN", func(t *testing.T) {
		arn := f.kms.NewSymmetricKey(t)
		id := arn[strings.LastIndex(arn, "/")+1:]
		_, blob := generate(t, kmskeys.New(f.client, id), ec)
		if _, err := kmskeys.New(f.client, arn).Unwrap(ctx, blob, ec); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("an altered blob is refused", func(t *testing.T) {
		// The blob's length byte, and its last 60 bytes: the nonce, the
		// sealed key and the tag. local-kms does not read the key ARN
		// between them when the request names the key, as the wrapper's do.
		for _, i := range []int{0, len(wrapped) - 60, len(wrapped) - 30, len(wrapped) - 1} {
			bad := bytes.Clone(wrapped)
			bad[i] ^= 0x01
			_, err := f.w.Unwrap(ctx, bad, ec)
			wantCode(t, err, secrets.CodeInternal)
			wantNoKeyBytes(t, err.Error(), plain)
		}
		_, err := f.w.Unwrap(ctx, wrapped[:len(wrapped)-1], ec)
		wantCode(t, err, secrets.CodeInternal)
	})
}

// TestIAMConditionsCanSeparateEnvironments shows the property that IAM
// policies with kms:EncryptionContext:environment conditions rely on: KMS
// itself refuses to decrypt a production data key with a staging context,
// so a role allowed only "environment": "staging" cannot get at production.
func TestIAMConditionsCanSeparateEnvironments(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	store := openStore(t, filepath.Join(t.TempDir(), "secrets.db"))
	svc := newService(store, f.w)
	id := bootstrap(t, svc, "acme")
	if _, err := svc.Create(ctx, id, service.CreateInput{Layer: secrets.Global, Name: "DB_PASSWORD",
		Values: map[secrets.Environment]string{secrets.Production: "prod-password-1234"}}); err != nil {
		t.Fatal(err)
	}
	dk, err := store.GetDataKey(ctx, "acme", secrets.Production, 1)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the production data key unwraps with the production context", func(t *testing.T) {
		if _, err := f.w.Unwrap(ctx, dk.Wrapped, envelope.EncryptionContext("acme", secrets.Production, 1)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a staging context cannot decrypt the production data key", func(t *testing.T) {
		_, err := f.w.Unwrap(ctx, dk.Wrapped, envelope.EncryptionContext("acme", secrets.Staging, 1))
		wantCode(t, err, secrets.CodeInternal)
	})
	t.Run("the context names the org and the environment for IAM conditions", func(t *testing.T) {
		ec := envelope.EncryptionContext("acme", secrets.Production, 1)
		if got, want := ec["environment"], "production"; got != want {
			t.Fatalf("environment = %q, want %q", got, want)
		}
		if got, want := ec["org"], "acme"; got != want {
			t.Fatalf("org = %q, want %q", got, want)
		}
	})
}

// failing answers the next n requests for op (localkms.OpDecrypt or
// OpGenerateDataKey) with the KMS error errType, makes the wrapper call op
// once (unwrapping wrapped, or generating), and returns the key it got,
// the requests it made, retries included, and its error.
func (f *fixture) failing(op string, n int, errType string, wrapped []byte, ec secrets.EncryptionContext) (key []byte, calls int, err error) {
	f.calls.Reset()
	f.calls.FailNext(op, n, errType)
	if op == localkms.OpDecrypt {
		key, err = f.w.Unwrap(context.Background(), wrapped, ec)
	} else {
		key, _, err = f.w.GenerateDataKey(context.Background(), ec)
	}
	return key, f.calls.Count(op), err
}

func TestThrottling(t *testing.T) {
	f := newFixture(t)
	ec := envelope.EncryptionContext("acme", secrets.Production, 1)
	plain, wrapped := generate(t, f.w, ec)

	t.Run("a throttled Decrypt is retried by the SDK, then reported unavailable", func(t *testing.T) {
		_, calls, err := f.failing(localkms.OpDecrypt, localkms.MaxAttempts, "ThrottlingException", wrapped, ec)
		wantCode(t, err, secrets.CodeUnavailable)
		if got, want := calls, localkms.MaxAttempts; got != want {
			t.Fatalf("Decrypt calls = %d, want %d (the SDK's attempts)", got, want)
		}
		if !strings.Contains(err.Error(), "try again") {
			t.Fatalf("err = %q, want it to say to try again", err)
		}
		wantNoKeyBytes(t, err.Error(), plain)
	})

	t.Run("a throttle that clears within the retries is not seen", func(t *testing.T) {
		got, calls, err := f.failing(localkms.OpDecrypt, localkms.MaxAttempts-1, "ThrottlingException", wrapped, ec)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, plain) {
			t.Fatal("unwrapped key differs")
		}
		if got, want := calls, localkms.MaxAttempts; got != want {
			t.Fatalf("Decrypt calls = %d, want %d", got, want)
		}
	})

	t.Run("a throttled GenerateDataKey is reported unavailable", func(t *testing.T) {
		_, calls, err := f.failing(localkms.OpGenerateDataKey, localkms.MaxAttempts, "ThrottlingException", wrapped, ec)
		wantCode(t, err, secrets.CodeUnavailable)
		if got, want := calls, localkms.MaxAttempts; got != want {
			t.Fatalf("GenerateDataKey calls = %d, want %d", got, want)
		}
	})
}

func TestKMSErrorsMapToDomainCodes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	ec := envelope.EncryptionContext("acme", secrets.Production, 1)
	plain, wrapped := generate(t, f.w, ec)
	for _, tc := range []struct {
		errType string
		code    secrets.Code
		calls   int // requests the SDK makes: retryable errors use every attempt
	}{
		{"ThrottlingException", secrets.CodeUnavailable, localkms.MaxAttempts},
		{"LimitExceededException", secrets.CodeUnavailable, localkms.MaxAttempts},
		{"KMSInternalException", secrets.CodeUnavailable, localkms.MaxAttempts},
		{"KeyUnavailableException", secrets.CodeUnavailable, localkms.MaxAttempts},
		{"DependencyTimeoutException", secrets.CodeUnavailable, localkms.MaxAttempts},
		{"InvalidCiphertextException", secrets.CodeInternal, 1},
		{"IncorrectKeyException", secrets.CodeInternal, 1},
		{"AccessDeniedException", secrets.CodeInternal, 1},
		{"DisabledException", secrets.CodeUnavailable, 1},
		{"KMSInvalidStateException", secrets.CodeUnavailable, 1},
		{"NotFoundException", secrets.CodeInternal, 1},
		{"SomethingNewException", secrets.CodeInternal, 1},
	} {
		for _, op := range []string{localkms.OpDecrypt, localkms.OpGenerateDataKey} {
			t.Run(fmt.Sprintf("%s from %s is %s", tc.errType, op, tc.code), func(t *testing.T) {
				_, calls, err := f.failing(op, localkms.MaxAttempts, tc.errType, wrapped, ec)
				wantCode(t, err, tc.code)
				if got, want := calls, tc.calls; got != want {
					t.Fatalf("%s calls = %d, want %d", op, got, want)
				}
				wantNoKeyBytes(t, err.Error(), plain)
				if bytes.Contains([]byte(err.Error()), wrapped) || strings.Contains(err.Error(), base64.StdEncoding.EncodeToString(wrapped)) {
					t.Fatalf("error text holds the wrapped key: %s", err)
				}
			})
		}
	}
	t.Run("an unreachable KMS is unavailable", func(t *testing.T) {
		endpoint := closedEndpoint(t)
		w := kmskeys.New(f.kms.Client(func(o *kms.Options) { o.BaseEndpoint = aws.String(endpoint) }), f.keyARN)
		_, err := w.Unwrap(ctx, wrapped, ec)
		wantCode(t, err, secrets.CodeUnavailable)
		_, _, err = w.GenerateDataKey(ctx, ec)
		wantCode(t, err, secrets.CodeUnavailable)
	})
}

// shortKeyAPI answers with a data key of the wrong size, which KMS never
// does: it stands at the seam to check the wrapper does not trust the answer.
type shortKeyAPI struct{ key []byte }

func (a shortKeyAPI) GenerateDataKey(context.Context, *kms.GenerateDataKeyInput, ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	return &kms.GenerateDataKeyOutput{Plaintext: bytes.Clone(a.key), CiphertextBlob: []byte("blob")}, nil
}

func (a shortKeyAPI) Decrypt(context.Context, *kms.DecryptInput, ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	return &kms.DecryptOutput{Plaintext: bytes.Clone(a.key)}, nil
}

func TestAMalformedDataKeyIsRefusedWithoutShowingIt(t *testing.T) {
	ctx := context.Background()
	key := []byte("sixteen-byte-key")
	w := kmskeys.New(shortKeyAPI{key: key}, "alias/zwrm")
	ec := envelope.EncryptionContext("acme", secrets.Production, 1)
	t.Run("GenerateDataKey refuses a 16-byte key", func(t *testing.T) {
		_, _, err := w.GenerateDataKey(ctx, ec)
		wantCode(t, err, secrets.CodeInternal)
		wantNoKeyBytes(t, err.Error(), key)
	})
	t.Run("Unwrap refuses a 16-byte key", func(t *testing.T) {
		_, err := w.Unwrap(ctx, []byte("blob"), ec)
		wantCode(t, err, secrets.CodeInternal)
		wantNoKeyBytes(t, err.Error(), key)
	})
}

func openStore(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// newService builds the service as a process does: a fresh sealer, so a
// cold data key cache.
func newService(store *boltstore.Store, w secrets.KeyWrapper) *service.Service {
	return service.New(store, w, service.Config{})
}

// bootstrap makes org and returns its superadmin, allowed to resolve
// development and production with a user token.
func bootstrap(t *testing.T, svc *service.Service, org string) secrets.Identity {
	t.Helper()
	ctx := context.Background()
	token, err := svc.Bootstrap(ctx, org, "root@"+org, "Root")
	if err != nil {
		t.Fatal(err)
	}
	id, err := svc.Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.SetUserResolveEnvironments(ctx, id, []string{"development", "production"}); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestResolveKMSCalls counts KMS calls through the whole stack: embedded
// store, envelope, KMS wrapper, real SDK client, local-kms.
func TestResolveKMSCalls(t *testing.T) {
	const n = 50
	ctx := context.Background()
	f := newFixture(t)
	path := filepath.Join(t.TempDir(), "secrets.db")
	machine := secrets.Layer{App: "web", Machine: "web-1"}
	layers := []secrets.Layer{secrets.Global, {App: "web"}, machine}

	// The writing process. Names repeat across the layers (SECRET_00 at
	// global, app and machine, ...), so the resolve has overrides to apply.
	want := map[string]string{} // production at web-1: the last layer written wins
	writer := openStore(t, path)
	svc := newService(writer, f.w)
	id := bootstrap(t, svc, "acme")
	for i := range n {
		layer, name := layers[i%len(layers)], fmt.Sprintf("SECRET_%02d", i/len(layers))
		prod := fmt.Sprintf("prod-%s-%s", layer.Key(), name)
		if _, err := svc.Create(ctx, id, service.CreateInput{Layer: layer, Name: name, Values: map[secrets.Environment]string{
			secrets.Development: "dev-" + layer.Key() + "-" + name,
			secrets.Production:  prod,
		}}); err != nil {
			t.Fatal(err)
		}
		want[name] = prod
	}
	t.Run("writing secrets in two environments generates two data keys", func(t *testing.T) {
		if got, want := f.calls.Count(localkms.OpGenerateDataKey), 2; got != want {
			t.Fatalf("GenerateDataKey calls = %d, want %d", got, want)
		}
		if got, want := f.calls.Count(localkms.OpDecrypt), 0; got != want {
			t.Fatalf("Decrypt calls = %d, want %d", got, want)
		}
	})
	if err := writer.Close(); err != nil {
		t.Fatal(err)
	}

	// A cold process: the store reopened, a new sealer with an empty cache.
	store := openStore(t, path)
	svc = newService(store, f.w)
	f.calls.Reset()
	resolve := func(t *testing.T, env secrets.Environment) *service.Resolved {
		t.Helper()
		got, err := svc.Resolve(ctx, id, service.ResolveInput{Environment: env, Layer: machine})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	t.Run("a cold resolve of production makes one Decrypt and no GenerateDataKey", func(t *testing.T) {
		got := resolve(t, secrets.Production)
		if got, want := len(got.Values), len(want); got != want {
			t.Fatalf("resolved %d values, want %d", got, want)
		}
		for name, v := range want {
			if got.Values[name] != v {
				t.Fatalf("%s = %q, want %q", name, got.Values[name], v)
			}
		}
		if got, want := f.calls.Count(localkms.OpDecrypt), 1; got != want {
			t.Fatalf("Decrypt calls = %d, want %d", got, want)
		}
		if got, want := f.calls.Count(localkms.OpGenerateDataKey), 0; got != want {
			t.Fatalf("GenerateDataKey calls = %d, want %d", got, want)
		}
	})
	t.Run("a warm resolve makes no KMS call", func(t *testing.T) {
		resolve(t, secrets.Production)
		resolve(t, secrets.Production)
		if got, want := f.calls.Count(localkms.OpDecrypt), 1; got != want {
			t.Fatalf("Decrypt calls = %d, want %d (no new one)", got, want)
		}
		if got, want := f.calls.Count(localkms.OpGenerateDataKey), 0; got != want {
			t.Fatalf("GenerateDataKey calls = %d, want %d", got, want)
		}
	})
	t.Run("another environment costs one more Decrypt, once", func(t *testing.T) {
		got := resolve(t, secrets.Development)
		if got, want := got.Values["SECRET_00"], "dev-"+machine.Key()+"-SECRET_00"; got != want {
			t.Fatalf("SECRET_00 = %q, want %q", got, want)
		}
		resolve(t, secrets.Development)
		if got, want := f.calls.Count(localkms.OpDecrypt), 2; got != want {
			t.Fatalf("Decrypt calls = %d, want %d", got, want)
		}
	})
	t.Run("values for a new environment make exactly one GenerateDataKey", func(t *testing.T) {
		for _, name := range []string{"NEW_ONE", "NEW_TWO"} {
			if _, err := svc.Create(ctx, id, service.CreateInput{Layer: machine, Name: name,
				Values: map[secrets.Environment]string{secrets.Staging: "staging-" + name}}); err != nil {
				t.Fatal(err)
			}
		}
		if got, want := f.calls.Count(localkms.OpGenerateDataKey), 1; got != want {
			t.Fatalf("GenerateDataKey calls = %d, want %d", got, want)
		}
		if got, want := f.calls.Count(localkms.OpDecrypt), 2; got != want {
			t.Fatalf("Decrypt calls = %d, want %d (no new one)", got, want)
		}
	})
}
