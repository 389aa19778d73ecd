package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// newOrg is `zwrm org`: the global layer's secrets and the org's settings.
func newOrg(a *app) *cobra.Command {
	org := group("org", "Organization-wide (global) secrets and settings")
	sec := group("secrets", "Global secrets, inherited by every app and machine (set, get, list, unset, show, history, restore)")
	sec.AddCommand(layerCommands(a, false)...)
	org.AddCommand(sec, newOrgSettings(a))
	return org
}

// newSecrets is `zwrm secrets`: the same commands at an app or a machine.
func newSecrets(a *app) *cobra.Command {
	sec := group("secrets", "App and machine secrets: --app APP [--machine M] (set, get, list, unset, show, history, restore)")
	sec.AddCommand(layerCommands(a, true)...)
	sec.AddCommand(newEffectiveCmd(a))
	return sec
}

// layerCommands are the commands on one layer's secrets. For the global
// layer (zwrm org secrets) they take no --app or --machine; for apps and
// machines (zwrm secrets) set, list and unset require --app, so a
// forgotten flag does not write to the global layer, while show, history
// and restore also find global secrets without one.
func layerCommands(a *app, appLayer bool) []*cobra.Command {
	lf := func(require bool) *layerFlags { return &layerFlags{global: !appLayer, requireApp: require} }
	return []*cobra.Command{newSetCmd(a, lf(true)), newListCmd(a, lf(true)), newUnsetCmd(a, lf(true)),
		newGetCmd(a, lf(false)), newShowCmd(a, lf(false)), newHistoryCmd(a, lf(false)), newRestoreCmd(a, lf(false)), newRotateCmd(a, lf(false))}
}

func newSetCmd(a *app, lf *layerFlags) *cobra.Command {
	var envName string
	var allEnvs bool
	cmd := &cobra.Command{
		Use:   "set NAME=VALUE [NAME=VALUE...]",
		Short: "Create or update secrets (all environments, or one with --env)",
		Long: `Create or update secrets at the layer: all three environments get the value,
or only the one named with --env. Values are never printed.

Without --env, a secret whose environments already hold different values is
refused (exit 2, nothing changed): pass --env to set one environment, or
--all-environments to replace them all.

NAME=- reads the value from stdin (on a terminal, a prompt without echo; one
trailing newline is dropped) and NAME=@FILE reads it from a file (exactly its
bytes), so a value need not sit in shell history. A value that is exactly '-'
or starts with '@' has to come from stdin or a file.`,
		Example: `  zwrm org secrets set DATADOG_API_KEY=@./datadog.key LOG_LEVEL=info
  pbpaste | zwrm secrets set --app web STRIPE_KEY=- --env production`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			layer, env, err := planSet(lf, envName, allEnvs)
			if err != nil {
				return err
			}
			assignments, err := a.readAssignments(args)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			results, failed := callSet(cmd.Context(), cl, layer, env, !allEnvs, assignments)
			return orFailed(a.printSet(results), failed)
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "set only this environment: development, staging or production")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	cmd.Annotations = map[string]string{noEnvDefault: "true"}
	cmd.Flags().BoolVar(&allEnvs, "all-environments", false, "without --env: replace every environment's value even where they differ")
	lf.add(cmd)
	return cmd
}

// planSet reads the layer and the environment to set ("" for all).
func planSet(lf *layerFlags, envName string, allEnvs bool) (secrets.Layer, secrets.Environment, error) {
	layer, err := lf.layer()
	if err != nil {
		return secrets.Layer{}, "", err
	}
	if allEnvs && envName != "" {
		return secrets.Layer{}, "", usagef("--env and --all-environments contradict each other: pass one")
	}
	if envName == "" {
		return layer, "", nil
	}
	env, err := parseEnv(envName)
	return layer, env, err
}

// setResult is what setting one name did.
type setResult struct {
	Name        string              `json:"name"`
	Layer       string              `json:"layer"`
	Environment secrets.Environment `json:"environment,omitempty"`
	Created     bool                `json:"created"`
	Version     int64               `json:"version"`
}

// callSet sets each assignment in order, stopping at the first failure;
// the results are the names set before it. With onlyIfSame and no env,
// the server refuses to replace values that differ per environment.
func callSet(ctx context.Context, cl *client.Client, layer secrets.Layer, env secrets.Environment, onlyIfSame bool, assignments []assignment) ([]setResult, error) {
	var results []setResult
	for _, as := range assignments {
		s, created, err := cl.SetLayerSecretWith(ctx, layer, client.SetLayerSecretRequest{Name: as.name, Value: as.value, Environment: env, OnlyIfSame: onlyIfSame && env == ""})
		var ce *client.Error
		if errors.As(err, &ce) && ce.Field == "only_if_same" {
			why := strings.TrimPrefix(ce.Message, ce.Field+": ")
			return results, usagef("%s; nothing changed: pass --env ENV to set one environment, or --all-environments to replace them all", why)
		}
		if err != nil {
			return results, fmt.Errorf("%s: %w", as.name, err)
		}
		results = append(results, setResult{Name: s.Name, Layer: layerName(layer), Environment: env, Created: created, Version: s.Version})
	}
	return results, nil
}

func (a *app) printSet(results []setResult) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]any{"secrets": results})
	}
	if len(results) == 0 {
		return nil
	}
	tb := a.table("NAME", "LAYER", "ENVIRONMENT", "RESULT", "VERSION")
	for _, r := range results {
		what, envs := "updated", "all"
		if r.Created {
			what = "created"
		}
		if r.Environment != "" {
			envs = string(r.Environment)
		}
		tb.row(r.Name, r.Layer, envs, what, fmt.Sprint(r.Version))
	}
	return tb.flush()
}

// orFailed is the error of a command that reports what it did before a
// failure: printing's own error first, else the failure.
func orFailed(printErr, failed error) error {
	if printErr != nil {
		return printErr
	}
	return failed
}

func newListCmd(a *app, lf *layerFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the layer's secrets: names, versions and times, never values",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			layer, err := lf.layer()
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			list, err := cl.ListLayerSecrets(cmd.Context(), layer)
			if err != nil {
				return err
			}
			return a.printList(layer, list)
		},
	}
	lf.add(cmd)
	return cmd
}

func (a *app) printList(layer secrets.Layer, list []client.LayerSecret) error {
	if a.jsonOutput() {
		if list == nil {
			list = []client.LayerSecret{}
		}
		return a.printJSON(map[string]any{"secrets": list})
	}
	if len(list) == 0 {
		a.note("No secrets at the %s layer.", layer)
		return nil
	}
	tb := a.table("NAME", "VERSION", "CREATED", "UPDATED")
	for _, s := range list {
		tb.row(s.Name, fmt.Sprint(s.Version), ts(s.CreatedAt), ts(s.UpdatedAt))
	}
	return tb.flush()
}

func newUnsetCmd(a *app, lf *layerFlags) *cobra.Command {
	var envName string
	cmd := &cobra.Command{
		Use:   "unset NAME [NAME...] [--env ENV]",
		Short: "Delete secrets (every environment, and their history), or clear one environment's value with --env",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			layer, err := planUnset(lf, args)
			if err != nil {
				return err
			}
			var env secrets.Environment
			if envName != "" {
				if env, err = parseEnv(envName); err != nil {
					return err
				}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			if env != "" {
				cleared, failed := callClear(cmd.Context(), cl, layer, env, args)
				return orFailed(a.printCleared(layer, env, cleared), failed)
			}
			deleted, failed := callUnset(cmd.Context(), cl, layer, args)
			return orFailed(a.printUnset(layer, deleted), failed)
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "clear only this environment's value (a new version; the others and the history stay)")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	cmd.Annotations = map[string]string{noEnvDefault: "true"}
	lf.add(cmd)
	return cmd
}

// callClear clears env's value of each name, in order, as a new version,
// stopping at the first failure; it returns the names cleared before it.
// A name with no value in env is refused before anything else changes.
func callClear(ctx context.Context, cl *client.Client, layer secrets.Layer, env secrets.Environment, names []string) ([]string, error) {
	cleared := []string{}
	for _, name := range names {
		row, err := cl.SecretByName(ctx, layer, name)
		if err != nil {
			return cleared, fmt.Errorf("%s: %w", name, err)
		}
		if !row.Environments.Has(env) {
			return cleared, usagef("%s has no %s value at the %s layer: nothing to clear", name, env, layer)
		}
		in := client.UpdateSecretRequest{Version: row.Version, Values: client.EnvironmentValues{env: nil}}
		if _, err := cl.UpdateSecret(ctx, row.ID, in); err != nil {
			return cleared, fmt.Errorf("%s: %w", name, err)
		}
		cleared = append(cleared, name)
	}
	return cleared, nil
}

func (a *app) printCleared(layer secrets.Layer, env secrets.Environment, cleared []string) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]any{"layer": layerName(layer), "environment": env, "cleared": cleared})
	}
	for _, name := range cleared {
		fmt.Fprintf(a.stdout, "Cleared %s's %s value at the %s layer\n", name, env, layer)
	}
	return nil
}

// planUnset reads the layer and checks every name before deleting any.
func planUnset(lf *layerFlags, names []string) (secrets.Layer, error) {
	layer, err := lf.layer()
	if err != nil {
		return secrets.Layer{}, err
	}
	for _, name := range names {
		if err := secrets.ValidateName(name); err != nil {
			return secrets.Layer{}, invalid(err)
		}
	}
	return layer, nil
}

// callUnset deletes names in order, stopping at the first failure; it
// returns the names deleted before it.
func callUnset(ctx context.Context, cl *client.Client, layer secrets.Layer, names []string) ([]string, error) {
	deleted := []string{}
	for _, name := range names {
		if err := cl.DeleteLayerSecret(ctx, layer, name); err != nil {
			return deleted, err
		}
		deleted = append(deleted, name)
	}
	return deleted, nil
}

func (a *app) printUnset(layer secrets.Layer, deleted []string) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]any{"layer": layerName(layer), "deleted": deleted})
	}
	for _, name := range deleted {
		fmt.Fprintf(a.stdout, "Deleted %s at the %s layer\n", name, layer)
	}
	return nil
}
