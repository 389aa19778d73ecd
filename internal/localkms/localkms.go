// Package localkms runs local-kms (github.com/nsmithuk/local-kms), a
// third-party AWS KMS emulator written in Go, for tests: real SDK calls
// against an independent implementation of KMS's API (HMAC keys,
// GenerateMac and VerifyMac included), on a free port, with its data in
// the test's temporary directory, stopped when the test ends.
//
// local-kms is a tool dependency of this module (the `tool` directive in
// go.mod), so a clone needs nothing else: Start builds it with `go tool -n
// local-kms` (the Go build cache keeps the binary) and runs the binary
// itself. When it cannot be built or does not start, Start skips the test,
// unless CI=true, where that is a failure.
package localkms

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"

	"github.com/zwrm/secrets/internal/emulator"
)

// The region and account local-kms answers for (KMS_REGION, KMS_ACCOUNT_ID).
const (
	Region  = "eu-west-1"
	Account = "111122223333"
)

// MaxAttempts is how many times a Client tries an operation: the SDK's
// default, one attempt and two retries.
const MaxAttempts = 3

// buildTimeout bounds `go tool -n local-kms`: a first build compiles
// local-kms and its dependencies (about ten seconds on two cores).
const buildTimeout = 5 * time.Minute

// callTimeout bounds each call of the key helpers.
const callTimeout = 30 * time.Second

// emu is local-kms, which listens on every interface.
var emu = emulator.Emulator{
	Name: "local-kms",
	Hint: "local-kms is a tool dependency in go.mod: check that `go tool -n local-kms` builds it (needs the Go toolchain and the module proxy, or a filled module cache)",
	Host: "", // every interface
}

// Server is a running local-kms process.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT. local-kms
	// listens on every interface; tests speak to it on loopback only.
	URL string

	proc *emulator.Process
}

// Start runs local-kms on a free port for the duration of tb, with its
// database in a temporary directory, and returns once it accepts
// connections. It stops the process with tb.Cleanup. When local-kms cannot
// be built or does not start, it skips tb, or fails it when CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		emu.Unavailable(tb, err)
		return nil
	}
	proc := emu.Start(tb, command(bin, tb.TempDir))
	if proc == nil {
		return nil
	}
	return &Server{URL: "http://" + proc.Addr, proc: proc}
}

var (
	binOnce sync.Once
	binPath string
	binErr  error
)

// binary builds local-kms once per test process and returns its path.
func binary() (string, error) {
	binOnce.Do(func() { binPath, binErr = build() })
	return binPath, binErr
}

func build() (string, error) {
	goCmd, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "tool", "-n", "local-kms")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n local-kms: %w: %s", err, bytes.TrimSpace(stderr.Bytes()))
	}
	path := strings.TrimSpace(string(out))
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("go tool -n local-kms printed %q: %w", path, err)
	}
	return path, nil
}

// command runs bin on a port, with its data in a new directory of tempDir's.
func command(bin string, tempDir func() string) emulator.Command {
	return func(port int) (*exec.Cmd, func(), error) {
		dir := tempDir()
		cmd := exec.Command(bin)
		cmd.Env = append(os.Environ(),
			"PORT="+strconv.Itoa(port),
			"KMS_REGION="+Region,
			"KMS_ACCOUNT_ID="+Account,
			"KMS_DATA_PATH="+filepath.Join(dir, "data"),
			// No seed: keys are made by the tests through the API.
			"KMS_SEED_PATH="+filepath.Join(dir, "no-seed.yaml"),
		)
		return cmd, nil, nil
	}
}

// Output returns what local-kms has printed so far, for failure messages.
func (s *Server) Output() string { return s.proc.Output() }

// Client returns a new SDK client for the server: dummy static credentials
// (local-kms does not check signatures), and MaxAttempts tries with short
// backoff so that a test never waits long. optFns may change its options,
// e.g. Calls.Use to count or fail calls.
func (s *Server) Client(optFns ...func(*kms.Options)) *kms.Client {
	return kms.New(kms.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  emulator.Credentials,
		Retryer:      emulator.Retryer(MaxAttempts),
	}, optFns...)
}

// NewHMACKey creates an HMAC_256 key for GenerateMac and VerifyMac, as the
// stack's identity key is, and returns its ARN.
func (s *Server) NewHMACKey(tb testing.TB) string {
	tb.Helper()
	return s.createKey(tb, types.KeySpecHmac256, types.KeyUsageTypeGenerateVerifyMac, "zwrm test identity key")
}

// NewSymmetricKey creates a symmetric encryption key, as the stack's data
// key wrapper uses, and returns its ARN.
func (s *Server) NewSymmetricKey(tb testing.TB) string {
	tb.Helper()
	return s.createKey(tb, types.KeySpecSymmetricDefault, types.KeyUsageTypeEncryptDecrypt, "zwrm test master key")
}

// DisableKey disables the key keyID: KMS then refuses every use of it.
func (s *Server) DisableKey(tb testing.TB, keyID string) {
	tb.Helper()
	s.call(tb, "disable key "+keyID, func(ctx context.Context, c *kms.Client) error {
		_, err := c.DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)})
		return err
	})
}

// createKey creates a key of spec for usage and returns its ARN.
func (s *Server) createKey(tb testing.TB, spec types.KeySpec, usage types.KeyUsageType, description string) string {
	tb.Helper()
	var arn string
	s.call(tb, "create a "+string(spec)+" key", func(ctx context.Context, c *kms.Client) error {
		out, err := c.CreateKey(ctx, &kms.CreateKeyInput{KeySpec: spec, KeyUsage: usage, Description: aws.String(description)})
		if err != nil {
			return err
		}
		if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
			return errors.New("no key metadata in the answer")
		}
		arn = *out.KeyMetadata.Arn
		return nil
	})
	return arn
}

// call makes a call to the server within callTimeout and fails tb, saying
// what it was doing, if it fails.
func (s *Server) call(tb testing.TB, what string, f func(context.Context, *kms.Client) error) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), callTimeout)
	defer cancel()
	if err := f(ctx, s.Client()); err != nil {
		tb.Fatalf("%s: %v\nlocal-kms output:\n%s", what, err, s.Output())
	}
}
