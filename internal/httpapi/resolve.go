package httpapi

import (
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

func (a *api) resolve(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.ResolveRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	env, err := secrets.ParseEnvironment("environment", string(in.Environment))
	if err != nil {
		return err
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return err
	}
	res, err := a.svc.Resolve(r.Context(), id, service.ResolveInput{Environment: env, Layer: layer, Names: in.Names, IfNoneMatch: in.IfNoneMatch})
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+res.Fingerprint+`"`)
	if res.NotModified {
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	sources := make(map[string]wire.ResolvedSource, len(res.Sources))
	for name, e := range res.Sources {
		layer, err := secrets.ParseLayerKey(e.Layer)
		if err != nil {
			return err
		}
		sources[name] = wire.ResolvedSource{Layer: layer.Kind(), Version: e.Version}
	}
	writeJSON(w, http.StatusOK, wire.Resolved{Environment: res.Environment, Fingerprint: res.Fingerprint, Secrets: res.Values, Sources: sources})
	return nil
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
	out.Secrets, out.NextCursor, err = fitPage(out.Secrets, out.NextCursor, func(s wire.EffectiveSecret) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func effectiveOf(env secrets.Environment, page *service.EffectivePage) wire.Effective {
	layer := page.Layer
	return wire.Effective{Environment: env, App: wire.Optional(layer.App), Machine: wire.Optional(layer.Machine),
		Secrets: mapAll(page.Entries, effectiveSecretOf), NextCursor: page.NextCursor}
}

func effectiveSecretOf(e service.EffectiveEntry) wire.EffectiveSecret {
	return wire.EffectiveSecret{Name: e.Name, ID: e.ID, Layer: e.Layer.Kind(), Version: e.Version, Mask: e.Mask, Owner: principalOf(e.Owner),
		Overrides: mapAll(e.Overrides, func(o service.EffectiveOverride) wire.EffectiveOverride {
			return wire.EffectiveOverride{Layer: o.Layer.Kind(), Version: o.Version, Owner: principalOf(o.Owner)}
		})}
}
