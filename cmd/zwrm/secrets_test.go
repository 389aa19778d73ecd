package main

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestSetListUnsetRoundTripsPerLayer(t *testing.T) {
	_, c := serveCLI(t)
	for _, layer := range []struct {
		name  string
		group []string // the command group
		flags []string // its layer flags
		label string   // the layer as set prints it
	}{
		{"global", []string{"org", "secrets"}, nil, "global"},
		{"app", []string{"secrets"}, []string{"--app", "web"}, "web"},
		{"machine", []string{"secrets"}, []string{"--app", "web", "--machine", "web-1"}, "web/web-1"},
	} {
		t.Run(layer.name, func(t *testing.T) {
			cmd := func(sub string, args ...string) []string {
				return append(append(append(append([]string{}, layer.group...), sub), layer.flags...), args...)
			}
			arg := "arg-value-" + layer.name
			stdin := "stdin-value-" + layer.name
			file := "file-value-" + layer.name + "\nwith a second line\n"
			path := writeFile(t, "value", file)

			out := c.okIn(stdin+"\n", cmd("set", "ARG="+arg, "STDIN=-", "FILE=@"+path)...)
			if got := rows(out); len(got) != 4 || !slices.Equal(got[1], []string{"ARG", layer.label, "all", "created", "1"}) {
				t.Errorf("set says:\n%s", out)
			}
			noValues(t, "set", out, arg, stdin, "file-value")

			list := c.ok(cmd("list")...)
			if got := names(list); !slices.Equal(got, []string{"ARG", "FILE", "STDIN"}) {
				t.Errorf("list names = %v:\n%s", got, list)
			}
			noValues(t, "list", list, arg, stdin, "file-value")

			staging := "staging-value-" + layer.name
			out = c.ok(cmd("set", "ARG="+staging, "--env", "staging")...)
			if got := rows(out); len(got) != 2 || !slices.Equal(got[1], []string{"ARG", layer.label, "staging", "updated", "2"}) {
				t.Errorf("set --env staging says:\n%s", out)
			}

			var listed struct {
				Secrets []struct {
					Name    string `json:"name"`
					Version int    `json:"version"`
				} `json:"secrets"`
			}
			js := c.ok(cmd("list", "-o", "json")...)
			if err := json.Unmarshal([]byte(js), &listed); err != nil || len(listed.Secrets) != 3 || listed.Secrets[0].Name != "ARG" || listed.Secrets[0].Version != 2 {
				t.Errorf("list -o json = %s (%v)", js, err)
			}
			noValues(t, "list -o json", js, arg, stdin, "file-value", staging)

			// What was stored is exactly what was given: the stdin value
			// without its newline, the file's bytes.
			exported := map[string]string{}
			resolve := []string{"export", "--env", "development", "--format", "json"}
			resolve = append(resolve, layer.flags...)
			if err := json.Unmarshal([]byte(c.ok(resolve...)), &exported); err != nil {
				t.Fatal(err)
			}
			if exported["ARG"] != arg || exported["STDIN"] != stdin || exported["FILE"] != file {
				t.Errorf("resolved values = %q", exported)
			}

			out = c.ok(cmd("unset", "ARG", "STDIN")...)
			if !strings.Contains(out, "Deleted ARG") || !strings.Contains(out, "Deleted STDIN") {
				t.Errorf("unset says %q", out)
			}
			if got := names(c.ok(cmd("list")...)); !slices.Equal(got, []string{"FILE"}) {
				t.Errorf("after unset, list = %v", got)
			}
			c.fails(exitNotFound, "ARG not found", cmd("unset", "ARG")...)
		})
	}

	t.Run("the layers stay apart", func(t *testing.T) {
		for _, args := range [][]string{{"org", "secrets", "list"}, {"secrets", "list", "--app", "web"}, {"secrets", "list", "--app", "web", "--machine", "web-1"}} {
			if got := names(c.ok(args...)); !slices.Equal(got, []string{"FILE"}) {
				t.Errorf("%v = %v, want only FILE", args, got)
			}
		}
		c.fails(exitUsage, "--app is required", "secrets", "list")
		c.fails(exitUsage, "--app is required", "secrets", "set", "X=1")
		c.fails(exitUsage, "unknown flag: --app", "org", "secrets", "list", "--app", "web")
	})
}

func TestSetReadsValuesWithoutPrintingThem(t *testing.T) {
	_, c := serveCLI(t)
	c.fails(exitUsage, "A has no value: write A=VALUE", "org", "secrets", "set", "A")
	r := c.fails(exitUsage, "argument 1 is not NAME=VALUE", "org", "secrets", "set", "s3cr3t-pasted-alone")
	noValues(t, "set", r.stderr, "s3cr3t")
	r = c.fails(exitUsage, "argument 1: name:", "org", "secrets", "set", "1BAD=s3cr3t-value")
	noValues(t, "set", r.stderr, "s3cr3t")
	c.fails(exitUsage, "only one value can come from stdin", "org", "secrets", "set", "A=-", "B=-")
	c.fails(exitUsage, "A is given twice", "org", "secrets", "set", "A=1", "A=2")
	c.fails(exitUsage, "the value is empty", "org", "secrets", "set", "A=")
	c.fails(exitError, "no such file", "org", "secrets", "set", "A=@/nonexistent/file")
	// A value that starts with @ by mistake is not echoed as a path.
	r = c.fails(exitError, "the file after @ cannot be read", "org", "secrets", "set", "DB_PASS=@Sup3rS3cret-pw")
	noValues(t, "set", r.stderr, "Sup3rS3cret")
	c.fails(exitUsage, "must be development, staging or production", "org", "secrets", "set", "A=1", "--env", "qa")
	// Nothing was written by any of these.
	if out := c.ok("org", "secrets", "list", "-o", "json"); !strings.Contains(out, `"secrets": []`) {
		t.Errorf("list after refused sets = %s", out)
	}
}

func TestShowHistoryAndRestoreShowMasksOnly(t *testing.T) {
	_, c := serveCLI(t)
	v1, v2 := "sk_live_first-version-51HxRgA1", "sk_live_second-version-77ZqPw0X"
	c.ok("secrets", "set", "--app", "web", "STRIPE_KEY="+v1)
	c.ok("secrets", "set", "--app", "web", "STRIPE_KEY="+v2, "--env", "production")

	show := c.ok("secrets", "show", "STRIPE_KEY", "--app", "web")
	for _, want := range []string{"STRIPE_KEY", "version", "sk_live_***RgA1", "sk_live_***Pw0X", "you may modify  yes"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	showJSON := c.ok("secrets", "show", "STRIPE_KEY", "--app", "web", "-o", "json")
	history := c.ok("secrets", "history", "STRIPE_KEY", "--app", "web")
	historyJSON := c.ok("secrets", "history", "STRIPE_KEY", "--app", "web", "-o", "json")
	if got := rows(history); len(got) != 3 || got[1][0] != "2" || got[1][1] != "(current)" || got[2][0] != "1" {
		t.Errorf("history:\n%s", history)
	}
	for what, out := range map[string]string{"show": show, "show -o json": showJSON, "history": history, "history -o json": historyJSON} {
		noValues(t, what, out, v1, v2, "first-version", "second-version")
	}
	c.fails(exitNotFound, "STRIPE_KEY not found at the global layer", "secrets", "show", "STRIPE_KEY")

	out := c.ok("secrets", "restore", "STRIPE_KEY", "--app", "web", "--version", "1")
	if !strings.Contains(out, "version 1, as version 3") {
		t.Errorf("restore says %q", out)
	}
	noValues(t, "restore", out, v1, v2)
	c.fails(exitUsage, `required flag(s) "version" not set`, "secrets", "restore", "STRIPE_KEY", "--app", "web")
	c.fails(exitNotFound, "", "secrets", "restore", "STRIPE_KEY", "--app", "web", "--version", "9")
	var detail struct {
		Version int               `json:"version"`
		Masked  map[string]string `json:"masked"`
	}
	if err := json.Unmarshal([]byte(c.ok("secrets", "show", "STRIPE_KEY", "--app", "web", "-o", "json")), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Version != 3 || detail.Masked["production"] != "sk_live_***RgA1" {
		t.Errorf("after restore: %+v", detail)
	}
}

// TestNoValueIsPrinted sets values at every layer and environment, then
// runs every command that lists, shows or compares them, in both output
// formats, and looks for the values in everything printed.
func TestNoValueIsPrinted(t *testing.T) {
	_, c := serveCLI(t)
	c.ok("org", "settings", "--user-resolve-environments", "development,staging,production")
	var values []string
	for i, layer := range [][]string{{"org", "secrets", "set"}, {"secrets", "set", "--app", "web"}, {"secrets", "set", "--app", "web", "--machine", "web-1"}} {
		for _, env := range []string{"development", "staging", "production"} {
			v := fmt.Sprintf("plaintext-%d-%s-Zq81", i, env)
			values = append(values, v)
			c.ok(append(layer, "SHARED="+v, fmt.Sprintf("ONLY_%d=%s-only", i, v), "--env", env)...)
		}
	}
	var commands [][]string
	for _, layer := range [][]string{{"org", "secrets"}, {"secrets", "--app", "web"}, {"secrets", "--app", "web", "--machine", "web-1"}} {
		for _, sub := range [][]string{{"list"}, {"show", "SHARED"}, {"history", "SHARED"}} {
			commands = append(commands, append(append([]string{}, layer...), sub...))
		}
	}
	commands = append(commands,
		[]string{"diff", "staging", "production"},
		[]string{"diff", "--app", "web", "development", "production"},
		[]string{"diff", "--app", "web", "--machine", "web-1", "staging", "production"},
		[]string{"audit"},
		[]string{"import", writeFile(t, "x.env", "SHARED="+values[0]+"\nNEW=plaintext-new-Zq81\n"), "--env", "production", "--app", "web", "--dry-run"},
	)
	values = append(values, "plaintext-new-Zq81", "plaintext-")
	for _, args := range commands {
		for _, format := range []string{"table", "json"} {
			r := c.run(append(args, "-o", format)...)
			if r.code != 0 {
				t.Fatalf("zwrm %v: exit %d: %s", args, r.code, r.stderr)
			}
			noValues(t, strings.Join(args, " "), r.stdout+r.stderr, values...)
		}
	}
}

func TestRotateSetsAndRemovesAPolicyWithoutPrintingValues(t *testing.T) {
	_, c := serveCLI(t)
	const value = "db-password-that-stays-secret-42"
	c.ok("secrets", "set", "--app", "web", "DB_PASSWORD="+value)

	out := c.ok("secrets", "rotate", "DB_PASSWORD", "--app", "web", "--every", "30d", "--env", "production,staging", "--length", "40")
	if !strings.Contains(out, "rotates every 30d (staging,production)") && !strings.Contains(out, "rotates every 30d (production,staging)") {
		t.Errorf("rotate says %q", out)
	}
	show := c.ok("secrets", "show", "DB_PASSWORD", "--app", "web")
	if !strings.Contains(show, "every 30d") {
		t.Errorf("show lacks the policy:\n%s", show)
	}
	var detail struct {
		Rotation *struct {
			Every  string `json:"every"`
			Length int    `json:"length"`
		} `json:"rotation"`
	}
	if err := json.Unmarshal([]byte(c.ok("secrets", "show", "DB_PASSWORD", "--app", "web", "-o", "json")), &detail); err != nil {
		t.Fatal(err)
	}
	if detail.Rotation == nil || detail.Rotation.Every != "30d" || detail.Rotation.Length != 40 {
		t.Errorf("policy = %+v", detail.Rotation)
	}
	c.fails(exitUsage, "--every", "secrets", "rotate", "DB_PASSWORD", "--app", "web")
	c.fails(exitUsage, "--env is required", "secrets", "rotate", "DB_PASSWORD", "--app", "web", "--every", "1d")
	c.fails(exitUsage, "every", "secrets", "rotate", "DB_PASSWORD", "--app", "web", "--every", "5x", "--env", "production")

	off := c.ok("secrets", "rotate", "DB_PASSWORD", "--app", "web", "--off")
	if !strings.Contains(off, "no longer rotates") {
		t.Errorf("rotate --off says %q", off)
	}
	c.fails(exitNotFound, "no rotation policy", "secrets", "rotate", "DB_PASSWORD", "--app", "web", "--off")
	noValues(t, "rotate", out+show+off, value)
}
