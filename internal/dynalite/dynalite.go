// Package dynalite runs dynalite, a DynamoDB API server on Node.js, for the
// tests and benchmarks of the DynamoDB store: real SDK calls against a real
// (if local) DynamoDB API, with conditional writes and expressions, on a
// free loopback port, stopped when the test ends.
//
// dynalite is pinned in the repository's package.json; `npm ci` at the
// repository root installs it. Without it (or without node) Start skips the
// test, unless CI=true, where a missing dynalite is a failure.
package dynalite

import (
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/emulator"
)

// emu is dynalite, bound to loopback only.
var emu = emulator.Emulator{
	Name: "dynalite",
	Hint: "run `npm ci` at the repository root (needs Node.js 20 or later) to install dynalite",
	Host: "127.0.0.1",
}

// Server is a running dynalite process.
type Server struct {
	// URL is the server's endpoint, http://127.0.0.1:PORT.
	URL string

	proc *emulator.Process

	clientOnce sync.Once
	client     *dynamodb.Client
}

// Start runs dynalite on a free loopback port for the duration of tb and
// returns once it accepts connections. It stops the process (and anything
// it started) with tb.Cleanup. When dynalite is not installed or does not
// start, it skips tb, or fails it when the environment has CI=true.
func Start(tb testing.TB) *Server {
	tb.Helper()
	node, cli, err := locate()
	if err != nil {
		emu.Unavailable(tb, err)
		return nil
	}
	proc := emu.Start(tb, command(node, cli))
	if proc == nil {
		return nil
	}
	return &Server{URL: "http://" + proc.Addr, proc: proc}
}

// locate finds node and dynalite's command-line script in the repository's
// node_modules.
func locate() (node, cli string, err error) {
	node, err = exec.LookPath("node")
	if err != nil {
		return "", "", fmt.Errorf("node is not on PATH: %w", err)
	}
	root, err := repoRoot()
	if err != nil {
		return "", "", err
	}
	dir := filepath.Join(root, "node_modules", "dynalite")
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", "", fmt.Errorf("dynalite is not installed: %w", err)
	}
	var pkg struct {
		Bin json.RawMessage `json:"bin"`
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", "", fmt.Errorf("read %s: %w", filepath.Join(dir, "package.json"), err)
	}
	// "bin" is either one path or a map of command names to paths.
	var bin string
	if err := json.Unmarshal(pkg.Bin, &bin); err != nil {
		var bins map[string]string
		if err := json.Unmarshal(pkg.Bin, &bins); err != nil || bins["dynalite"] == "" {
			return "", "", fmt.Errorf("dynalite's package.json names no dynalite command in \"bin\"")
		}
		bin = bins["dynalite"]
	}
	cli = filepath.Join(dir, filepath.FromSlash(bin))
	if _, err := os.Stat(cli); err != nil {
		return "", "", fmt.Errorf("dynalite is incompletely installed: %w", err)
	}
	return node, cli, nil
}

// repoRoot walks up from the working directory (a package directory, under
// go test) to the directory holding go.mod.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

//go:embed tolerate-aborts.cjs
var tolerateAborts []byte

// writePreload writes the script node preloads into dynalite to a file of
// its own, removed when dynalite exits.
func writePreload() (string, error) {
	f, err := os.CreateTemp("", "dynalite-preload-*.cjs")
	if err != nil {
		return "", fmt.Errorf("write dynalite's preload: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(tolerateAborts); err != nil {
		return "", fmt.Errorf("write dynalite's preload: %w", err)
	}
	return f.Name(), nil
}

// command runs dynalite on a port, with its preload, removed when it exits.
func command(node, cli string) emulator.Command {
	return func(port int) (*exec.Cmd, func(), error) {
		preload, err := writePreload()
		if err != nil {
			return nil, nil, err
		}
		cmd := exec.Command(node, "--require", preload, cli,
			"--port", strconv.Itoa(port), "--host", "127.0.0.1",
			// Tables are ACTIVE at once: a fresh table per test costs
			// milliseconds, not dynalite's default half second.
			"--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0",
		)
		return cmd, func() { _ = os.Remove(preload) }, nil
	}
}

// Output returns what dynalite has printed so far, for test failure messages.
func (s *Server) Output() string { return s.proc.Output() }

// Client returns the server's SDK client, NewClient's, made once so that
// its connections are reused by every test's tables.
func (s *Server) Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	s.clientOnce.Do(func() { s.client = s.NewClient() })
	return s.client
}

// NewClient returns a new SDK client for the server: region us-east-1,
// dummy static credentials (dynalite checks that requests are signed, not
// by whom), and five tries with short backoff so that a test never waits
// long. optFns may change its options, e.g. its HTTPClient, to count or
// fail calls.
func (s *Server) NewClient(optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(s.URL),
		Credentials:  emulator.Credentials,
		Retryer:      emulator.Retryer(5),
	}, optFns...)
}

// NewTable creates a table with a unique name and the store's schema (see
// dynamostore.CreateTable) and returns its name. The table lives as long as
// the server.
func (s *Server) NewTable(tb testing.TB) string {
	tb.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "secrets-test-" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := dynamostore.CreateTable(ctx, s.Client(tb), name); err != nil {
		tb.Fatalf("create table %s: %v\ndynalite output:\n%s", name, err, s.Output())
	}
	return name
}
