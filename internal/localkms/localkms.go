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
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/aws/aws-sdk-go-v2/service/kms/types"
)

// The region and account local-kms answers for (KMS_REGION, KMS_ACCOUNT_ID).
const (
	Region  = "eu-west-1"
	Account = "111122223333"
)

const (
	// startTimeout bounds the wait for local-kms to accept connections.
	startTimeout = 20 * time.Second
	// stopTimeout is how long a stopping local-kms gets after SIGTERM
	// before it is killed.
	stopTimeout = 5 * time.Second
	// startAttempts covers the race between picking a free port and
	// local-kms binding it.
	startAttempts = 3
	// buildTimeout bounds `go tool -n local-kms`: a first build compiles
	// local-kms and its dependencies (about ten seconds on two cores).
	buildTimeout = 5 * time.Minute
)

// hint is what to do when local-kms cannot run.
const hint = "local-kms is a tool dependency in go.mod: check that `go tool -n local-kms` builds it (needs the Go toolchain and the module proxy, or a filled module cache)"

// Server is a running local-kms process.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT. local-kms
	// listens on every interface; tests speak to it on loopback only.
	URL string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the process has exited
	waitMu sync.Mutex
	output *syncBuffer
}

// Start runs local-kms on a free port for the duration of tb, with its
// database in a temporary directory, and returns once it accepts
// connections. It stops the process with tb.Cleanup. When local-kms cannot
// be built or does not start, it skips tb, or fails it when CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	bin, err := binary()
	if err != nil {
		unavailable(tb, err)
		return nil
	}
	var lastErr error
	for range startAttempts {
		srv, err := start(bin, tb.TempDir())
		if err == nil {
			tb.Cleanup(srv.stop)
			return srv
		}
		lastErr = err
	}
	unavailable(tb, lastErr)
	return nil
}

// unavailable ends tb: a skip on a developer's machine, a failure in CI.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("local-kms is required when CI=true but cannot run: %v; %s", err, hint)
		return
	}
	tb.Skipf("local-kms cannot run: %v; %s", err, hint)
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

// freePort returns a port that was free on every interface a moment ago:
// local-kms binds all of them.
func freePort() (int, error) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, dir string) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, fmt.Errorf("find a free port: %w", err)
	}
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	cmd := exec.Command(bin)
	cmd.Env = append(os.Environ(),
		"PORT="+strconv.Itoa(port),
		"KMS_REGION="+Region,
		"KMS_ACCOUNT_ID="+Account,
		"KMS_DATA_PATH="+filepath.Join(dir, "data"),
		// No seed: keys are made by the tests through the API.
		"KMS_SEED_PATH="+filepath.Join(dir, "no-seed.yaml"),
	)
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	setProcAttr(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	srv := &Server{URL: "http://" + addr, cmd: cmd, done: make(chan struct{}), output: out}
	go func() {
		_ = cmd.Wait()
		close(srv.done)
	}()

	deadline := time.Now().Add(startTimeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			return srv, nil
		}
		select {
		case <-srv.done:
			return nil, fmt.Errorf("local-kms exited at start (%s): %s", cmd.ProcessState, bytes.TrimSpace(out.Bytes()))
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			srv.stop()
			return nil, fmt.Errorf("local-kms did not accept connections on %s within %s: %s", addr, startTimeout, bytes.TrimSpace(out.Bytes()))
		}
	}
}

// stop ends the process group: SIGTERM, then SIGKILL if it lingers.
func (s *Server) stop() {
	s.waitMu.Lock()
	defer s.waitMu.Unlock()
	select {
	case <-s.done:
		return
	default:
	}
	terminate(s.cmd, false)
	select {
	case <-s.done:
	case <-time.After(stopTimeout):
		terminate(s.cmd, true)
		<-s.done
	}
}

// Output returns what local-kms has printed so far, for failure messages.
func (s *Server) Output() string { return s.output.String() }

// Client returns a new SDK client for the server: dummy static credentials
// (local-kms does not check signatures), and retries with short backoff so
// that a test never waits long. optFns may change its options, e.g. its
// HTTPClient, to count or fail calls.
func (s *Server) Client(optFns ...func(*kms.Options)) *kms.Client {
	return kms.New(kms.Options{
		Region:       Region,
		BaseEndpoint: aws.String(s.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCALKMS", "local-kms-secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxBackoff = 50 * time.Millisecond
			o.RateLimiter = ratelimit.None
		}),
	}, optFns...)
}

// NewHMACKey creates an HMAC_256 key for GenerateMac and VerifyMac, as the
// stack's identity key is, and returns its ARN.
func (s *Server) NewHMACKey(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.Client().CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     types.KeySpecHmac256,
		KeyUsage:    types.KeyUsageTypeGenerateVerifyMac,
		Description: aws.String("zwrm test identity key"),
	})
	if err != nil {
		tb.Fatalf("create an HMAC key: %v\nlocal-kms output:\n%s", err, s.Output())
	}
	if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
		tb.Fatalf("create an HMAC key: no key metadata in the answer")
	}
	return *out.KeyMetadata.Arn
}

// NewSymmetricKey creates a symmetric encryption key, as the stack's data
// key wrapper uses, and returns its ARN.
func (s *Server) NewSymmetricKey(tb testing.TB) string {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := s.Client().CreateKey(ctx, &kms.CreateKeyInput{
		KeySpec:     types.KeySpecSymmetricDefault,
		KeyUsage:    types.KeyUsageTypeEncryptDecrypt,
		Description: aws.String("zwrm test master key"),
	})
	if err != nil {
		tb.Fatalf("create a symmetric key: %v\nlocal-kms output:\n%s", err, s.Output())
	}
	if out.KeyMetadata == nil || out.KeyMetadata.Arn == nil {
		tb.Fatalf("create a symmetric key: no key metadata in the answer")
	}
	return *out.KeyMetadata.Arn
}

// DisableKey disables the key keyID: KMS then refuses every use of it.
func (s *Server) DisableKey(tb testing.TB, keyID string) {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := s.Client().DisableKey(ctx, &kms.DisableKeyInput{KeyId: aws.String(keyID)}); err != nil {
		tb.Fatalf("disable key %s: %v", keyID, err)
	}
}

// syncBuffer collects the process's output while it runs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	// Keep the first 64 KiB: enough to say why it failed.
	if room := 64<<10 - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

func (b *syncBuffer) String() string { return string(b.Bytes()) }
