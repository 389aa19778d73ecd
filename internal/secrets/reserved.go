package secrets

import "strings"

// ReservedNames are the environment variable names that change how a shell
// or a language runtime starts a program: a value under one of them runs
// code or changes which code runs, before the program reads any other
// secret. Creating a secret under one (in any case) needs the admin role,
// and `zwrm run` and `zwrm export` refuse a resolved set that holds one
// unless the caller names it. Names ending in '*' are prefixes.
var ReservedNames = []string{
	// Shells and the dynamic loader.
	"PATH", "IFS", "ENV", "BASH_ENV", "SHELLOPTS", "BASHOPTS", "PS4", "PROMPT_COMMAND", "HOME", "ZDOTDIR",
	"LD_*", "DYLD_*", "GCONV_PATH", "GLIBC_TUNABLES", "LOCPATH",
	// Language runtimes.
	"NODE_OPTIONS", "NODE_PATH",
	"PYTHONPATH", "PYTHONSTARTUP", "PYTHONHOME", "PYTHONINSPECT", "PYTHONWARNINGS", "PYTHONBREAKPOINT",
	"PERL5OPT", "PERL5LIB", "PERLLIB", "PERL5DB",
	"RUBYOPT", "RUBYLIB",
	"JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS", "JDK_JAVA_OPTIONS", "CLASSPATH",
	"DOTNET_STARTUP_HOOKS", "CORECLR_*", "COR_ENABLE_PROFILING", "COR_PROFILER*",
	"PHPRC", "PHP_INI_SCAN_DIR", "GOFLAGS",
	// Tools that programs start for themselves.
	"GIT_SSH_COMMAND", "GIT_EXEC_PATH", "GIT_CONFIG*", "GIT_ASKPASS", "SSH_ASKPASS", "GIT_PROXY_COMMAND",
	"GIT_EXTERNAL_DIFF", "GIT_PAGER", "GIT_EDITOR", "EDITOR", "VISUAL", "PAGER",
	// zwrm's own settings: a secret must not choose the token or endpoint.
	"ZWRM_*",
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
