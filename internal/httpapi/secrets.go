package httpapi

import (
	"net/http"
	"strconv"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

// pathLayer reads the layer from the {app} and {machine} path values.
func pathLayer(r *http.Request) (secrets.Layer, error) {
	return secrets.NewLayer(r.PathValue("app"), r.PathValue("machine"))
}

// queryLayer reads the layer from ?app= and ?machine=.
func queryLayer(r *http.Request) (secrets.Layer, error) {
	q := r.URL.Query()
	return secrets.NewLayer(q.Get("app"), q.Get("machine"))
}

func layerSecretOf(s *secrets.Secret) wire.LayerSecret {
	return wire.LayerSecret{Name: s.Name, Version: s.Version, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt}
}

func (a *api) setLayerSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := pathLayer(r)
	if err != nil {
		return err
	}
	var in wire.SetLayerSecretRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	var env secrets.Environment
	if in.Environment != "" {
		if env, err = secrets.ParseEnvironment("environment", string(in.Environment)); err != nil {
			return err
		}
	}
	sec, created, err := a.svc.SetValueWith(r.Context(), id, layer, in.Name, in.Value, env, service.SetOptions{OnlyIfSame: in.OnlyIfSame})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, layerSecretOf(sec))
	return nil
}

func (a *api) listLayerSecrets(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := pathLayer(r)
	if err != nil {
		return err
	}
	out, next, err := listPage(a, r, id, layer, layerSecretOf, func(s wire.LayerSecret) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.LayerSecretList{Secrets: out, NextCursor: next})
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
	writeJSON(w, http.StatusOK, wire.LayerList{Layers: mapAll(layers, func(l secrets.Layer) wire.LayerEntry {
		return wire.LayerEntry{App: l.App, Machine: wire.Optional(l.Machine)}
	})})
	return nil
}

func (a *api) listSecrets(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	layer, err := queryLayer(r)
	if err != nil {
		return err
	}
	rows, next, err := listPage(a, r, id, layer, rowOf, func(s wire.SecretRow) string { return s.Name })
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.SecretList{Secrets: rows, NextCursor: next})
	return nil
}

// listPage lists a page of the secrets at layer as rows made by row,
// fitted to maxPageBytes.
func listPage[T any](a *api, r *http.Request, id secrets.Identity, layer secrets.Layer, row func(*secrets.Secret) T, name func(T) string) ([]T, string, error) {
	page, err := pageOf(r)
	if err != nil {
		return nil, "", err
	}
	list, next, err := a.svc.List(r.Context(), id, layer, page)
	if err != nil {
		return nil, "", err
	}
	return fitPage(mapAll(list, row), next, name)
}

func (a *api) createSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.CreateSecretRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return err
	}
	values := map[secrets.Environment]string{}
	for k, v := range in.Values {
		env, err := secrets.ParseEnvironment("values", string(k))
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

func (a *api) updateSecret(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.UpdateSecretRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	if in.Version == 0 {
		return secrets.Invalid("version", "is required: the version you are changing, as you last read it")
	}
	if in.Name != nil {
		return secrets.Invalid("name", "cannot be changed: values are bound to the name; create a secret with the new name and delete this one")
	}
	up := service.UpdateInput{Version: in.Version, Description: in.Description, Values: map[secrets.Environment]*string{}}
	for k, v := range in.Values {
		env, err := secrets.ParseEnvironment("values", string(k))
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
	out := wire.VersionList{ID: versions[0].ID, Name: versions[0].Name, Versions: make([]wire.Version, 0, len(versions))}
	for i, v := range versions {
		out.Versions = append(out.Versions, wire.Version{Version: v.Version, Change: v.Change, RestoredFrom: v.RestoredFrom, Description: v.Description,
			Environments: envsOf(v), Masked: masksOf(v), Fingerprints: fingerprintsOf(v), UpdatedAt: v.UpdatedAt, UpdatedBy: principalOf(v.UpdatedBy), Current: i == 0})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) restoreVersion(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	n, err := strconv.ParseInt(r.PathValue("n"), 10, 64)
	if err != nil || n < 1 {
		return secrets.Invalid("n", "must be a version number (1 or more)")
	}
	var in wire.RestoreVersionRequest
	if err := decodeJSON(r, &in, true); err != nil {
		return err
	}
	sec, err := a.svc.Restore(r.Context(), id, r.PathValue("id"), n)
	if err != nil {
		return err
	}
	return a.writeDetail(w, r, http.StatusOK, sec, id)
}

func (a *api) setRotation(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.RotationRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	sec, err := a.svc.SetRotation(r.Context(), id, r.PathValue("id"), service.RotationInput{Every: in.Every, Environments: envStrings(in.Environments), Length: in.Length, Alphabet: in.Alphabet})
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

// writeDetail answers sec as its detail for id.
func (a *api) writeDetail(w http.ResponseWriter, r *http.Request, status int, s *secrets.Secret, id secrets.Identity) error {
	writable, err := a.svc.WritableEnvironments(r.Context(), id, s)
	if err != nil {
		return err
	}
	writeJSON(w, status, wire.SecretDetail{SecretRow: rowOf(s), Masked: masksOf(s), Rotation: rotationOf(s.Rotation),
		CanModify: secrets.CanModify(id, s), WritableEnvironments: writable})
	return nil
}
