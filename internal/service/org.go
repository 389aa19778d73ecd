package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zwrm/secrets/internal/secrets"
)

// Org returns the caller's organization, with every setting filled in
// (defaults included).
func (s *Service) Org(ctx context.Context, id secrets.Identity) (*secrets.Org, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	org, err := s.store.GetOrg(ctx, id.Org)
	if err != nil {
		return nil, wrap(err, "get org %s", id.Org)
	}
	return orgView(org), nil
}

// orgView is org with its defaults made explicit.
func orgView(org *secrets.Org) *secrets.Org {
	out := *org
	out.UserResolveEnvironments = userResolveEnvironments(org)
	out.EnvironmentPolicies = org.WritePolicies()
	out.AuditRetentionDays = org.AuditRetention()
	return &out
}

// OrgUpdate changes an organization's settings; nil fields keep theirs.
type OrgUpdate struct {
	// UserResolveEnvironments are the environments user tokens may resolve.
	UserResolveEnvironments []string
	// EnvironmentPolicies replaces the policies of the environments named.
	EnvironmentPolicies map[string]secrets.EnvironmentPolicy
	// AuditRetentionDays is how many days audit records are kept.
	AuditRetentionDays *int
}

// UpdateOrg changes the caller's organization's settings. Superadmins only:
// the settings decide who may read plaintext and who may change production.
func (s *Service) UpdateOrg(ctx context.Context, id secrets.Identity, in OrgUpdate) (*secrets.Org, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	if id.Role != secrets.RoleSuperadmin {
		return nil, secrets.Errorf(secrets.CodeForbidden, "only a superadmin can change the organization's settings; you are %s", id.Role)
	}
	if in.UserResolveEnvironments == nil && in.EnvironmentPolicies == nil && in.AuditRetentionDays == nil {
		return nil, secrets.Invalid("", "nothing to change: send user_resolve_environments, environment_policies or audit_retention_days")
	}
	if in.AuditRetentionDays != nil {
		if err := secrets.ValidateAuditRetentionDays("audit_retention_days", *in.AuditRetentionDays); err != nil {
			return nil, err
		}
	}
	var resolveEnvs []secrets.Environment
	if in.UserResolveEnvironments != nil {
		var err error
		resolveEnvs, err = parseEnvironments("user_resolve_environments", in.UserResolveEnvironments, `the environments user tokens may resolve, e.g. ["development"]`)
		if err != nil {
			return nil, err
		}
	}
	policies := map[secrets.Environment]secrets.EnvironmentPolicy{}
	for e, p := range in.EnvironmentPolicies {
		env, err := secrets.ParseEnvironment("environment_policies", e)
		if err != nil {
			return nil, err
		}
		if err := secrets.ValidateWritePriority("environment_policies."+e+".min_write_priority", p.MinWritePriority); err != nil {
			return nil, err
		}
		policies[env] = p
	}
	if resolveEnvs == nil && len(policies) == 0 && in.AuditRetentionDays == nil {
		return nil, secrets.Invalid("environment_policies", "names no environment: nothing to change")
	}
	// Each change is conditional on the settings it read: two superadmins
	// changing different settings at once both land.
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		org, err := s.store.GetOrg(ctx, id.Org)
		if err != nil {
			return nil, wrap(err, "get org %s", id.Org)
		}
		var changes []string
		if resolveEnvs != nil {
			org.UserResolveEnvironments = resolveEnvs
			changes = append(changes, "user_resolve_environments: "+envList(resolveEnvs))
		}
		if len(policies) > 0 {
			before, all := org.WritePolicies(), org.WritePolicies()
			var said []string
			for _, env := range secrets.Environments {
				if p, ok := policies[env]; ok {
					all[env] = p
					said = append(said, fmt.Sprintf("%s %d→%d", env, before[env].MinWritePriority, p.MinWritePriority))
				}
			}
			org.EnvironmentPolicies = all
			changes = append(changes, "environment_policies min_write_priority: "+strings.Join(said, ", "))
		}
		kept := org.AuditRetention()
		if in.AuditRetentionDays != nil {
			changes = append(changes, fmt.Sprintf("audit_retention_days: %d→%d", org.AuditRetention(), *in.AuditRetentionDays))
			org.AuditRetentionDays = *in.AuditRetentionDays
		}
		read := org.SettingsVersion
		org.SettingsVersion++
		err = s.store.PutOrgSettings(ctx, org, read)
		if errors.Is(err, secrets.ErrStale) {
			continue
		}
		if err != nil {
			return nil, wrap(err, "update org %s", id.Org)
		}
		// Records written from now on are kept as the settings say; the
		// record of this change, for the longer of the old and the new
		// retention, so that shortening it cannot shorten its own trace.
		s.audits.rememberRetention(id.Org, org.AuditRetention(), s.cfg.Now())
		s.auditKeeping(ctx, id, &secrets.AuditRecord{Action: secrets.ActionOrgUpdate, Detail: strings.Join(changes, "; ")}, kept)
		return orgView(org), nil
	}
	return nil, secrets.Errorf(secrets.CodeUnavailable, "too many concurrent changes to the organization's settings; try again")
}

// SetUserResolveEnvironments sets which environments user tokens may
// resolve (UpdateOrg with that setting alone).
func (s *Service) SetUserResolveEnvironments(ctx context.Context, id secrets.Identity, envs []string) (*secrets.Org, error) {
	if envs == nil {
		envs = []string{}
	}
	return s.UpdateOrg(ctx, id, OrgUpdate{UserResolveEnvironments: envs})
}

// parseEnvironments parses the environment names of field, each once in
// the order first named; none is refused, saying what field wants.
func parseEnvironments(field string, names []string, wants string) ([]secrets.Environment, error) {
	if len(names) == 0 {
		return nil, secrets.Invalid(field, "is required: %s", wants)
	}
	var envs []secrets.Environment
	for _, e := range names {
		env, err := secrets.ParseEnvironment(field, e)
		if err != nil {
			return nil, err
		}
		if !slices.Contains(envs, env) {
			envs = append(envs, env)
		}
	}
	return envs, nil
}

// writeOrg returns the caller's org for a write that its environment
// policies govern.
func (s *Service) writeOrg(ctx context.Context, id secrets.Identity) (*secrets.Org, error) {
	org, err := s.store.GetOrg(ctx, id.Org)
	if err != nil {
		return nil, wrap(err, "get org %s", id.Org)
	}
	return org, nil
}

// checkWrite returns the first refusal of the caller's org's policies for
// id doing something to each of envs, in display order.
func (s *Service) checkWrite(ctx context.Context, id secrets.Identity, envs []secrets.Environment, doing string) error {
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return err
	}
	return checkEnvironments(id, org, envs, doing)
}

// checkEnvironments returns the first refusal of org's policies for id
// doing something to each of envs, in display order.
func checkEnvironments(id secrets.Identity, org *secrets.Org, envs []secrets.Environment, doing string) error {
	for _, env := range secrets.Environments {
		if slices.Contains(envs, env) {
			if err := secrets.CheckWriteEnvironment(id, org, env, doing); err != nil {
				return err
			}
		}
	}
	return nil
}

// WritableEnvironments returns the environments whose values id may change
// under its org's policies, and, when sec is given, on sec (whose owner
// the caller must be, or an admin).
func (s *Service) WritableEnvironments(ctx context.Context, id secrets.Identity, sec *secrets.Secret) ([]secrets.Environment, error) {
	out := []secrets.Environment{}
	if id.Kind != secrets.TokenUser || (sec != nil && !secrets.CanModify(id, sec)) {
		return out, nil
	}
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	for _, env := range secrets.Environments {
		if secrets.CanWriteEnvironment(id, org, env) {
			out = append(out, env)
		}
	}
	return out, nil
}
