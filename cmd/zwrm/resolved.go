package main

import (
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/internal/secrets"
)

// The checks here stand between a resolved set and the process environment
// or file it becomes (zwrm run, zwrm export): the server decides what may be
// stored, but the CLI decides what a program starts with.

// addAllowReserved adds --allow-reserved, repeatable and comma-separated.
func addAllowReserved(cmd *cobra.Command, names *[]string) {
	cmd.Flags().StringSliceVar(names, "allow-reserved", nil,
		"pass on a secret with a reserved name (PATH, LD_PRELOAD, NODE_OPTIONS...); repeat or comma-separate, any case")
}

// checkResolved refuses a resolved set that a process environment, a shell
// or a .env file cannot carry as it is: a name that cannot be a variable's,
// a value with a NUL byte (execve cuts it short or fails), or a reserved
// name (secrets.ReservedNames) that allow does not name. The errors name
// the secrets, never a value. verb says what is refused ("run", "print");
// hint, if set, ends the reserved names' message with another way out.
func checkResolved(values map[string]string, allow []string, verb, hint string) error {
	var badNames, nulValues, reserved []string
	allowed := map[string]bool{}
	for _, a := range allow {
		allowed[strings.ToUpper(strings.TrimSpace(a))] = true
	}
	for name, v := range values {
		switch {
		case secrets.ValidateName(name) != nil:
			badNames = append(badNames, quoteShort(name))
		case strings.IndexByte(v, 0) >= 0:
			nulValues = append(nulValues, name)
		case secrets.IsReservedName(name) && !allowed[strings.ToUpper(name)]:
			reserved = append(reserved, name)
		}
	}
	sort.Strings(badNames)
	sort.Strings(nulValues)
	sort.Strings(reserved)
	switch {
	case len(badNames) > 0:
		return usagef("refusing to %s: %s cannot be an environment variable name (a name is letters, digits and underscores, not starting with a digit); the server should not have sent %s",
			verb, list(badNames), them(badNames))
	case len(nulValues) > 0:
		return usagef("refusing to %s: the %s of %s %s a NUL byte, which no environment variable can carry; set %s again without it (zwrm secrets set)",
			verb, plural(len(nulValues), "value", "values"), list(nulValues), plural(len(nulValues), "holds", "hold"), them(nulValues))
	case len(reserved) > 0:
		return usagef("refusing to %s: the resolved secrets hold the reserved %s %s.\n"+
			"zwrm passes a reserved name on only when you name it, because %s.\n"+
			"If %s meant to be there, add --allow-reserved %s%s",
			verb, plural(len(reserved), "name", "names"), list(reserved), secrets.ReservedRule,
			plural(len(reserved), "it is", "they are"), strings.Join(reserved, ","), hint)
	}
	return nil
}

// runEnv is the environment `zwrm run` starts the command with: values
// checked by checkResolved, then merged into environ by mergeEnv.
func runEnv(environ []string, values map[string]string, override bool, allow []string) ([]string, error) {
	if err := checkResolved(values, allow, "run", ""); err != nil {
		return nil, err
	}
	return mergeEnv(environ, values, override), nil
}

// quoteShort quotes a name that is not one, cut short: it came from the
// server and may hold anything.
func quoteShort(s string) string {
	if len(s) > 40 {
		s = strings.ToValidUTF8(s[:40], "") + "…"
	}
	return strconv.QuoteToASCII(s)
}

func list(names []string) string { return strings.Join(names, ", ") }

func them(names []string) string { return plural(len(names), "it", "them") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
