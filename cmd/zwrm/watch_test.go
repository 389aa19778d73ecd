package main

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/testkit"
)

// watchRun is `zwrm run` running in the background with streams a test
// may read while it runs.
type watchRun struct {
	stdout, stderr *testkit.SyncBuffer
	code           chan int
}

func startWatchRun(t *testing.T, c *cli, args ...string) *watchRun {
	t.Helper()
	w := &watchRun{stdout: &testkit.SyncBuffer{}, stderr: &testkit.SyncBuffer{}, code: make(chan int, 1)}
	a := &app{stdin: strings.NewReader(""), stdout: w.stdout, stderr: w.stderr,
		getenv:     func(k string) string { c.mu.Lock(); defer c.mu.Unlock(); return c.env[k] },
		environ:    func() []string { return append([]string(nil), c.environ...) },
		configDir:  func() (string, error) { return c.configDir, nil },
		httpClient: newApp().httpClient}
	go func() { w.code <- execute(context.Background(), a, args) }()
	return w
}

// waitFor waits until the command's output holds want, and says how long
// that took.
func (w *watchRun) waitFor(t *testing.T, want string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for !strings.Contains(w.stdout.String(), want) {
		if time.Since(start) > limit {
			t.Fatalf("no %q after %s\nstdout: %s\nstderr: %s", want, limit, w.stdout, w.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return time.Since(start)
}

func (w *watchRun) exit(t *testing.T) int {
	t.Helper()
	select {
	case code := <-w.code:
		return code
	case <-time.After(10 * time.Second):
		t.Fatalf("zwrm run --watch did not exit\nstdout: %s\nstderr: %s", w.stdout, w.stderr)
	}
	return -1
}

func TestRunWatchRestartsTheCommandWithTheNewValues(t *testing.T) {
	needSh(t)
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "VALUE=one", "OTHER=unchanged")
	const interval = 200 * time.Millisecond
	// The command prints its value; started with the second value it
	// exits 3, which zwrm must pass on.
	w := startWatchRun(t, c, "run", "--env", "development", "--watch", "--interval", interval.String(), "--",
		"sh", "-c", `echo "value=$VALUE"; if [ "$VALUE" = two ]; then exit 3; fi; exec sleep 30`)
	w.waitFor(t, "value=one\n", 10*time.Second)

	// Unchanged, the command is left alone.
	time.Sleep(3 * interval)
	if got := strings.Count(w.stdout.String(), "value="); got != 1 {
		t.Fatalf("the command started %d times while nothing changed:\n%s", got, w.stdout)
	}

	c.ok("org", "secrets", "set", "VALUE=two")
	if took := w.waitFor(t, "value=two\n", 10*time.Second); took > 2*interval {
		t.Errorf("the restarted command printed the new value %s after the change, want within two intervals (%s)", took, 2*interval)
	}
	if code := w.exit(t); code != 3 {
		t.Errorf("zwrm exited %d, want the command's 3\nstderr: %s", code, w.stderr)
	}
	if got := w.stdout.String(); got != "value=one\nvalue=two\n" {
		t.Errorf("stdout = %q, want one start per value", got)
	}
	errs := w.stderr.String()
	if !strings.Contains(errs, "the secrets changed") || !strings.Contains(errs, "restarting sh") {
		t.Errorf("stderr does not say why the command restarted: %q", errs)
	}
	noValues(t, "run --watch's messages", errs, "one", "two", "unchanged")
}

func TestRunWatchSendsTheRestartSignal(t *testing.T) {
	needSh(t)
	if runtime.GOOS == "windows" {
		t.Skip("no SIGHUP")
	}
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "VALUE=one")
	w := startWatchRun(t, c, "run", "--env", "development", "--watch", "--interval", "200ms", "--restart-signal", "SIGHUP", "--",
		"sh", "-c", `trap 'echo "reload, still $VALUE"; exit 4' HUP; echo "value=$VALUE"; while :; do sleep 0.05; done`)
	w.waitFor(t, "value=one\n", 10*time.Second)
	c.ok("org", "secrets", "set", "VALUE=two")
	w.waitFor(t, "reload, still one\n", 2*time.Second)
	if code := w.exit(t); code != 4 {
		t.Errorf("zwrm exited %d, want the command's 4\nstderr: %s", code, w.stderr)
	}
	if got := strings.Count(w.stdout.String(), "value="); got != 1 {
		t.Errorf("with a restart signal the command was started %d times:\n%s", got, w.stdout)
	}
	if errs := w.stderr.String(); !strings.Contains(errs, "sending SIGHUP to sh") {
		t.Errorf("stderr = %q, want it to say it sent SIGHUP", errs)
	}
}

func TestRunWatchFlagsAreChecked(t *testing.T) {
	_, c := serveCLI(t)
	c.fails(exitUsage, "--interval needs --watch", "run", "--env", "development", "--interval", "1s", "--", "true")
	c.fails(exitUsage, "--restart-signal must be restart or one of", "run", "--env", "development", "--watch", "--restart-signal", "SIGBOGUS", "--", "true")
	c.fails(exitUsage, "--interval must be at least", "run", "--env", "development", "--watch", "--interval", "1ms", "--", "true")
	if r := c.run("run", "--env", "development", "--watch", "--", "sh", "-c", "exit 6"); r.code != 6 {
		t.Errorf("a watched command's exit 6 came back as %d (stderr %q)", r.code, r.stderr)
	}
}
