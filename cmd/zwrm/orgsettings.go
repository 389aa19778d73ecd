package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

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
