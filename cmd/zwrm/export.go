package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

func newExport(a *app) *cobra.Command {
	var envName, format string
	var allowReserved []string
	lf := &layerFlags{}
	cmd := &cobra.Command{
		Use:   "export --env ENV [--app APP] [--machine M] [--format dotenv|json|shell] [--allow-reserved NAME]",
		Short: "Print the resolved secrets of an environment as a .env file, JSON or shell exports",
		Long: `Print, in plaintext on stdout, the secrets resolved for an environment at a
layer (the machine value, else the app value, else the global value), sorted by
name:

  dotenv  NAME=value, quoted where needed so that zwrm import reads the same
          value back (other dotenv readers differ on \, $ and backticks:
          prefer json or shell for them): bare when plainly safe,
          'single-quoted' when it holds no ' or control character, else
          "double-quoted" with \n \r \t \\ \" \$ escapes
  json    {"NAME": "value"}
  shell   export NAME='value', for eval "$(zwrm export ... --format shell)"

dotenv and shell refuse a set holding a name that cannot be a variable's, a
value with a NUL byte, or a reserved name (PATH, IFS, LD_*, NODE_OPTIONS and the
like, which change how programs start) that --allow-reserved does not name;
json prints them all as data.

Prefer zwrm run, which writes nothing to disk.`,
		Example: `  zwrm export --env development --app web > .env
  eval "$(zwrm export --env development --format shell)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			env, err := parseEnv(envName)
			if err != nil {
				return err
			}
			layer, err := lf.layer()
			if err != nil {
				return err
			}
			if !cmd.Flags().Changed("format") && a.jsonOutput() {
				format = "json"
			}
			switch format {
			case "dotenv", "json", "shell":
			default:
				return usagef("--format must be dotenv, json or shell, not %q", format)
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			res, err := cl.Resolve(cmd.Context(), env, layer)
			if err != nil {
				return resolveHint(err, env)
			}
			if format != "json" {
				if err := checkResolved(res.Secrets, allowReserved, "print", "\n(or print the whole set as data with --format json)"); err != nil {
					return err
				}
			}
			names := make([]string, 0, len(res.Secrets))
			for name := range res.Secrets {
				names = append(names, name)
			}
			sort.Strings(names)
			var b bytes.Buffer
			switch format {
			case "json":
				enc := json.NewEncoder(&b)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				if err := enc.Encode(res.Secrets); err != nil {
					return err
				}
			case "shell":
				for _, name := range names {
					fmt.Fprintf(&b, "export %s=%s\n", name, shellValue(res.Secrets[name]))
				}
			default:
				for _, name := range names {
					fmt.Fprintf(&b, "%s=%s\n", name, dotenvValue(res.Secrets[name]))
				}
			}
			_, err = a.stdout.Write(b.Bytes())
			return err
		},
	}
	cmd.Flags().StringVar(&envName, "env", "", "environment to resolve: development, staging or production")
	cmd.Flags().StringVar(&format, "format", "dotenv", "dotenv, json or shell")
	addAllowReserved(cmd, &allowReserved)
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	_ = cmd.RegisterFlagCompletionFunc("format", fixedCompletion("dotenv", "json", "shell"))
	lf.add(cmd)
	return cmd
}
