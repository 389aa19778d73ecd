package emulator_test

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/emulator"
	"github.com/zwrm/secrets/internal/localkms"
)

// TestMain lets the test binary stand in for an emulator that dies at once.
func TestMain(m *testing.M) {
	if os.Getenv("EMULATOR_TEST_EXIT") == "1" {
		fmt.Fprintln(os.Stderr, "emulator says why it stopped")
		os.Exit(3)
	}
	os.Exit(m.Run())
}

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

// ended runs start with CI=ci and returns the message it ended the test
// with, having checked that it failed in CI and skipped elsewhere.
func ended(t *testing.T, ci string, start func(testing.TB)) string {
	t.Helper()
	t.Setenv("CI", ci)
	r := &recorder{TB: t}
	start(r)
	if ci == "true" {
		if r.skip != "" {
			t.Errorf("skipped with CI=%q: %s", ci, r.skip)
		}
		return r.fatal
	}
	if r.fatal != "" {
		t.Errorf("failed with CI=%q: %s", ci, r.fatal)
	}
	return r.skip
}

func TestAMissingEmulatorFailsInCIAndSkipsElsewhere(t *testing.T) {
	for _, e := range []struct {
		name  string
		start func(testing.TB)
		want  []string // the hint and the reason
	}{
		{"dynalite", func(tb testing.TB) { dynalite.Start(tb) }, []string{"npm ci", "node is not on PATH"}},
		// local-kms keeps its build's error for the test process: no test
		// here starts it for real.
		{"local-kms", func(tb testing.TB) { localkms.Start(tb) }, []string{"go tool -n local-kms", "the go command is not on PATH"}},
	} {
		for _, ci := range []string{"true", "", "false"} {
			t.Run(fmt.Sprintf("%s with CI=%q", e.name, ci), func(t *testing.T) {
				t.Setenv("PATH", "") // neither node nor go can be found
				got := ended(t, ci, e.start)
				for _, want := range e.want {
					if !strings.Contains(got, want) {
						t.Errorf("message %q does not say %q", got, want)
					}
				}
			})
		}
	}
}

func TestAnEmulatorThatExitsAtStartSaysWhy(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	emu := emulator.Emulator{Name: "quitter", Hint: "it always quits", Host: "127.0.0.1"}
	got := ended(t, "true", func(tb testing.TB) {
		emu.Start(tb, func(int) (*exec.Cmd, func(), error) {
			cmd := exec.Command(self)
			cmd.Env = append(os.Environ(), "EMULATOR_TEST_EXIT=1")
			return cmd, nil, nil
		})
	})
	for _, want := range []string{"quitter exited at start", "exit status 3", "emulator says why it stopped", "it always quits"} {
		if !strings.Contains(got, want) {
			t.Errorf("message %q does not say %q", got, want)
		}
	}
}
