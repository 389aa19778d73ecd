package httpapi_test

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
)

// ---------------------------------------------------------------------------
// Request ids and internal errors.

func TestRequestIDs(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")

	t.Run("a plain X-Request-Id is kept, answered and audited", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/org/secrets", super, map[string]string{"name": "A", "value": "v"}, "X-Request-Id", "req-123.abc_DEF")
		wantStatus(t, r, http.StatusCreated)
		if got, want := r.Header.Get("X-Request-Id"), "req-123.abc_DEF"; got != want {
			t.Errorf("X-Request-Id = %q, want %q", got, want)
		}
		records, _, err := e.store.ListAudit(context.Background(), "acme", "", 1)
		if err != nil || len(records) != 1 {
			t.Fatalf("audit: %v, %d records", err, len(records))
		}
		if got, want := records[0].RequestID, "req-123.abc_DEF"; got != want {
			t.Errorf("audit request_id = %q, want %q", got, want)
		}
	})
	t.Run("an X-Request-Id that could forge log lines is replaced", func(t *testing.T) {
		for _, bad := range []string{`x"y`, "a b", strings.Repeat("a", 65), "é"} {
			r := e.do(t, "GET", "/healthz", "", nil, "X-Request-Id", bad)
			if got := r.Header.Get("X-Request-Id"); got == bad || got == "" {
				t.Errorf("X-Request-Id %q answered as %q", bad, got)
			}
		}
	})
	t.Run("without one, each request gets its own", func(t *testing.T) {
		a := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		b := e.do(t, "GET", "/healthz", "", nil).Header.Get("X-Request-Id")
		if a == "" || a == b {
			t.Errorf("request ids %q and %q", a, b)
		}
	})
}

// TestInternalErrorsHideTheirCause closes the store under the running API:
// the client gets "internal error" and the request id, never the cause; the
// log gets the cause with that request id.
func TestInternalErrorsHideTheirCause(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	if err := e.store.Close(); err != nil {
		t.Fatal(err)
	}
	r := e.do(t, "GET", "/v1/secrets", super, nil)
	got := wantError(t, r, http.StatusInternalServerError, "internal", "internal error")
	rid := r.Header.Get("X-Request-Id")
	if rid == "" || !strings.Contains(got.Message, rid) {
		t.Errorf("message %q does not quote the request id %q", got.Message, rid)
	}
	for _, cause := range []string{"database", "bolt", "get token", "not open"} {
		if strings.Contains(strings.ToLower(string(r.Body)), cause) {
			t.Errorf("the answer shows the cause (%q): %s", cause, r.Body)
		}
	}
	e.stop()
	logged := false
	for _, line := range e.logLines(t) {
		if line["msg"] == "request failed" && line["request_id"] == rid {
			logged = true
			if s, _ := line["error"].(string); s == "" {
				t.Errorf("the log line has no error: %v", line)
			}
		}
	}
	if !logged {
		t.Errorf("no \"request failed\" log line with request id %s:\n%s", rid, e.logs.String())
	}
}

func TestHeadAndUncleanPaths(t *testing.T) {
	e := newEnv(t)
	t.Run("HEAD on a GET route answers like GET without a body", func(t *testing.T) {
		resp, err := http.Head(e.srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD /healthz = %d %q, want 200 and no body", resp.StatusCode, body)
		}
		if got := resp.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("Cache-Control = %q", got)
		}
	})
	t.Run("an unclean path is a JSON 404, not a redirect", func(t *testing.T) {
		for _, p := range []string{"/v1//secrets", "/v1/org/../secrets", "/v1/./me"} {
			r := e.do(t, "GET", p, "", nil)
			wantStatus(t, r, http.StatusNotFound)
			if got := errorOf(t, r).Code; got != "not_found" {
				t.Errorf("%s: code = %q, want not_found", p, got)
			}
		}
	})
}

func TestABodyThatIsNotUTF8IsRefusedNotRewritten(t *testing.T) {
	e := newEnv(t)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	body := "{\"name\":\"LATIN1\",\"value\":\"caf\xe9-pass\"}"
	wantError(t, e.do(t, "POST", "/v1/org/secrets", super, body), http.StatusBadRequest, "invalid", "UTF-8")
	r := e.do(t, "GET", "/v1/org/secrets", super, nil)
	if strings.Contains(string(r.Body), "LATIN1") {
		t.Fatalf("the refused secret was stored: %s", r.Body)
	}
}
