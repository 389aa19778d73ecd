package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func newDiff(a *app) *cobra.Command {
	lf := &layerFlags{}
	var exitOnDiff bool
	cmd := &cobra.Command{
		Use:   "diff [--app APP] [--machine M] [--exit-code] ENV1 ENV2",
		Short: "Compare two environments' resolved secrets by name and by hash, never printing a value",
		Long: `Resolve two environments at a layer (global without --app) and list the names
present in only one of them and the names whose values differ. Values are
compared by their SHA-256 digests here, and never printed.

User tokens resolve development only unless the organization allows more
(zwrm org settings --user-resolve-environments); a service token in ZWRM_TOKEN
resolves the environments it is scoped to.`,
		Example: `  zwrm diff --app web staging production
  zwrm diff --exit-code staging production || echo "staging and production differ"`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			plan, err := planDiff(args[0], args[1], lf)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			digests := map[secrets.Environment]map[string][32]byte{}
			for _, env := range []secrets.Environment{plan.a, plan.b} {
				if digests[env], err = resolveDigests(cmd.Context(), cl, env, plan.layer); err != nil {
					return err
				}
			}
			d := compareDigests(digests[plan.a], digests[plan.b])
			if err := a.printDiff(plan, d); err != nil {
				return err
			}
			if exitOnDiff && (len(d.onlyA)+len(d.onlyB)+len(d.differ) > 0) {
				return &exitStatus{code: exitError} // the difference is the output: nothing to add
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&exitOnDiff, "exit-code", false, "exit 1 when the environments differ (as git diff --exit-code), 0 when they match")
	lf.add(cmd)
	return cmd
}

// diffPlan is two different environments at a layer.
type diffPlan struct {
	a, b  secrets.Environment
	layer secrets.Layer
}

func planDiff(envA, envB string, lf *layerFlags) (diffPlan, error) {
	a, err := parseEnv(envA)
	if err != nil {
		return diffPlan{}, err
	}
	b, err := parseEnv(envB)
	if err != nil {
		return diffPlan{}, err
	}
	if a == b {
		return diffPlan{}, usagef("name two different environments")
	}
	layer, err := lf.layer()
	if err != nil {
		return diffPlan{}, err
	}
	return diffPlan{a: a, b: b, layer: layer}, nil
}

// resolveDigests resolves env at layer and keeps only each value's
// SHA-256 digest.
func resolveDigests(ctx context.Context, cl *client.Client, env secrets.Environment, layer secrets.Layer) (map[string][32]byte, error) {
	res, err := cl.Resolve(ctx, env, layer)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", env, resolveHint(ctx, cl, err, env))
	}
	d := make(map[string][32]byte, len(res.Secrets))
	for name, v := range res.Secrets {
		d[name] = sha256.Sum256([]byte(v))
	}
	return d, nil
}

// difference is how two environments' names compare, each list sorted.
type difference struct {
	onlyA, onlyB, differ, same []string
}

func compareDigests(a, b map[string][32]byte) difference {
	d := difference{onlyA: []string{}, onlyB: []string{}, differ: []string{}, same: []string{}}
	for name, da := range a {
		db, ok := b[name]
		switch {
		case !ok:
			d.onlyA = append(d.onlyA, name)
		case da != db:
			d.differ = append(d.differ, name)
		default:
			d.same = append(d.same, name)
		}
	}
	for name := range b {
		if _, ok := a[name]; !ok {
			d.onlyB = append(d.onlyB, name)
		}
	}
	for _, l := range [][]string{d.onlyA, d.onlyB, d.differ, d.same} {
		sort.Strings(l)
	}
	return d
}

func (a *app) printDiff(plan diffPlan, d difference) error {
	envA, envB, layer := plan.a, plan.b, plan.layer
	if a.jsonOutput() {
		return a.printJSON(map[string]any{
			"layer":        layerName(layer),
			"environments": []secrets.Environment{envA, envB},
			"only_in":      map[secrets.Environment][]string{envA: d.onlyA, envB: d.onlyB},
			"different":    d.differ,
			"same":         d.same,
		})
	}
	if len(d.onlyA)+len(d.onlyB)+len(d.differ) == 0 {
		fmt.Fprintf(a.stdout, "No differences: %d names, each with the same value in %s and %s (%s layer)\n", len(d.same), envA, envB, layerName(layer))
		return nil
	}
	tb := a.table("NAME", "DIFFERENCE")
	rows := map[string]string{}
	for _, n := range d.onlyA {
		rows[n] = "only in " + string(envA)
	}
	for _, n := range d.onlyB {
		rows[n] = "only in " + string(envB)
	}
	for _, n := range d.differ {
		rows[n] = "values differ"
	}
	names := make([]string, 0, len(rows))
	for n := range rows {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		tb.row(n, rows[n])
	}
	if err := tb.flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d only in %s, %d only in %s, %d differ, %d the same (%s layer)\n",
		len(d.onlyA), envA, len(d.onlyB), envB, len(d.differ), len(d.same), layerName(layer))
	return nil
}
