package secrets

import "strings"

// ReservedNames are the environment variable names that change how a shell
// or a language runtime starts a program: a value under one of them runs
// code or changes which code runs, before the program reads any other
// secret. Creating a secret under one (in any case) needs the admin role,
// and `zwrm run` and `zwrm export` refuse a resolved set that holds one
// unless the caller names it. Names ending in '*' are prefixes.
var ReservedNames = []string{
	"PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND",
	"LD_*", "DYLD_*",
	"NODE_OPTIONS", "NODE_PATH",
	"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT",
	"PERL5OPT", "PERL5LIB", "PERLLIB",
	"RUBYOPT", "RUBYLIB",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS",
	"GCONV_PATH",
	"GIT_SSH_COMMAND", "GIT_EXEC_PATH",
}

// IsReservedName reports whether name, in any case, is one of ReservedNames.
func IsReservedName(name string) bool {
	upper := strings.ToUpper(name)
	for _, r := range ReservedNames {
		if prefix, ok := strings.CutSuffix(r, "*"); ok {
			if strings.HasPrefix(upper, prefix) {
				return true
			}
		} else if upper == r {
			return true
		}
	}
	return false
}

// ReservedRule says why a reserved name needs more, for messages.
const ReservedRule = "it changes how programs start (a value under it can run code in every workload that receives it)"
