package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// newOrg is `zwrm org`: the global layer's secrets and the org's settings.
func newOrg(a *app) *cobra.Command {
	org := group("org", "Organization-wide (global) secrets and settings")
	sec := group("secrets", "Global secrets, inherited by every app and machine (set, list, unset, show, history, restore)")
	sec.AddCommand(layerCommands(a, false)...)
	org.AddCommand(sec, newOrgSettings(a))
	return org
}

// newSecrets is `zwrm secrets`: the same commands at an app or a machine.
func newSecrets(a *app) *cobra.Command {
	sec := group("secrets", "App and machine secrets: --app APP [--machine M] (set, list, unset, show, history, restore)")
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
		newShowCmd(a, lf(false)), newHistoryCmd(a, lf(false)), newRestoreCmd(a, lf(false)), newRotateCmd(a, lf(false))}
}

func newSetCmd(a *app, lf *layerFlags) *cobra.Command {
	var envName string
	cmd := &cobra.Command{
		Use:   "set NAME=VALUE [NAME=VALUE...]",
		Short: "Create or update secrets (all environments, or one with --env)",
		Long: `Create or update secrets at the layer: all three environments get the value,
or only the one named with --env. Values are never printed.

NAME=- reads the value from stdin (on a terminal, a prompt without echo; one
trailing newline is dropped) and NAME=@FILE reads it from a file (exactly its
bytes), so a value need not sit in shell history. A value that is exactly '-'
or starts with '@' has to come from stdin or a file.`,
		Example: `  zwrm org secrets set DATADOG_API_KEY=@./datadog.key LOG_LEVEL=info
  pbpaste | zwrm secrets set --app web STRIPE_KEY=- --env production`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			layer, err := lf.layer()
			if err != nil {
				return err
			}
			var env secrets.Environment
			if envName != "" {
				if env, err = parseEnv(envName); err != nil {
					return err
				}
			}
			assignments, err := a.readAssignments(args)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			type result struct {
				Name        string              `json:"name"`
				Layer       string              `json:"layer"`
				Environment secrets.Environment `json:"environment,omitempty"`
				Created     bool                `json:"created"`
				Version     int64               `json:"version"`
			}
			var results []result
			var failed error
			for _, as := range assignments {
				s, created, err := cl.SetLayerSecret(cmd.Context(), layer, as.name, as.value, env)
				if err != nil {
					failed = fmt.Errorf("%s: %w", as.name, err)
					break
				}
				results = append(results, result{Name: s.Name, Layer: layerName(layer), Environment: env, Created: created, Version: s.Version})
			}
			if a.jsonOutput() {
				if err := a.printJSON(map[string]any{"secrets": results}); err != nil {
					return err
				}
				return failed
			}
			if len(results) > 0 {
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
				if err := tb.flush(); err != nil {
					return err
				}
			}
			return failed
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "set only this environment: development, staging or production")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	lf.add(cmd)
	return cmd
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
		},
	}
	lf.add(cmd)
	return cmd
}

func newUnsetCmd(a *app, lf *layerFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "unset NAME [NAME...]",
		Short: "Delete secrets (every environment, and their history)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			layer, err := lf.layer()
			if err != nil {
				return err
			}
			for _, name := range args {
				if err := secrets.ValidateName(name); err != nil {
					return invalid(err)
				}
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			var deleted []string
			var failed error
			for _, name := range args {
				if err := cl.DeleteLayerSecret(cmd.Context(), layer, name); err != nil {
					failed = err
					break
				}
				deleted = append(deleted, name)
			}
			if a.jsonOutput() {
				if deleted == nil {
					deleted = []string{}
				}
				if err := a.printJSON(map[string]any{"layer": layerName(layer), "deleted": deleted}); err != nil {
					return err
				}
				return failed
			}
			for _, name := range deleted {
				fmt.Fprintf(a.stdout, "Deleted %s at the %s layer\n", name, layer)
			}
			return failed
		},
	}
	lf.add(cmd)
	return cmd
}

// findSecret returns the secret NAME at the command's layer with its masks.
func findSecret(cmd *cobra.Command, a *app, lf *layerFlags, name string) (*client.Client, *client.SecretDetail, error) {
	layer, err := lf.layer()
	if err != nil {
		return nil, nil, err
	}
	if err := secrets.ValidateName(name); err != nil {
		return nil, nil, invalid(err)
	}
	cl, err := a.client()
	if err != nil {
		return nil, nil, err
	}
	row, err := cl.SecretByName(cmd.Context(), layer, name)
	if err != nil {
		return nil, nil, err
	}
	d, err := cl.GetSecret(cmd.Context(), row.ID)
	if err != nil {
		return nil, nil, err
	}
	return cl, d, nil
}

func newShowCmd(a *app, lf *layerFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "show NAME",
		Short: "Show a secret's metadata and the mask of each environment's value (never the value)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, d, err := findSecret(cmd, a, lf, args[0])
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(d)
			}
			tb := a.table()
			tb.row("name", d.Name)
			tb.row("id", d.ID)
			tb.row("layer", layerName(d.Layer()))
			tb.row("description", d.Description)
			tb.row("owner", who(d.Owner))
			tb.row("version", fmt.Sprint(d.Version))
			tb.row("created", ts(d.CreatedAt))
			tb.row("updated", ts(d.UpdatedAt)+" by "+who(d.UpdatedBy))
			if r := d.Rotation; r != nil {
				tb.row("rotation", fmt.Sprintf("every %s (%s), next %s, last %s", r.Every, envNames(r.Environments), ts(r.NextAt), tsp(r.LastAt)))
			}
			tb.row("you may modify", yesNo(d.CanModify))
			if err := tb.flush(); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout)
			tb = a.table("ENVIRONMENT", "VALUE (MASKED)")
			for _, env := range secrets.Environments {
				mask := "(not set)"
				if m := d.Masked[env]; m != nil {
					mask = *m
				}
				tb.row(string(env), mask)
			}
			return tb.flush()
		},
	}
	lf.add(cmd)
	return cmd
}

func newHistoryCmd(a *app, lf *layerFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List a secret's versions, newest first, with masks only",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, d, err := findSecret(cmd, a, lf, args[0])
			if err != nil {
				return err
			}
			vl, err := cl.ListVersions(cmd.Context(), d.ID)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(vl)
			}
			tb := a.table("VERSION", "CHANGE", "UPDATED", "BY", "DEVELOPMENT", "STAGING", "PRODUCTION")
			for _, v := range vl.Versions {
				version := fmt.Sprint(v.Version)
				if v.Current {
					version += " (current)"
				}
				change := v.Change
				if v.RestoredFrom > 0 {
					change += fmt.Sprintf(" of %d", v.RestoredFrom)
				}
				row := []string{version, change, ts(v.UpdatedAt), who(v.UpdatedBy)}
				for _, env := range secrets.Environments {
					mask := "-"
					if m := v.Masked[env]; m != nil {
						mask = *m
					}
					row = append(row, mask)
				}
				tb.row(row...)
			}
			return tb.flush()
		},
	}
	lf.add(cmd)
	return cmd
}

func newRestoreCmd(a *app, lf *layerFlags) *cobra.Command {
	var version int64
	cmd := &cobra.Command{
		Use:   "restore NAME --version N",
		Short: "Write version N's description and values as a new version",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if version < 1 {
				return usagef("--version must be a version number (1 or more); see zwrm secrets history %s", args[0])
			}
			cl, d, err := findSecret(cmd, a, lf, args[0])
			if err != nil {
				return err
			}
			restored, err := cl.RestoreVersion(cmd.Context(), d.ID, version)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(restored)
			}
			a.say("Restored %s at the %s layer to the values of version %d, as version %d",
				restored.Name, restored.Layer(), version, restored.Version)
			return nil
		},
	}
	cmd.Flags().Int64Var(&version, "version", 0, "the version to restore (see history)")
	_ = cmd.MarkFlagRequired("version")
	lf.add(cmd)
	return cmd
}

func newRotateCmd(a *app, lf *layerFlags) *cobra.Command {
	var in client.RotationRequest
	var envs []string
	var off bool
	cmd := &cobra.Command{
		Use:   "rotate NAME --every INTERVAL --env ENV[,ENV] [--length N] [--alphabet CHARS] | rotate NAME --off",
		Short: "Give a secret a rotation policy (new random values on a schedule), or remove it with --off",
		Long: `Give a secret a rotation policy: every INTERVAL (e.g. 30d, 12h), the values of the
environments named are replaced with new random ones (length N, default 32, from the
alphabet, default letters and digits), each time as a new version. The first rotation is
one interval from now. --off removes the policy. Values are never printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if off == cmd.Flags().Changed("every") {
				return usagef("give either --every INTERVAL with --env, or --off")
			}
			cl, d, err := findSecret(cmd, a, lf, args[0])
			if err != nil {
				return err
			}
			if off {
				d, err = cl.ClearRotation(cmd.Context(), d.ID)
			} else {
				if in.Environments, err = parseEnvs(envs); err != nil {
					return err
				}
				if len(in.Environments) == 0 {
					return usagef("--env is required: the environments to rotate, e.g. --env production")
				}
				d, err = cl.SetRotation(cmd.Context(), d.ID, in)
			}
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(d)
			}
			if d.Rotation == nil {
				a.say("%s no longer rotates (version %d)", d.Name, d.Version)
				return nil
			}
			a.say("%s rotates every %s (%s); next at %s (version %d)",
				d.Name, d.Rotation.Every, envNames(d.Rotation.Environments), ts(d.Rotation.NextAt), d.Version)
			return nil
		},
	}
	cmd.Flags().StringVar(&in.Every, "every", "", "interval: a number and d, h, m or s (1m to 366d), e.g. 30d")
	cmd.Flags().StringSliceVar(&envs, "env", nil, "environments to rotate (comma-separated)")
	cmd.Flags().IntVar(&in.Length, "length", 0, "length of the new values (16 to 4096; default 32)")
	cmd.Flags().StringVar(&in.Alphabet, "alphabet", "", "characters to draw from (default letters and digits)")
	cmd.Flags().BoolVar(&off, "off", false, "remove the rotation policy")
	lf.add(cmd)
	return cmd
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func newOrgSettings(a *app) *cobra.Command {
	var envs, priorities []string
	var retention int
	cmd := &cobra.Command{
		Use:   "settings [--user-resolve-environments ENV,...] [--write-priority ENV=PRIORITY ...] [--audit-retention-days N]",
		Short: "Show the organization's settings, or change them (superadmins)",
		Long: `Show the organization's settings, or change them (superadmins).

User tokens resolve only development unless the organization allows more, which
zwrm run, export, import and diff need for staging or production:

  zwrm org settings --user-resolve-environments development,staging

Each environment's write policy is the least role priority that may set, clear,
restore or rotate its values, or delete a secret holding one (member 10, admin
100, superadmin 1000; defaults development 10, staging 10, production 100):

  zwrm org settings --write-priority production=1000 --write-priority staging=100

Audit records are kept for the organization's retention (default 400 days,
1 to 3650); a change applies to records written after it:

  zwrm org settings --audit-retention-days 90`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			up, change, err := planOrgUpdate(cmd, envs, priorities, retention)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			var org *client.Org
			if change {
				org, err = cl.UpdateOrg(cmd.Context(), up)
			} else {
				org, err = cl.Org(cmd.Context())
			}
			if err != nil {
				return err
			}
			return printOrg(a, org)
		},
	}
	cmd.Flags().StringSliceVar(&envs, "user-resolve-environments", nil, "environments user tokens may resolve (comma-separated)")
	cmd.Flags().StringArrayVar(&priorities, "write-priority", nil, "ENV=PRIORITY: the least role priority that may write ENV's values (repeatable)")
	cmd.Flags().IntVar(&retention, "audit-retention-days", 0, "days audit records are kept (1 to 3650)")
	return cmd
}

// planOrgUpdate reads the settings flags; change is false when none is set.
func planOrgUpdate(cmd *cobra.Command, envs, priorities []string, retention int) (up client.OrgUpdate, change bool, err error) {
	if cmd.Flags().Changed("user-resolve-environments") {
		if up.UserResolveEnvironments, err = parseEnvs(envs); err != nil {
			return up, false, err
		}
		if len(up.UserResolveEnvironments) == 0 {
			return up, false, usagef("--user-resolve-environments needs at least one environment")
		}
		change = true
	}
	for _, p := range priorities {
		name, value, ok := strings.Cut(p, "=")
		n, err := strconv.Atoi(value)
		if !ok || err != nil {
			return up, false, usagef("--write-priority %q: want ENV=PRIORITY, e.g. production=100", p)
		}
		env, err := secrets.ParseEnvironment("--write-priority", name)
		if err != nil {
			return up, false, usagef("--write-priority %q: use development, staging or production", p)
		}
		if up.EnvironmentPolicies == nil {
			up.EnvironmentPolicies = map[secrets.Environment]client.EnvironmentPolicyUpdate{}
		}
		up.EnvironmentPolicies[env] = client.EnvironmentPolicyUpdate{MinWritePriority: &n}
		change = true
	}
	if cmd.Flags().Changed("audit-retention-days") {
		if err := secrets.ValidateAuditRetentionDays("--audit-retention-days", retention); err != nil {
			return up, false, usagef("--audit-retention-days %d: want a number of days from %d to %d", retention, secrets.MinAuditRetentionDays, secrets.MaxAuditRetentionDays)
		}
		up.AuditRetentionDays = &retention
		change = true
	}
	return up, change, nil
}

func printOrg(a *app, org *client.Org) error {
	if a.jsonOutput() {
		return a.printJSON(org)
	}
	allowed := envNames(org.UserResolveEnvironments)
	if allowed == "" {
		allowed = "development"
	}
	tb := a.table()
	tb.row("org", org.ID)
	tb.row("created", ts(org.CreatedAt))
	tb.row("user tokens may resolve", strings.ReplaceAll(allowed, ",", ", "))
	for _, env := range secrets.Environments {
		p := org.WritePolicy(env).MinWritePriority
		tb.row(string(env)+" values written by", fmt.Sprintf("%s and above (priority %d)", secrets.RoleFor(p), p))
	}
	tb.row("audit records kept", fmt.Sprintf("%d days", org.AuditRetention()))
	return tb.flush()
}
