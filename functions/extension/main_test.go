package main_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

const (
	serviceToken = "zwrm_s_exttest_0123456789abcdef0123456789abcdef"
	sessionToken = "IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"
)

// extensionsAPI is a fake of the Lambda Extensions API: it records the
// registration and hands out the events the test queues.
type extensionsAPI struct {
	srv        *httptest.Server
	events     chan string
	registered chan map[string]any
	nexts      chan struct{}
	initErrors chan string
}

func newExtensionsAPI(t *testing.T) *extensionsAPI {
	t.Helper()
	f := &extensionsAPI{events: make(chan string, 8), registered: make(chan map[string]any, 1), nexts: make(chan struct{}, 64), initErrors: make(chan string, 1)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		_ = json.NewDecoder(r.Body).Decode(&body)
		body["name"] = r.Header.Get("Lambda-Extension-Name")
		f.registered <- body
		w.Header().Set("Lambda-Extension-Identifier", "ext-id-1")
		w.Write([]byte(`{"functionName":"fn","functionVersion":"$LATEST","handler":"bootstrap"}`))
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Lambda-Extension-Identifier") != "ext-id-1" {
			http.Error(w, "no identifier", http.StatusForbidden)
			return
		}
		f.nexts <- struct{}{}
		select {
		case ev := <-f.events:
			body := map[string]any{"eventType": ev, "deadlineMs": time.Now().Add(3 * time.Second).UnixMilli(), "requestId": "req-1"}
			if ev == "SHUTDOWN" {
				body["shutdownReason"] = "spindown"
			}
			json.NewEncoder(w).Encode(body)
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("POST /2020-01-01/extension/init/error", func(w http.ResponseWriter, r *http.Request) {
		f.initErrors <- r.Header.Get("Lambda-Extension-Function-Error-Type")
		w.WriteHeader(http.StatusAccepted)
	})
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	return f
}

// zwrmAPI is a fake of POST /v1/resolve to the contract: a fingerprint of
// the (name, version) list, an ETag, and 304 on if_none_match. down makes
// it drop every connection.
type zwrmAPI struct {
	srv *httptest.Server

	mu          sync.Mutex
	values      map[string]string
	versions    map[string]int
	down        bool
	refuse      bool   // answer 403 to every resolve
	iamOrg      string // when set, serve /v1/resolve/iam?org= this org, signed with SigV4
	lastAuth    string // the Authorization header of the last resolve
	full, not   int    // resolves answered with values, and 304s
	lastRequest map[string]any
}

func newZwrmAPI(t *testing.T, values map[string]string) *zwrmAPI {
	t.Helper()
	f := &zwrmAPI{values: values, versions: map[string]int{}}
	for n := range values {
		f.versions[n] = 1
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *zwrmAPI) set(name, value string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.values[name] = value
	f.versions[name]++
}

func (f *zwrmAPI) setDown(down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down = down
}

func (f *zwrmAPI) counts() (full, notModified int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.full, f.not
}

func (f *zwrmAPI) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.down {
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		http.Error(w, "down", http.StatusServiceUnavailable)
		return
	}
	f.lastAuth = r.Header.Get("Authorization")
	path := "/v1/resolve"
	if f.iamOrg != "" {
		path = "/v1/resolve/iam"
	}
	if r.Method != http.MethodPost || r.URL.Path != path {
		http.NotFound(w, r)
		return
	}
	if f.refuse {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error":{"code":"forbidden","message":"revoked"}}`))
		return
	}
	if f.iamOrg != "" {
		// API Gateway verifies the signature; the fake checks its shape.
		if r.URL.Query().Get("org") != f.iamOrg || !strings.HasPrefix(f.lastAuth, "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/") || !strings.Contains(f.lastAuth, "/eu-west-1/execute-api/aws4_request") {
			w.WriteHeader(http.StatusForbidden)
			return
		}
	} else if f.lastAuth != "Bearer "+serviceToken {
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":{"code":"unauthorized","message":"token"}}`))
		return
	}
	var body map[string]any
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.lastRequest = body
	names := make([]string, 0, len(f.values))
	for n := range f.values {
		names = append(names, n)
	}
	sort.Strings(names)
	h := sha256.New()
	for _, n := range names {
		io.WriteString(h, n+"\x00app\x00"+strconv.Itoa(f.versions[n])+"\x00")
	}
	fp := hex.EncodeToString(h.Sum(nil))
	w.Header().Set("ETag", `"`+fp+`"`)
	if inm, _ := body["if_none_match"].(string); inm == fp {
		f.not++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	f.full++
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"environment": body["environment"], "secrets": f.values, "fingerprint": fp})
}

// buildExtension builds the real extension binary, named as in the layer.
func buildExtension(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "zwrm-secrets")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// syncBuffer collects the extension's log output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type running struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
	err  error         // its exit, once done is closed
	base string
}

func start(t *testing.T, bin string, env ...string) *running {
	t.Helper()
	r := &running{logs: &syncBuffer{}, done: make(chan struct{})}
	r.cmd = exec.Command(bin)
	r.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}, env...)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.done) }()
	t.Cleanup(func() {
		select {
		case <-r.done:
		default:
			r.cmd.Process.Kill()
			<-r.done
		}
	})
	return r
}

func (r *running) get(t *testing.T, path string, header ...string) (*http.Response, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, r.base+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v\nlogs:\n%s", path, err, r.logs.String())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

// eventually polls cond every 50 ms for at most d.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func receive[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("timed out waiting for %s", what)
		panic("unreachable")
	}
}

func TestTheExtensionServesCachesRefreshesAndFallsBackToStaleValues(t *testing.T) {
	bin := buildExtension(t)
	lambda := newExtensionsAPI(t)
	zwrm := newZwrmAPI(t, map[string]string{"DB_URL": "postgres://db-one", "API_KEY": "k-first-value"})
	port := freePort(t)
	ext := start(t, bin,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(lambda.srv.URL, "http://"),
		"AWS_SESSION_TOKEN="+sessionToken,
		"ZWRM_ENDPOINT="+zwrm.srv.URL,
		"ZWRM_TOKEN="+serviceToken,
		"ZWRM_ENV=production",
		"ZWRM_APP=web",
		"ZWRM_CACHE_TTL=1s",
		"ZWRM_PORT="+strconv.Itoa(port),
	)
	ext.base = "http://127.0.0.1:" + strconv.Itoa(port)

	reg := receive(t, lambda.registered, "the registration")
	if got, want := reg["name"], "zwrm-secrets"; got != want {
		t.Errorf("Lambda-Extension-Name = %v, want %v", got, want)
	}
	if got, want := jsonOf(reg["events"]), `["INVOKE","SHUTDOWN"]`; got != want {
		t.Errorf("events = %s, want %s", got, want)
	}
	// The first event/next ends init: the values must be served from then on.
	receive(t, lambda.nexts, "the first event/next")

	t.Run("all values, with the token header", func(t *testing.T) {
		resp, body := ext.get(t, "/secrets", "X-Zwrm-Token", sessionToken)
		if resp.StatusCode != 200 {
			t.Fatalf("status %d: %s", resp.StatusCode, body)
		}
		var got struct {
			Environment string            `json:"environment"`
			Secrets     map[string]string `json:"secrets"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		if got.Environment != "production" || got.Secrets["DB_URL"] != "postgres://db-one" || got.Secrets["API_KEY"] != "k-first-value" || len(got.Secrets) != 2 {
			t.Errorf("got %+v", got)
		}
		if resp.Header.Get("X-Zwrm-Stale") != "" {
			t.Errorf("fresh values marked stale")
		}
	})
	t.Run("one value, with AWS's header name", func(t *testing.T) {
		resp, body := ext.get(t, "/secrets/API_KEY", "X-Aws-Parameters-Secrets-Token", sessionToken)
		if resp.StatusCode != 200 || body != "k-first-value" {
			t.Errorf("got %d %q", resp.StatusCode, body)
		}
		if resp, _ := ext.get(t, "/secrets/NOPE", "X-Zwrm-Token", sessionToken); resp.StatusCode != 404 {
			t.Errorf("a missing name: %d, want 404", resp.StatusCode)
		}
	})
	t.Run("a request without the session token is refused", func(t *testing.T) {
		for _, h := range [][]string{nil, {"X-Zwrm-Token", "wrong"}, {"X-Zwrm-Token", ""}, {"Authorization", "Bearer " + sessionToken}} {
			for _, path := range []string{"/secrets", "/secrets/DB_URL"} {
				resp, body := ext.get(t, path, h...)
				if resp.StatusCode != 401 {
					t.Errorf("%s with %v: %d, want 401", path, h, resp.StatusCode)
				}
				if strings.Contains(body, "db-one") || strings.Contains(body, "k-first") {
					t.Errorf("a refusal shows a value: %s", body)
				}
			}
		}
	})
	t.Run("the values are checked with if_none_match, and a change is seen after the TTL", func(t *testing.T) {
		lambda.events <- "INVOKE"
		eventually(t, 10*time.Second, "no change check (304) reached the API", func() bool { _, n := zwrm.counts(); return n >= 1 })
		zwrm.mu.Lock()
		if got, _ := zwrm.lastRequest["if_none_match"].(string); got == "" {
			t.Errorf("the change check sent no if_none_match")
		}
		if got := zwrm.lastRequest["app"]; got != "web" {
			t.Errorf("app = %v, want web", got)
		}
		zwrm.mu.Unlock()
		zwrm.set("DB_URL", "postgres://db-two")
		eventually(t, 10*time.Second, "the new value was not served", func() bool {
			_, body := ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken)
			return body == "postgres://db-two"
		})
	})
	t.Run("stale values are served, and said to be, while the API is down", func(t *testing.T) {
		zwrm.setDown(true)
		var resp *http.Response
		var body string
		eventually(t, 10*time.Second, "no stale answer", func() bool {
			resp, body = ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken)
			return resp.Header.Get("X-Zwrm-Stale") == "true"
		})
		if resp.StatusCode != 200 || body != "postgres://db-two" {
			t.Errorf("stale answer: %d %q", resp.StatusCode, body)
		}
		if age, err := strconv.Atoi(resp.Header.Get("X-Zwrm-Age")); err != nil || age < 1 {
			t.Errorf("X-Zwrm-Age = %q, want at least the TTL", resp.Header.Get("X-Zwrm-Age"))
		}
		zwrm.setDown(false)
		eventually(t, 15*time.Second, "still stale after the API came back", func() bool {
			resp, _ := ext.get(t, "/secrets", "X-Zwrm-Token", sessionToken)
			return resp.Header.Get("X-Zwrm-Stale") == ""
		})
	})
	t.Run("SHUTDOWN ends the extension cleanly", func(t *testing.T) {
		lambda.events <- "SHUTDOWN"
		receive(t, ext.done, "the extension's exit")
		if ext.err != nil {
			t.Errorf("exit: %v\nlogs:\n%s", ext.err, ext.logs.String())
		}
	})
	logs := ext.logs.String()
	for _, secret := range []string{"db-one", "db-two", "k-first-value", serviceToken, sessionToken} {
		if strings.Contains(logs, secret) {
			t.Errorf("the logs hold %q:\n%s", secret, logs)
		}
	}
}

func TestTheExtensionReportsAnInitErrorWithoutCredentials(t *testing.T) {
	bin := buildExtension(t)
	lambda := newExtensionsAPI(t)
	ext := start(t, bin,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(lambda.srv.URL, "http://"),
		"AWS_SESSION_TOKEN="+sessionToken,
		"ZWRM_ENDPOINT=http://127.0.0.1:1",
		"ZWRM_ENV=production",
		"ZWRM_PORT="+strconv.Itoa(freePort(t)),
	)
	receive(t, lambda.registered, "the registration")
	if got, want := receive(t, lambda.initErrors, "the init error"), "Extension.ConfigInvalid"; got != want {
		t.Errorf("error type = %q, want %q", got, want)
	}
	if receive(t, ext.done, "the extension's exit"); ext.err == nil {
		t.Errorf("exit 0 after an init error")
	}
	if logs := ext.logs.String(); !strings.Contains(logs, "ZWRM_ORG") {
		t.Errorf("the log does not say what is missing:\n%s", logs)
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestTheExtensionSignsWithTheRoleAndDropsItsValuesWhenRefused(t *testing.T) {
	bin := buildExtension(t)
	lambda := newExtensionsAPI(t)
	zwrm := newZwrmAPI(t, map[string]string{"DB_URL": "postgres://iam-one"})
	zwrm.mu.Lock()
	zwrm.iamOrg = "acme"
	zwrm.mu.Unlock()
	port := freePort(t)
	ext := start(t, bin,
		"AWS_LAMBDA_RUNTIME_API="+strings.TrimPrefix(lambda.srv.URL, "http://"),
		"AWS_SESSION_TOKEN="+sessionToken,
		"AWS_ACCESS_KEY_ID=AKIDEXAMPLE",
		"AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"AWS_REGION=eu-west-1",
		"ZWRM_ENDPOINT="+zwrm.srv.URL,
		"ZWRM_ORG=acme",
		"ZWRM_ENV=production",
		"ZWRM_CACHE_TTL=1s",
		"ZWRM_PORT="+strconv.Itoa(port),
	)
	ext.base = "http://127.0.0.1:" + strconv.Itoa(port)
	receive(t, lambda.registered, "the registration")
	receive(t, lambda.nexts, "the first event/next")
	if resp, body := ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken); resp.StatusCode != 200 || body != "postgres://iam-one" {
		t.Fatalf("signed resolve: %d %q\nlogs:\n%s", resp.StatusCode, body, ext.logs.String())
	}
	zwrm.mu.Lock()
	zwrm.refuse = true
	zwrm.mu.Unlock()
	var resp *http.Response
	var body string
	eventually(t, 10*time.Second, "values still served after the API refused the role", func() bool {
		resp, body = ext.get(t, "/secrets/DB_URL", "X-Zwrm-Token", sessionToken)
		return resp.StatusCode != 200
	})
	if resp.StatusCode != http.StatusBadGateway || strings.Contains(body, "iam-one") {
		t.Errorf("after a refusal: %d %q, want 502 without the value", resp.StatusCode, body)
	}
	lambda.events <- "SHUTDOWN"
	receive(t, ext.done, "the extension's exit")
	if ext.err != nil {
		t.Errorf("exit: %v", ext.err)
	}
	if logs := ext.logs.String(); strings.Contains(logs, "iam-one") || strings.Contains(logs, "wJalrXUtnFEMI") {
		t.Errorf("the logs hold a value or a key:\n%s", logs)
	}
}
