package webui_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/zwrm/secrets/internal/webui"
)

func get(t *testing.T, h http.Handler, method, target string) *http.Response {
	t.Helper()
	return getEncoded(t, h, method, target, "")
}

// getEncoded asks as a browser does that accepts these encodings.
func getEncoded(t *testing.T, h http.Handler, method, target, acceptEncoding string) *http.Response {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, target, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkSecurityHeaders(t *testing.T, res *http.Response) {
	t.Helper()
	for name, want := range map[string]string{
		"Content-Security-Policy": webui.ContentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"Referrer-Policy":         "no-referrer",
		"X-Content-Type-Options":  "nosniff",
	} {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	// Every header SecurityHeaders names (CloudFront sends the same ones).
	for name, want := range webui.SecurityHeaders() {
		if got := res.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q (SecurityHeaders)", name, got, want)
		}
	}
}

func TestSecurityHeadersAreACopy(t *testing.T) {
	h := webui.SecurityHeaders()
	h["Content-Security-Policy"] = "default-src *"
	if got := webui.SecurityHeaders()["Content-Security-Policy"]; got != webui.ContentSecurityPolicy {
		t.Errorf("a caller changed the UI's policy to %q", got)
	}
}

var built = fstest.MapFS{
	"index.html":          {Data: []byte(`<!doctype html><script type="module" src="/app-ABC.js"></script><div id="app"></div>`)},
	"app-ABC.js":          {Data: []byte(`console.log("app")`)},
	"app-ABC.css":         {Data: []byte(`body{}`)},
	".gitignore":          {Data: []byte("*\n")},
	"sub/.hidden/file.js": {Data: []byte(`x`)},
	// The build's compressed copies (stand-ins: the handler does not look inside).
	"index.html.gz":  {Data: []byte("gzip of the page")},
	"app-ABC.js.br":  {Data: []byte("brotli of the app")},
	"app-ABC.js.gz":  {Data: []byte("gzip of the app")},
	"app-ABC.css.gz": {Data: []byte("gzip of the styles")},
}

func TestBuiltUI(t *testing.T) {
	h := webui.New(built)

	t.Run("the page is served at / with a strict policy and never cached", func(t *testing.T) {
		res := get(t, h, "GET", "/")
		if got, want := res.StatusCode, 200; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		checkSecurityHeaders(t, res)
		if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, "text/html") {
			t.Errorf("Content-Type = %q", got)
		}
		if got, want := res.Header.Get("Cache-Control"), "no-store"; got != want {
			t.Errorf("Cache-Control = %q, want %q", got, want)
		}
		if b := body(t, res); !strings.Contains(b, `<div id="app">`) {
			t.Errorf("body = %q", b)
		}
	})

	t.Run("the policy allows scripts and styles from the origin only", func(t *testing.T) {
		csp := webui.ContentSecurityPolicy
		for _, want := range []string{"default-src 'none'", "script-src 'self';", "style-src 'self';", "frame-ancestors 'none'", "connect-src 'self'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("CSP lacks %q: %s", want, csp)
			}
		}
		if strings.Contains(csp, "unsafe") {
			t.Errorf("CSP allows something unsafe: %s", csp)
		}
	})

	t.Run("assets are served with their type and cached for good", func(t *testing.T) {
		for path, typ := range map[string]string{"/app-ABC.js": "text/javascript", "/app-ABC.css": "text/css"} {
			res := get(t, h, "GET", path)
			if got, want := res.StatusCode, 200; got != want {
				t.Fatalf("%s: status = %d, want %d", path, got, want)
			}
			checkSecurityHeaders(t, res)
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, typ) {
				t.Errorf("%s: Content-Type = %q, want %s", path, got, typ)
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, "immutable") {
				t.Errorf("%s: Cache-Control = %q", path, got)
			}
		}
	})

	t.Run("a compressed copy is served in the best encoding the browser accepts", func(t *testing.T) {
		for _, c := range []struct{ path, accept, encoding, body, typ, cache string }{
			{"/app-ABC.js", "gzip, deflate, br, zstd", "br", "brotli of the app", "text/javascript", "immutable"},
			{"/app-ABC.js", "gzip, deflate", "gzip", "gzip of the app", "text/javascript", "immutable"},
			{"/app-ABC.js", "br;q=0, gzip;q=0.5", "gzip", "gzip of the app", "text/javascript", "immutable"},
			{"/app-ABC.js", "", "", `console.log("app")`, "text/javascript", "immutable"},
			{"/app-ABC.js", "identity", "", `console.log("app")`, "text/javascript", "immutable"},
			{"/app-ABC.css", "br, gzip", "gzip", "gzip of the styles", "text/css", "immutable"},
			{"/", "br, gzip", "gzip", "gzip of the page", "text/html", "no-store"},
		} {
			res := getEncoded(t, h, "GET", c.path, c.accept)
			if got, want := res.StatusCode, 200; got != want {
				t.Fatalf("%s (%q): status = %d, want %d", c.path, c.accept, got, want)
			}
			checkSecurityHeaders(t, res)
			if got := res.Header.Get("Content-Encoding"); got != c.encoding {
				t.Errorf("%s (%q): Content-Encoding = %q, want %q", c.path, c.accept, got, c.encoding)
			}
			if got := body(t, res); got != c.body {
				t.Errorf("%s (%q): body = %q, want %q", c.path, c.accept, got, c.body)
			}
			if got := res.Header.Get("Content-Type"); !strings.HasPrefix(got, c.typ) {
				t.Errorf("%s (%q): Content-Type = %q, want %s", c.path, c.accept, got, c.typ)
			}
			if got := res.Header.Get("Vary"); got != "Accept-Encoding" {
				t.Errorf("%s (%q): Vary = %q, want Accept-Encoding", c.path, c.accept, got)
			}
			if got := res.Header.Get("Cache-Control"); !strings.Contains(got, c.cache) {
				t.Errorf("%s (%q): Cache-Control = %q, want %s", c.path, c.accept, got, c.cache)
			}
		}
	})

	t.Run("unknown, hidden and unclean paths are not found", func(t *testing.T) {
		for _, path := range []string{"/nope.js", "/app-ABC.js.br", "/app-ABC.js.gz", "/index.html.gz", "/.gitignore", "/sub/.hidden/file.js", "/sub/../app-ABC.js", "//app-ABC.js", "/app-ABC.js/"} {
			res := get(t, h, "GET", path)
			if got, want := res.StatusCode, 404; got != want {
				t.Errorf("%s: status = %d, want %d", path, got, want)
			}
			checkSecurityHeaders(t, res)
		}
	})

	t.Run("only GET and HEAD are allowed", func(t *testing.T) {
		res := get(t, h, "POST", "/")
		if got, want := res.StatusCode, 405; got != want {
			t.Fatalf("status = %d, want %d", got, want)
		}
		if got, want := res.Header.Get("Allow"), "GET, HEAD"; got != want {
			t.Errorf("Allow = %q, want %q", got, want)
		}
		if got, want := get(t, h, "HEAD", "/").StatusCode, 200; got != want {
			t.Errorf("HEAD status = %d, want %d", got, want)
		}
	})
}

func TestUnbuiltUI(t *testing.T) {
	// A fresh clone: dist holds only its .gitignore.
	h := webui.New(fstest.MapFS{".gitignore": {Data: []byte("*\n")}})
	res := get(t, h, "GET", "/")
	if got, want := res.StatusCode, 500; got != want {
		t.Fatalf("status = %d, want %d", got, want)
	}
	checkSecurityHeaders(t, res)
	if b := body(t, res); !strings.Contains(b, "make web") {
		t.Errorf("the page does not say how to build the UI: %q", b)
	}
}

func TestEmbeddedUI(t *testing.T) {
	// Built or not, the embedded handler answers the page or the hint.
	res := get(t, webui.Handler(), "GET", "/")
	checkSecurityHeaders(t, res)
	b := body(t, res)
	switch res.StatusCode {
	case 200:
		if !strings.Contains(b, `<script type="module" src="/app-`) {
			t.Errorf("the built page does not load the app: %.200q", b)
		}
	case 500:
		if !strings.Contains(b, "make web") {
			t.Errorf("the unbuilt page does not say how to build the UI: %q", b)
		}
	default:
		t.Errorf("status = %d", res.StatusCode)
	}
}

func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api") })
	ui := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ui") })
	h := webui.Mount(api, ui)
	for path, want := range map[string]string{
		"/": "ui", "/app-ABC.js": "ui", "/v1x": "ui", "/healthzz": "ui",
		"/healthz": "api", "/v1": "api", "/v1/me": "api", "/v1/../v1/me": "api", "/v1/secrets/x/versions": "api",
	} {
		if got := body(t, get(t, h, "GET", path)); got != want {
			t.Errorf("%s went to %s, want %s", path, got, want)
		}
	}
}
