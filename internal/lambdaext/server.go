package lambdaext

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/zwrm/secrets/internal/secrets"
)

// The headers a request to the local endpoint carries the function's
// AWS_SESSION_TOKEN in: ours, and the one AWS's Parameters and Secrets
// extension uses, so code written for that one works unchanged.
const (
	TokenHeader    = "X-Zwrm-Token"
	AWSTokenHeader = "X-Aws-Parameters-Secrets-Token"
	StaleHeader    = "X-Zwrm-Stale"
	AgeHeader      = "X-Zwrm-Age"
)

// Handler serves the cache on the local endpoint:
//
//	GET /secrets        {"environment": ENV, "secrets": {NAME: value}}
//	GET /secrets/NAME   the value, as text/plain
//
// Only to requests that carry sessionToken (401 otherwise; every request
// when sessionToken is empty). Every answer says the values' age in
// seconds (X-Zwrm-Age) and stale ones say so (X-Zwrm-Stale: true).
func Handler(c *Cache, env secrets.Environment, sessionToken string) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /secrets", func(w http.ResponseWriter, r *http.Request) {
		snap, ok := read(w, r, c)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(struct {
			Environment secrets.Environment `json:"environment"`
			Secrets     map[string]string   `json:"secrets"`
		}{env, snap.Values})
	})
	mux.HandleFunc("GET /secrets/{name}", func(w http.ResponseWriter, r *http.Request) {
		snap, ok := read(w, r, c)
		if !ok {
			return
		}
		name := r.PathValue("name")
		v, found := snap.Values[name]
		if !found {
			problem(w, http.StatusNotFound, "not_found", "no secret named "+strconv.Quote(name)+" at this layer and environment")
			return
		}
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte(v))
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if !authorized(r, sessionToken) {
			problem(w, http.StatusUnauthorized, "unauthorized", "send the function's AWS_SESSION_TOKEN in the "+TokenHeader+" (or "+AWSTokenHeader+") header")
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// authorized compares in constant time; an empty expected token refuses.
func authorized(r *http.Request, want string) bool {
	got := r.Header.Get(TokenHeader)
	if got == "" {
		got = r.Header.Get(AWSTokenHeader)
	}
	return want != "" && got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// read gets the cache's values and writes the age headers, or answers the
// error.
func read(w http.ResponseWriter, r *http.Request, c *Cache) (Snapshot, bool) {
	snap, err := c.Get(r.Context())
	if err != nil {
		if errors.Is(err, ErrRefused) {
			problem(w, http.StatusBadGateway, "refused", "the zwrm API refused the extension's resolve: check ZWRM_TOKEN or the role's registration")
		} else {
			problem(w, http.StatusServiceUnavailable, "unavailable", "the zwrm API has not answered a resolve yet")
		}
		return snap, false
	}
	w.Header().Set(AgeHeader, strconv.FormatInt(int64(snap.Age.Seconds()), 10))
	if snap.Stale {
		w.Header().Set(StaleHeader, "true")
	}
	return snap, true
}

func problem(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg}})
}
