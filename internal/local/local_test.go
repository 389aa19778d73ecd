package local_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/local"
	"github.com/zwrm/secrets/internal/testkit"
)

type server struct {
	addr string
	out  *testkit.SyncBuffer
	stop func()
}

// start runs the local server on a free loopback port until the test ends
// or stop is called, keeping what it prints.
func start(t *testing.T, dir string) *server {
	t.Helper()
	out := &testkit.SyncBuffer{}
	srv := testkit.StartLocal(t, dir, out, local.Tuning{})
	return &server{addr: srv.Addr, out: out, stop: srv.Stop}
}

// call sends a request and decodes the JSON object it answers, if any.
func call(t *testing.T, method, url, token, body string) (int, map[string]any) {
	t.Helper()
	status, b := testkit.Call(t, method, url, token, body)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return status, out
}

func TestFirstStartCreatesTheDevOrgAndLaterStartsReuseIt(t *testing.T) {
	dir := filepath.Join(t.TempDir(), ".zwrm")
	srv := start(t, dir)
	token := testkit.DevToken(t, dir)

	t.Run("the first start prints the superadmin token once and saves it owner-only", func(t *testing.T) {
		if got := strings.Count(srv.out.String(), token); got != 1 {
			t.Fatalf("token printed %d times, want 1:\n%s", got, srv.out.String())
		}
		for _, f := range []string{local.TokenFile, local.KeyFile, local.DBFile} {
			if got, want := testkit.Perm(t, filepath.Join(dir, f)), os.FileMode(0o600); got != want {
				t.Errorf("%s mode = %v, want %v", f, got, want)
			}
		}
		if got, want := testkit.Perm(t, dir), os.FileMode(0o700); got != want {
			t.Errorf("data dir mode = %v, want %v", got, want)
		}
	})
	t.Run("the token is a superadmin of org dev", func(t *testing.T) {
		status, me := call(t, "GET", "http://"+srv.addr+"/v1/me", token, "")
		if status != 200 || me["org"] != "dev" || me["role"] != "superadmin" {
			t.Fatalf("me = %d %v", status, me)
		}
	})
	status, _ := call(t, "POST", "http://"+srv.addr+"/v1/org/secrets", token, `{"name":"DATADOG_API_KEY","value":"dd-key-1234567890abcdef"}`)
	if status != 201 {
		t.Fatalf("set = %d", status)
	}
	srv.stop()

	again := start(t, dir)
	t.Run("a later start reuses the data and says where the token file is", func(t *testing.T) {
		if strings.Contains(again.out.String(), token) {
			t.Fatal("the token was printed again")
		}
		if !strings.Contains(again.out.String(), filepath.Join(dir, local.TokenFile)) {
			t.Fatalf("output does not name the token file:\n%s", again.out.String())
		}
		if got := testkit.DevToken(t, dir); got != token {
			t.Fatal("the token file changed")
		}
		status, res := call(t, "POST", "http://"+again.addr+"/v1/resolve", token, `{"environment":"development"}`)
		values, _ := res["secrets"].(map[string]any)
		if status != 200 || values["DATADOG_API_KEY"] != "dd-key-1234567890abcdef" {
			t.Fatalf("resolve after restart = %d %v", status, res)
		}
	})
}

func TestBootstrapWorksWithAndWithoutARunningServer(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()

	t.Run("with no server it opens the data directory itself", func(t *testing.T) {
		token, err := local.Bootstrap(ctx, dir, "acme", "ann@acme.test", "Ann")
		if err != nil {
			t.Fatal(err)
		}
		srv := start(t, dir)
		status, me := call(t, "GET", "http://"+srv.addr+"/v1/me", token, "")
		if status != 200 || me["org"] != "acme" || me["subject"] != "ann@acme.test" || me["role"] != "superadmin" {
			t.Fatalf("me = %d %v", status, me)
		}
		srv.stop()
	})
	t.Run("with a server running it goes through the operator socket", func(t *testing.T) {
		srv := start(t, dir)
		token, err := local.Bootstrap(ctx, dir, "globex", "gus@globex.test", "Gus")
		if err != nil {
			t.Fatal(err)
		}
		status, me := call(t, "GET", "http://"+srv.addr+"/v1/me", token, "")
		if status != 200 || me["org"] != "globex" || me["name"] != "Gus" {
			t.Fatalf("me = %d %v", status, me)
		}
		if got, want := testkit.Perm(t, filepath.Join(dir, local.SocketFile)), os.FileMode(0o600); got != want {
			t.Fatalf("socket mode = %v, want %v", got, want)
		}
		if _, err := local.Bootstrap(ctx, dir, "Bad Org", "x@y", "X"); err == nil || !strings.Contains(err.Error(), "org") {
			t.Fatalf("bad org id: err = %v, want an error naming org", err)
		}
	})
}

func TestAnExistingDataDirectoryIsMadeOwnerOnly(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "shared")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	start(t, dir).stop()
	if got, want := testkit.Perm(t, dir), os.FileMode(0o700); got != want {
		t.Fatalf("data dir mode = %v, want %v", got, want)
	}
}
