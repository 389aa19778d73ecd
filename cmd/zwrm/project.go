package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/internal/secrets"
)

// projectFileName is the project defaults file: the app, machine,
// environment and endpoint a directory's commands use when no flag or
// ZWRM_* variable names them. It never holds a token, so it can be
// committed.
const projectFileName = ".zwrm.yaml"

// projectKeys are the keys .zwrm.yaml may hold, in the order setup writes them.
var projectKeys = []string{"app", "machine", "environment", "endpoint"}

// project is a .zwrm.yaml and where it was found.
type project struct {
	path                                string
	app, machine, environment, endpoint string
}

func (p *project) get(key string) string {
	switch key {
	case "app":
		return p.app
	case "machine":
		return p.machine
	case "environment":
		return p.environment
	}
	return p.endpoint
}

// findProject reads the nearest .zwrm.yaml in dir or a directory above it;
// nil when there is none.
func findProject(dir string) (*project, error) {
	for {
		path := filepath.Join(dir, projectFileName)
		b, err := os.ReadFile(path)
		switch {
		case err == nil:
			// A file anyone may change (a /tmp/.zwrm.yaml left by another
			// user) would choose the layer and environment of whoever runs
			// zwrm below it: refused.
			if fi, serr := os.Stat(path); serr == nil && fi.Mode().Perm()&0o002 != 0 {
				return nil, usagef("%s is writable by every user, so anyone could choose your defaults: chmod o-w it, or remove it", path)
			}
			p, err := parseProject(b)
			if err != nil {
				return nil, usagef("%s: %v", path, err)
			}
			p.path = path
			return p, nil
		case !errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("read %s: %w", path, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return nil, nil
		}
		dir = parent
	}
}

// parseProject reads the small subset of YAML .zwrm.yaml uses: one
// "key: value" per line, values plain or quoted, # comments. Anything
// else is refused rather than guessed at, so a typo never silently
// falls back to another app or environment.
func parseProject(b []byte) (*project, error) {
	p := &project{}
	seen := map[string]bool{}
	for i, line := range strings.Split(string(b), "\n") {
		n := i + 1
		line = strings.TrimRight(line, " \t\r")
		if t := strings.TrimSpace(line); t == "" || strings.HasPrefix(t, "#") || t == "---" {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			return nil, fmt.Errorf("line %d: nested values are not supported: use top-level key: value lines", n)
		}
		key, val, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: expected key: value", n)
		}
		key = strings.TrimSpace(key)
		val, err := yamlScalar(strings.TrimSpace(val))
		if err != nil {
			return nil, fmt.Errorf("line %d: %s: %v", n, key, err)
		}
		switch key {
		case "app", "machine", "environment", "endpoint":
		case "token", "api_token":
			return nil, fmt.Errorf("line %d: a token does not belong in %s (it is meant to be committed): use zwrm login or ZWRM_TOKEN", n, projectFileName)
		default:
			return nil, fmt.Errorf("line %d: unknown key %q (allowed: %s)", n, key, strings.Join(projectKeys, ", "))
		}
		if seen[key] {
			return nil, fmt.Errorf("line %d: %s is given twice", n, key)
		}
		seen[key] = true
		switch key {
		case "app":
			p.app = val
		case "machine":
			p.machine = val
		case "environment":
			p.environment = val
		case "endpoint":
			p.endpoint = val
		}
	}
	return p, p.validate()
}

// yamlScalar reads a plain, single- or double-quoted scalar, with an
// optional trailing comment.
func yamlScalar(s string) (string, error) {
	switch {
	case s == "":
		return "", nil
	case s[0] == '"':
		end := strings.LastIndex(s, `"`)
		if end == 0 || !onlyComment(s[end+1:]) {
			return "", fmt.Errorf("unterminated or malformed double-quoted value")
		}
		return strconv.Unquote(s[:end+1])
	case s[0] == '\'':
		end := strings.LastIndex(s, "'")
		if end == 0 || !onlyComment(s[end+1:]) {
			return "", fmt.Errorf("unterminated or malformed single-quoted value")
		}
		return strings.ReplaceAll(s[1:end], "''", "'"), nil
	case strings.ContainsAny(s[:1], "[{&*!|>%@`"):
		return "", fmt.Errorf("only plain or quoted strings are supported")
	}
	if i := strings.Index(s, " #"); i >= 0 {
		s = strings.TrimSpace(s[:i])
	}
	return s, nil
}

func onlyComment(s string) bool {
	s = strings.TrimSpace(s)
	return s == "" || strings.HasPrefix(s, "#")
}

// validate checks the values as the commands would, so a bad file is
// reported as the file's fault.
func (p *project) validate() error {
	if p.machine != "" && p.app == "" {
		return fmt.Errorf("machine %q needs an app", p.machine)
	}
	if p.app != "" {
		if _, err := secrets.NewLayer(p.app, p.machine); err != nil {
			return err
		}
	}
	if p.environment != "" {
		env, err := parseEnv(p.environment)
		if err != nil {
			return err
		}
		p.environment = string(env)
	}
	if p.endpoint != "" {
		u, err := url.Parse(p.endpoint)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
			return fmt.Errorf("endpoint %q: must be an http or https URL without credentials", p.endpoint)
		}
	}
	return nil
}

// encode writes p as .zwrm.yaml: every value double-quoted.
func (p *project) encode() []byte {
	var b strings.Builder
	b.WriteString("# zwrm project defaults (zwrm setup). Flags and ZWRM_* variables override them.\n")
	b.WriteString("# Never put a token here: zwrm login keeps it in the user's configuration.\n")
	for _, k := range projectKeys {
		if v := p.get(k); v != "" {
			fmt.Fprintf(&b, "%s: %s\n", k, strconv.Quote(v))
		}
	}
	return []byte(b.String())
}

// project returns the nearest .zwrm.yaml from the working directory (nil
// if none), read once per command.
func (a *app) project() (*project, error) {
	if !a.projectRead {
		a.projectRead = true
		getwd := a.workDir
		if getwd == nil {
			getwd = os.Getwd
		}
		dir, err := getwd()
		if err != nil {
			a.projectErr = fmt.Errorf("find the working directory: %w", err)
		} else {
			a.proj, a.projectErr = findProject(dir)
		}
	}
	return a.proj, a.projectErr
}

// projectDefault is one default: a flag, the variable that overrides the
// file, and the file's key.
type projectDefault struct{ flag, variable, key string }

var projectDefaults = []projectDefault{
	{"app", "ZWRM_APP", "app"},
	{"machine", "ZWRM_MACHINE", "machine"},
	{"env", "ZWRM_ENV", "environment"},
}

// noEnvDefault marks a command whose --env is left alone: set and unset
// without --env mean every environment, which a default must not narrow.
const noEnvDefault = "zwrm/no-env-default"

// applyDefaults fills --app, --machine and --env, where the command has
// them and they were not given, from ZWRM_APP, ZWRM_MACHINE and ZWRM_ENV,
// else from .zwrm.yaml. Token commands keep their own flags: a token's
// scope is never taken from a file. A machine is only taken along with
// its app, never beside an --app given on the command line.
func (a *app) applyDefaults(cmd *cobra.Command) error {
	if strings.HasPrefix(cmd.CommandPath(), "zwrm tokens") || cmd.Name() == "setup" {
		return nil
	}
	if a.defaulted == nil {
		a.defaulted = map[string]string{}
	}
	var p *project
	for _, d := range projectDefaults {
		f := cmd.Flags().Lookup(d.flag)
		if f == nil || f.Changed || f.Value.Type() != "string" {
			continue
		}
		if d.flag == "env" && cmd.Annotations[noEnvDefault] != "" {
			continue
		}
		if d.flag == "machine" {
			if af := cmd.Flags().Lookup("app"); af != nil && af.Changed && a.defaulted["app"] == "" {
				continue
			}
		}
		v, from := a.getenv(d.variable), d.variable
		if v == "" {
			if p == nil {
				var err error
				if p, err = a.project(); err != nil {
					return err
				}
				if p == nil {
					p = &project{}
				}
			}
			v, from = p.get(d.key), p.path
		}
		if v == "" {
			continue
		}
		if err := cmd.Flags().Set(d.flag, v); err != nil {
			return usagef("%s from %s: %v", d.flag, from, err)
		}
		a.defaulted[d.flag] = from
	}
	return nil
}

// defaultInEffect is an app, machine or environment that commands here
// use when no flag names one, and where it comes from; "project" is the
// .zwrm.yaml file found, if any.
type defaultInEffect struct {
	Name  string `json:"name"`
	Value string `json:"value"`
	From  string `json:"from,omitempty"`
}

// inEffect lists the project file and the defaults commands run here use.
func (a *app) inEffect() ([]defaultInEffect, error) {
	p, err := a.project()
	if err != nil {
		return nil, err
	}
	out := []defaultInEffect{}
	if p != nil {
		out = append(out, defaultInEffect{Name: "project", Value: p.path})
	} else {
		p = &project{}
	}
	for _, d := range projectDefaults {
		if v := a.getenv(d.variable); v != "" {
			out = append(out, defaultInEffect{Name: d.key, Value: v, From: d.variable})
		} else if v := p.get(d.key); v != "" {
			out = append(out, defaultInEffect{Name: d.key, Value: v, From: p.path})
		}
	}
	return out, nil
}
