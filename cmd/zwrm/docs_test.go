package main_test

// The commands that README.md and docs/*.md show are run here, so that a
// reader who copies them gets what the page says. A shell block (```sh) is
// preceded by one of two markers:
//
//	<!-- tested -->                 run by TestTheDocsCommandsRun
//	<!-- tested: setup -->          the same; then ZWRM_ENDPOINT is pointed at the test's server
//	<!-- not tested: REASON -->     not run, and the page says why (it needs AWS, ...)
//
// A shell block without a marker fails the test, as does a relative link to a
// file that does not exist.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// docBlock is one shell block of a page.
type docBlock struct {
	line   int    // where its fence opens, 1-based
	marker string // "tested", "tested: setup" or "not tested: ..."
	script string
}

var markerRE = regexp.MustCompile(`^<!-- (tested|tested: setup|not tested: \S.*) -->$`)

// shellBlocks returns the shell blocks of a Markdown page, and a problem for
// each block that has no marker.
func shellBlocks(page string) (blocks []docBlock, problems []string) {
	lines := strings.Split(page, "\n")
	marker := ""
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		if m := markerRE.FindStringSubmatch(l); m != nil {
			marker = m[1]
			continue
		}
		if !strings.HasPrefix(l, "```") {
			if l != "" {
				marker = ""
			}
			continue
		}
		lang := strings.TrimPrefix(l, "```")
		start := i + 1
		var body []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "```"; i++ {
			body = append(body, lines[i])
		}
		if lang == "sh" || lang == "bash" || lang == "shell" || lang == "console" {
			if marker == "" {
				problems = append(problems, fmt.Sprintf("line %d: a shell block without <!-- tested --> or <!-- not tested: REASON -->", start))
			} else {
				blocks = append(blocks, docBlock{line: start, marker: marker, script: strings.Join(body, "\n")})
			}
		}
		marker = ""
	}
	return blocks, problems
}

// docPages are README.md and every page under docs/, README first.
func docPages(t *testing.T) []string {
	t.Helper()
	pages, err := filepath.Glob("../../docs/*.md")
	if err != nil {
		t.Fatal(err)
	}
	return append([]string{"../../README.md"}, pages...)
}

var linkRE = regexp.MustCompile(`\]\(([^)\s]+)\)`)

func TestTheDocsMarkEveryShellBlockAndLinkToFilesThatExist(t *testing.T) {
	t.Parallel()
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		_, problems := shellBlocks(string(b))
		for _, p := range problems {
			t.Errorf("%s %s", page, p)
		}
		for _, m := range linkRE.FindAllStringSubmatch(string(b), -1) {
			target, _, _ := strings.Cut(m[1], "#")
			if target == "" || strings.Contains(target, "://") || strings.HasPrefix(target, "mailto:") {
				continue
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(page), target)); err != nil {
				t.Errorf("%s links to %s, which does not exist", page, m[1])
			}
		}
	}
}

// TestTheDocsCommandsRun runs each page's tested blocks, in order, as one bash
// script (set -euo pipefail) against a real `zwrm dev` on a free loopback port
// with a temporary data directory. Each page runs in a directory of its own
// holding bin/zwrm and .zwrm (the server's data directory), with
// ZWRM_ENDPOINT set to the server; README.md sets its own token from
// .zwrm/dev-tokens.json as it tells the reader to, and every docs page gets a
// superadmin of an organization of its own in ZWRM_TOKEN, so pages do not
// see each other's secrets.
func TestTheDocsCommandsRun(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, tool := range []string{"bash", "curl", "node"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("the docs' commands need %s: %v", tool, err)
			}
			t.Skipf("the docs' commands need %s: %v", tool, err)
		}
	}
	bin := buildZwrm(t)
	data := filepath.Join(t.TempDir(), ".zwrm")
	endpoint := startDev(t, bin, data)

	ran := map[string]bool{}
	for _, page := range docPages(t) {
		b, err := os.ReadFile(page)
		if err != nil {
			t.Fatal(err)
		}
		blocks, _ := shellBlocks(string(b))
		var script strings.Builder
		script.WriteString("set -euo pipefail\n")
		n := 0
		for _, bl := range blocks {
			if !strings.HasPrefix(bl.marker, "tested") {
				continue
			}
			n++
			fmt.Fprintf(&script, "echo '>>> %s:%d' >&2\n%s\n", filepath.Base(page), bl.line, bl.script)
			if bl.marker == "tested: setup" {
				script.WriteString("export ZWRM_ENDPOINT=\"$ZWRM_TEST_ENDPOINT\"\n")
			}
			for _, s := range []string{"curl ", "zwrm run "} {
				if strings.Contains(bl.script, s) {
					ran[filepath.Base(page)+" "+s] = true
				}
			}
		}
		if n == 0 {
			continue
		}
		name := strings.TrimSuffix(filepath.Base(page), ".md")
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.Mkdir(filepath.Join(dir, "bin"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(bin, filepath.Join(dir, "bin", "zwrm")); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(data, filepath.Join(dir, ".zwrm")); err != nil {
				t.Fatal(err)
			}
			env := append(os.Environ(),
				"HOME="+dir, "XDG_CONFIG_HOME="+filepath.Join(dir, ".config"), "XDG_CACHE_HOME="+filepath.Join(dir, ".cache"),
				"PATH="+filepath.Join(dir, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"),
				"ZWRM_ENDPOINT="+endpoint, "ZWRM_TEST_ENDPOINT="+endpoint, "ZWRM_PROFILE=", "ZWRM_API_TOKEN=")
			if name == "README" {
				env = append(env, "ZWRM_TOKEN=")
			} else {
				out, err := exec.Command(bin, "admin", "bootstrap", "--data", data, "--org", "docs-"+strings.ToLower(name),
					"--subject", "ops@"+name+".test", "--name", "Ops").Output()
				if err != nil {
					t.Fatalf("bootstrap an org for %s: %v", page, err)
				}
				env = append(env, "ZWRM_TOKEN="+strings.TrimSpace(string(out)))
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, "bash", "-c", script.String())
			cmd.Dir, cmd.Env = dir, env
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if err := cmd.Run(); err != nil {
				t.Fatalf("the commands of %s failed (%v); the last block run is the last >>> line:\n%s", page, err, out.String())
			}
		})
	}
	for _, want := range []string{"README.md curl ", "README.md zwrm run "} {
		if !ran[want] {
			t.Errorf("no tested block of the README runs %q: the tour is not tested", strings.TrimPrefix(want, "README.md "))
		}
	}
}
