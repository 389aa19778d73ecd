package httpapi

import (
	_ "embed"
	"net/http"
	"strconv"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

//go:embed openapi.json
var openAPIDoc []byte

func (a *api) health(w http.ResponseWriter, r *http.Request, _ secrets.Identity) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

func (a *api) openapi(w http.ResponseWriter, r *http.Request, _ secrets.Identity) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}

func (a *api) me(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	out := map[string]any{"org": id.Org, "subject": id.Subject, "name": id.Name, "kind": id.Kind,
		"role": id.Role, "role_priority": id.Role.Priority(), "token_id": id.TokenID}
	if id.Kind == secrets.TokenService {
		out["role"] = nil
		out["scope"] = id.Scope
	}
	writable, err := a.svc.WritableEnvironments(r.Context(), id, nil)
	if err != nil {
		return err
	}
	out["writable_environments"] = writable
	writeJSON(w, http.StatusOK, out)
	return nil
}

// pathLayer reads the layer from the {app} and {machine} path values.
func pathLayer(r *http.Request) (secrets.Layer, error) {
	return secrets.NewLayer(r.PathValue("app"), r.PathValue("machine"))
}

// queryLayer reads the layer from ?app= and ?machine=.
func queryLayer(r *http.Request) (secrets.Layer, error) {
	q := r.URL.Query()
	return secrets.NewLayer(q.Get("app"), q.Get("machine"))
}

func (a *api) setLayerSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := pathLayer(r)
	if err != nil {
		return err
	}
	var in struct {
		Name        string `json:"name"`
		Value       string `json:"value"`
		Environment string `json:"environment"`
	}
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	var env secrets.Environment
	if in.Environment != "" {
		if env, err = secrets.ParseEnvironment("environment", in.Environment); err != nil {
			return err
		}
	}
	sec, created, err := a.svc.SetValue(r.Context(), id, layer, in.Name, in.Value, env)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, layerSecret{Name: sec.Name, Version: sec.Version, CreatedAt: sec.CreatedAt, UpdatedAt: sec.UpdatedAt})
	return nil
}

func (a *api) listLayerSecrets(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := pathLayer(r)
	if err != nil {
		return err
	}
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	list, next, err := a.svc.List(r.Context(), id, layer, page)
	if err != nil {
		return err
	}
	out := make([]layerSecret, 0, len(list))
	for _, s := range list {
		out = append(out, layerSecret{Name: s.Name, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt})
	}
	out, next, err = fitPage(out, next, func(s layerSecret) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageAnswer("secrets", out, next))
	return nil
}

func (a *api) deleteLayerSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := pathLayer(r)
	if err != nil {
		return err
	}
	if err := a.svc.DeleteByName(r.Context(), id, layer, r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listLayers(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layers, err := a.svc.Layers(r.Context(), id)
	if err != nil {
		return err
	}
	type layerView struct {
		App     string  `json:"app"`
		Machine *string `json:"machine"`
	}
	out := make([]layerView, 0, len(layers))
	for _, l := range layers {
		out = append(out, layerView{App: l.App, Machine: optional(l.Machine)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"layers": out})
	return nil
}

func (a *api) listSecrets(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := queryLayer(r)
	if err != nil {
		return err
	}
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	list, next, err := a.svc.List(r.Context(), id, layer, page)
	if err != nil {
		return err
	}
	rows := make([]secretRow, 0, len(list))
	for _, s := range list {
		rows = append(rows, rowOf(s))
	}
	rows, next, err = fitPage(rows, next, func(s secretRow) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, pageAnswer("secrets", rows, next))
	return nil
}

// CreateSecretRequest is the body of POST /v1/secrets.
type CreateSecretRequest struct {
	Name        string             `json:"name"`
	Description string             `json:"description"`
	App         string             `json:"app"`
	Machine     string             `json:"machine"`
	Values      map[string]*string `json:"values"`
}

func (a *api) createSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in CreateSecretRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return err
	}
	values := map[secrets.Environment]string{}
	for k, v := range in.Values {
		env, err := secrets.ParseEnvironment("values", k)
		if err != nil {
			return err
		}
		if v != nil {
			values[env] = *v
		}
	}
	sec, err := a.svc.Create(r.Context(), id, service.CreateInput{Layer: layer, Name: in.Name, Description: in.Description, Values: values})
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusCreated, sec, id)
}

func (a *api) getSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	sec, err := a.svc.Get(r.Context(), id, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

// UpdateSecretRequest is the body of PATCH /v1/secrets/{id}: only what
// changes, and the version it changes.
type UpdateSecretRequest struct {
	Version     *int64             `json:"version"`
	Name        *string            `json:"name"`
	Description *string            `json:"description"`
	Values      map[string]*string `json:"values"`
}

func (a *api) updateSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in UpdateSecretRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Version == nil {
		return secrets.Invalid("version", "is required: the version you are changing, as you last read it")
	}
	if in.Name != nil {
		return secrets.Invalid("name", "cannot be changed: values are bound to the name; create a secret with the new name and delete this one")
	}
	up := service.UpdateInput{Version: *in.Version, Description: in.Description, Values: map[secrets.Environment]*string{}}
	for k, v := range in.Values {
		env, err := secrets.ParseEnvironment("values", k)
		if err != nil {
			return err
		}
		up.Values[env] = v
	}
	sec, err := a.svc.Update(r.Context(), id, r.PathValue("id"), up)
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

func (a *api) deleteSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	if err := a.svc.Delete(r.Context(), id, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *api) listVersions(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	versions, err := a.svc.Versions(r.Context(), id, r.PathValue("id"))
	if err != nil {
		return err
	}
	out := make([]versionRow, 0, len(versions))
	for i, v := range versions {
		out = append(out, versionRow{Version: v.Version, Change: v.Change, RestoredFrom: v.RestoredFrom, Description: v.Description,
			Environments: envsOf(v), Masked: masksOf(v), UpdatedAt: v.UpdatedAt, UpdatedBy: v.UpdatedBy, Current: i == 0})
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": versions[0].ID, "name": versions[0].Name, "versions": out})
	return nil
}

func (a *api) restoreVersion(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return secrets.Invalid("n", "must be a version number (1 or more)")
	}
	var in struct{}
	if err := decodeJSON(r, &in, true); err != nil {
		return err
	}
	sec, err := a.svc.Restore(r.Context(), id, r.PathValue("id"), n)
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

// RotationRequest is the body of PUT /v1/secrets/{id}/rotation.
type RotationRequest struct {
	Every        string   `json:"every"`
	Environments []string `json:"environments"`
	Length       int      `json:"length"`
	Alphabet     string   `json:"alphabet"`
}

func (a *api) setRotation(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in RotationRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	sec, err := a.svc.SetRotation(r.Context(), id, r.PathValue("id"), service.RotationInput{Every: in.Every, Environments: in.Environments, Length: in.Length, Alphabet: in.Alphabet})
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

func (a *api) clearRotation(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	sec, err := a.svc.ClearRotation(r.Context(), id, r.PathValue("id"))
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

// ResolveRequest is the body of POST /v1/resolve.
type ResolveRequest struct {
	Environment string `json:"environment"`
	App         string `json:"app"`
	Machine     string `json:"machine"`
}

func (a *api) resolve(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in ResolveRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	env, err := secrets.ParseEnvironment("environment", in.Environment)
	if err != nil {
		return err
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return err
	}
	res, err := a.svc.Resolve(r.Context(), id, service.ResolveInput{Environment: env, Layer: layer})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"environment": res.Environment, "secrets": res.Values})
	return nil
}

// CreateTokenRequest is the body of POST /v1/tokens.
type CreateTokenRequest struct {
	Kind         string     `json:"kind"`
	Subject      string     `json:"subject"`
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	App          string     `json:"app"`
	Machine      string     `json:"machine"`
	Environments []string   `json:"environments"`
	PrincipalARN string     `json:"principal_arn"`
	ExpiresAt    *time.Time `json:"expires_at"`
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in CreateTokenRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	token, t, err := a.svc.CreateToken(r.Context(), id, service.TokenInput{Kind: secrets.TokenKind(in.Kind), Subject: in.Subject, Name: in.Name,
		Role: secrets.Role(in.Role), App: in.App, Machine: in.Machine, Envs: in.Environments, PrincipalARN: in.PrincipalARN, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return err
	}
	v := tokenViewOf(t)
	v.Token = token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	list, err := a.svc.ListTokens(r.Context(), id)
	if err != nil {
		return err
	}
	out := make([]tokenView, 0, len(list))
	for _, t := range list {
		out = append(out, tokenViewOf(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": out})
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	if err := a.svc.RevokeToken(r.Context(), id, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

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
	if records == nil {
		records = []*secrets.AuditRecord{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"records": records, "next_cursor": next})
	return nil
}

func (a *api) getOrg(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	org, err := a.svc.Org(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}

// UpdateOrgRequest is the body of PATCH /v1/org: the settings that change.
type UpdateOrgRequest struct {
	UserResolveEnvironments []string                          `json:"user_resolve_environments"`
	EnvironmentPolicies     map[string]EnvironmentPolicyInput `json:"environment_policies"`
	AuditRetentionDays      *int                              `json:"audit_retention_days"`
}

// EnvironmentPolicyInput is one environment's write policy.
type EnvironmentPolicyInput struct {
	MinWritePriority *int `json:"min_write_priority"`
}

func (a *api) updateOrg(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in UpdateOrgRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	up := service.OrgUpdate{UserResolveEnvironments: in.UserResolveEnvironments, AuditRetentionDays: in.AuditRetentionDays}
	if in.EnvironmentPolicies != nil {
		up.EnvironmentPolicies = map[string]secrets.EnvironmentPolicy{}
		for env, p := range in.EnvironmentPolicies {
			if p.MinWritePriority == nil {
				return secrets.Invalid("environment_policies."+env+".min_write_priority", "is required: the least role priority that may write %s values (member 10, admin 100, superadmin 1000)", env)
			}
			up.EnvironmentPolicies[env] = secrets.EnvironmentPolicy{MinWritePriority: *p.MinWritePriority}
		}
	}
	org, err := a.svc.UpdateOrg(r.Context(), id, up)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, org)
	return nil
}
