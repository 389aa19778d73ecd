package httpapi

import (
	_ "embed"
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// openAPIDoc is the generated document (make openapi), served as it is.
//
//go:embed openapi.json
var openAPIDoc []byte

func (a *api) health(w http.ResponseWriter, r *http.Request, _ secrets.Identity) error {
	writeJSON(w, http.StatusOK, wire.Health{Status: "ok"})
	return nil
}

func (a *api) openapi(w http.ResponseWriter, r *http.Request, _ secrets.Identity) error {
	w.Header().Set("Content-Type", "application/json")
	_, err := w.Write(openAPIDoc)
	return err
}
