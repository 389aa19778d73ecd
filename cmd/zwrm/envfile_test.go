package main

import (
	"encoding/json"
	"maps"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// trickyEnv is a .env file with what .env files hold: comments, blank
// lines, export prefixes, quotes of both kinds, escapes, multi-line values,
// '#' and '=' inside values, unicode.
const trickyEnv = "\uFEFF# database\n" +
	"export DATABASE_URL=postgres://u:p@db:5432/app?sslmode=require\n" +
	"\n" +
	"   # indented comment\n" +
	"PLAIN=hello world   # a comment after whitespace\n" +
	"HASH_IN_VALUE=abc#def\n" +
	"EQUALS=a=b==c\n" +
	"SINGLE='it is \"literal\" $HOME \\n # not a comment'\n" +
	"DOUBLE=\"line one\\nline two\\ttabbed \\\"quoted\\\" \\\\ back \\$HOME\"   # comment\n" +
	"MULTILINE=\"-----BEGIN KEY-----\n" +
	"MIIB\n" +
	"-----END KEY-----\"\n" +
	"UNICODE=naïve café ☕ 日本語\n" +
	"QUOTE_MIX=\"it's\"\n" +
	"export\tTABBED_EXPORT = spaced \r\n" +
	"EMPTY=\n" +
	"LAST_WINS=first\n" +
	"LAST_WINS=second"

var trickyWant = map[string]string{
	"DATABASE_URL":  "postgres://u:p@db:5432/app?sslmode=require",
	"PLAIN":         "hello world",
	"HASH_IN_VALUE": "abc#def",
	"EQUALS":        "a=b==c",
	"SINGLE":        `it is "literal" $HOME \n # not a comment`,
	"DOUBLE":        "line one\nline two\ttabbed \"quoted\" \\ back $HOME",
	"MULTILINE":     "-----BEGIN KEY-----\nMIIB\n-----END KEY-----",
	"UNICODE":       "naïve café ☕ 日本語",
	"QUOTE_MIX":     "it's",
	"TABBED_EXPORT": "spaced",
	"EMPTY":         "",
	"LAST_WINS":     "second",
}

func parsed(t *testing.T, src string) map[string]string {
	t.Helper()
	entries, err := parseDotenv(src)
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]string{}
	for _, e := range entries {
		m[e.name] = e.value
	}
	return m
}

func TestParseDotenv(t *testing.T) {
	got := parsed(t, trickyEnv)
	for name, want := range trickyWant {
		if got[name] != want {
			t.Errorf("%s = %q, want %q", name, got[name], want)
		}
	}
	if len(got) != len(trickyWant) {
		t.Errorf("parsed %d names, want %d: %q", len(got), len(trickyWant), got)
	}
}

func TestParseDotenvErrorsNameTheLineNotTheValue(t *testing.T) {
	for _, tt := range []struct {
		src, says string
	}{
		{"A=1\nB=\"s3cr3t never closed\n", `line 2: the double quote is never closed`},
		{"A='s3cr3t", "line 1: the single quote is never closed"},
		{"A=\"s3cr3t\" trailing", "line 1: unexpected characters after the closing quote"},
		{"A=1\n\ns3cr3tLINE\n", "line 3: expected NAME=VALUE"},
		{"1BAD=s3cr3t", "line 1: the name before '='"},
		{"MY-NAME=s3cr3t", "line 1: the name before '='"},
		{"s3cr3t with spaces=x", "line 1: the name before '='"},
	} {
		_, err := parseDotenv(tt.src)
		if err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("parseDotenv(%q) = %v, want %q", tt.src, err, tt.says)
			continue
		}
		if strings.Contains(err.Error(), "s3cr3t") {
			t.Errorf("the error quotes the input: %v", err)
		}
	}
}

// trickyValues are values that need each kind of quoting.
var trickyValues = []string{
	"plain", "with space", "it's", `"double"`, "a#b", " #c", "x=y==", "$HOME ${X} `cmd`", `back\slash\n`,
	"line\nbreak\r\nwindows", "\ttab", "naïve ☕", "'", `"`, "\\", "trailing space ", "-", "@file", "ends with backslash\\",
	"\x1b[31mred\x1b[0m", "=", "#",
}

func FuzzDotenvValueRoundTrips(f *testing.F) {
	for _, v := range trickyValues {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if v == "" || strings.ContainsRune(v, 0) || !utf8Valid(v) {
			t.Skip()
		}
		entries, err := parseDotenv("NAME=" + dotenvValue(v) + "\n")
		if err != nil || len(entries) != 1 || entries[0].value != v {
			t.Fatalf("%q written as %s read back as %+v (%v)", v, dotenvValue(v), entries, err)
		}
	})
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestShellValueQuotesForPOSIXShells(t *testing.T) {
	needSh(t)
	var script strings.Builder
	for i, v := range trickyValues {
		script.WriteString("export V" + string(rune('A'+i)) + "=" + shellValue(v) + "\n")
		script.WriteString(`printf '%s\0' "$V` + string(rune('A'+i)) + `"` + "\n")
	}
	out, err := exec.Command("sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Split(strings.TrimSuffix(string(out), "\x00"), "\x00")
	if !slices.Equal(got, trickyValues) {
		t.Errorf("sh read back %q, want %q", got, trickyValues)
	}
}

func TestImportExportRoundTrip(t *testing.T) {
	_, c := serveCLI(t)
	file := writeFile(t, "tricky.env", trickyEnv)
	web := []string{"--app", "web", "--env", "development"}

	out := c.ok(append([]string{"import", file, "--dry-run"}, web...)...)
	if !strings.Contains(out, "11 created, 0 updated, 0 unchanged, 1 skipped") || !strings.Contains(out, "dry run: nothing written") {
		t.Errorf("import --dry-run says:\n%s", out)
	}
	if got := c.ok("secrets", "list", "--app", "web", "-o", "json"); !strings.Contains(got, `"secrets": []`) {
		t.Errorf("the dry run wrote: %s", got)
	}

	r := c.run(append([]string{"import", file}, web...)...)
	if r.code != 0 || !strings.Contains(r.stdout, "11 created, 0 updated, 0 unchanged, 1 skipped") || !strings.Contains(r.stderr, "skipped EMPTY") {
		t.Errorf("import: %+v", r)
	}
	values := slices.Collect(maps.Values(trickyWant))
	noValues(t, "import", r.stdout+r.stderr, slices.DeleteFunc(values, func(v string) bool { return len(v) < 6 })...)

	want := maps.Clone(trickyWant)
	delete(want, "EMPTY")
	exported := c.ok("export", "--env", "development", "--app", "web")
	if got := parsed(t, exported); !maps.Equal(got, want) {
		t.Errorf("export read back as\n%q\nwant\n%q\nexported:\n%s", got, want, exported)
	}
	var asJSON map[string]string
	if err := json.Unmarshal([]byte(c.ok("export", "--env", "development", "--app", "web", "--format", "json")), &asJSON); err != nil || !maps.Equal(asJSON, want) {
		t.Errorf("export --format json = %q (%v)", asJSON, err)
	}
	if _, err := exec.LookPath("sh"); err == nil {
		shell := c.ok("export", "--env", "development", "--app", "web", "--format", "shell")
		out, err := exec.Command("sh", "-c", shell+`printf '%s' "$MULTILINE|$SINGLE|$DOUBLE|$UNICODE"`).Output()
		if got, w := string(out), want["MULTILINE"]+"|"+want["SINGLE"]+"|"+want["DOUBLE"]+"|"+want["UNICODE"]; err != nil || got != w {
			t.Errorf("sh read the shell export as %q (%v), want %q", got, err, w)
		}
	}

	// Importing what was exported changes nothing; changing one value
	// updates it alone.
	again := writeFile(t, "again.env", exported)
	if out := c.ok(append([]string{"import", again}, web...)...); !strings.Contains(out, "0 created, 0 updated, 11 unchanged") {
		t.Errorf("re-import says:\n%s", out)
	}
	changed := writeFile(t, "changed.env", strings.Replace(exported, "PLAIN='hello world'", "PLAIN='hello there'", 1)+"ADDED=1\n")
	out = c.ok(append([]string{"import", changed}, web...)...)
	if !strings.Contains(out, "1 created, 1 updated, 10 unchanged") {
		t.Errorf("import of one change says:\n%s", out)
	}
	if !containsRow(rows(out), []string{"PLAIN", "updated", "2"}) {
		t.Errorf("PLAIN is not reported updated to version 2:\n%s", out)
	}

	t.Run("a name the layer holds without that environment is updated", func(t *testing.T) {
		out := c.okIn("PLAIN=hello there\n", "import", "-", "--env", "development", "--app", "web", "--machine", "web-1")
		if !strings.Contains(out, "1 created") {
			t.Errorf("machine import: %s", out)
		}
		c.ok("secrets", "set", "--app", "web", "--machine", "web-1", "ONLY_PROD=x", "--env", "production")
		out = c.okIn("ONLY_PROD=x\n", "import", "-", "--env", "development", "--app", "web", "--machine", "web-1", "--dry-run")
		if !strings.Contains(out, "0 created, 1 updated, 0 unchanged") {
			t.Errorf("import where the layer has only production: %s", out)
		}
	})

	t.Run("without resolve rights existing names count as updated", func(t *testing.T) {
		r := c.runIn("PLAIN=x\nNEWNAME=y\n", "import", "-", "--env", "staging", "--app", "web", "--dry-run")
		if r.code != 0 || !strings.Contains(r.stdout, "1 created, 1 updated, 0 unchanged") || strings.Contains(r.stderr, "could not be compared") {
			t.Errorf("staging dry run: %+v", r)
		}
		c.ok("secrets", "set", "--app", "web", "PLAIN=x", "--env", "staging")
		r = c.runIn("PLAIN=x\n", "import", "-", "--env", "staging", "--app", "web", "--dry-run")
		if r.code != 0 || !strings.Contains(r.stdout, "0 created, 1 updated, 0 unchanged") || !strings.Contains(r.stderr, "could not be compared") {
			t.Errorf("staging dry run without resolve rights: %+v", r)
		}
	})

	t.Run("a malformed file writes nothing", func(t *testing.T) {
		bad := writeFile(t, "bad.env", "GOOD=1\nBAD=\"never closed\n")
		c.fails(exitUsage, "line 2: the double quote is never closed", "import", bad, "--env", "development", "--app", "api")
		if got := c.ok("secrets", "list", "--app", "api", "-o", "json"); !strings.Contains(got, `"secrets": []`) {
			t.Errorf("a malformed import wrote: %s", got)
		}
	})
}

func containsRow(rows [][]string, want []string) bool {
	for _, r := range rows {
		if slices.Equal(r, want) {
			return true
		}
	}
	return false
}

// FuzzParseDotenv feeds the parser anything: it must not panic, and what it
// accepts must survive being written out and read again.
func FuzzParseDotenv(f *testing.F) {
	f.Add(trickyEnv)
	f.Add("A=\"unterminated")
	f.Add("export A='x'\r\nB=\"\\\"\" # c\n#\n")
	f.Fuzz(func(t *testing.T, src string) {
		entries, err := parseDotenv(src)
		if err != nil {
			return
		}
		var out strings.Builder
		for _, e := range entries {
			if e.value == "" || !utf8Valid(e.value) || strings.ContainsRune(e.value, 0) {
				return
			}
			out.WriteString(e.name + "=" + dotenvValue(e.value) + "\n")
		}
		again, err := parseDotenv(out.String())
		if err != nil || len(again) != len(entries) {
			t.Fatalf("%q re-read from %q: %+v (%v)", src, out.String(), again, err)
		}
		for i := range entries {
			if again[i].name != entries[i].name || again[i].value != entries[i].value {
				t.Fatalf("%q: %+v became %+v", src, entries[i], again[i])
			}
		}
	})
}
