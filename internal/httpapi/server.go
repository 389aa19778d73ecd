// Package httpapi is the one HTTP handler of the secrets service: the local
// server serves all of it, and each Lambda function serves its routes of it.
package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"path"
	"runtime/debug"
	"sort"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

// Options configure the handler.
type Options struct {
	// Auth establishes identity; BearerAuth(svc) by default.
	Auth Authenticator
	// IAM establishes identity on AuthIAM routes; without it they answer 401.
	IAM IAMAuthenticator
	// Function, when set, serves only that Lambda function's routes; the
	// others answer 404, so a function can do no more than its routes even
	// if API Gateway were misconfigured.
	Function Function
	// Logger gets one JSON line per request; never a body or a token.
	Logger *slog.Logger
	// RequestID returns the id of a request when the platform assigns one
	// (API Gateway); otherwise a valid X-Request-Id header or a random id
	// is used.
	RequestID func(r *http.Request) string
	// Timeout, when set, is each request's deadline: every call and retry
	// under it stops in time to answer (503) within it. On Lambda the
	// function's context carries the deadline instead.
	Timeout time.Duration
}

type api struct {
	svc  *service.Service
	auth Authenticator
	log  *slog.Logger
	opts Options
}

// New returns the API handler.
func New(svc *service.Service, opts Options) http.Handler {
	if opts.Auth == nil {
		opts.Auth = BearerAuth(svc)
	}
	if opts.IAM == nil {
		opts.IAM = noIAM{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	a := &api{svc: svc, auth: opts.Auth, log: opts.Logger, opts: opts}
	mux := http.NewServeMux()
	byPattern := map[string]map[string]Route{}
	var patterns []string
	for _, rt := range Routes() {
		if opts.Function != "" && rt.Function != opts.Function {
			continue
		}
		if byPattern[rt.Pattern] == nil {
			byPattern[rt.Pattern] = map[string]Route{}
			patterns = append(patterns, rt.Pattern)
		}
		byPattern[rt.Pattern][rt.Method] = rt
	}
	for _, p := range patterns {
		mux.Handle(p, a.dispatch(byPattern[p]))
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.writeError(w, r, secrets.Errorf(secrets.CodeNotFound, "no API call at %s %s; see /v1/openapi.json", r.Method, r.URL.Path))
	})
	return a.middleware(mux)
}

// dispatch picks the route of the request's method among those of one path
// pattern, answering 405 with the allowed methods otherwise.
func (a *api) dispatch(methods map[string]Route) http.Handler {
	var allowed []string
	for m := range methods {
		allowed = append(allowed, m)
	}
	sort.Strings(allowed)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt, ok := methods[r.Method]
		if !ok && r.Method == http.MethodHead {
			rt, ok = methods[http.MethodGet] // net/http drops the body
		}
		if !ok {
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			a.writeError(w, r, secrets.Errorf(wire.CodeMethodNotAllowed, "%s is not allowed here; use %s", r.Method, strings.Join(allowed, " or ")))
			return
		}
		setRouteName(r.Context(), rt.Name)
		var id secrets.Identity
		var err error
		switch rt.Auth {
		case AuthBearer:
			id, err = a.auth.Identify(r)
		case AuthIAM:
			id, err = a.opts.IAM.IdentifyIAM(r)
		}
		if err != nil {
			a.writeError(w, r, err)
			return
		}
		setIdentity(r.Context(), id)
		if err := rt.handle(a, w, r, id); err != nil {
			a.writeError(w, r, err)
		}
	})
}

type ctxKey int

const (
	keyRequestID ctxKey = iota
	keyInfo
)

// requestInfo collects what the access log line reports, filled in as the
// request is handled.
type requestInfo struct {
	route string
	id    secrets.Identity
}

func requestID(ctx context.Context) string {
	id, _ := ctx.Value(keyRequestID).(string)
	return id
}

func setRouteName(ctx context.Context, name string) {
	if info, ok := ctx.Value(keyInfo).(*requestInfo); ok {
		info.route = name
	}
}

func setIdentity(ctx context.Context, id secrets.Identity) {
	if info, ok := ctx.Value(keyInfo).(*requestInfo); ok {
		info.id = id
	}
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += n
	return n, err
}

// middleware sets the headers every response carries, assigns the request
// id, bounds the body, recovers from panics and logs one line per request:
// never a body, a value or the Authorization header.
func (a *api) middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rid := ""
		if a.opts.RequestID != nil {
			rid = a.opts.RequestID(r)
		}
		if rid == "" {
			rid = validRequestID(r.Header.Get("X-Request-Id"))
		}
		if rid == "" {
			var b [12]byte
			_, _ = rand.Read(b[:])
			rid = hex.EncodeToString(b[:])
		}
		info := &requestInfo{}
		ctx := context.WithValue(r.Context(), keyRequestID, rid)
		ctx = context.WithValue(ctx, keyInfo, info)
		ctx = service.WithRequestID(ctx, rid)
		if a.opts.Timeout > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, a.opts.Timeout)
			defer cancel()
		}
		r = r.WithContext(ctx)

		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Request-Id", rid)
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes+1)
		sw := &statusWriter{ResponseWriter: w}
		if p := r.URL.Path; p == "" || p[0] != '/' || path.Clean(p) != p {
			// ServeMux would redirect to the clean path with an HTML body;
			// an API answers in JSON.
			defer a.logRequest(ctx, rid, r, info, sw, start)
			a.writeError(sw, r, secrets.Errorf(secrets.CodeNotFound, "no API call at %s %s; see /v1/openapi.json", r.Method, p))
			return
		}
		defer func() {
			if p := recover(); p != nil {
				a.log.ErrorContext(ctx, "panic", "request_id", rid, "panic", slog.AnyValue(p).String(), "stack", string(debug.Stack()))
				if sw.status == 0 {
					a.writeError(sw, r, secrets.Internalf(nil, "panic"))
				}
			}
			a.logRequest(ctx, rid, r, info, sw, start)
		}()
		next.ServeHTTP(sw, r)
	})
}

// logRequest writes the one access log line of a request.
func (a *api) logRequest(ctx context.Context, rid string, r *http.Request, info *requestInfo, sw *statusWriter, start time.Time) {
	attrs := []any{"request_id", rid, "method", r.Method, "path", secrets.RedactTokens(r.URL.Path), "route", info.route,
		"status", sw.status, "bytes", sw.bytes, "duration_ms", float64(time.Since(start).Microseconds()) / 1000}
	if info.id.Org != "" {
		attrs = append(attrs, "org", info.id.Org, "token_id", info.id.TokenID, "kind", string(info.id.Kind))
	}
	a.log.InfoContext(ctx, "request", attrs...)
}

// validRequestID accepts a caller's request id only if it is short and
// plain, so that it cannot smuggle anything into logs.
func validRequestID(s string) string {
	if len(s) == 0 || len(s) > 64 {
		return ""
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return ""
		}
	}
	return s
}
