package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func newSetup(a *app) *cobra.Command {
	var in project
	cmd := &cobra.Command{
		Use:   "setup [--app APP] [--machine M] [--env ENV] [--endpoint URL]",
		Short: "Write this directory's project defaults (.zwrm.yaml): app, machine, environment, endpoint",
		Long: `Write .zwrm.yaml in the current directory, so that commands run in it or
below it need no --app, --machine or --env. Flags and ZWRM_APP, ZWRM_MACHINE,
ZWRM_ENV and ZWRM_ENDPOINT still override it; zwrm whoami shows what is in effect.

On a terminal, setup asks for each value (the flags and an existing file give
the defaults); otherwise it takes the flags. The file never holds a token, so
it may be committed. An endpoint in it only selects which logged-in profile
to use: zwrm never sends a token to an endpoint it was not logged in to.

set and unset without --env still mean every environment: the file's
environment does not narrow them.`,
		Example: `  zwrm setup --app web --env development
  zwrm setup --app web --machine web-1 --env staging --endpoint http://127.0.0.1:8080`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := a.planSetup(cmd, in)
			if err != nil {
				return err
			}
			if err := os.WriteFile(p.path, p.encode(), 0o644); err != nil {
				return fmt.Errorf("write %s: %w", p.path, err)
			}
			return a.printSetup(p)
		},
	}
	cmd.Flags().StringVar(&in.app, "app", "", "the app id (omit for the global layer)")
	cmd.Flags().StringVar(&in.machine, "machine", "", "the machine id of the app")
	cmd.Flags().StringVar(&in.environment, "env", "", "the environment: development, staging or production")
	cmd.Flags().StringVar(&in.endpoint, "endpoint", "", "the API's base URL (optional: selects the logged-in profile)")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	return cmd
}

// planSetup works out the file to write: the flags, else (on a terminal)
// the answers, with an existing file's values as defaults.
func (a *app) planSetup(cmd *cobra.Command, in project) (*project, error) {
	getwd := a.workDir
	if getwd == nil {
		getwd = os.Getwd
	}
	dir, err := getwd()
	if err != nil {
		return nil, fmt.Errorf("find the working directory: %w", err)
	}
	p := in
	p.path = filepath.Join(dir, projectFileName)
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		old, _ := findProject(dir) // a broken file is replaced, not a reason to stop
		if old == nil || filepath.Dir(old.path) != dir {
			old = &project{}
		}
		r := bufio.NewReader(a.stdin)
		for _, q := range []struct {
			flag, key, prompt string
			v                 *string
		}{
			{"app", "app", "App id (empty for the global layer)", &p.app},
			{"machine", "machine", "Machine id (empty for none)", &p.machine},
			{"env", "environment", "Environment (development, staging, production)", &p.environment},
			{"endpoint", "endpoint", "Endpoint (empty to use the logged-in profile's)", &p.endpoint},
		} {
			if cmd.Flags().Changed(q.flag) {
				continue
			}
			def := old.get(q.key)
			fmt.Fprintf(a.stderr, "%s [%s]: ", q.prompt, def)
			line, err := r.ReadString('\n')
			if err != nil && line == "" {
				return nil, fmt.Errorf("read the answer: %w", err)
			}
			if line = strings.TrimSpace(line); line == "" {
				line = def
			}
			*q.v = line
		}
	} else if p.app == "" && p.environment == "" && p.endpoint == "" {
		return nil, usagef("name at least one of --app, --env or --endpoint (or run zwrm setup on a terminal to be asked)")
	}
	if err := p.validate(); err != nil {
		return nil, invalid(err)
	}
	return &p, nil
}

func (a *app) printSetup(p *project) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]string{"file": p.path, "app": p.app, "machine": p.machine,
			"environment": p.environment, "endpoint": p.endpoint})
	}
	a.say("Wrote %s", p.path)
	tb := a.table()
	for _, k := range projectKeys {
		if v := p.get(k); v != "" {
			tb.row(k, v)
		}
	}
	return tb.flush()
}
