package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// maxImportBytes bounds the .env file read.
const maxImportBytes = 16 << 20

func newImport(a *app) *cobra.Command {
	var envName string
	var dryRun bool
	lf := &layerFlags{}
	cmd := &cobra.Command{
		Use:   "import FILE --env ENV [--app APP] [--machine M] [--dry-run]",
		Short: "Set the secrets of a .env file for one environment at a layer",
		Long: `Read a .env file (FILE, or - for stdin) and set each NAME=VALUE for one
environment at the layer (global without --app). Quotes, escapes, "export"
prefixes, comments and blank lines are understood; variables are not expanded.

The report says, per name, whether the secret was created, updated, or
unchanged (already holding that value for the environment at this layer; no
new version is written). Unchanged needs the current values: they are read
with a resolve at the layer itself, where a value the layer holds always wins,
so the comparison is exact. If the token may not resolve that environment,
existing secrets are counted as updated. Empty values are skipped (a secret
holds 1 byte or more). --dry-run reports without writing. Values are never
printed.`,
		Example: `  zwrm import .env --env development --app web
  zwrm import - --env staging --app web --dry-run < staging.env`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := planAtLayer(envName, lf)
			if err != nil {
				return err
			}
			entries, err := a.readDotenv(args[0])
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			plan, err := planImport(cmd.Context(), cl, at, entries)
			if err != nil {
				return err
			}
			plan.DryRun = dryRun
			a.noteImport(plan, at)
			var failed error
			if !dryRun {
				failed = applyImport(cmd.Context(), cl, at, plan)
			}
			if err := a.printImport(plan, at); err != nil {
				return err
			}
			return failed
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "environment to set: development, staging or production")
	cmd.Flags().BoolVar(&dryRun, "dry-run", false, "report what would change, write nothing")
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	// A write names its environment itself: .zwrm.yaml's never chooses it.
	cmd.Annotations = map[string]string{noEnvDefault: "true"}
	lf.add(cmd)
	return cmd
}

// importPlan is what an import does, name by name; never a value.
type importPlan struct {
	Environment secrets.Environment `json:"environment"`
	Layer       string              `json:"layer"`
	DryRun      bool                `json:"dry_run"`
	Compared    bool                `json:"compared"`
	Results     []importResult      `json:"results"`
	Skipped     []string            `json:"skipped"`
	values      map[string]string
}

type importResult struct {
	Name    string `json:"name"`
	Result  string `json:"result"` // created, updated or unchanged
	Version int64  `json:"version,omitempty"`
}

// planImport decides, for each entry, created, updated or unchanged. A
// resolve at the target layer itself returns the layer's own value for
// every name the layer holds a value for (the top layer of a resolve
// wins), so comparing with it is exact for those names; a name the layer
// holds without a value for env is an update, one it does not hold a
// creation.
func planImport(ctx context.Context, cl *client.Client, at atLayer, entries []dotenvEntry) (*importPlan, error) {
	env, layer := at.env, at.layer
	plan := &importPlan{Environment: env, Layer: layerName(layer), Compared: true, Results: []importResult{}, Skipped: []string{}, values: map[string]string{}}
	rows, err := cl.ListSecrets(ctx, layer)
	if err != nil {
		return nil, err
	}
	existing := map[string]client.Secret{}
	needValues := false
	for _, r := range rows {
		existing[r.Name] = r
	}
	for _, e := range entries {
		if r, ok := existing[e.name]; ok && r.Environments.Has(env) {
			needValues = true
		}
	}
	var current map[string]string
	if needValues {
		res, err := cl.Resolve(ctx, env, layer)
		switch {
		case client.IsStatus(err, 403):
			plan.Compared = false
		case err != nil:
			return nil, err
		default:
			current = res.Secrets
		}
	}
	for _, e := range entries {
		if e.value == "" {
			plan.Skipped = append(plan.Skipped, e.name)
			continue
		}
		if len(e.value) > secrets.MaxValueBytes {
			return nil, usagef("line %d: %s is over %d KiB, the most a value may hold", e.line, e.name, secrets.MaxValueBytes>>10)
		}
		if !utf8.ValidString(e.value) {
			return nil, usagef("line %d: the value of %s is not UTF-8 text", e.line, e.name)
		}
		plan.values[e.name] = e.value
		r, ok := existing[e.name]
		result := "created"
		switch {
		case !ok:
		case r.Environments.Has(env) && current != nil && current[e.name] == e.value:
			result = "unchanged"
		default:
			result = "updated"
		}
		plan.Results = append(plan.Results, importResult{Name: e.name, Result: result})
	}
	return plan, nil
}

// noteImport says on stderr what the plan leaves out.
func (a *app) noteImport(plan *importPlan, at atLayer) {
	for _, name := range plan.Skipped {
		a.note("skipped %s: its value is empty", name)
	}
	if !plan.Compared {
		a.note("note: this token may not resolve %s, so existing secrets could not be compared and are counted as updated", at.env)
	}
}

// applyImport sets each value the plan creates or updates, in order. At
// the first failure it stops, and the plan keeps only the names before
// it, which were imported.
func applyImport(ctx context.Context, cl *client.Client, at atLayer, plan *importPlan) error {
	for i := range plan.Results {
		r := &plan.Results[i]
		if r.Result == "unchanged" {
			continue
		}
		s, _, err := cl.SetLayerSecret(ctx, at.layer, r.Name, plan.values[r.Name], at.env)
		if err != nil {
			plan.Results = plan.Results[:i]
			return fmt.Errorf("%s: %w (the names before it were imported)", r.Name, err)
		}
		r.Version = s.Version
	}
	return nil
}

// printImport reports the plan, as JSON or as a table and a summary.
func (a *app) printImport(plan *importPlan, at atLayer) error {
	if a.jsonOutput() {
		return a.printJSON(plan)
	}
	counts := map[string]int{}
	if len(plan.Results) > 0 {
		tb := a.table("NAME", "RESULT", "VERSION")
		for _, r := range plan.Results {
			counts[r.Result]++
			version := "-"
			if r.Version > 0 {
				version = fmt.Sprint(r.Version)
			}
			tb.row(r.Name, r.Result, version)
		}
		if err := tb.flush(); err != nil {
			return err
		}
	}
	summary := fmt.Sprintf("%d created, %d updated, %d unchanged", counts["created"], counts["updated"], counts["unchanged"])
	if len(plan.Skipped) > 0 {
		summary += fmt.Sprintf(", %d skipped", len(plan.Skipped))
	}
	summary += fmt.Sprintf(" (%s, %s layer)", at.env, layerName(at.layer))
	if plan.DryRun {
		summary += "; dry run: nothing written"
	}
	fmt.Fprintln(a.stdout, summary)
	return nil
}

// readDotenv reads and parses the .env file FILE (or stdin for "-").
func (a *app) readDotenv(path string) ([]dotenvEntry, error) {
	src, err := a.readFileArg(path)
	if err != nil {
		return nil, err
	}
	entries, err := parseDotenv(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return entries, nil
}

// readFileArg reads FILE, or stdin for "-".
func (a *app) readFileArg(path string) (string, error) {
	var r io.Reader = a.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxImportBytes+1))
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	if len(b) > maxImportBytes {
		return "", usagef("%s is over %d MiB", path, maxImportBytes>>20)
	}
	return string(b), nil
}
