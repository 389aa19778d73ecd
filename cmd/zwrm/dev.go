package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/local"
)

func newDev() *cobra.Command {
	var addr, data string
	var tuning local.Tuning
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Run the secrets service locally (embedded database, local master key)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return local.Serve(cmd.Context(), local.Options{Addr: addr, DataDir: data, Out: cmd.OutOrStdout(), Tuning: tuning})
		},
	}
	cmd.Flags().StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	cmd.Flags().StringVar(&data, "data", ".zwrm", "data directory (database, master key, dev token file)")
	cmd.Flags().IntVar(&tuning.MaxVersions, "keep-versions", 20, "versions kept per secret, the current one included")
	cmd.Flags().DurationVar(&tuning.KeyCacheTTL, "key-cache-ttl", 5*time.Minute, "how long unwrapped data keys stay in memory")
	cmd.Flags().DurationVar(&tuning.RotateEvery, "rotate-every", time.Minute, "how often the rotation sweep runs")
	return cmd
}

func newAdmin() *cobra.Command {
	admin := &cobra.Command{Use: "admin", Short: "Operator commands that work on a data directory or a deployed table"}
	var data, org, subject, name string
	var aws lambdaapp.AWSOptions
	boot := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create an organization (if new) and a superadmin token in it; prints only the token",
		Args:  cobra.NoArgs,
		Long: `Create an organization (if new) and a superadmin token in it, and print only the token.

Locally, it works on the data directory (--data), whether or not zwrm dev is running.
For a deployed stack, name its table (--table, the TableName output) and region;
AWS credentials come from the usual chain (environment, profile, SSO).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var token string
			var err error
			if aws.Table != "" {
				token, err = lambdaapp.Bootstrap(cmd.Context(), aws, org, subject, name)
			} else {
				token, err = local.Bootstrap(cmd.Context(), data, org, subject, name)
			}
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), token)
			return nil
		},
	}
	boot.Flags().StringVar(&data, "data", ".zwrm", "data directory")
	boot.Flags().StringVar(&aws.Table, "table", "", "a deployed stack's DynamoDB table (instead of --data)")
	boot.Flags().StringVar(&aws.KeyID, "kms-key", "", "the deployed stack's KMS key (recorded for symmetry; bootstrap writes no values)")
	boot.Flags().StringVar(&aws.Region, "region", "", "AWS region of the table (default: from the AWS configuration)")
	boot.Flags().StringVar(&aws.Endpoint, "dynamodb-endpoint", "", "DynamoDB endpoint override (for a local DynamoDB API server)")
	boot.Flags().StringVar(&org, "org", "", "organization id")
	boot.Flags().StringVar(&subject, "subject", "", "the superadmin's stable subject, e.g. an email")
	boot.Flags().StringVar(&name, "name", "", "the superadmin's display name")
	for _, f := range []string{"org", "subject", "name"} {
		_ = boot.MarkFlagRequired(f)
	}
	admin.AddCommand(boot, newCompact())
	return admin
}

func newCompact() *cobra.Command {
	var data string
	cmd := &cobra.Command{
		Use:   "compact",
		Short: "Delete expired audit records and shrink the local database file (stop zwrm dev first)",
		Args:  cobra.NoArgs,
		Long: `Delete expired audit records and rewrite the local database (--data) compactly.

zwrm dev deletes expired audit records every hour, but the file keeps its size:
the database reuses the space, never returns it. compact writes a new file
holding only what is live and puts it in place of the old one, which stays
until the new one is complete. It needs the database to itself: stop zwrm dev
first (while a server runs, compact refuses and changes nothing).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			rep, err := local.Compact(cmd.Context(), data)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s → %s (%d expired audit records and manifests deleted)\n",
				rep.Path, megabytes(rep.Before), megabytes(rep.After), rep.Expired)
			return nil
		},
	}
	cmd.Flags().StringVar(&data, "data", ".zwrm", "data directory")
	return cmd
}

func megabytes(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/1e6) }
