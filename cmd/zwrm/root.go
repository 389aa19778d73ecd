package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

// Exit codes, documented in docs/cli.md. `zwrm run` exits with its
// command's code instead.
const (
	exitOK       = 0
	exitError    = 1 // anything else: the server failed, the network, a local file
	exitUsage    = 2 // the command line or its input is wrong (also the API's 400 and 413)
	exitAuth     = 3 // not logged in, token refused (401) or not allowed (403)
	exitNotFound = 4 // 404
	exitConflict = 5 // 409: the name is taken, or the version is stale
)

// app is what the commands share: their streams, their environment, where
// the configuration lives, and the global flags. Tests build their own.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	environ        func() []string
	configDir      func() (string, error)
	cacheDir       func() (string, error) // where zwrm run keeps its offline fallback; nil: none
	httpClient     *http.Client
	// replaceProcess, when set, replaces zwrm with the command `zwrm run`
	// runs (execve on unix); when nil, zwrm runs it as a child, relays
	// signals to it and exits with its code.
	replaceProcess func(path string, argv, env []string) error

	workDir func() (string, error) // where .zwrm.yaml is looked for, upward

	profile string        // --profile
	output  string        // --output
	timeout time.Duration // --timeout

	// The nearest .zwrm.yaml, read once, and which flags took a default
	// and from where (a variable's name or the file's path).
	projectRead bool
	proj        *project
	projectErr  error
	defaulted   map[string]string
}

func newApp() *app {
	return &app{stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr, getenv: os.Getenv, environ: os.Environ,
		configDir: os.UserConfigDir, cacheDir: os.UserCacheDir, workDir: os.Getwd, httpClient: &http.Client{Timeout: time.Minute}, replaceProcess: replaceProcess}
}

// execute runs the command line args and returns the exit code.
func execute(ctx context.Context, a *app, args []string) int {
	root := newRoot(a)
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	code := exitCode(err)
	if strings.HasPrefix(err.Error(), `required flag(s) "env"`) {
		err = fmt.Errorf("%w (or make one the default here: zwrm setup --env ENV)", err)
	}
	var st *exitStatus
	if errors.As(err, &st) && st.err == nil {
		return code // the command run by `zwrm run` said what it had to
	}
	a.reportError(cmd, err, code)
	return code
}

func newRoot(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "zwrm",
		Short: "zwrm secrets: organization, app and machine secrets",
		Long: `zwrm secrets: organization, app and machine secrets.

Log in once (zwrm login --endpoint URL), then set, list and unset secrets at the
global layer (zwrm org secrets) or at an app or machine (zwrm secrets --app),
run a command with them (zwrm run), or move them in and out of .env files
(zwrm import, zwrm export).

Exit codes: 0 ok, 1 error, 2 usage or invalid input, 3 not logged in or not
allowed, 4 not found, 5 conflict; zwrm run exits with its command's code.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			switch a.output {
			case "table", "json":
			default:
				return fmt.Errorf("--output must be table or json, not %q", a.output)
			}
			if a.timeout <= 0 {
				return fmt.Errorf("--timeout must be positive, e.g. 30s")
			}
			return a.applyDefaults(cmd)
		},
	}
	root.PersistentFlags().StringVar(&a.profile, "profile", "", "profile to use (default $ZWRM_PROFILE, else \"default\")")
	root.PersistentFlags().StringVarP(&a.output, "output", "o", "table", "output format: table or json")
	_ = root.RegisterFlagCompletionFunc("output", fixedCompletion("table", "json"))
	root.PersistentFlags().DurationVar(&a.timeout, "timeout", 30*time.Second, "give up on each API call after this long")
	root.AddCommand(newDev(), newAdmin(),
		newSetup(a), newLogin(a), newLogout(a), newWhoami(a),
		newOrg(a), newSecrets(a), newRun(a), newExport(a), newImport(a), newDiff(a),
		newTokens(a), newAudit(a), newVersion(a))
	root.Version = currentBuild().String()
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(flagError)
	markRunErrors(root)
	return root
}

// group is a command that only holds subcommands: alone it prints its
// help; followed by an unknown word it is a usage error (cobra would
// otherwise print the help and succeed).
func group(use, short string) *cobra.Command {
	return &cobra.Command{Use: use, Short: short, Args: unknownSubcommand, SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() }}
}

// unknownSubcommand refuses a word after a group that is none of its
// commands, suggesting the nearest.
func unknownSubcommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		nearest := s[0]
		for _, c := range s[1:] {
			if editDistance(args[0], c) < editDistance(args[0], nearest) {
				nearest = c
			}
		}
		msg += fmt.Sprintf("\nDid you mean %q?", nearest)
	}
	return errors.New(msg)
}

// editDistance is the Levenshtein distance between a and b: which of
// cobra's suggestions is the nearest ("lst" is one edit from "list", two
// from "get").
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// flagError reports a mistyped subcommand before the flags that follow
// it: in "zwrm secrets lst --app web" the mistake is "lst", not --app,
// which the group does not have but list does.
func flagError(cmd *cobra.Command, err error) error {
	if cmd.HasAvailableSubCommands() {
		if err := unknownSubcommand(cmd, cmd.Flags().Args()); err != nil {
			return err
		}
	}
	return err
}

// runError marks an error that a command returned, as opposed to one cobra
// returned while parsing the command line (a usage error).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// markRunErrors wraps every command's RunE so that exitCode can tell its
// errors from cobra's.
func markRunErrors(cmd *cobra.Command) {
	if run := cmd.RunE; run != nil {
		cmd.RunE = func(c *cobra.Command, args []string) error {
			if err := run(c, args); err != nil {
				return &runError{err}
			}
			return nil
		}
	}
	for _, sub := range cmd.Commands() {
		markRunErrors(sub)
	}
}

// usageError is a command line or input the command cannot work with.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// invalid makes a local check of a rule of the domain (a name, an id, an
// environment) a usage error.
func invalid(err error) error {
	if err == nil {
		return nil
	}
	return &usageError{err.Error()}
}

// notLoggedIn says there is no endpoint or token to call the API with.
type notLoggedIn struct{ msg string }

func (e *notLoggedIn) Error() string { return e.msg }

// exitStatus is the exit code of the command `zwrm run` ran; err, if set,
// says why it could not run.
type exitStatus struct {
	code int
	err  error
}

func (e *exitStatus) Error() string {
	if e.err != nil {
		return e.err.Error()
	}
	return fmt.Sprintf("exit status %d", e.code)
}

// exitCode maps an error to the process's exit code.
func exitCode(err error) int {
	var re *runError
	if !errors.As(err, &re) {
		return exitUsage // cobra: unknown command or flag, wrong arguments, missing required flag
	}
	var st *exitStatus
	var ue *usageError
	var nl *notLoggedIn
	var ce *client.Error
	switch {
	case errors.As(err, &st):
		return st.code
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &nl):
		return exitAuth
	case errors.As(err, &ce):
		return exitCodeOfStatus(ce.Status)
	case errors.Is(err, context.Canceled):
		return 130 // interrupted, as a shell reports SIGINT
	}
	return exitError
}

func exitCodeOfStatus(status int) int {
	switch status {
	case http.StatusBadRequest, http.StatusRequestEntityTooLarge:
		return exitUsage
	case http.StatusUnauthorized, http.StatusForbidden:
		return exitAuth
	case http.StatusNotFound:
		return exitNotFound
	case http.StatusConflict:
		return exitConflict
	}
	return exitError
}

// reportError writes err on stderr: one line of text, or with --output json
// an object like the API's error body. Every message goes through
// client.Printable first: it may quote the server, or an argument that was
// a token pasted by mistake, and it ends up in terminals and CI logs.
func (a *app) reportError(cmd *cobra.Command, err error, code int) {
	if a.output == "json" {
		out := struct {
			Error client.Error `json:"error"`
		}{client.Error{Message: err.Error()}}
		var ce *client.Error
		if errors.As(err, &ce) {
			out.Error = *ce
		}
		out.Error.Message, out.Error.Field, out.Error.RequestID = client.Printable(out.Error.Message), client.Printable(out.Error.Field), client.Printable(out.Error.RequestID)
		if out.Error.Code == "" {
			out.Error.Code = codeOfExit(code)
		}
		enc := json.NewEncoder(a.stderr)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(out)
		return
	}
	msg := err.Error()
	if code == exitUsage && cmd != nil {
		var ce *client.Error
		if !errors.As(err, &ce) {
			msg += fmt.Sprintf("\nRun '%s --help' for usage.", cmd.CommandPath())
		}
	}
	fmt.Fprintln(a.stderr, "zwrm: "+strings.TrimSpace(client.Printable(msg)))
}

func codeOfExit(code int) secrets.Code {
	switch code {
	case exitUsage:
		return secrets.CodeInvalid
	case exitAuth:
		return secrets.CodeUnauthorized
	case exitNotFound:
		return secrets.CodeNotFound
	case exitConflict:
		return secrets.CodeConflict
	}
	return secrets.CodeInternal
}
