package service

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Token prefixes say what a token is at a glance (and to secret scanners).
const (
	UserTokenPrefix    = "zwrm_u_"
	ServiceTokenPrefix = "zwrm_s_"
)

// newToken returns a token of 256 random bits behind the kind's prefix.
func newToken(kind secrets.TokenKind) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", secrets.Internalf(err, "read random token")
	}
	prefix := UserTokenPrefix
	if kind == secrets.TokenService {
		prefix = ServiceTokenPrefix
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

var errBadToken = secrets.Errorf(secrets.CodeUnauthorized, "the token is not valid: sign in again or ask an admin for a new token")

// Authenticate returns the identity behind a bearer token.
func (s *Service) Authenticate(ctx context.Context, token string) (secrets.Identity, error) {
	if !strings.HasPrefix(token, UserTokenPrefix) && !strings.HasPrefix(token, ServiceTokenPrefix) || len(token) > 200 {
		// iam tokens have no bearer form: they never match a prefix.
		return secrets.Identity{}, errBadToken
	}
	hash := secrets.HashToken(token)
	t, err := s.store.GetToken(ctx, secrets.TokenID(hash))
	if secrets.IsCode(err, secrets.CodeNotFound) {
		return secrets.Identity{}, errBadToken
	}
	if err != nil {
		return secrets.Identity{}, wrap(err, "get token")
	}
	if subtle.ConstantTimeCompare(t.Hash, hash) != 1 {
		return secrets.Identity{}, errBadToken
	}
	if t.RevokedAt != nil {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the token was revoked; ask an admin for a new one")
	}
	if t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt) {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the token expired at %s; ask an admin for a new one", t.ExpiresAt.Format(time.RFC3339))
	}
	return IdentityOf(t), nil
}

// IdentityOf returns the identity a stored token grants.
func IdentityOf(t *secrets.Token) secrets.Identity {
	return secrets.Identity{Org: t.Org, TokenID: t.ID, Kind: t.Kind, Subject: t.Subject, Name: t.Name, Role: t.Role, Scope: t.Scope}
}

// TokenInput is a token to create.
type TokenInput struct {
	Kind    secrets.TokenKind
	Subject string // user
	Name    string
	Role    secrets.Role // user
	App     string       // service
	Machine string       // service
	Envs    []string     // service
	// PrincipalARN is the IAM role or user an iam token registers.
	PrincipalARN string
	ExpiresAt    *time.Time
}

// CreateToken makes a token and returns it with its record. The token
// itself is returned once, here, and stored only as a hash.
func (s *Service) CreateToken(ctx context.Context, id secrets.Identity, in TokenInput) (string, *secrets.Token, error) {
	if err := requireAdmin(id); err != nil {
		return "", nil, err
	}
	t := &secrets.Token{Org: id.Org, Kind: in.Kind, Name: in.Name, CreatedAt: s.now(), CreatedBy: id.Principal()}
	if err := secrets.ValidateDisplayName("name", in.Name); err != nil {
		return "", nil, err
	}
	var err error
	switch in.Kind {
	case secrets.TokenUser:
		err = userToken(id, in, t)
	case secrets.TokenService:
		err = serviceToken(in, t)
	case secrets.TokenIAM:
		err = iamToken(in, t)
	default:
		err = secrets.Invalid("kind", "must be user, service or iam")
	}
	if err != nil {
		return "", nil, err
	}
	if in.ExpiresAt != nil {
		if !in.ExpiresAt.After(s.now()) {
			return "", nil, secrets.Invalid("expires_at", "must be in the future")
		}
		exp := in.ExpiresAt.UTC()
		t.ExpiresAt = &exp
	}
	var token string
	if t.Kind == secrets.TokenIAM {
		err = s.storeIAMToken(ctx, t)
	} else {
		token, err = s.storeToken(ctx, t)
	}
	if err != nil {
		return "", nil, err
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionTokenCreate, TokenID: t.ID, Detail: string(t.Kind) + " token " + t.Name + roleDetail(t)})
	return token, t, nil
}

func roleDetail(t *secrets.Token) string {
	if t.Kind == secrets.TokenUser {
		return " (" + string(t.Role) + ")"
	}
	return ""
}

// userToken fills t as a user token of in's role for in's subject: a role
// no higher than the creator's, and none of a service token's fields.
func userToken(id secrets.Identity, in TokenInput, t *secrets.Token) error {
	if err := secrets.ValidateSubject(in.Subject); err != nil {
		return err
	}
	if in.Role.Priority() == 0 {
		return secrets.Invalid("role", "must be member, admin or superadmin")
	}
	if in.Role.Priority() > id.Role.Priority() {
		return secrets.Errorf(secrets.CodeForbidden, "you are %s and cannot create a %s token", id.Role, in.Role)
	}
	for field, set := range map[string]bool{"app": in.App != "", "machine": in.Machine != "", "environments": len(in.Envs) > 0} {
		if set {
			return secrets.Invalid(field, "belongs to service tokens; user tokens have a role instead")
		}
	}
	if in.PrincipalARN != "" {
		return secrets.Invalid("principal_arn", "belongs to iam tokens")
	}
	t.Subject, t.Role = in.Subject, in.Role
	return nil
}

// serviceToken fills t as a bearer service token that may resolve in's
// environments at in's app (and machine).
func serviceToken(in TokenInput, t *secrets.Token) error {
	if err := resolveScope(in, t); err != nil {
		return err
	}
	if in.PrincipalARN != "" {
		return secrets.Invalid("principal_arn", "belongs to iam tokens")
	}
	return nil
}

// iamToken fills t as the registration of an IAM principal that may
// resolve as a service token does, without a bearer token.
func iamToken(in TokenInput, t *secrets.Token) error {
	if err := resolveScope(in, t); err != nil {
		return err
	}
	arn, err := NormalizePrincipalARN(in.PrincipalARN)
	if err != nil {
		return err
	}
	t.Subject, t.PrincipalARN = "iam:"+arn, arn
	return nil
}

// resolveScope fills what service and IAM tokens share: a scope of app,
// machine and environments to resolve, and no user's fields.
func resolveScope(in TokenInput, t *secrets.Token) error {
	if in.Subject != "" {
		return secrets.Invalid("subject", "belongs to user tokens; service tokens have a name and may only resolve")
	}
	if in.Role != "" {
		return secrets.Invalid("role", "belongs to user tokens; service tokens may only resolve")
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return err
	}
	if len(in.Envs) == 0 {
		return secrets.Invalid("environments", "is required: the environments this token may resolve, e.g. [\"production\"]")
	}
	var envs []secrets.Environment
	for _, e := range in.Envs {
		env, err := secrets.ParseEnvironment("environments", e)
		if err != nil {
			return err
		}
		if !slices.Contains(envs, env) {
			envs = append(envs, env)
		}
	}
	t.Subject = "service:" + in.Name
	t.Scope = secrets.Scope{App: layer.App, Machine: layer.Machine, Environments: envs}
	return nil
}

// storeToken draws a token for t, fills in its hash and id, and stores it.
func (s *Service) storeToken(ctx context.Context, t *secrets.Token) (string, error) {
	token, err := newToken(t.Kind)
	if err != nil {
		return "", err
	}
	t.Hash = secrets.HashToken(token)
	t.ID = secrets.TokenID(t.Hash)
	t.Prefix = token[:len(UserTokenPrefix)+4]
	if err := s.store.CreateToken(ctx, t); err != nil {
		return "", wrap(err, "store token")
	}
	return token, nil
}

// storeIAMToken stores t under the id its principal derives: there is no
// secret to hand out, the caller proves itself to AWS with SigV4.
func (s *Service) storeIAMToken(ctx context.Context, t *secrets.Token) error {
	t.Hash = secrets.HashToken("iam:" + t.Org + ":" + t.PrincipalARN)
	t.ID = secrets.TokenID(t.Hash)
	t.Prefix = "iam"
	err := s.store.CreateToken(ctx, t)
	if errors.Is(err, secrets.ErrExists) {
		err = s.reregister(ctx, t)
	}
	if err != nil {
		return wrap(err, "store iam token")
	}
	return nil
}

// reregister replaces an org's earlier registration of t's principal if it
// was revoked or has expired; an active one is a conflict.
func (s *Service) reregister(ctx context.Context, t *secrets.Token) error {
	taken := &secrets.Error{Code: secrets.CodeConflict, Field: "principal_arn",
		Message: "this IAM principal is already registered in this organization; revoke that registration first to register it again"}
	old, err := s.store.GetToken(ctx, t.ID)
	if err != nil {
		return err
	}
	if old.Org != t.Org {
		return taken // cannot happen: the id is derived from the org
	}
	if old.RevokedAt == nil {
		if old.ExpiresAt == nil || s.now().Before(*old.ExpiresAt) {
			return taken
		}
		// Expired: revoke it, so the replacement below is conditional on
		// one state the store can check.
		if err := s.store.RevokeToken(ctx, t.Org, t.ID, s.now()); err != nil {
			return err
		}
	}
	err = s.store.ReplaceRevokedToken(ctx, t)
	if errors.Is(err, secrets.ErrExists) {
		return taken // registered again meanwhile
	}
	return err
}

// NormalizePrincipalARN turns the ARN API Gateway reports for a SigV4
// caller into the one an admin registers: an assumed-role session
// (arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION) becomes its role
// (arn:aws:iam::ACCOUNT:role/ROLE); role and user ARNs stay as they are.
// A role registered with a path is matched by its name only, as STS drops
// the path from session ARNs.
func NormalizePrincipalARN(arn string) (string, error) {
	bad := secrets.Invalid("principal_arn", "must be an IAM role or user ARN, e.g. arn:aws:iam::123456789012:role/web-prod")
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || !strings.HasPrefix(parts[1], "aws") || len(parts[4]) != 12 || strings.Trim(parts[4], "0123456789") != "" {
		return "", bad
	}
	partition, account, resource := parts[1], parts[4], parts[5]
	switch {
	case parts[2] == "sts" && strings.HasPrefix(resource, "assumed-role/"):
		role, _, ok := strings.Cut(strings.TrimPrefix(resource, "assumed-role/"), "/")
		if !ok || role == "" {
			return "", bad
		}
		return "arn:" + partition + ":iam::" + account + ":role/" + role, nil
	case parts[2] == "iam" && strings.HasPrefix(resource, "role/"):
		name := resource[strings.LastIndexByte(resource, '/')+1:]
		if name == "" {
			return "", bad
		}
		return "arn:" + partition + ":iam::" + account + ":role/" + name, nil
	case parts[2] == "iam" && strings.HasPrefix(resource, "user/") && len(resource) > len("user/"):
		return arn, nil
	}
	return "", bad
}

// AuthenticateIAM returns the identity org registered for the IAM
// principal that API Gateway verified (SigV4) for POST /v1/resolve/iam.
func (s *Service) AuthenticateIAM(ctx context.Context, org, principalARN string) (secrets.Identity, error) {
	if err := secrets.ValidateOrgID(org); err != nil {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "name the organization to resolve from: POST /v1/resolve/iam?org=ORG")
	}
	arn, err := NormalizePrincipalARN(principalARN)
	if err != nil {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the caller is not an IAM role or user")
	}
	t, err := s.store.GetToken(ctx, secrets.IAMTokenID(org, arn))
	if secrets.IsCode(err, secrets.CodeNotFound) || (err == nil && (t.Kind != secrets.TokenIAM || t.PrincipalARN != arn || t.Org != org)) {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the IAM principal %s is not registered in organization %s; an admin registers it with POST /v1/tokens (kind iam)", arn, org)
	}
	if err != nil {
		return secrets.Identity{}, wrap(err, "get iam token")
	}
	if t.RevokedAt != nil {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the registration of %s was revoked", arn)
	}
	if t.ExpiresAt != nil && !s.now().Before(*t.ExpiresAt) {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the registration of %s expired", arn)
	}
	return IdentityOf(t), nil
}

// ListTokens returns the org's tokens (never the tokens themselves).
func (s *Service) ListTokens(ctx context.Context, id secrets.Identity) ([]*secrets.Token, error) {
	if err := requireAdmin(id); err != nil {
		return nil, err
	}
	list, err := s.store.ListTokens(ctx, id.Org)
	if err != nil {
		return nil, wrap(err, "list tokens")
	}
	return list, nil
}

// RevokeToken revokes one of the org's tokens.
func (s *Service) RevokeToken(ctx context.Context, id secrets.Identity, tokenID string) error {
	if err := requireAdmin(id); err != nil {
		return err
	}
	t, err := s.store.GetToken(ctx, tokenID)
	if secrets.IsCode(err, secrets.CodeNotFound) || (err == nil && t.Org != id.Org) {
		return secrets.Errorf(secrets.CodeNotFound, "token %s not found", tokenID)
	}
	if err != nil {
		return wrap(err, "get token %s", tokenID)
	}
	if t.Role.Priority() > id.Role.Priority() {
		return secrets.Errorf(secrets.CodeForbidden, "you are %s and cannot revoke a %s token", id.Role, t.Role)
	}
	if err := s.store.RevokeToken(ctx, id.Org, tokenID, s.now()); err != nil {
		return wrap(err, "revoke token %s", tokenID)
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionTokenRevoke, TokenID: tokenID, Detail: string(t.Kind) + " token " + t.Name})
	return nil
}

// Bootstrap creates the organization org if it is new and a superadmin
// token in it for subject, and returns the token. It is for operators (the
// `zwrm admin bootstrap` command), not for the API.
func (s *Service) Bootstrap(ctx context.Context, org, subject, name string) (string, error) {
	if err := secrets.ValidateOrgID(org); err != nil {
		return "", err
	}
	if err := secrets.ValidateSubject(subject); err != nil {
		return "", err
	}
	if err := secrets.ValidateDisplayName("name", name); err != nil {
		return "", err
	}
	err := s.store.CreateOrg(ctx, &secrets.Org{ID: org, CreatedAt: s.now()})
	if err != nil && !errors.Is(err, secrets.ErrExists) {
		return "", wrap(err, "create org %s", org)
	}
	operator := secrets.Principal{Subject: "operator:bootstrap", Name: "bootstrap"}
	t := &secrets.Token{Org: org, Kind: secrets.TokenUser, Subject: subject, Name: name, Role: secrets.RoleSuperadmin, CreatedAt: s.now(), CreatedBy: operator}
	token, err := s.storeToken(ctx, t)
	if err != nil {
		return "", err
	}
	s.audit(ctx, secrets.Identity{Org: org, Kind: secrets.TokenUser, Subject: operator.Subject, Name: operator.Name},
		&secrets.AuditRecord{Action: secrets.ActionTokenCreate, TokenID: t.ID, Detail: "user token " + name + " (superadmin), by bootstrap"})
	return token, nil
}

// Audit returns a page of the org's audit trail, newest first: up to limit
// records, within MaxAuditPageBytes as the API encodes them, leaving out
// expired records, each resolve's list of names as it was recorded.
func (s *Service) Audit(ctx context.Context, id secrets.Identity, cursor string, limit int) ([]*secrets.AuditRecord, string, error) {
	if err := requireAdmin(id); err != nil {
		return nil, "", err
	}
	if limit <= 0 {
		limit = 50
	}
	if limit > 500 {
		return nil, "", secrets.Invalid("limit", "is at most 500")
	}
	return s.auditPage(ctx, id.Org, cursor, limit)
}
