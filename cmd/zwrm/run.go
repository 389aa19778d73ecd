package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func newRun(a *app) *cobra.Command {
	var envName string
	var override bool
	var allowReserved []string
	lf := &layerFlags{}
	ff := &fallbackFlags{}
	wf := &watchFlags{}
	cmd := &cobra.Command{
		Use:   "run --env ENV [--app APP] [--machine M] [--override] [--allow-reserved NAME] -- COMMAND [ARGS...]",
		Short: "Run a command with the resolved secrets in its environment",
		Long: `Resolve the secrets of an environment at a layer (the machine value, else the
app value, else the global value) and run COMMAND with them added to its
environment. Variables already set win, unless --override. No plaintext is
written to disk.

zwrm refuses to start COMMAND when a secret's name cannot be a variable's or
its value holds a NUL byte, and when a name is reserved (PATH, IFS, LD_*,
NODE_OPTIONS and the like, which change how programs start) unless you name it
with --allow-reserved. The refusal names the secrets and exits 2.

On Linux and macOS zwrm replaces itself with COMMAND (execve), so COMMAND has
zwrm's process id: signals sent to it reach COMMAND directly, its exit code is
zwrm's, and no zwrm process stays behind holding the values. Elsewhere zwrm
runs COMMAND as a child, relays interrupts to it and exits with its code.
` + watchHelp,
		Example: `  zwrm run --env development -- npm start
  zwrm run --env production --app web --machine web-1 -- ./server --port 8080
  zwrm run --env development --allow-reserved NODE_OPTIONS -- npm test
  zwrm run --env production --app web --watch --interval 1m -- ./server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("name the command to run after --, e.g. zwrm run --env development -- npm start")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			at, err := planAtLayer(envName, lf)
			if err != nil {
				return err
			}
			path, err := lookCommand(args[0])
			if err != nil {
				return err
			}
			watch, err := wf.plan(cmd)
			if err != nil {
				return err
			}
			if wf.watch && (ff.only || ff.off || cmd.Flags().Changed("fallback-max-age")) {
				return usagef("--watch needs the API and keeps no offline fallback: drop --fallback-only, --no-fallback and --fallback-max-age")
			}
			if wf.watch {
				return a.runWatching(cmd.Context(), at, watch, path, args, func(values map[string]string) ([]string, error) {
					return runEnv(a.environ(), values, override, allowReserved)
				})
			}
			values, err := a.resolveForRun(cmd.Context(), at, ff)
			if err != nil {
				return err
			}
			environ, err := runEnv(a.environ(), values, override, allowReserved)
			if err != nil {
				return err
			}
			return a.runCommand(path, args, environ)
		},
	}
	cmd.Flags().SetInterspersed(false) // flags after COMMAND are COMMAND's
	cmd.Flags().StringVar(&envName, "env", "", "environment to resolve: development, staging or production")
	cmd.Flags().BoolVar(&override, "override", false, "let the secrets replace variables already set")
	addAllowReserved(cmd, &allowReserved)
	_ = cmd.MarkFlagRequired("env")
	_ = cmd.RegisterFlagCompletionFunc("env", envCompletion)
	lf.add(cmd)
	ff.add(cmd)
	wf.add(cmd)
	return cmd
}

// lookCommand finds the command to run on $PATH, failing with the code a
// shell gives: 127 when there is none, 126 when it cannot be run.
func lookCommand(name string) (string, error) {
	path, err := exec.LookPath(name)
	if err != nil {
		code := 127 // as a shell reports a command it cannot find
		if !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, fs.ErrNotExist) {
			code = 126
		}
		return "", &exitStatus{code: code, err: fmt.Errorf("run: %w", err)}
	}
	return path, nil
}

// runCommand runs the command in zwrm's place where it can, else as a child.
func (a *app) runCommand(path string, argv, environ []string) error {
	if a.replaceProcess != nil {
		// On success this does not return.
		return &exitStatus{code: 126, err: fmt.Errorf("run %s: %w", argv[0], a.replaceProcess(path, argv, environ))}
	}
	return a.spawn(path, argv, environ)
}

// resolveAt resolves the values of an environment at a layer.
func (a *app) resolveAt(ctx context.Context, at atLayer) (map[string]string, error) {
	cl, err := a.client()
	if err != nil {
		return nil, err
	}
	res, err := cl.Resolve(ctx, at.env, at.layer)
	if err != nil {
		return nil, resolveHint(ctx, cl, err, at.env)
	}
	return res.Secrets, nil
}

// cliToken names the variables that carry the CLI's own token.
var cliToken = map[string]bool{"ZWRM_TOKEN": true, "ZWRM_API_TOKEN": true}

// mergeEnv adds values to environ. A variable already set keeps its value
// unless override; the order of environ is kept and new names follow,
// sorted.
func mergeEnv(environ []string, values map[string]string, override bool) []string {
	out := make([]string, 0, len(environ)+len(values))
	set := map[string]bool{}
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if cliToken[name] {
			// The token zwrm itself used is not the command's: it could
			// write secrets and mint tokens. A resolved secret of the
			// same name is still passed below.
			continue
		}
		if v, ok := values[name]; ok && override {
			if !set[name] {
				out = append(out, name+"="+v)
			}
		} else {
			out = append(out, kv)
		}
		set[name] = true
	}
	names := make([]string, 0, len(values))
	for name := range values {
		if !set[name] {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	for _, name := range names {
		out = append(out, name+"="+values[name])
	}
	return out
}

// spawn runs the command as a child with zwrm's streams, relays the
// signals zwrm receives to it, and returns its exit status.
func (a *app) spawn(path string, argv, environ []string) error {
	cmd := &exec.Cmd{Path: path, Args: argv, Env: environ, Stdin: a.stdin, Stdout: a.stdout, Stderr: a.stderr}
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, relayedSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return &exitStatus{code: 126, err: fmt.Errorf("run %s: %w", argv[0], err)}
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		return &exitStatus{code: exitError, err: fmt.Errorf("run %s: %w", argv[0], err)}
	}
	if code := exitCodeOf(cmd.ProcessState); code != 0 {
		return &exitStatus{code: code}
	}
	return nil
}

// resolveHint adds what to do to a refused resolve, for the caller's kind
// of token: a user token can be let in by a superadmin or replaced by a
// service token; a service or IAM token's scope is fixed at creation.
func resolveHint(ctx context.Context, cl *client.Client, err error, env secrets.Environment) error {
	if !client.IsStatus(err, 403) {
		return err
	}
	me, meErr := cl.Me(ctx)
	if meErr != nil {
		return err
	}
	if me.Kind == secrets.TokenUser {
		if env == secrets.Development {
			return err
		}
		return fmt.Errorf("%w\n(a superadmin can let user tokens resolve %s: zwrm org settings --user-resolve-environments development,%s; or use a service token in ZWRM_TOKEN)", err, env, env)
	}
	return fmt.Errorf("%w\n(a %s token's scope is fixed when it is created: ask an admin for a token that resolves %s here)", err, me.Kind, env)
}
