package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func newLogin(a *app) *cobra.Command {
	var endpoint string
	cmd := &cobra.Command{
		Use:   "login --endpoint URL",
		Short: "Save an endpoint and token as a profile, after checking the token",
		Long: `Save an endpoint and a token as a profile in the user's configuration
directory (zwrm/config.json, mode 0600), after checking the token with GET /v1/me.

The token is read from stdin when stdin is not a terminal
(zwrm login --endpoint URL < token-file), otherwise it is prompted for without
echo. It is never taken as an argument, so it stays out of shell history.`,
		Example: `  zwrm login --endpoint http://127.0.0.1:8080
  jq -r .superadmin .zwrm/dev-tokens.json | zwrm login --endpoint http://127.0.0.1:8080
  zwrm login --profile prod --endpoint https://abc123.execute-api.eu-west-1.amazonaws.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			login, err := a.planLogin(endpoint)
			if err != nil {
				return err
			}
			c, err := a.clientFor(login.endpoint, login.token)
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			var ne *client.NetworkError
			if errors.As(err, &ne) {
				return fmt.Errorf("cannot reach %s, nothing saved: %v", c.Endpoint(), ne.Err)
			}
			if err != nil {
				return fmt.Errorf("the token was not accepted, nothing saved: %w", err)
			}
			login.cfg.Profiles[login.name] = profile{Endpoint: c.Endpoint(), Token: login.token}
			if err := saveConfig(login.path, login.cfg); err != nil {
				return err
			}
			return a.printLogin(login, c.Endpoint(), me)
		},
	}
	cmd.Flags().StringVar(&endpoint, "endpoint", "", "the API's base URL (default $ZWRM_ENDPOINT, else the profile's)")
	return cmd
}

// loginPlan is a profile to save: where, the endpoint and the token.
type loginPlan struct {
	name, path      string
	cfg             *config
	endpoint, token string
}

// planLogin works out the endpoint (the flag, else $ZWRM_ENDPOINT, else
// the profile's) and reads the token.
func (a *app) planLogin(endpoint string) (*loginPlan, error) {
	name, path, cfg, err := a.profileConfig()
	if err != nil {
		return nil, err
	}
	if endpoint == "" {
		endpoint = a.getenv("ZWRM_ENDPOINT")
	}
	if endpoint == "" {
		endpoint = cfg.Profiles[name].Endpoint
	}
	if endpoint == "" {
		return nil, usagef("--endpoint is required, e.g. zwrm login --endpoint http://127.0.0.1:8080")
	}
	if plainHTTPRemote(endpoint) {
		a.note("warning: %s is plain HTTP to another machine: the token travels unencrypted", endpoint)
	}
	token, err := a.readSecret("Token for "+endpoint+": ", 4096)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, usagef("no token given: pipe it on stdin or type it at the prompt")
	}
	return &loginPlan{name: name, path: path, cfg: cfg, endpoint: endpoint, token: token}, nil
}

func (a *app) printLogin(login *loginPlan, endpoint string, me *client.Me) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]any{"profile": login.name, "endpoint": endpoint, "config": login.path, "me": me})
	}
	role := string(me.RoleName())
	if role == "" {
		role = string(me.Kind) + " token"
	}
	a.say("Logged in to %s as %s (%s in org %s); saved as profile %q in %s",
		endpoint, displayName(me.Name, me.Subject), role, me.Org, login.name, login.path)
	return nil
}

func newLogout(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "logout",
		Short: "Forget the profile's endpoint and token (the token stays valid: revoke it with zwrm tokens revoke)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			name, path, cfg, err := a.profileConfig()
			if err != nil {
				return err
			}
			if _, ok := cfg.Profiles[name]; !ok {
				return &notLoggedIn{fmt.Sprintf("no profile %q in %s", name, path)}
			}
			delete(cfg.Profiles, name)
			if err := saveConfig(path, cfg); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(map[string]string{"removed": name})
			}
			fmt.Fprintf(a.stdout, "Removed profile %q from %s\n", name, path)
			return nil
		},
	}
}

func newWhoami(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "whoami",
		Short: "Show who the token in use belongs to, and the project defaults in effect",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			t, err := a.target()
			if err != nil {
				return err
			}
			c, err := a.clientFor(t.endpoint, t.token)
			if err != nil {
				return err
			}
			me, err := c.Me(cmd.Context())
			if err != nil {
				return err
			}
			return a.printMe(c.Endpoint(), t.profile, me)
		},
	}
}

func (a *app) printMe(endpoint, profile string, me *client.Me) error {
	defaults, err := a.inEffect()
	if err != nil {
		return err
	}
	if a.jsonOutput() {
		return a.printJSON(struct {
			*client.Me
			Defaults []defaultInEffect `json:"defaults"`
		}{me, defaults})
	}
	tb := a.table()
	tb.row("endpoint", endpoint)
	tb.row("profile", profile)
	for _, d := range defaults {
		if d.Name == "project" {
			tb.row("project", d.Value)
		} else {
			tb.row(d.Name, d.Value+" (from "+d.From+")")
		}
	}
	tb.row("org", me.Org)
	tb.row("name", me.Name)
	tb.row("subject", me.Subject)
	tb.row("kind", string(me.Kind))
	if me.RoleName() != "" {
		tb.row("role", fmt.Sprintf("%s (%d)", me.RoleName(), me.RolePriority))
	}
	if me.Scope != nil {
		tb.row("scope", fmt.Sprintf("%s layer, resolves %s", layerName(secrets.Layer{App: me.Scope.App, Machine: me.Scope.Machine}), envNames(me.Scope.Environments)))
	}
	tb.row("token id", me.TokenID)
	return tb.flush()
}

func displayName(name, subject string) string {
	if name != "" && subject != "" && name != subject {
		return name + " <" + subject + ">"
	}
	if name != "" {
		return name
	}
	return subject
}

// readSecret reads a token or a value: from stdin when it is not a
// terminal (up to max bytes, one trailing newline dropped), else at a
// prompt on stderr without echo.
func (a *app) readSecret(prompt string, max int) (string, error) {
	if f, ok := a.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(a.stderr, prompt)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(a.stderr)
		if err != nil {
			return "", fmt.Errorf("read from the terminal: %w", err)
		}
		return string(b), nil
	}
	b, err := io.ReadAll(io.LimitReader(a.stdin, int64(max)+2))
	if err != nil {
		return "", fmt.Errorf("read stdin: %w", err)
	}
	if t, ok := bytes.CutSuffix(b, []byte("\n")); ok {
		b = bytes.TrimSuffix(t, []byte("\r"))
	}
	if len(b) > max {
		return "", usagef("stdin holds more than %d bytes", max)
	}
	return string(b), nil
}
