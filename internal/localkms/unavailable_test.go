package localkms

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// recorder is a testing.TB that records how a test would have ended.
type recorder struct {
	testing.TB
	fatal, skip string
}

func (r *recorder) Helper()                        {}
func (r *recorder) Fatalf(format string, a ...any) { r.fatal = fmt.Sprintf(format, a...) }
func (r *recorder) Skipf(format string, a ...any)  { r.skip = fmt.Sprintf(format, a...) }

func TestMissingLocalKMSFailsInCIAndSkipsElsewhere(t *testing.T) {
	for _, c := range []struct {
		ci        string
		wantFatal bool
	}{
		{"true", true},
		{"", false},
		{"false", false},
	} {
		t.Run(fmt.Sprintf("with CI=%q", c.ci), func(t *testing.T) {
			t.Setenv("CI", c.ci)
			r := &recorder{TB: t}
			unavailable(r, errors.New("local-kms does not build"))
			got := r.skip
			if c.wantFatal {
				got = r.fatal
				if r.skip != "" {
					t.Errorf("skipped with CI=%q: %s", c.ci, r.skip)
				}
			} else if r.fatal != "" {
				t.Errorf("failed with CI=%q: %s", c.ci, r.fatal)
			}
			for _, want := range []string{"go tool -n local-kms", "local-kms does not build"} {
				if !strings.Contains(got, want) {
					t.Errorf("message %q does not say %q", got, want)
				}
			}
		})
	}
}
