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

Prefer zwrm run, which writes no plaintext to disk.`,
		Example: `  zwrm export --env development --app web > .env
  eval "$(zwrm export --env development --format shell)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			at, err := planAtLayer(envName, lf)
			if err != nil {
				return err
			}
			format, err := a.exportFormat(format, cmd.Flags().Changed("format"))
			if err != nil {
				return err
			}
			values, err := a.resolveAt(cmd.Context(), at)
			if err != nil {
				return err
			}
			return a.printExport(values, format, allowReserved)
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

// exportFormat is the format asked for: -o json without --format means
// json.
func (a *app) exportFormat(format string, set bool) (string, error) {
	if !set && a.jsonOutput() {
		format = "json"
	}
	switch format {
	case "dotenv", "json", "shell":
		return format, nil
	default:
		return "", usagef("--format must be dotenv, json or shell, not %q", format)
	}
}

// printExport writes values in format, sorted by name; dotenv and shell
// refuse a set they cannot carry safely.
func (a *app) printExport(values map[string]string, format string, allowReserved []string) error {
	if format != "json" {
		if err := checkResolved(values, allowReserved, "print", "\n(or print the whole set as data with --format json)"); err != nil {
			return err
		}
	}
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	var b bytes.Buffer
	switch format {
	case "json":
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(values); err != nil {
			return err
		}
	case "shell":
		for _, name := range names {
			fmt.Fprintf(&b, "export %s=%s\n", name, shellValue(values[name]))
		}
	default:
		for _, name := range names {
			fmt.Fprintf(&b, "%s=%s\n", name, dotenvValue(values[name]))
		}
	}
	_, err := a.stdout.Write(b.Bytes())
	return err
}
