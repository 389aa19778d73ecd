package httpapi

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
)

// statusOf is the one table from domain codes to HTTP statuses.
var statusOf = map[secrets.Code]int{
	secrets.CodeInvalid:       http.StatusBadRequest,
	secrets.CodeUnauthorized:  http.StatusUnauthorized,
	secrets.CodeForbidden:     http.StatusForbidden,
	secrets.CodeNotFound:      http.StatusNotFound,
	secrets.CodeConflict:      http.StatusConflict,
	secrets.CodeUnavailable:   http.StatusServiceUnavailable,
	secrets.CodeInternal:      http.StatusInternalServerError,
	wire.CodeMethodNotAllowed: http.StatusMethodNotAllowed,
	wire.CodeTooLarge:         http.StatusRequestEntityTooLarge,
	wire.CodeUnsupportedMedia: http.StatusUnsupportedMediaType,
}

// writeError answers err. Domain errors carry their own message; anything
// else is logged with the request id and answered as "internal error",
// never with its text.
func (a *api) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var e *secrets.Error
	code := secrets.ErrorCode(err)
	detail := wire.ErrorDetail{Code: code, RequestID: requestID(r.Context())}
	status := statusOf[code]
	if status == 0 {
		status, detail.Code = http.StatusInternalServerError, secrets.CodeInternal
	}
	switch {
	case status >= 500:
		a.log.ErrorContext(r.Context(), "request failed", "request_id", detail.RequestID, "code", string(detail.Code), "error", err.Error())
		detail.Message = "internal error; quote request id " + detail.RequestID + " when reporting it"
		if code == secrets.CodeUnavailable {
			detail.Message = "the service is busy or a dependency is unavailable; retry shortly (request id " + detail.RequestID + ")"
		}
	case errors.As(err, &e):
		detail.Message, detail.Field = e.Message, e.Field
		if e.Field != "" {
			detail.Message = e.Field + ": " + e.Message
		}
	default:
		detail.Message = err.Error()
	}
	detail.Message, detail.Field = secrets.RedactTokens(detail.Message), secrets.RedactTokens(detail.Field)
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="zwrm"`)
	}
	writeJSON(w, status, wire.ErrorBody{Error: detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		slog.Debug("write response", "error", err.Error())
	}
}
