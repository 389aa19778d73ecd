package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestRunInjectsSecretsAndPassesExitCodesThrough(t *testing.T) {
	needSh(t)
	srv, c := serveCLI(t)
	c.ok("org", "secrets", "set", "NAME=global value with spaces", "LEVEL=global")
	c.ok("secrets", "set", "--app", "web", "LEVEL=app")
	c.ok("secrets", "set", "--app", "web", "--machine", "web-1", "LEVEL=machine 'quoted' \"and\" $dollar")

	if out := c.ok("run", "--env", "development", "--", "sh", "-c", `printf %s "$NAME"`); out != "global value with spaces" {
		t.Errorf("run printed %q", out)
	}
	for _, tt := range []struct {
		layer []string
		want  string
	}{
		{nil, "global"},
		{[]string{"--app", "web"}, "app"},
		{[]string{"--app", "web", "--machine", "web-1"}, `machine 'quoted' "and" $dollar`},
	} {
		args := append(append([]string{"run", "--env", "dev"}, tt.layer...), "--", "sh", "-c", `printf %s "$LEVEL"`)
		if out := c.ok(args...); out != tt.want {
			t.Errorf("zwrm %v printed %q, want %q", args, out, tt.want)
		}
	}

	r := c.run("run", "--env", "development", "--", "sh", "-c", "exit 7")
	if r.code != 7 || r.stderr != "" {
		t.Errorf("exit 7 came back as %d, stderr %q", r.code, r.stderr)
	}
	r = c.run("run", "--env", "development", "--", "sh", "-c", `echo out; echo err >&2; exit 0`)
	if r.code != 0 || r.stdout != "out\n" || r.stderr != "err\n" {
		t.Errorf("streams: %+v", r)
	}
	if runtime.GOOS != "windows" {
		if r := c.run("run", "--env", "development", "--", "sh", "-c", "kill -TERM $$"); r.code != 128+int(syscall.SIGTERM) {
			t.Errorf("a command ended by SIGTERM exits %d, want %d", r.code, 128+int(syscall.SIGTERM))
		}
	}

	t.Run("variables already set win unless --override", func(t *testing.T) {
		mine := c.as(srv.token)
		mine.environ = append(mine.environ, "NAME=mine")
		if out := mine.ok("run", "--env", "development", "--", "sh", "-c", `printf %s "$NAME"`); out != "mine" {
			t.Errorf("without --override, NAME = %q, want the existing value", out)
		}
		if out := mine.ok("run", "--env", "development", "--override", "--", "sh", "-c", `printf %s "$NAME"`); out != "global value with spaces" {
			t.Errorf("with --override, NAME = %q, want the secret", out)
		}
		got := mergeEnv([]string{"A=1", "B=2", "A=dup"}, map[string]string{"A": "s", "C": "new"}, true)
		if want := []string{"A=s", "B=2", "C=new"}; !slices.Equal(got, want) {
			t.Errorf("mergeEnv with override = %q, want %q", got, want)
		}
		got = mergeEnv([]string{"A=1", "B=2"}, map[string]string{"A": "s", "C": "new"}, false)
		if want := []string{"A=1", "B=2", "C=new"}; !slices.Equal(got, want) {
			t.Errorf("mergeEnv = %q, want %q", got, want)
		}
		// The CLI's own token is not the command's; a secret of that name is.
		got = mergeEnv([]string{"ZWRM_TOKEN=zwrm_u_admin", "ZWRM_API_TOKEN=zwrm_u_admin", "B=2"}, map[string]string{"C": "new"}, false)
		if want := []string{"B=2", "C=new"}; !slices.Equal(got, want) {
			t.Errorf("mergeEnv passed the CLI's token on: %q, want %q", got, want)
		}
		got = mergeEnv([]string{"ZWRM_TOKEN=zwrm_u_admin"}, map[string]string{"ZWRM_TOKEN": "zwrm_s_app"}, false)
		if want := []string{"ZWRM_TOKEN=zwrm_s_app"}; !slices.Equal(got, want) {
			t.Errorf("mergeEnv with a ZWRM_TOKEN secret = %q, want %q", got, want)
		}
	})

	t.Run("flags after the command are the command's", func(t *testing.T) {
		if out := c.ok("run", "--env", "development", "sh", "-c", `printf %s "$1"`, "sh", "--override"); out != "--override" {
			t.Errorf("printed %q", out)
		}
	})

	t.Run("errors before the command runs", func(t *testing.T) {
		c.fails(127, "executable file not found", "run", "--env", "development", "--", "no-such-command-zwrm")
		c.fails(127, "no such file", "run", "--env", "development", "--", "./no-such-command-zwrm")
		c.fails(exitUsage, "name the command to run", "run", "--env", "development")
		c.fails(exitUsage, `required flag(s) "env" not set`, "run", "--", "true")
		c.fails(exitAuth, "user tokens may resolve development only", "run", "--env", "production", "--", "true")
	})
}

// TestRunReplacesTheProcess runs the built binary, where `zwrm run`
// replaces itself with the command (execve): exit codes and signals reach
// the command as if zwrm were not there.
func TestRunReplacesTheProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("no execve")
	}
	srv, c := serveCLI(t)
	c.ok("org", "secrets", "set", "NAME=from zwrm")
	bin := filepath.Join(t.TempDir(), "zwrm")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	zwrm := func(args ...string) *exec.Cmd {
		cmd := exec.Command(bin, args...)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir(), "XDG_CONFIG_HOME=" + t.TempDir(),
			"ZWRM_ENDPOINT=" + srv.endpoint, "ZWRM_TOKEN=" + srv.token}
		return cmd
	}

	out, err := zwrm("run", "--env", "development", "--", "sh", "-c", `printf %s "$NAME"`).Output()
	if err != nil || string(out) != "from zwrm" {
		t.Errorf("run printed %q (%v)", out, err)
	}
	err = zwrm("run", "--env", "development", "--", "sh", "-c", "exit 7").Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 7 {
		t.Errorf("exit 7 came back as %v", err)
	}

	// A signal sent to zwrm's process id reaches the command: it is that
	// process now.
	cmd := zwrm("run", "--env", "development", "--", "sh", "-c", `trap 'exit 42' TERM; echo ready; while :; do sleep 0.05; done`)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan bool, 1)
	go func() { ready <- bufio.NewScanner(stdout).Scan() }()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the command did not start")
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err = cmd.Wait()
	if !errors.As(err, &ee) || ee.ExitCode() != 42 {
		t.Errorf("after SIGTERM the command exited %v, want 42 from its trap", err)
	}

	// `zwrm dev` and `zwrm admin bootstrap` are served by the same binary.
	if out, err := zwrm("dev", "--help").Output(); err != nil || !strings.Contains(string(out), "--addr") {
		t.Errorf("zwrm dev --help: %v\n%s", err, out)
	}
}
