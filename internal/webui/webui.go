// Package webui serves the secrets management grid: the static assets that
// web/ builds (`make web`) into ./dist, embedded in the binary. The page calls
// the API on the same origin; it holds no values, only masks.
//
// Before the first build, dist holds only its .gitignore, so `go build` and
// `go test` work on a fresh clone and the page says how to build the UI.
package webui

import (
	"bytes"
	"embed"
	"errors"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"
)

//go:embed all:dist
var dist embed.FS

// ContentSecurityPolicy is sent with every response of the UI. Scripts and
// styles come only from this origin: the grid's theme is the static CSS that
// ag-grid-community ships, bundled into the app's stylesheet, so no inline
// <style> or script is needed. data: is allowed for the fonts and images that
// stylesheet embeds (the grid's icon font, checkbox images); the page talks
// only to its own origin and cannot be framed.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"font-src 'self' data:; connect-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'none'; " +
	"frame-ancestors 'none'; object-src 'none'"

// Cache-Control of the page and of the other files: the page is tiny and
// names the current assets, so it is always fetched anew; every other file's
// name carries a hash of its content, so it is cached for good. The stack
// uploads the files to S3 with the same values.
const (
	PageCacheControl  = "no-store"
	AssetCacheControl = "public, max-age=31536000, immutable"
)

// securityHeaders are sent with every response of the UI; see SecurityHeaders.
var securityHeaders = map[string]string{
	"Content-Security-Policy":      ContentSecurityPolicy,
	"X-Frame-Options":              "DENY",
	"Referrer-Policy":              "no-referrer",
	"X-Content-Type-Options":       "nosniff",
	"Cross-Origin-Opener-Policy":   "same-origin",
	"Cross-Origin-Resource-Policy": "same-origin",
	"Permissions-Policy":           "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}

// SecurityHeaders returns the headers (name to value) that every response
// of the UI carries. The stack's CloudFront response headers policy is made
// from them, so the UI served from S3 carries the same ones as here.
func SecurityHeaders() map[string]string { return maps.Clone(securityHeaders) }

// Handler serves the embedded UI.
func Handler() http.Handler {
	sub, err := fs.Sub(dist, "dist")
	if err != nil {
		panic(err) // dist is a constant directory of this package
	}
	return New(sub)
}

// Mount serves api at /healthz and under /v1/, and ui everywhere else: the
// page and the API share one origin, so the page's CSP can say connect-src
// 'self' and no CORS is involved.
func Mount(api, ui http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if p := r.URL.Path; p == "/healthz" || p == "/v1" || strings.HasPrefix(p, "/v1/") {
			api.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// encodings are the compressed copies the build writes beside each file
// (app-HASH.js.br, app-HASH.js.gz), in the order they are preferred.
var encodings = []struct{ name, suffix string }{{"br", ".br"}, {"gzip", ".gz"}}

// New serves the UI's files from fsys: index.html at /, and the other files
// (content-hashed names) by name. Names starting with a dot are never served.
// Where the build wrote a compressed copy beside a file (NAME.br, NAME.gz),
// a client that accepts that encoding gets the copy; the copies are not
// served under their own names.
func New(fsys fs.FS) http.Handler {
	_, err := fs.Stat(fsys, "index.html")
	return &handler{fsys: fsys, built: err == nil}
}

type handler struct {
	fsys  fs.FS
	built bool
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	for name, value := range securityHeaders {
		hd.Set(name, value)
	}

	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		page(w, http.StatusMethodNotAllowed, "Method not allowed", "The web UI is read with GET; the API is under /v1/.")
		return
	}
	p := r.URL.Path
	if p == "/" || p == "/index.html" {
		if !h.built {
			page(w, http.StatusInternalServerError, "The web UI is not built",
				"This zwrm was built before its web UI. Run <code>make web</code> (Node.js 20 and npm), then rebuild and restart: "+
					"<code>make dev</code> does all three. The API is served under <code>/v1/</code> either way.")
			return
		}
		h.serveFile(w, r, "index.html", PageCacheControl)
		return
	}
	name := strings.TrimPrefix(p, "/")
	if path.Clean(p) != p || !fs.ValidPath(name) || hidden(name) || compressedCopy(name) {
		notFound(w)
		return
	}
	h.serveFile(w, r, name, AssetCacheControl)
}

// serveFile answers name, or its compressed copy in the best encoding the
// client accepts, with the type of name and the given Cache-Control.
func (h *handler) serveFile(w http.ResponseWriter, r *http.Request, name, cacheControl string) {
	body, err := fs.ReadFile(h.fsys, name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
			notFound(w)
			return
		}
		page(w, http.StatusInternalServerError, "Internal error", "The file could not be read.")
		return
	}
	hd := w.Header()
	hd.Set("Cache-Control", cacheControl)
	if typ := mime.TypeByExtension(path.Ext(name)); typ != "" {
		hd.Set("Content-Type", typ)
	}
	hd.Add("Vary", "Accept-Encoding")
	accepted := acceptedEncodings(r.Header.Get("Accept-Encoding"))
	for _, enc := range encodings {
		if !accepted[enc.name] {
			continue
		}
		if compressed, err := fs.ReadFile(h.fsys, name+enc.suffix); err == nil {
			hd.Set("Content-Encoding", enc.name)
			body = compressed
			break
		}
	}
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(body))
}

// compressedCopy says whether name is one of the compressed copies, which
// are served only in place of their original.
func compressedCopy(name string) bool {
	for _, enc := range encodings {
		if strings.HasSuffix(name, enc.suffix) {
			return true
		}
	}
	return false
}

// acceptedEncodings reads an Accept-Encoding header: the codings it names
// with a quality above zero ("br;q=0" refuses br). "*" is not expanded: a
// client that sends only "*" gets the identity.
func acceptedEncodings(header string) map[string]bool {
	accepted := map[string]bool{}
	for _, part := range strings.Split(header, ",") {
		coding, params, _ := strings.Cut(part, ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		q := 1.0
		for _, param := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(param), "="); ok && strings.EqualFold(k, "q") {
				if f, err := strconv.ParseFloat(strings.TrimSpace(v), 64); err == nil {
					q = f
				}
			}
		}
		if coding != "" && q > 0 {
			accepted[coding] = true
		}
	}
	return accepted
}

func hidden(name string) bool {
	for _, el := range strings.Split(name, "/") {
		if strings.HasPrefix(el, ".") {
			return true
		}
	}
	return false
}

func notFound(w http.ResponseWriter) {
	page(w, http.StatusNotFound, "Not found", `Nothing here. The secrets UI is at <a href="/">/</a>; the API is under /v1/.`)
}

// page answers a short HTML page; title and html are constants of this file.
func page(w http.ResponseWriter, status int, title, html string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>zwrm secrets: " + title +
		"</title></head><body><h1>" + title + "</h1><p>" + html + "</p></body></html>\n"))
}
