package httpapi

import (
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// EffectiveResponse is the answer of GET /v1/effective: what a resolve at
// the layer would return for the environment, with masks in place of
// values.
type EffectiveResponse struct {
	Environment secrets.Environment `json:"environment"`
	App         *string             `json:"app"`
	Machine     *string             `json:"machine"`
	Secrets     []EffectiveSecret   `json:"secrets"`
	// NextCursor is the cursor of the next page, left out after the last.
	NextCursor string `json:"next_cursor,omitempty"`
}

// EffectiveSecret is one name a workload at the layer receives: the layer
// its value comes from and the lower layers that value overrides.
type EffectiveSecret struct {
	Name      string              `json:"name"`
	ID        string              `json:"id"`
	Layer     string              `json:"layer"` // global, app or machine
	Version   int64               `json:"version"`
	Mask      string              `json:"mask"`
	Owner     secrets.Principal   `json:"owner"`
	Overrides []EffectiveOverride `json:"overrides"`
}

// EffectiveOverride is a lower layer's value for the name that the winner
// hides, nearest layer first.
type EffectiveOverride struct {
	Layer   string            `json:"layer"`
	Version int64             `json:"version"`
	Owner   secrets.Principal `json:"owner"`
}

func (a *api) getEffective(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	env, err := secrets.ParseEnvironment("environment", r.URL.Query().Get("environment"))
	if err != nil {
		return err
	}
	layer, err := queryLayer(r)
	if err != nil {
		return err
	}
	page, err := pageOf(r)
	if err != nil {
		return err
	}
	res, err := a.svc.Effective(r.Context(), id, service.EffectiveInput{Environment: env, Layer: layer, Page: page})
	if err != nil {
		return err
	}
	out := effectiveOf(env, res)
	out.Secrets, out.NextCursor, err = fitPage(out.Secrets, out.NextCursor, func(s EffectiveSecret) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func effectiveOf(env secrets.Environment, page *service.EffectivePage) EffectiveResponse {
	layer := page.Layer
	out := EffectiveResponse{Environment: env, App: optional(layer.App), Machine: optional(layer.Machine),
		Secrets: make([]EffectiveSecret, 0, len(page.Entries)), NextCursor: page.NextCursor}
	for _, e := range page.Entries {
		s := EffectiveSecret{Name: e.Name, ID: e.ID, Layer: e.Layer.Kind(), Version: e.Version, Mask: e.Mask, Owner: e.Owner,
			Overrides: make([]EffectiveOverride, 0, len(e.Overrides))}
		for _, o := range e.Overrides {
			s.Overrides = append(s.Overrides, EffectiveOverride{Layer: o.Layer.Kind(), Version: o.Version, Owner: o.Owner})
		}
		out.Secrets = append(out.Secrets, s)
	}
	return out
}
