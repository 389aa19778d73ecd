package httpapi

import (
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

func (a *api) createToken(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	var in wire.CreateTokenRequest
	if err := decodeJSON(r, &in, false); err != nil {
		return err
	}
	token, t, err := a.svc.CreateToken(r.Context(), id, service.TokenInput{Kind: in.Kind, Subject: in.Subject, Name: in.Name,
		Role: in.Role, App: in.App, Machine: in.Machine, Envs: envStrings(in.Environments), PrincipalARN: in.PrincipalARN, ExpiresAt: in.ExpiresAt})
	if err != nil {
		return err
	}
	v := tokenOf(t)
	v.Token = token
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	list, err := a.svc.ListTokens(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wire.TokenList{Tokens: mapAll(list, tokenOf)})
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	if err := a.svc.RevokeToken(r.Context(), id, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
