package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func (a *app) jsonOutput() bool { return a.output == "json" }

// printJSON writes v as indented JSON on stdout.
func (a *app) printJSON(v any) error {
	enc := json.NewEncoder(a.stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// note writes a line for people on stderr, so stdout stays the output.
// Its arguments may come from the server: terminal controls are removed.
func (a *app) note(format string, args ...any) {
	fmt.Fprint(a.stderr, client.StripControls(fmt.Sprintf(format, args...))+"\n")
}

// say writes a line for people on stdout, terminal controls removed (its
// arguments may come from the server).
func (a *app) say(format string, args ...any) {
	fmt.Fprint(a.stdout, client.StripControls(fmt.Sprintf(format, args...))+"\n")
}

// table writes aligned columns on stdout.
type table struct{ tw *tabwriter.Writer }

func (a *app) table(header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(a.stdout, 0, 8, 2, ' ', 0)}
	if len(header) > 0 {
		t.row(header...)
	}
	return t
}

func (t *table) row(cols ...string) {
	for i, c := range cols {
		cols[i] = cell(c)
	}
	fmt.Fprintln(t.tw, strings.Join(cols, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// cell keeps a table cell on one line and harmless to a terminal: escape
// sequences and control characters (say, in a description or an owner's
// name the server sent) are removed, tabs and newlines become spaces.
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, client.StripControls(s))
}

func ts(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04:05Z")
}

func tsp(t *time.Time) string {
	if t == nil {
		return "-"
	}
	return ts(*t)
}

func who(p client.Principal) string {
	switch {
	case p.Name != "" && p.Subject != "" && p.Name != p.Subject:
		return p.Name + " <" + p.Subject + ">"
	case p.Name != "":
		return p.Name
	}
	return p.Subject
}

func layerName(l secrets.Layer) string {
	switch {
	case l.Machine != "":
		return l.App + "/" + l.Machine
	case l.App != "":
		return l.App
	}
	return "global"
}

func envNames(envs []secrets.Environment) string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = string(e)
	}
	return strings.Join(out, ",")
}

// parseEnv reads an environment name, accepting the usual short forms.
func parseEnv(s string) (secrets.Environment, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "development", "dev":
		return secrets.Development, nil
	case "staging", "stage", "stg":
		return secrets.Staging, nil
	case "production", "prod":
		return secrets.Production, nil
	}
	return "", usagef("environment %q: must be development, staging or production", s)
}

func parseEnvs(list []string) ([]secrets.Environment, error) {
	var out []secrets.Environment
	for _, s := range list {
		env, err := parseEnv(s)
		if err != nil {
			return nil, err
		}
		out = append(out, env)
	}
	return out, nil
}

func fixedCompletion(words ...string) func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return func(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
		return words, cobra.ShellCompDirectiveNoFileComp
	}
}

var envCompletion = fixedCompletion("development", "staging", "production")

// layerFlags are --app and --machine.
type layerFlags struct {
	app, machine string
	global       bool // zwrm org secrets: no flags, always the global layer
	requireApp   bool // the app and machine commands: the global layer has its own (zwrm org secrets)
}

func (l *layerFlags) add(cmd *cobra.Command) {
	if l.global {
		return
	}
	what := "app id (omit for the global layer)"
	if l.requireApp {
		what = "app id (required; global secrets are under zwrm org secrets)"
	}
	cmd.Flags().StringVar(&l.app, "app", "", what)
	cmd.Flags().StringVar(&l.machine, "machine", "", "machine id of the app")
}

func (l *layerFlags) layer() (secrets.Layer, error) {
	if l.global {
		return secrets.Global, nil
	}
	if l.requireApp && l.app == "" {
		return secrets.Layer{}, usagef("--app is required; for global secrets use zwrm org secrets")
	}
	layer, err := secrets.NewLayer(l.app, l.machine)
	return layer, invalid(err)
}
