package httpapi

import (
	"net/http"
	"strconv"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

func (a *api) listAudit(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	q := r.URL.Query()
	limit := 0
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return secrets.Invalid("limit", "must be a whole number from 1 to 500")
		}
		limit = n
	}
	records, next, err := a.svc.Audit(r.Context(), id, q.Get("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.AuditPage{NextCursor: next, Records: mapAll(records, auditRecordOf)})
	return nil
}

func (a *api) getOrg(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	org, err := a.svc.Org(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgOf(org))
	return nil
}

func (a *api) updateOrg(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.UpdateOrgRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	up := service.OrgUpdate{UserResolveEnvironments: envStrings(in.UserResolveEnvironments), AuditRetentionDays: in.AuditRetentionDays}
	if in.EnvironmentPolicies != nil {
		up.EnvironmentPolicies = map[string]secrets.EnvironmentPolicy{}
		for env, p := range in.EnvironmentPolicies {
			if p.MinWritePriority == nil {
				return secrets.Invalid("environment_policies."+string(env)+".min_write_priority", "is required: the least role priority that may write %s values (member 10, admin 100, superadmin 1000)", env)
			}
			up.EnvironmentPolicies[string(env)] = secrets.EnvironmentPolicy{MinWritePriority: *p.MinWritePriority}
		}
	}
	org, err := a.svc.UpdateOrg(r.Context(), id, up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, orgOf(org))
	return nil
}
