package main

import (
	"crypto/sha256"
	"fmt"
	"sort"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/internal/secrets"
)

func newDiff(a *app) *cobra.Command {
	lf := &layerFlags{}
	cmd := &cobra.Command{
		Use:   "diff [--app APP] [--machine M] ENV1 ENV2",
		Short: "Compare two environments' resolved secrets by name and by hash, never printing a value",
		Long: `Resolve two environments at a layer (global without --app) and list the names
present in only one of them and the names whose values differ. Values are
compared by their SHA-256 digests here, and never printed.

User tokens resolve development only unless the organization allows more
(zwrm org settings --user-resolve-environments); a service token in ZWRM_TOKEN
resolves the environments it is scoped to.`,
		Example: `  zwrm diff --app web staging production`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			envA, err := parseEnv(args[0])
			if err != nil {
				return err
			}
			envB, err := parseEnv(args[1])
			if err != nil {
				return err
			}
			if envA == envB {
				return usagef("name two different environments")
			}
			layer, err := lf.layer()
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			digests := map[secrets.Environment]map[string][32]byte{}
			for _, env := range []secrets.Environment{envA, envB} {
				res, err := cl.Resolve(cmd.Context(), env, layer)
				if err != nil {
					return fmt.Errorf("resolve %s: %w", env, resolveHint(err, env))
				}
				d := make(map[string][32]byte, len(res.Secrets))
				for name, v := range res.Secrets {
					d[name] = sha256.Sum256([]byte(v))
				}
				digests[env] = d
			}
			onlyA, onlyB, differ, same := []string{}, []string{}, []string{}, []string{}
			for name, da := range digests[envA] {
				db, ok := digests[envB][name]
				switch {
				case !ok:
					onlyA = append(onlyA, name)
				case da != db:
					differ = append(differ, name)
				default:
					same = append(same, name)
				}
			}
			for name := range digests[envB] {
				if _, ok := digests[envA][name]; !ok {
					onlyB = append(onlyB, name)
				}
			}
			for _, l := range [][]string{onlyA, onlyB, differ, same} {
				sort.Strings(l)
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]any{
					"layer":        layerName(layer),
					"environments": []secrets.Environment{envA, envB},
					"only_in":      map[secrets.Environment][]string{envA: onlyA, envB: onlyB},
					"different":    differ,
					"same":         same,
				})
			}
			if len(onlyA)+len(onlyB)+len(differ) == 0 {
				fmt.Fprintf(a.stdout, "No differences: %d names, each with the same value in %s and %s (%s layer)\n", len(same), envA, envB, layerName(layer))
				return nil
			}
			tb := a.table("NAME", "DIFFERENCE")
			rows := map[string]string{}
			for _, n := range onlyA {
				rows[n] = "only in " + string(envA)
			}
			for _, n := range onlyB {
				rows[n] = "only in " + string(envB)
			}
			for _, n := range differ {
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
				len(onlyA), envA, len(onlyB), envB, len(differ), len(same), layerName(layer))
			return nil
		},
	}
	lf.add(cmd)
	return cmd
}
