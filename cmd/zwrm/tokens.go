package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/zwrm/secrets/client"
	"github.com/zwrm/secrets/internal/secrets"
)

func newTokens(a *app) *cobra.Command {
	tokens := group("tokens", "Create, list and revoke the organization's tokens (admins)")
	tokens.AddCommand(newTokensCreate(a), newTokensList(a), newTokensRevoke(a))
	return tokens
}

func newTokensCreate(a *app) *cobra.Command {
	var in client.CreateTokenRequest
	var kind, role, expires string
	var envs []string
	cmd := &cobra.Command{
		Use:   "create --name NAME [--kind user|service|iam] ...",
		Short: "Create a token; it is printed once, alone on stdout",
		Long: `Create a token. A user token (the default kind) has --subject and --role; a
service token has --environments and optionally --app and --machine, and may
only resolve; an iam token registers an AWS principal (--principal-arn) with the
scope of a service token, and has no token to print.

The token is printed once, alone on stdout (details go to stderr), so that
TOKEN=$(zwrm tokens create ...) captures just the token.`,
		Example: `  zwrm tokens create --name "Bob" --subject bob@acme.test --role member
  zwrm tokens create --kind service --name web-prod --app web --environments production --expires 90d`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := planTokenCreate(in, kind, role, envs, expires)
			if err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			tok, err := cl.CreateToken(cmd.Context(), req)
			if err != nil {
				return err
			}
			return a.printCreatedToken(tok)
		},
	}
	f := cmd.Flags()
	f.StringVar(&kind, "kind", "user", "user, service or iam")
	f.StringVar(&in.Name, "name", "", "display name of the person or workload")
	f.StringVar(&in.Subject, "subject", "", "user tokens: a stable id for the person, such as an email")
	f.StringVar(&role, "role", "", "user tokens: member, admin or superadmin (not above your own)")
	f.StringVar(&in.App, "app", "", "service and iam tokens: the app they resolve at")
	f.StringVar(&in.Machine, "machine", "", "service and iam tokens: the machine of the app")
	f.StringSliceVar(&envs, "environments", nil, "service and iam tokens: environments they may resolve (comma-separated)")
	f.StringVar(&in.PrincipalARN, "principal-arn", "", "iam tokens: the IAM role or user ARN")
	f.StringVar(&expires, "expires", "", "expiry: a duration (90d, 12h) or a time (RFC 3339)")
	_ = cmd.MarkFlagRequired("name")
	_ = cmd.RegisterFlagCompletionFunc("kind", fixedCompletion("user", "service", "iam"))
	_ = cmd.RegisterFlagCompletionFunc("role", fixedCompletion("member", "admin", "superadmin"))
	_ = cmd.RegisterFlagCompletionFunc("environments", envCompletion)
	return cmd
}

// planTokenCreate completes the request from the flags that need parsing.
func planTokenCreate(in client.CreateTokenRequest, kind, role string, envs []string, expires string) (client.CreateTokenRequest, error) {
	in.Kind = secrets.TokenKind(kind)
	in.Role = secrets.Role(role)
	if len(envs) > 0 {
		list, err := parseEnvs(envs)
		if err != nil {
			return in, err
		}
		in.Environments = list
	}
	if expires != "" {
		t, err := parseExpiry(expires, time.Now())
		if err != nil {
			return in, err
		}
		in.ExpiresAt = &t
	}
	return in, nil
}

// printCreatedToken prints the token alone on stdout (an iam token's id,
// as it has none), and what it is on stderr.
func (a *app) printCreatedToken(tok *client.Token) error {
	if a.jsonOutput() {
		return a.printJSON(tok)
	}
	a.note("Created %s token %q (id %s, %s, expires %s).", tok.Kind, tok.Name, tok.ID, tokenScope(*tok), tsp(tok.ExpiresAt))
	if tok.Token == "" {
		fmt.Fprintln(a.stdout, tok.ID)
		return nil
	}
	a.note("It is shown this once; store it now.")
	fmt.Fprintln(a.stdout, tok.Token)
	return nil
}

// parseExpiry reads a duration from now (Go's, or a whole number of days
// such as 90d) or an RFC 3339 time.
func parseExpiry(s string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n > 0 {
			return now.Add(time.Duration(n) * 24 * time.Hour), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d > 0 {
		return now.Add(d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	return time.Time{}, usagef("--expires %q: give a duration such as 90d or 12h, or a time such as 2027-01-31T00:00:00Z", s)
}

func tokenScope(t client.Token) string {
	if t.Kind == secrets.TokenUser {
		return fmt.Sprintf("%s, %s", t.Subject, t.Role)
	}
	s := fmt.Sprintf("%s layer, resolves %s", layerName(secrets.Layer{App: t.App, Machine: t.Machine}), envNames(t.Environments))
	if t.PrincipalARN != "" {
		s = t.PrincipalARN + ", " + s
	}
	return s
}

func newTokensList(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the organization's tokens (never the tokens themselves)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, err := a.client()
			if err != nil {
				return err
			}
			list, err := cl.ListTokens(cmd.Context())
			if err != nil {
				return err
			}
			return a.printTokens(list, time.Now())
		},
	}
}

func (a *app) printTokens(list []client.Token, now time.Time) error {
	if a.jsonOutput() {
		if list == nil {
			list = []client.Token{}
		}
		return a.printJSON(map[string]any{"tokens": list})
	}
	tb := a.table("ID", "KIND", "NAME", "WHO / SCOPE", "PREFIX", "CREATED", "EXPIRES", "STATUS")
	for _, t := range list {
		status := "active"
		switch {
		case t.RevokedAt != nil:
			status = "revoked " + ts(*t.RevokedAt)
		case t.ExpiresAt != nil && !t.ExpiresAt.After(now):
			status = "expired"
		}
		tb.row(t.ID, string(t.Kind), t.Name, tokenScope(t), t.Prefix, ts(t.CreatedAt), tsp(t.ExpiresAt), status)
	}
	return tb.flush()
}

func newTokensRevoke(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID [ID...]",
		Short: "Revoke tokens by id (see zwrm tokens list)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := refuseTokens(args); err != nil {
				return err
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			revoked, failed := callRevoke(cmd.Context(), cl, args)
			return orFailed(a.printRevoked(revoked), failed)
		},
	}
}

// callRevoke revokes ids in order, stopping at the first failure; it
// returns the ids revoked before it.
func callRevoke(ctx context.Context, cl *client.Client, ids []string) ([]string, error) {
	revoked := []string{}
	for _, id := range ids {
		if err := cl.RevokeToken(ctx, id); err != nil {
			return revoked, fmt.Errorf("%s: %w", id, err)
		}
		revoked = append(revoked, id)
	}
	return revoked, nil
}

func (a *app) printRevoked(revoked []string) error {
	if a.jsonOutput() {
		return a.printJSON(map[string]any{"revoked": revoked})
	}
	for _, id := range revoked {
		fmt.Fprintf(a.stdout, "Revoked token %s\n", id)
	}
	return nil
}

// refuseTokens refuses, before anything is sent, an id argument that looks
// like a token (zwrm_u_…, zwrm_s_…) rather than a token's id: sent, it
// would travel in a URL path into access logs, and be printed back.
func refuseTokens(ids []string) error {
	for i, id := range ids {
		if secrets.LooksLikeToken(id) {
			return usagef("argument %d looks like a token (zwrm_…), not a token id, so it was not sent and is not shown; "+
				"token ids are in the ID column of zwrm tokens list. If it is a live token, revoke it by its id now: it has been on a command line", i+1)
		}
	}
	return nil
}

func newAudit(a *app) *cobra.Command {
	var limit int
	var cursor string
	cmd := &cobra.Command{
		Use:   "audit [--limit N] [--cursor C]",
		Short: "Show the audit trail, newest first (admins); never a value",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if limit < 0 || limit > 500 {
				return usagef("--limit must be from 1 to 500")
			}
			cl, err := a.client()
			if err != nil {
				return err
			}
			page, err := cl.Audit(cmd.Context(), limit, cursor)
			if err != nil {
				return err
			}
			return a.printAudit(page)
		},
	}
	cmd.Flags().IntVar(&limit, "limit", 0, "records per page, 1 to 500 (default: the server's)")
	cmd.Flags().StringVar(&cursor, "cursor", "", "the cursor a previous page printed")
	return cmd
}

func (a *app) printAudit(page *client.AuditPage) error {
	if a.jsonOutput() {
		if page.Records == nil {
			page.Records = []client.AuditRecord{}
		}
		return a.printJSON(page)
	}
	tb := a.table("TIME", "ACTION", "BY", "LAYER", "ENV", "SECRETS", "DETAIL")
	for _, r := range page.Records {
		layer := "-"
		if r.Layer != nil {
			layer = layerName(secrets.Layer(*r.Layer))
		}
		var names []string
		for _, e := range r.Secrets {
			names = append(names, fmt.Sprintf("%s v%d", e.Name, e.Version))
		}
		detail := r.Detail
		if r.TokenID != "" {
			detail = strings.TrimSpace(detail + " token " + r.TokenID)
		}
		tb.row(ts(r.Time), r.Action, who(client.Principal{Subject: r.Actor.Subject, Name: r.Actor.Name}), layer, string(r.Environment), strings.Join(names, ", "), detail)
	}
	if err := tb.flush(); err != nil {
		return err
	}
	if page.NextCursor != "" {
		a.note("More: zwrm audit --cursor %s", page.NextCursor)
	}
	return nil
}
