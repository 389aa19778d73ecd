package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// findSecret returns the secret NAME at the command's layer with its masks.
func (a *app) findSecret(ctx context.Context, lf *layerFlags, name string) (*client.Client, *client.SecretDetail, error) {
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
	row, err := cl.SecretByName(ctx, layer, name)
	if err != nil {
		return nil, nil, err
	}
	d, err := cl.GetSecret(ctx, row.ID)
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
			_, d, err := a.findSecret(cmd.Context(), lf, args[0])
			if err != nil {
				return err
			}
			return a.printSecret(d)
		},
	}
	lf.add(cmd)
	return cmd
}

func (a *app) printSecret(d *client.SecretDetail) error {
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
		tb.row(string(env), maskOr(d.Masked[env], "(not set)"))
	}
	return tb.flush()
}

// maskOr is a mask, or unset where there is none.
func maskOr(mask *string, unset string) string {
	if mask == nil {
		return unset
	}
	return *mask
}

func newHistoryCmd(a *app, lf *layerFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "history NAME",
		Short: "List a secret's versions, newest first: per environment the mask and a fingerprint, never the value",
		Long: `List a secret's versions, newest first. Each environment's column shows the
value's mask and its fingerprint: 8 hex digits of an HMAC of the value under a
key the server keeps for the secret and environment. Equal fingerprints in one
environment's column mean the same value, so you can tell which version to
restore; they reveal nothing of the value. Versions written before
fingerprints were kept show '-'.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cl, d, err := a.findSecret(cmd.Context(), lf, args[0])
			if err != nil {
				return err
			}
			vl, err := cl.ListVersions(cmd.Context(), d.ID)
			if err != nil {
				return err
			}
			return a.printHistory(vl)
		},
	}
	lf.add(cmd)
	return cmd
}

func (a *app) printHistory(vl *client.VersionList) error {
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
			// The mask, then the fingerprint, which tells versions apart
			// where masks cannot (short values are all ***).
			cell := maskOr(v.Masked[env], "-")
			if v.Masked[env] != nil {
				cell += " " + maskOr(v.Fingerprints[env], "-")
			}
			row = append(row, cell)
		}
		tb.row(row...)
	}
	return tb.flush()
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
			cl, d, err := a.findSecret(cmd.Context(), lf, args[0])
			if err != nil {
				return err
			}
			restored, err := cl.RestoreVersion(cmd.Context(), d.ID, version)
			if err != nil {
				return err
			}
			return a.printRestored(restored, version)
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
			cl, d, err := a.findSecret(cmd.Context(), lf, args[0])
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
			return a.printRotation(d)
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

func (a *app) printRestored(restored *client.SecretDetail, from int64) error {
	if a.jsonOutput() {
		return a.printJSON(restored)
	}
	a.say("Restored %s at the %s layer to the values of version %d, as version %d",
		restored.Name, restored.Layer(), from, restored.Version)
	return nil
}

func (a *app) printRotation(d *client.SecretDetail) error {
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
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}
