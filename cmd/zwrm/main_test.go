package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

// buildZwrm builds the binary once per test run.
func buildZwrm(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zwrm")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startDev runs `zwrm dev --addr 127.0.0.1:0 --data DIR` and returns the
// base URL it serves.
func startDev(t *testing.T, bin, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin, "dev", "--addr", "127.0.0.1:0", "--data", dir)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.Stderr = io.Discard
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cancel()
		if err := cmd.Wait(); err != nil && !strings.Contains(err.Error(), "interrupt") {
			t.Logf("zwrm dev: %v", err)
		}
	})
	urls := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`serving the API on (http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				urls <- m[1]
			}
		}
	}()
	select {
	case u := <-urls:
		return u
	case <-time.After(20 * time.Second):
		t.Fatal("zwrm dev did not say where it serves")
	}
	return ""
}

func do(t *testing.T, method, url, token, body string) (int, string) {
	t.Helper()
	status, b := testkit.Call(t, method, url, token, body)
	return status, string(b)
}

// TestTheCurlFlow runs the commands of the README and the first REST API
// flow (set, set again, list, delete, a bad name) against the built binary,
// as a new user would.
func TestTheCurlFlow(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildZwrm(t)
	dir := filepath.Join(t.TempDir(), ".zwrm")
	base := startDev(t, bin, dir)

	out, err := exec.Command(bin, "admin", "bootstrap", "--data", dir, "--org", "acme", "--subject", "ann@acme.test", "--name", "Ann").Output()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	token := strings.TrimSpace(string(out))
	if !regexp.MustCompile(`^zwrm_u_[A-Za-z0-9_-]{43}$`).MatchString(token) {
		t.Fatalf("bootstrap printed %q, want only a token", out)
	}

	status, body := do(t, "POST", base+"/v1/org/secrets", token, `{"name": "DATADOG_API_KEY", "value": "your-key-here"}`)
	if status != 201 || !strings.Contains(body, `"version":1`) {
		t.Fatalf("set new = %d %s, want 201 version 1", status, body)
	}
	status, body = do(t, "POST", base+"/v1/org/secrets", token, `{"name": "DATADOG_API_KEY", "value": "your-other-key"}`)
	if status != 200 || !strings.Contains(body, `"version":2`) {
		t.Fatalf("set again = %d %s, want 200 version 2", status, body)
	}
	status, body = do(t, "GET", base+"/v1/org/secrets", token, "")
	var list struct {
		Secrets []map[string]any `json:"secrets"`
	}
	if err := json.Unmarshal([]byte(body), &list); status != 200 || err != nil || len(list.Secrets) != 1 {
		t.Fatalf("list = %d %s", status, body)
	}
	if strings.Contains(body, "your-") {
		t.Fatalf("list shows a value: %s", body)
	}
	for _, k := range []string{"name", "version", "created_at", "updated_at"} {
		if _, ok := list.Secrets[0][k]; !ok {
			t.Errorf("list row lacks %s: %s", k, body)
		}
	}
	if status, body = do(t, "DELETE", base+"/v1/org/secrets/DATADOG_API_KEY", token, ""); status != 204 {
		t.Fatalf("delete = %d %s", status, body)
	}
	if status, _ = do(t, "DELETE", base+"/v1/org/secrets/DATADOG_API_KEY", token, ""); status != 404 {
		t.Fatalf("delete again = %d, want 404", status)
	}
	if status, body = do(t, "POST", base+"/v1/org/secrets", token, `{"name": "1BAD", "value": "x"}`); status != 400 || !strings.Contains(body, "letter or underscore") {
		t.Fatalf("bad name = %d %s", status, body)
	}

	dev, err := os.ReadFile(filepath.Join(dir, "dev-tokens.json"))
	if err != nil {
		t.Fatal(err)
	}
	var devTokens map[string]string
	if err := json.Unmarshal(dev, &devTokens); err != nil || devTokens["superadmin"] == "" {
		t.Fatalf("dev-tokens.json = %s", dev)
	}
	if status, body = do(t, "GET", base+"/v1/me", devTokens["superadmin"], ""); status != 200 || !strings.Contains(body, `"org":"dev"`) {
		t.Fatalf("dev token me = %d %s", status, body)
	}

	// Compacting needs the database to itself: while zwrm dev runs, it
	// refuses and says what to do.
	out, err = exec.Command(bin, "admin", "compact", "--data", dir).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "stop the server") {
		t.Fatalf("compact while zwrm dev runs: %v\n%s", err, out)
	}
}

// TestBootstrapADeployedTable runs `zwrm admin bootstrap --table` against a
// DynamoDB API server (dynalite) the way an operator runs it against a
// deployed stack, then authenticates the token against that table.
func TestBootstrapADeployedTable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	srv := dynalite.Start(t)
	table := srv.NewTable(t)
	bin := buildZwrm(t)
	cmd := exec.Command(bin, "admin", "bootstrap", "--table", table, "--region", "us-east-1", "--dynamodb-endpoint", srv.URL,
		"--org", "acme", "--subject", "ops@acme.test", "--name", "Ops")
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("bootstrap: %v", err)
	}
	token := strings.TrimSpace(string(out))
	store := dynamostore.New(srv.Client(t), table)
	svc := service.New(store, noKeys{}, service.Config{})
	id, err := svc.Authenticate(context.Background(), token)
	if err != nil {
		t.Fatalf("the printed token does not authenticate against the table: %v", err)
	}
	if id.Org != "acme" || id.Role != secrets.RoleSuperadmin || id.Subject != "ops@acme.test" {
		t.Fatalf("identity = %+v", id)
	}
}

// noKeys is a key wrapper that is never called: authenticating reads no value.
type noKeys struct{}

func (noKeys) GenerateDataKey(context.Context, secrets.EncryptionContext) ([]byte, []byte, error) {
	panic("no key wrapping expected")
}
func (noKeys) Unwrap(context.Context, []byte, secrets.EncryptionContext) ([]byte, error) {
	panic("no key wrapping expected")
}
