package main

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/zwrm/secrets/client"
)

// randomToken is a token-shaped string no server issued.
func randomToken(t *testing.T, prefix string) string {
	t.Helper()
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b)
}

func TestATokenPastedAsAnIDIsNeitherSentNorPrinted(t *testing.T) {
	srv, c := serveCLI(t)
	for _, tok := range []string{randomToken(t, "zwrm_u_"), randomToken(t, "zwrm_s_")} {
		secret := tok[len("zwrm_u_"):]
		for _, args := range [][]string{
			{"tokens", "revoke", tok},
			{"tokens", "revoke", "00000000000000000000000000000000", tok},
			{"tokens", "revoke", tok, "-o", "json"},
		} {
			r := c.fails(exitUsage, "looks like a token", args...)
			if out := r.stdout + r.stderr; strings.Contains(out, secret) {
				t.Errorf("zwrm %v prints the token back:\n%s", args[:2], out)
			}
			if strings.Contains(r.stdout, "Revoked") {
				t.Errorf("zwrm tokens revoke revoked something before refusing: %q", r.stdout)
			}
		}
	}
	audit := c.ok("audit")
	if strings.Contains(audit, "token.revoke") {
		t.Errorf("a refused revoke reached the server:\n%s", audit)
	}
	// A server that counts what reaches it: a revoke of a token (the
	// server would answer not found, unaudited) must not be sent at all.
	var requests atomic.Int32
	counting := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer counting.Close()
	watched := c.as(srv.token)
	watched.env["ZWRM_ENDPOINT"] = counting.URL
	watched.fails(exitUsage, "looks like a token", "tokens", "revoke", randomToken(t, "zwrm_u_"))
	if n := requests.Load(); n != 0 {
		t.Errorf("zwrm tokens revoke sent %d requests with a token as the id, want none", n)
	}
}

// fakeAPI answers every call with status and body.
func fakeAPI(t *testing.T, status int, body string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestServerMessagesArePrintedWithoutTerminalControlsOrTokens(t *testing.T) {
	t.Parallel()
	tok := randomToken(t, "zwrm_u_")
	message := "bad \x1b[2J\x1b[H request \x1b]0;pwned title\x07 for " + tok + "\u009b31m and \x07\x08\x7f end\nsecond line"
	body, err := json.Marshal(map[string]any{"error": map[string]string{"code": "invalid", "message": message, "field": "f\x1b[1m", "request_id": "r-\x1b[2J1"}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCLI(t, nil)
	c.env["ZWRM_ENDPOINT"] = fakeAPI(t, http.StatusBadRequest, string(body))
	c.env["ZWRM_TOKEN"] = "zwrm_u_" + strings.Repeat("a", 43)

	r := c.fails(exitUsage, "bad  request  for zwrm_…(redacted)31m and  end\nsecond line", "whoami")
	checkClean(t, "an error", r.stderr, tok[7:])

	r = c.fails(exitUsage, "", "whoami", "-o", "json")
	checkClean(t, "a JSON error", r.stderr, tok[7:])
	var got struct {
		Error client.Error `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.stderr), &got); err != nil {
		t.Fatalf("stderr %q: %v", r.stderr, err)
	}
	for _, s := range []string{got.Error.Message, got.Error.Field, got.Error.RequestID} {
		checkClean(t, "a JSON error's field", s, tok[7:])
	}
}

func TestServerStringsInTablesArePrintedWithoutTerminalControls(t *testing.T) {
	srv, c := serveCLI(t)
	evil := "Mallory\x1b[2J\x1b]0;title\x07\u009b1m"
	mallory := c.as(strings.TrimSpace(c.ok("tokens", "create", "--name", evil, "--subject", "m@dev.local\x1b[31m", "--role", "member")))
	mallory.ok("org", "secrets", "set", "OWNED=value", "--env", "development")

	for _, args := range [][]string{
		{"tokens", "list"},
		{"org", "secrets", "show", "OWNED"},
		{"org", "secrets", "history", "OWNED"},
		{"audit"},
	} {
		out := mallory.as(srv.token).ok(args...)
		if !strings.Contains(out, "Mallory") {
			t.Errorf("zwrm %v does not show the name:\n%s", args, out)
		}
		checkClean(t, strings.Join(args, " "), out, "")
	}
	out := mallory.ok("whoami")
	if !strings.Contains(out, "Mallory") {
		t.Errorf("whoami does not show the name:\n%s", out)
	}
	checkClean(t, "whoami as Mallory", out, "")
}

// checkClean fails if out holds a terminal control other than newline and
// tab, or secret (when set).
func checkClean(t *testing.T, what, out, secret string) {
	t.Helper()
	for _, r := range out {
		if r < 0x20 && r != '\n' && r != '\t' || r >= 0x7f && r <= 0x9f {
			t.Errorf("%s holds the control character %U:\n%q", what, r, out)
			break
		}
	}
	if strings.Contains(out, "title") || strings.Contains(out, "[2J") {
		t.Errorf("%s holds what followed an ESC:\n%q", what, out)
	}
	if secret != "" && strings.Contains(out, secret) {
		t.Errorf("%s holds the token:\n%q", what, out)
	}
}

func TestStripControlsKeepsTextAndDropsWhatATerminalActsOn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ in, want, cell string }{
		{"plain text, é ü 日本", "plain text, é ü 日本", "plain text, é ü 日本"},
		{"two\nlines\tand a tab", "two\nlines\tand a tab", "two lines and a tab"},
		{"clear\x1b[2Jscreen", "clearscreen", "clearscreen"},
		{"colour \x1b[1;31mred\x1b[0m", "colour red", "colour red"},
		{"title \x1b]0;owned\x07 set", "title  set", "title  set"},
		{"title \x1b]0;owned\x1b\\ set", "title  set", "title  set"},
		{"dcs \x1bPq#0;2;0;0;0\x1b\\ end", "dcs  end", "dcs  end"},
		{"charset \x1b(B done", "charset  done", "charset  done"},
		{"reset \x1bc done", "reset  done", "reset  done"},
		{"c1 \u009b2J csi \u0085 nel", "c1 2J csi  nel", "c1 2J csi  nel"},
		{"bell\x07 back\x08 del\x7f nul\x00 cr\r", "bell back del nul cr", "bell back del nul cr"},
		{"ends with ESC\x1b", "ends with ESC", "ends with ESC"},
		{"open osc \x1b]0;never closed", "open osc ", "open osc "},
		{"bad utf-8 \xff", "bad utf-8 \ufffd", "bad utf-8 \ufffd"},
	} {
		if got := client.StripControls(tt.in); got != tt.want {
			t.Errorf("StripControls(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := cell(tt.in); got != tt.cell {
			t.Errorf("cell(%q) = %q, want %q", tt.in, got, tt.cell)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{"token zwrm_u_AbC-d_9 not found", "token zwrm_…(redacted) not found"},
		{"zwrm_s_x and zwrm_u_y", "zwrm_…(redacted) and zwrm_…(redacted)"},
		{"ZWRM_TOKEN is not a token", "ZWRM_TOKEN is not a token"},
		{"zwrm tokens list", "zwrm tokens list"},
	} {
		if got := client.Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
