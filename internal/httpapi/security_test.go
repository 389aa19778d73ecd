package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

// plain returns the i-th distinctive plaintext of the security tests. Its
// first 8 characters hold no '_' or '-', so a mask shows none of them and
// any 8 characters of it found anywhere are a leak. (A value such as
// "sk_live_…" shows its first 8 characters in its mask by design.)
func plain(i int) string { return fmt.Sprintf("PLAINtxt%02dQz9vWk3Lm8RbXy", i) }

// short is a distinctive plaintext under 16 characters, masked as "***".
const short = "SHORTpl9xQ2w"

// leaks returns the first window of 8 or more characters of any of values
// that text contains, or "".
func leaks(text []byte, values []string) string {
	for _, v := range values {
		if len(v) < 8 {
			if bytes.Contains(text, []byte(v)) {
				return v
			}
			continue
		}
		for i := 0; i+8 <= len(v); i++ {
			if w := v[i : i+8]; bytes.Contains(text, []byte(w)) {
				return w
			}
		}
	}
	return ""
}

// scenario drives every route, successes and failures, with distinctive
// values, and returns the values (those rotation drew too) and tokens it
// used. e needs a clock: the scenario moves it to make a rotation due.
func scenario(t *testing.T, e *env) (values, tokens []string) {
	t.Helper()
	ctx := context.Background()
	for i := 0; i < 30; i++ {
		values = append(values, plain(i))
	}
	values = append(values, short)
	v := func(i int) string { return values[i] }

	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	admin := e.mint(t, super, map[string]any{"kind": "user", "subject": "adm@acme.test", "name": "Adm", "role": "admin"})
	ann := e.mintUser(t, super, "ann@acme.test", "Ann", "member")
	bob := e.mintUser(t, admin.Token, "bob@acme.test", "Bob", "member")
	svc := e.mintService(t, super, "web-m1", "web", "m1", "development", "production")
	other := e.bootstrap(t, "globex", "root@globex.test", "Gus")
	tokens = []string{super, admin.Token, ann, bob, svc, other}
	// Members own production values here: the org lets them write it.
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"environment_policies": map[string]any{"production": map[string]int{"min_write_priority": 10}}}), 200)

	// The layer API at every layer.
	for i, base := range []string{"/v1/org/secrets", "/v1/apps/web/secrets", "/v1/apps/web/machines/m1/secrets"} {
		wantStatus(t, e.do(t, "POST", base, ann, map[string]string{"name": "LAYERED", "value": v(i)}), 201)
		wantStatus(t, e.do(t, "POST", base, ann, map[string]string{"name": "LAYERED", "value": v(i + 3), "environment": "production"}), 200)
		wantStatus(t, e.do(t, "POST", base, super, map[string]string{"name": "SHORT", "value": short}), 201)
		wantStatus(t, e.do(t, "GET", base, ann, nil), 200)
		wantStatus(t, e.do(t, "POST", base, bob, map[string]string{"name": "LAYERED", "value": v(6)}), 403)
		wantStatus(t, e.do(t, "POST", base, svc, map[string]string{"name": "LAYERED", "value": v(6)}), 403)
		wantStatus(t, e.do(t, "POST", base, ann, map[string]string{"name": "BAD-NAME", "value": v(6)}), 400)
	}
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", other, map[string]string{"name": "LAYERED", "value": v(7)}), 201)

	// The grid API.
	r := e.do(t, "POST", "/v1/secrets", ann, map[string]any{"name": "GRID", "description": "grid secret", "app": "web",
		"values": map[string]string{"development": v(8), "staging": v(9), "production": v(10)}})
	wantStatus(t, r, 201)
	id := decode[secretJSON](t, r).ID
	wantStatus(t, e.do(t, "GET", "/v1/secrets", ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets?app=web", bob, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets?app=web&machine=m1", bob, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id, ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id, bob, nil), 200)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, ann, map[string]any{"version": 1, "values": map[string]any{"staging": v(11), "development": nil}}), 200)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, admin.Token, map[string]any{"version": 2, "values": map[string]any{"development": v(12)}, "description": "rotated"}), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id+"/versions", ann, nil), 200)
	wantStatus(t, e.do(t, "POST", "/v1/secrets/"+id+"/versions/1/restore", ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id, ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/layers", ann, nil), 200)

	// Rotation: the policy, refusals that carry values, a sweep, and the
	// rotated values (which only the resolves below may show).
	rotation := "/v1/secrets/" + id + "/rotation"
	policy := map[string]any{"every": "1h", "environments": []string{"development", "production"}}
	wantStatus(t, e.do(t, "PUT", rotation, ann, policy), 200)
	wantStatus(t, e.do(t, "PUT", rotation, bob, policy), 403)
	wantStatus(t, e.do(t, "PUT", rotation, svc, policy), 403)
	wantStatus(t, e.do(t, "PUT", rotation, other, policy), 404)
	wantStatus(t, e.do(t, "PUT", rotation, ann, map[string]any{"every": v(24), "environments": []string{"production"}}), 400)
	wantStatus(t, e.do(t, "PUT", rotation, ann, map[string]any{"every": "1h", "environments": []string{"production"}, "alphabet": v(24)}), 400)
	e.clock.Advance(time.Hour)
	if rep, err := e.svc.RotateDue(ctx, "scenario"); err != nil || rep.Rotated != 1 {
		t.Fatalf("RotateDue = %+v, %v; want one rotated", rep, err)
	}
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id, ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets/"+id+"/versions", ann, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/secrets?app=web", ann, nil), 200)
	rotatedDev := e.resolve(t, ann, map[string]any{"environment": "development", "app": "web"})["GRID"]
	rotatedPrd := e.resolve(t, svc, map[string]any{"environment": "production"})["GRID"]
	for _, r := range []string{rotatedDev, rotatedPrd} {
		if len(r) != service.DefaultRotationLength || slices.Contains(values, r) {
			t.Fatalf("rotated value %d characters long, or not new", len(r))
		}
	}
	values = append(values, rotatedDev, rotatedPrd)
	wantStatus(t, e.do(t, "DELETE", rotation, bob, nil), 403)
	wantStatus(t, e.do(t, "DELETE", rotation, ann, nil), 200)
	wantStatus(t, e.do(t, "DELETE", rotation, ann, nil), 404)

	// An IAM principal: registered, resolving, and refused.
	const role = "arn:aws:iam::123456789012:role/web-m1"
	wantStatus(t, e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "web-m1", "principal_arn": role,
		"app": "web", "machine": "m1", "environments": []string{"production"}}), 201)
	wantStatus(t, e.do(t, "POST", "/v1/tokens", super, map[string]any{"kind": "iam", "name": "again", "principal_arn": role,
		"environments": []string{"production"}}), 409)
	wantStatus(t, e.resolveIAM(t, "arn:aws:sts::123456789012:assumed-role/web-m1/task", map[string]string{"environment": "production"}), 200)
	wantStatus(t, e.resolveIAM(t, role, map[string]string{"environment": "development"}), 403)
	wantStatus(t, e.resolveIAM(t, "arn:aws:iam::123456789012:role/stranger", map[string]string{"environment": "production"}), 401)
	wantStatus(t, e.resolveIAM(t, "", map[string]string{"environment": "production"}, "Authorization", "Bearer "+svc), 401)

	// Resolves, the one place plaintext may appear.
	wantStatus(t, e.do(t, "POST", "/v1/resolve", ann, map[string]string{"environment": "development", "app": "web", "machine": "m1"}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/resolve", svc, map[string]string{"environment": "production"}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/resolve", svc, map[string]string{"environment": "staging"}), 403)
	wantStatus(t, e.do(t, "POST", "/v1/resolve", ann, map[string]string{"environment": "production"}), 403)

	// Failures that carry values in their requests.
	wantStatus(t, e.do(t, "POST", "/v1/secrets", ann, map[string]any{"name": "GRID", "app": "web", "values": map[string]string{"development": v(13)}}), 409)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, ann, map[string]any{"version": 1, "values": map[string]any{"development": v(14)}}), 409)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, bob, map[string]any{"version": 4, "values": map[string]any{"development": v(15)}}), 403)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, other, map[string]any{"version": 4, "values": map[string]any{"development": v(15)}}), 404)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+uuid.NewString(), ann, map[string]any{"version": 4, "values": map[string]any{"development": v(15)}}), 404)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, ann, map[string]any{"version": 4, "values": map[string]any{"qa": v(16)}}), 400)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, ann, map[string]any{"values": map[string]any{"development": v(16)}}), 400)
	wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+id, ann, map[string]any{"version": 4, "name": "X", "values": map[string]any{"development": v(16)}}), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, map[string]any{"name": "HUGE", "value": strings.Repeat(v(17), 3000)}), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, map[string]any{"name": "TYPED", "value": []string{v(18)}}), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, map[string]any{"name": "EXTRA", "value": "x", "secret": v(18)}), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, `{"name":"CUT","value":"`+v(19)), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, `{"name":"BROKEN","value":"`+v(19)+`" "x"}`), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, `{"name":"TWICE","value":"`+v(19)+`"} {"value":"`+v(19)+`"}`), 400)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, `{"name":"TEXT","value":"`+v(20)+`"}`, "Content-Type", "text/plain"), 415)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ann, `{"name":"BIG","value":"`+strings.Repeat(v(21), 12000)+`"}`), 413)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", "", map[string]string{"name": "ANON", "value": v(22)}), 401)
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", "zwrm_u_"+v(22), map[string]string{"name": "FORGED", "value": v(22)}), 401)
	wantStatus(t, e.do(t, "PUT", "/v1/org/secrets", ann, map[string]string{"name": "PUT", "value": v(23)}), 405)
	wantStatus(t, e.do(t, "POST", "/v1/nowhere", ann, map[string]string{"name": "LOST", "value": v(23)}), 404)

	// Identity, tokens, audit, org.
	wantStatus(t, e.do(t, "GET", "/healthz", "", nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/openapi.json", "", nil), 200)
	for _, tok := range tokens {
		wantStatus(t, e.do(t, "GET", "/v1/me", tok, nil), 200)
	}
	wantStatus(t, e.do(t, "GET", "/v1/tokens", admin.Token, nil), 200)
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+admin.ID, super, nil), 204)
	wantStatus(t, e.do(t, "GET", "/v1/me", admin.Token, nil), 401)
	wantStatus(t, e.do(t, "GET", "/v1/audit?limit=500", super, nil), 200)
	wantStatus(t, e.do(t, "GET", "/v1/org", super, nil), 200)
	wantStatus(t, e.do(t, "PATCH", "/v1/org", super, map[string]any{"user_resolve_environments": []string{"development", "production"}}), 200)
	wantStatus(t, e.do(t, "POST", "/v1/resolve", ann, map[string]string{"environment": "production"}), 200)

	// Deletes last.
	wantStatus(t, e.do(t, "DELETE", "/v1/apps/web/machines/m1/secrets/LAYERED", ann, nil), 204)
	wantStatus(t, e.do(t, "DELETE", "/v1/secrets/"+id, ann, nil), 204)
	wantStatus(t, e.do(t, "GET", "/v1/audit", super, nil), 200)
	return values, tokens
}

// TestNoPlaintextLeaves runs the broad scenario and looks for its values,
// the rotated ones included, everywhere but in the resolves' answers: every
// other response (rotation's show masks only), the log, the audit records
// and the database file.
func TestNoPlaintextLeaves(t *testing.T) {
	e := newEnvWithClock(t, testkit.NewClock(time.Now()))
	values, tokens := scenario(t, e)
	e.stop() // every access log line is written once the handlers return

	t.Run("no response but resolve's holds any part of a value", func(t *testing.T) {
		resolves, resolvedValues := 0, 0
		for _, x := range e.exchanges {
			if x.method == "POST" && (x.path == "/v1/resolve" || strings.HasPrefix(x.path, "/v1/resolve/iam")) {
				resolves++
				if x.status == http.StatusOK && leaks(x.body, values) != "" {
					resolvedValues++
				}
				continue
			}
			if w := leaks(x.body, values); w != "" {
				t.Errorf("%s %s (%d) holds %q: %s", x.method, x.path, x.status, w, x.body)
			}
		}
		if resolves == 0 || resolvedValues == 0 {
			t.Errorf("the scenario resolved no values (%d resolves): the check proves nothing", resolves)
		}
	})

	t.Run("no response holds a token but the one that created it", func(t *testing.T) {
		for _, x := range e.exchanges {
			if x.method == "POST" && x.path == "/v1/tokens" {
				continue
			}
			for _, tok := range tokens {
				if bytes.Contains(x.body, []byte(tok[len(tok)-16:])) {
					t.Errorf("%s %s holds a token", x.method, x.path)
				}
			}
		}
	})

	t.Run("the log holds no value, no token and no Authorization header", func(t *testing.T) {
		logs := e.logs.String()
		if w := leaks([]byte(logs), values); w != "" {
			t.Errorf("the log holds %q", w)
		}
		for _, tok := range tokens {
			if strings.Contains(logs, tok[len(tok)-16:]) {
				t.Errorf("the log holds a token")
			}
		}
		if strings.Contains(strings.ToLower(logs), "authorization") || strings.Contains(logs, "Bearer") {
			t.Errorf("the log holds the Authorization header")
		}
		requests := 0
		for _, line := range e.logLines(t) {
			if line["msg"] != "request" {
				continue
			}
			requests++
			if id, _ := line["request_id"].(string); id == "" {
				t.Errorf("a request line without request_id: %v", line)
			}
		}
		if got, want := requests, len(e.exchanges); got != want {
			t.Errorf("%d request log lines for %d requests", got, want)
		}
	})

	t.Run("no audit record holds a value", func(t *testing.T) {
		for _, org := range []string{"acme", "globex"} {
			records, _, err := e.store.ListAudit(context.Background(), org, "", 500)
			if err != nil {
				t.Fatal(err)
			}
			if len(records) < 10 && org == "acme" {
				t.Errorf("only %d audit records in acme", len(records))
			}
			data, err := json.Marshal(records)
			if err != nil {
				t.Fatal(err)
			}
			if w := leaks(data, values); w != "" {
				t.Errorf("an audit record of %s holds %q", org, w)
			}
		}
	})

	t.Run("the database file holds no value and no token", func(t *testing.T) {
		data, err := os.ReadFile(e.path)
		if err != nil {
			t.Fatal(err)
		}
		if w := leaks(data, values); w != "" {
			t.Errorf("the database holds %q", w)
		}
		for _, tok := range tokens {
			if bytes.Contains(data, []byte(tok[len(tok)-16:])) {
				t.Errorf("the database holds a token")
			}
		}
	})
}

// TestValidationErrorsNeverEchoValues sends values in requests that are
// refused, and checks that no error message quotes them.
func TestValidationErrorsNeverEchoValues(t *testing.T) {
	e, super := newAcme(t)
	sec := e.createSecret(t, super, map[string]any{"name": "S", "values": map[string]string{"development": "x"}})
	patch := "/v1/secrets/" + sec.ID
	v := plain(0)
	big := strings.Repeat(v, 64*1024/len(v)+1)
	for _, tc := range []struct {
		name         string
		method, path string
		body         any
		status       int
	}{
		{"a value over 64 KiB", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": big}, 400},
		{"a value over 64 KiB for one environment", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"staging": big}}, 400},
		{"a value over 64 KiB in a PATCH", "PATCH", patch, map[string]any{"version": 1, "values": map[string]string{"staging": big}}, 400},
		{"a value with a bad name", "POST", "/v1/org/secrets", map[string]string{"name": "1A", "value": v}, 400},
		{"a value with a bad environment", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": v, "environment": "qa"}, 400},
		{"a value under an unknown environment", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]string{"qa": v}}, 400},
		{"a value in an unknown field", "POST", "/v1/org/secrets", map[string]string{"name": "A", "value": "x", "val": v}, 400},
		{"a value of the wrong type", "POST", "/v1/secrets", map[string]any{"name": "A", "values": map[string]any{"development": []string{v}}}, 400},
		{"a value where an object belongs", "POST", "/v1/secrets", map[string]any{"name": "A", "values": v}, 400},
		{"a value where a version belongs", "PATCH", patch, map[string]any{"version": v, "values": map[string]string{"staging": v}}, 400},
		{"a value in a body cut short", "POST", "/v1/org/secrets", `{"name":"A","value":"` + v, 400},
		{"a value after a syntax error", "POST", "/v1/org/secrets", `{"name":"A" "value":"` + v + `"}`, 400},
		{"a value left unquoted", "POST", "/v1/org/secrets", `{"name":"A","value":` + v + `}`, 400},
		{"a value after the object", "POST", "/v1/org/secrets", `{"name":"A","value":"x"}"` + v + `"`, 400},
		{"a value as the whole body", "POST", "/v1/org/secrets", `"` + v + `"`, 400},
		{"a value in a PATCH without a version", "PATCH", patch, map[string]any{"values": map[string]string{"staging": v}}, 400},
		{"a value in a PATCH that renames", "PATCH", patch, map[string]any{"version": 1, "name": "B", "values": map[string]string{"staging": v}}, 400},
		{"a value in a stale PATCH", "PATCH", patch, map[string]any{"version": 9, "values": map[string]string{"staging": v}}, 409},
		{"a value in a duplicate", "POST", "/v1/secrets", map[string]any{"name": "S", "values": map[string]string{"staging": v}}, 409},
		{"a value over the body limit", "POST", "/v1/org/secrets", `{"name":"A","value":"` + strings.Repeat(v, 300*1024/len(v)) + `"}`, 413},
		{"a value sent as text", "POST", "/v1/org/secrets", `{"name":"A","value":"` + v + `"}`, 415},
	} {
		t.Run(tc.name+" is refused without quoting it", func(t *testing.T) {
			var hdr []string
			if tc.status == 415 {
				hdr = []string{"Content-Type", "text/plain"}
			}
			r := e.do(t, tc.method, tc.path, super, tc.body, hdr...)
			wantStatus(t, r, tc.status)
			if w := leaks(r.Body, []string{v}); w != "" {
				t.Errorf("the error quotes %q: %s", w, r.Body)
			}
		})
	}
}
