package lambdaext_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/zwrm/secrets/internal/lambdaext"
	"github.com/zwrm/secrets/internal/secrets"
)

// TestABusyServiceIsNoRefusal: a 429 (API Gateway's throttle) or a 408 is
// the service being busy: the extension keeps its values and serves them
// stale. Only a 401 or 403 (any other 4xx) is a refusal that drops them.
func TestABusyServiceIsNoRefusal(t *testing.T) {
	for status, refused := range map[int]bool{429: false, 408: false, 503: false, 401: true, 403: true} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(status) }))
		src, err := lambdaext.NewSource(lambdaext.Config{Endpoint: srv.URL, Token: "zwrm_s_test", Environment: secrets.Production}, srv.Client())
		if err != nil {
			t.Fatal(err)
		}
		_, _, _, err = src.Fetch(t.Context(), "")
		if err == nil || errors.Is(err, lambdaext.ErrRefused) != refused {
			t.Errorf("an answer %d: %v; want an error, a refusal: %v", status, err, refused)
		}
		srv.Close()
	}
}
