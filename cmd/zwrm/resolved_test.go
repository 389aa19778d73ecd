package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/secrets"
)

func TestRunAndExportRefuseReservedNamesUnlessNamed(t *testing.T) {
	needSh(t)
	_, c := serveCLI(t)
	c.ok("org", "secrets", "set", "NODE_OPTIONS=--require ./evil.js", "bash_env=/tmp/x", "PLAIN=ok")
	printBoth := []string{"--", "sh", "-c", `printf '%s|%s' "$NODE_OPTIONS" "$bash_env"; echo ran >&2`}

	t.Run("run refuses, naming every reserved name in any case, sorted", func(t *testing.T) {
		r := c.fails(exitUsage, "reserved names NODE_OPTIONS, bash_env", append([]string{"run", "--env", "development"}, printBoth...)...)
		for _, says := range []string{"changes how programs start", "--allow-reserved NODE_OPTIONS,bash_env"} {
			if !strings.Contains(r.stderr, says) {
				t.Errorf("the refusal does not say %q:\n%s", says, r.stderr)
			}
		}
		if strings.Contains(r.stderr, "ran") || r.stdout != "" {
			t.Errorf("the command ran: %+v", r)
		}
		noValues(t, "the refusal", r.stderr, "evil.js", "/tmp/x")
	})

	t.Run("run refuses the names --allow-reserved leaves out", func(t *testing.T) {
		r := c.fails(exitUsage, "reserved name bash_env.", append([]string{"run", "--env", "development", "--allow-reserved", "node_options"}, printBoth...)...)
		if strings.Contains(r.stderr, "NODE_OPTIONS") {
			t.Errorf("the refusal names an allowed name:\n%s", r.stderr)
		}
	})

	t.Run("run passes reserved names on when each is named, in any case", func(t *testing.T) {
		for _, allow := range [][]string{
			{"--allow-reserved", "NODE_OPTIONS,bash_env"},
			{"--allow-reserved", "node_options", "--allow-reserved", "BASH_ENV"},
			{"--allow-reserved=Node_Options,Bash_Env,PATH"},
		} {
			args := append(append([]string{"run", "--env", "development"}, allow...), printBoth...)
			if out := c.ok(args...); out != "--require ./evil.js|/tmp/x" {
				t.Errorf("zwrm %v printed %q", args, out)
			}
		}
	})

	t.Run("export refuses dotenv and shell, and prints json", func(t *testing.T) {
		for _, format := range []string{"dotenv", "shell"} {
			r := c.fails(exitUsage, "reserved names NODE_OPTIONS, bash_env", "export", "--env", "development", "--format", format)
			if r.stdout != "" || !strings.Contains(r.stderr, "--format json") {
				t.Errorf("export --format %s: %+v", format, r)
			}
			if out := c.ok("export", "--env", "development", "--format", format, "--allow-reserved", "NODE_OPTIONS,BASH_ENV"); !strings.Contains(out, "NODE_OPTIONS=") || !strings.Contains(out, "bash_env=") {
				t.Errorf("export --format %s --allow-reserved printed %q", format, out)
			}
		}
		var got map[string]string
		if err := json.Unmarshal([]byte(c.ok("export", "--env", "development", "--format", "json")), &got); err != nil || got["NODE_OPTIONS"] != "--require ./evil.js" || got["bash_env"] != "/tmp/x" {
			t.Errorf("export --format json = %v (%v)", got, err)
		}
	})
}

// fakeResolve is an API whose resolve answers secrets: values the real
// server refuses to store (a NUL byte, a name no variable can have), as an
// older or a compromised server could send them.
func fakeResolve(t *testing.T, values map[string]string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.Method != "POST" || r.URL.Path != "/v1/resolve" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"error":{"code":"not_found","message":"no such route"}}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"environment": "development", "secrets": values})
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunAndExportRefuseValuesNoProcessCanTake(t *testing.T) {
	t.Parallel()
	needSh(t)
	const hidden = "sec\x00retVALUE"
	for _, tt := range []struct {
		name    string
		secrets map[string]string
		says    string
	}{
		{"a NUL byte in a value", map[string]string{"GOOD": "1", "NUL_VALUE": hidden, "ANOTHER": "x\x00y"}, "the values of ANOTHER, NUL_VALUE hold a NUL byte"},
		{"a name with '='", map[string]string{"GOOD": "1", "A=B": "retVALUE"}, `"A=B" cannot be an environment variable name`},
		{"a name that is shell code", map[string]string{"X;touch /tmp/pwned;Y": "retVALUE"}, `"X;touch /tmp/pwned;Y" cannot be an environment variable name`},
		{"an empty name", map[string]string{"": "retVALUE"}, `"" cannot be an environment variable name`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t, nil)
			c.env["ZWRM_ENDPOINT"] = fakeResolve(t, tt.secrets).URL
			c.env["ZWRM_TOKEN"] = "zwrm_u_" + strings.Repeat("a", 43)
			r := c.fails(exitUsage, tt.says, "run", "--env", "development", "--", "sh", "-c", "echo ran")
			if r.stdout != "" || !strings.Contains(r.stderr, "refusing to run") {
				t.Errorf("run: %+v", r)
			}
			noValues(t, "run's refusal", r.stderr, "retVALUE")
			for _, format := range []string{"dotenv", "shell"} {
				r := c.fails(exitUsage, tt.says, "export", "--env", "development", "--format", format)
				if r.stdout != "" {
					t.Errorf("export --format %s printed %q", format, r.stdout)
				}
				noValues(t, "export's refusal", r.stderr, "retVALUE")
			}
			c.ok("export", "--env", "development", "--format", "json")
		})
	}
}

func TestRunEnvChecksWhatItMerges(t *testing.T) {
	t.Parallel()
	environ := []string{"PATH=/bin", "HOME=/home/me"}
	for _, tt := range []struct {
		name   string
		values map[string]string
		allow  []string
		says   []string // empty: accepted
	}{
		{"plain names and values", map[string]string{"A": "1", "b_2": "x\ny\tz"}, nil, nil},
		{"a NUL byte", map[string]string{"A": "1", "B": "x\x00y"}, nil, []string{"refusing to run", "value of B holds a NUL byte"}},
		{"a NUL byte under a reserved name that is allowed", map[string]string{"PATH": "\x00"}, []string{"PATH"}, []string{"value of PATH holds a NUL byte"}},
		{"a name with '='", map[string]string{"A=B": "1"}, nil, []string{`"A=B" cannot be`}},
		{"a name with a NUL byte", map[string]string{"A\x00B": "1"}, nil, []string{`"A\x00B" cannot be`}},
		{"a name starting with a digit", map[string]string{"1A": "1"}, nil, []string{`"1A" cannot be`}},
		{"reserved names", map[string]string{"LD_PRELOAD": "x", "path": "y", "IFS": "z", "OK": "1"}, nil,
			[]string{"reserved names IFS, LD_PRELOAD, path.", "--allow-reserved IFS,LD_PRELOAD,path"}},
		{"reserved names, all allowed in other cases", map[string]string{"LD_PRELOAD": "x", "path": "y"}, []string{"ld_preload", " PATH"}, nil},
		{"a reserved prefix", map[string]string{"DYLD_INSERT_LIBRARIES": "x"}, []string{"DYLD_*"}, []string{"reserved name DYLD_INSERT_LIBRARIES."}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := runEnv(environ, tt.values, true, tt.allow)
			if len(tt.says) == 0 {
				if err != nil {
					t.Fatalf("runEnv: %v", err)
				}
				if want := mergeEnv(environ, tt.values, true); !slices.Equal(got, want) {
					t.Errorf("runEnv = %q, want %q", got, want)
				}
				return
			}
			if err == nil {
				t.Fatalf("runEnv accepted %q", tt.values)
			}
			if got, want := exitCode(&runError{err}), exitUsage; got != want {
				t.Errorf("exit code %d, want %d", got, want)
			}
			for _, s := range tt.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not say %q", err, s)
				}
			}
			for _, v := range tt.values {
				if len(v) > 1 && strings.Contains(err.Error(), v) {
					t.Errorf("error %q quotes a value", err)
				}
			}
		})
	}
}

// TestTheREADMEListsTheReservedNames keeps the Security model's list
// (docs/security.md) equal to secrets.ReservedNames.
func TestTheREADMEListsTheReservedNames(t *testing.T) {
	t.Parallel()
	readme, err := os.ReadFile("../../docs/security.md")
	if err != nil {
		t.Fatal(err)
	}
	_, model, ok := strings.Cut(string(readme), "- **Reserved names**")
	if !ok {
		t.Fatal("the README's Security model has no Reserved names item")
	}
	model, _, _ = strings.Cut(model, "\n- ")
	for _, name := range secrets.ReservedNames {
		if !strings.Contains(model, "`"+name+"`") {
			t.Errorf("the README's reserved names lack %s", name)
		}
	}
}
