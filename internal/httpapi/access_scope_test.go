package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/secrets"
)

func TestOtherOrgsSecretsAreAbsent(t *testing.T) {
	e, ids := newAccessEnv(t)
	sec := e.createSecret(t, ids.owner, map[string]any{"name": "ACME_ONLY", "app": "web", "values": map[string]string{"development": "acme-secret-value"}})
	wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.owner, map[string]string{"name": "ACME_GLOBAL", "value": "acme-global-value", "environment": "development"}), 201)

	for _, c := range []call{
		{"GET", "/v1/secrets/" + sec.ID, nil},
		{"GET", "/v1/secrets/" + sec.ID + "/versions", nil},
		{"PATCH", "/v1/secrets/" + sec.ID, map[string]any{"version": 1, "description": "x"}},
		{"DELETE", "/v1/secrets/" + sec.ID, nil},
		{"POST", "/v1/secrets/" + sec.ID + "/versions/1/restore", nil},
		{"DELETE", "/v1/apps/web/secrets/ACME_ONLY", nil},
		{"DELETE", "/v1/org/secrets/ACME_GLOBAL", nil},
	} {
		t.Run(c.method+" "+c.path+" from another org is 404", func(t *testing.T) {
			wantError(t, e.do(t, c.method, c.path, ids.otherOrg, c.body), http.StatusNotFound, "not_found")
		})
	}
	t.Run("another org lists and resolves none of them", func(t *testing.T) {
		for _, path := range []string{"/v1/secrets", "/v1/secrets?app=web", "/v1/org/secrets", "/v1/apps/web/secrets", "/v1/layers"} {
			r := e.do(t, "GET", path, ids.otherOrg, nil)
			wantStatus(t, r, http.StatusOK)
			if strings.Contains(string(r.Body), "ACME") || strings.Contains(string(r.Body), "web") {
				t.Errorf("GET %s from another org shows acme's secrets: %s", path, r.Body)
			}
		}
		if got := e.resolve(t, ids.otherOrg, map[string]any{"environment": "development", "app": "web"}); len(got) != 0 {
			t.Errorf("another org resolves %v", got)
		}
	})
	t.Run("the secrets are untouched", func(t *testing.T) {
		if got := e.getSecret(t, ids.owner, sec.ID); got.Version != 1 {
			t.Errorf("version = %d, want 1", got.Version)
		}
		if got := e.resolve(t, ids.owner, map[string]any{"environment": "development", "app": "web"}); got["ACME_ONLY"] != "acme-secret-value" || got["ACME_GLOBAL"] != "acme-global-value" {
			t.Errorf("resolve = %v", got)
		}
	})
}

// TestServiceTokensMayOnlyResolve calls every route of httpapi.Routes() with
// a service token: 403 everywhere but resolve, effective (masks within its
// scope), /v1/me and the public ones,
// and 401 on the IAM resolve, where a bearer token is no identity. Each
// call carries a valid body and names things that exist, so that nothing
// but the token's kind can be what refuses it.
func TestServiceTokensMayOnlyResolve(t *testing.T) {
	e, ids := newAccessEnv(t)
	sec := e.createSecret(t, ids.super, map[string]any{"name": "X", "app": "web", "machine": "m1", "values": map[string]string{"development": "x"}})
	sec = e.setRotation(t, ids.super, sec.ID, rotationPolicy) // so that clearRotation has a policy to clear
	tok := e.mint(t, ids.super, map[string]any{"kind": "user", "subject": "z@acme.test", "name": "Z", "role": "member"})
	fill := strings.NewReplacer("{app}", "web", "{machine}", "m1", "{name}", "X", "{n}", "1")
	bodies := map[string]any{
		"setOrgSecret": map[string]string{"name": "X", "value": "v"}, "setAppSecret": map[string]string{"name": "X", "value": "v"},
		"setMachineSecret": map[string]string{"name": "X", "value": "v"},
		"createSecret":     map[string]any{"name": "Y"},
		"updateSecret":     map[string]any{"version": sec.Version, "description": "d"},
		"setRotation":      rotationPolicy,
		"resolveIAM":       map[string]string{"environment": "production"},
		"resolve":          map[string]string{"environment": "production"},
		"createToken":      map[string]any{"kind": "service", "name": "again", "app": "web", "machine": "m1", "environments": []string{"production"}},
		"updateOrg":        map[string]any{"user_resolve_environments": []string{"production"}},
	}
	allowed := map[string]int{"resolve": 200, "getEffective": 200, "me": 200, "health": 200, "openapi": 200, "resolveIAM": http.StatusUnauthorized}
	queries := map[string]string{"getEffective": "?environment=production"}
	for _, rt := range httpapi.Routes() {
		want, ok := allowed[rt.Name]
		if !ok {
			want = http.StatusForbidden
		}
		if rt.Method != "GET" && rt.Method != "DELETE" && bodies[rt.Name] == nil && rt.Name != "restoreVersion" {
			t.Errorf("%s (%s %s) takes a body and the test sends none: a 400 could hide the 403", rt.Name, rt.Method, rt.Pattern)
		}
		t.Run(fmt.Sprintf("%s by a service token is %d", rt.Name, want), func(t *testing.T) {
			path := fill.Replace(rt.Pattern)
			if rt.Name == "revokeToken" {
				path = strings.Replace(path, "{id}", tok.ID, 1)
			}
			path = strings.Replace(path, "{id}", sec.ID, 1) + queries[rt.Name]
			r := e.do(t, rt.Method, path, ids.service, bodies[rt.Name])
			switch want {
			case http.StatusForbidden:
				wantError(t, r, want, "forbidden")
			case http.StatusUnauthorized:
				wantError(t, r, want, "unauthorized")
			default:
				wantStatus(t, r, want)
			}
		})
	}
	if got, want := e.getSecret(t, ids.super, sec.ID), sec; got.Version != want.Version || got.Rotation == nil {
		t.Errorf("a service token changed a secret: version %d (want %d), rotation %+v", got.Version, want.Version, got.Rotation)
	}
}

// resolveCase is one row of a resolve access table: who asks (a token, or a
// principal ARN), with what, and the values they get (nil: a 403).
type resolveCase struct {
	name string
	who  string
	body map[string]any
	want map[string]string
}

func TestServiceTokenResolvesWithinItsScope(t *testing.T) {
	e, ids := newAccessEnv(t)
	for _, s := range []map[string]any{
		{"name": "G", "values": map[string]string{"development": "g-dev", "production": "g-prd"}},
		{"name": "A", "app": "web", "values": map[string]string{"production": "web-prd"}},
		{"name": "M", "app": "web", "machine": "m1", "values": map[string]string{"production": "m1-prd"}},
		{"name": "M", "app": "web", "machine": "m2", "values": map[string]string{"production": "m2-prd"}},
		{"name": "API", "app": "api", "values": map[string]string{"production": "api-prd"}},
	} {
		e.createSecret(t, ids.super, s)
	}
	machineProd := e.mintService(t, ids.super, "web-m1-prod", "web", "m1", "production")
	appProd := e.mintService(t, ids.super, "web-prod", "web", "", "production")
	globalDev := e.mintService(t, ids.super, "global-dev", "", "", "development")

	for _, tc := range []resolveCase{
		{"a machine token resolves its machine without naming it", machineProd, map[string]any{"environment": "production"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m1-prd"}},
		{"a machine token resolves its machine when naming it", machineProd, map[string]any{"environment": "production", "app": "web", "machine": "m1"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m1-prd"}},
		{"a machine token resolves its machine when naming its app only", machineProd, map[string]any{"environment": "production", "app": "web"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m1-prd"}},
		{"a machine token may not resolve another machine", machineProd, map[string]any{"environment": "production", "app": "web", "machine": "m2"}, nil},
		{"a machine token may not resolve another app", machineProd, map[string]any{"environment": "production", "app": "api"}, nil},
		{"a machine token may not resolve another environment", machineProd, map[string]any{"environment": "development"}, nil},
		{"an app token resolves its app", appProd, map[string]any{"environment": "production"},
			map[string]string{"G": "g-prd", "A": "web-prd"}},
		{"an app token resolves a machine of its app", appProd, map[string]any{"environment": "production", "app": "web", "machine": "m2"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m2-prd"}},
		{"an app token may not resolve another app", appProd, map[string]any{"environment": "production", "app": "api"}, nil},
		{"an app token may not resolve staging", appProd, map[string]any{"environment": "staging"}, nil},
		{"a global token resolves the global layer", globalDev, map[string]any{"environment": "development"},
			map[string]string{"G": "g-dev"}},
		{"a global token may not resolve an app", globalDev, map[string]any{"environment": "development", "app": "web"}, nil},
		{"a global token may not resolve production", globalDev, map[string]any{"environment": "production"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(t, "POST", "/v1/resolve", tc.who, tc.body)
			wantResolve(t, r, "service", tc.want)
		})
	}
}

func TestUserTokensResolveDevelopmentUnlessTheOrgWidensIt(t *testing.T) {
	e, ids := newAccessEnv(t)
	e.createSecret(t, ids.admin, map[string]any{"name": "K", "values": map[string]string{"development": "dev", "staging": "stg", "production": "prd"}})
	users := []string{asOwner, asMember, asAdmin, asSuper}

	t.Run("by default every user resolves development only", func(t *testing.T) {
		for _, who := range users {
			if got := e.resolve(t, ids.token(who), map[string]any{"environment": "development"}); got["K"] != "dev" {
				t.Errorf("%s: development = %v", who, got)
			}
			for _, env := range []string{"staging", "production"} {
				r := e.do(t, "POST", "/v1/resolve", ids.token(who), map[string]any{"environment": env})
				wantError(t, r, http.StatusForbidden, "forbidden", "user tokens may resolve development only")
			}
		}
	})
	t.Run("only a superadmin may widen it", func(t *testing.T) {
		body := map[string]any{"user_resolve_environments": []string{"development", "production"}}
		for _, who := range []string{asOwner, asMember, asAdmin, asService} {
			wantError(t, e.do(t, "PATCH", "/v1/org", ids.token(who), body), http.StatusForbidden, "forbidden")
		}
		wantStatus(t, e.do(t, "PATCH", "/v1/org", ids.super, body), http.StatusOK)
	})
	t.Run("once widened users resolve what it names and nothing more", func(t *testing.T) {
		for _, who := range users {
			if got := e.resolve(t, ids.token(who), map[string]any{"environment": "production"}); got["K"] != "prd" {
				t.Errorf("%s: production = %v", who, got)
			}
			wantError(t, e.do(t, "POST", "/v1/resolve", ids.token(who), map[string]any{"environment": "staging"}), http.StatusForbidden, "forbidden")
		}
	})
	t.Run("the setting of one org does not widen another", func(t *testing.T) {
		e.createSecret(t, ids.otherOrg, map[string]any{"name": "K", "values": map[string]string{"production": "other-prd"}})
		wantError(t, e.do(t, "POST", "/v1/resolve", ids.otherOrg, map[string]any{"environment": "production"}), http.StatusForbidden, "forbidden")
	})
}

func TestAdminsCannotOutrankThemselves(t *testing.T) {
	e, ids := newAccessEnv(t)
	superTok := e.mint(t, ids.super, map[string]any{"kind": "user", "subject": "dan@acme.test", "name": "Dan", "role": "superadmin"})
	adminTok := e.mint(t, ids.super, map[string]any{"kind": "user", "subject": "eve@acme.test", "name": "Eve", "role": "admin"})

	t.Run("an admin cannot mint a superadmin token", func(t *testing.T) {
		r := e.do(t, "POST", "/v1/tokens", ids.admin, map[string]any{"kind": "user", "subject": "x@acme.test", "name": "X", "role": "superadmin"})
		wantError(t, r, http.StatusForbidden, "forbidden", "cannot create a superadmin token")
	})
	t.Run("an admin may mint admin, member and service tokens", func(t *testing.T) {
		for _, role := range []string{"admin", "member"} {
			e.mintUser(t, ids.admin, role+"@acme.test", role, role)
		}
		e.mintService(t, ids.admin, "svc", "web", "", "production")
	})
	t.Run("an admin cannot revoke a superadmin's token", func(t *testing.T) {
		wantError(t, e.do(t, "DELETE", "/v1/tokens/"+superTok.ID, ids.admin, nil), http.StatusForbidden, "forbidden", "cannot revoke a superadmin token")
		wantStatus(t, e.do(t, "GET", "/v1/me", superTok.Token, nil), http.StatusOK)
	})
	t.Run("an admin may revoke another admin's token", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+adminTok.ID, ids.admin, nil), http.StatusNoContent)
		wantStatus(t, e.do(t, "GET", "/v1/me", adminTok.Token, nil), http.StatusUnauthorized)
	})
	t.Run("a superadmin may revoke a superadmin's token", func(t *testing.T) {
		wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+superTok.ID, ids.super, nil), http.StatusNoContent)
		wantStatus(t, e.do(t, "GET", "/v1/me", superTok.Token, nil), http.StatusUnauthorized)
	})
	t.Run("a member cannot mint or list tokens or read the audit", func(t *testing.T) {
		for _, c := range []call{
			{"POST", "/v1/tokens", map[string]any{"kind": "user", "subject": "y@acme.test", "name": "Y", "role": "member"}},
			{"GET", "/v1/tokens", nil},
			{"GET", "/v1/audit", nil},
		} {
			wantError(t, e.do(t, c.method, c.path, ids.member, c.body), http.StatusForbidden, "forbidden", "admin")
		}
	})
}

// TestIAMPrincipalsResolveWithinTheirScope calls the IAM resolve as the IAM
// principals an admin registered, and as others.
func TestIAMPrincipalsResolveWithinTheirScope(t *testing.T) {
	c := newClock()
	e := newEnvWithClock(t, c)
	super := e.bootstrap(t, "acme", "root@acme.test", "Root")
	other := e.bootstrap(t, "globex", "root@globex.test", "Gus")
	for _, s := range []map[string]any{
		{"name": "G", "values": map[string]string{"development": "g-dev", "production": "g-prd"}},
		{"name": "A", "app": "web", "values": map[string]string{"production": "web-prd"}},
		{"name": "M", "app": "web", "machine": "m1", "values": map[string]string{"production": "m1-prd"}},
		{"name": "API", "app": "api", "values": map[string]string{"production": "api-prd"}},
	} {
		e.createSecret(t, super, s)
	}
	e.createSecret(t, other, map[string]any{"name": "G", "values": map[string]string{"production": "globex-prd"}})

	const (
		webRole      = "arn:aws:iam::123456789012:role/web-prod"
		webSession   = "arn:aws:sts::123456789012:assumed-role/web-prod/i-0abc1234"
		m1Role       = "arn:aws:iam::123456789012:role/service-role/web-m1" // registered with a path
		m1Session    = "arn:aws:sts::123456789012:assumed-role/web-m1/ecs-task-7"
		ciUser       = "arn:aws:iam::123456789012:user/ci"
		globexRole   = "arn:aws:iam::210987654321:role/globex-app"
		revokedRole  = "arn:aws:iam::123456789012:role/retired"
		expiringRole = "arn:aws:iam::123456789012:role/temporary"
	)
	e.mintIAM(t, super, "web-prod", webRole, "web", "", "production")
	e.mintIAM(t, super, "web-m1", m1Role, "web", "m1", "production")
	e.mintIAM(t, super, "ci", ciUser, "", "", "development")
	e.mintIAM(t, other, "globex-app", globexRole, "", "", "production")
	retired := e.mintIAM(t, super, "retired", revokedRole, "", "", "production")
	wantStatus(t, e.do(t, "DELETE", "/v1/tokens/"+retired.ID, super, nil), http.StatusNoContent)
	e.mint(t, super, map[string]any{"kind": "iam", "name": "temporary", "principal_arn": expiringRole, "environments": []string{"production"},
		"expires_at": c.Now().Add(time.Hour)})

	for _, tc := range []resolveCase{
		{"a role resolves its app", webRole, map[string]any{"environment": "production"},
			map[string]string{"G": "g-prd", "A": "web-prd"}},
		{"a session of the role resolves as the role", webSession, map[string]any{"environment": "production"},
			map[string]string{"G": "g-prd", "A": "web-prd"}},
		{"a role resolves a machine of its app", webSession, map[string]any{"environment": "production", "app": "web", "machine": "m1"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m1-prd"}},
		{"a role may not resolve another app", webSession, map[string]any{"environment": "production", "app": "api"}, nil},
		{"a role may not resolve an environment it was not given", webSession, map[string]any{"environment": "staging"}, nil},
		{"a role registered with a path resolves its machine through its sessions", m1Session, map[string]any{"environment": "production"},
			map[string]string{"G": "g-prd", "A": "web-prd", "M": "m1-prd"}},
		{"a machine role may not resolve another machine", m1Session, map[string]any{"environment": "production", "app": "web", "machine": "m2"}, nil},
		{"an IAM user resolves the global layer", ciUser, map[string]any{"environment": "development"},
			map[string]string{"G": "g-dev"}},
		{"an IAM user may not resolve an app", ciUser, map[string]any{"environment": "development", "app": "web"}, nil},
		{"another org's principal resolves that org's secrets only", globexRole, map[string]any{"environment": "production"},
			map[string]string{"G": "globex-prd"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			org := "acme"
			if tc.who == globexRole {
				org = "globex"
			}
			r := e.resolveIAMIn(t, org, tc.who, tc.body)
			wantResolve(t, r, "iam", tc.want)
		})
	}

	for _, tc := range []struct {
		name     string
		arn      string
		hdr      []string
		contains string
	}{
		{"an unregistered role", "arn:aws:iam::123456789012:role/stranger", nil, "not registered"},
		{"a session of an unregistered role", "arn:aws:sts::123456789012:assumed-role/stranger/s", nil, "not registered"},
		{"a registered role's name in another account", "arn:aws:iam::999999999999:role/web-prod", nil, "not registered"},
		{"a registered role's name in another partition", "arn:aws-cn:iam::123456789012:role/web-prod", nil, "not registered"},
		{"something that is not an ARN", "web-prod", nil, "not an IAM role or user"},
		{"a revoked registration", revokedRole, nil, "revoked"},
		{"a request without an IAM caller", "", nil, "not signed"},
		{"a bearer token without an IAM caller", "", []string{"Authorization", "Bearer " + super}, "not signed"},
	} {
		t.Run(tc.name+" is 401", func(t *testing.T) {
			r := e.resolveIAM(t, tc.arn, map[string]any{"environment": "production"}, tc.hdr...)
			wantError(t, r, http.StatusUnauthorized, "unauthorized", tc.contains)
		})
	}

	t.Run("a registration works until it expires", func(t *testing.T) {
		wantStatus(t, e.resolveIAM(t, expiringRole, map[string]any{"environment": "production"}), http.StatusOK)
		c.Advance(time.Hour)
		wantError(t, e.resolveIAM(t, expiringRole, map[string]any{"environment": "production"}), http.StatusUnauthorized, "unauthorized", "expired")
	})

	t.Run("a resolve by an IAM principal is audited under its registration, without values", func(t *testing.T) {
		wantStatus(t, e.resolveIAM(t, webSession, map[string]any{"environment": "production"}), http.StatusOK)
		c.Advance(time.Second)
		r := e.do(t, "GET", "/v1/audit?limit=1", super, nil)
		wantStatus(t, r, http.StatusOK)
		records := decode[struct {
			Records []auditJSON `json:"records"`
		}](t, r).Records
		if len(records) != 1 {
			t.Fatalf("audit = %s", r.Body)
		}
		got := records[0]
		if got.Action != "resolve" || got.Actor.Kind != "iam" || got.Actor.Subject != "iam:"+webRole || got.Actor.TokenID != secrets.IAMTokenID("acme", webRole) {
			t.Errorf("newest record = %+v, want a resolve by the iam token of %s", got, webRole)
		}
		if strings.Contains(string(r.Body), "prd") {
			t.Errorf("the audit holds a value: %s", r.Body)
		}
	})

	t.Run("without an IAM authenticator even a registered principal is 401", func(t *testing.T) {
		local := newBearerOnlyEnv(t)
		admin := local.bootstrap(t, "acme", "root@acme.test", "Root")
		local.mintIAM(t, admin, "web-prod", webRole, "web", "", "production")
		r := local.resolveIAM(t, webRole, map[string]any{"environment": "production"}, "Authorization", "Bearer "+admin)
		wantError(t, r, http.StatusUnauthorized, "unauthorized", "SigV4", "POST /v1/resolve")
	})
}

// TestAnOrgClaimingAnotherOrgsRoleGainsNothing: registrations live in each
// org's namespace and the caller names its org, so registering another
// org's role neither hijacks that role's resolves nor tells the registrant
// it is taken.
func TestAnOrgClaimingAnotherOrgsRoleGainsNothing(t *testing.T) {
	e, acme := newAcme(t)
	globex := e.bootstrap(t, "globex", "root@globex.test", "Gus")
	const role = "arn:aws:iam::210987654321:role/globex-app"
	e.createSecret(t, acme, map[string]any{"name": "DATABASE_URL", "values": map[string]string{"production": "postgres://attacker.example/db"}})
	e.createSecret(t, globex, map[string]any{"name": "DATABASE_URL", "values": map[string]string{"production": "postgres://globex.internal/db"}})
	e.mintIAM(t, globex, "globex-app", role, "", "", "production")
	// acme registers globex's role too: accepted (no sign that it is taken elsewhere).
	e.mintIAM(t, acme, "squatter", role, "", "", "production")

	r := e.resolveIAMIn(t, "globex", role, map[string]any{"environment": "production"})
	wantStatus(t, r, http.StatusOK)
	if !strings.Contains(string(r.Body), "globex.internal") || strings.Contains(string(r.Body), "attacker") {
		t.Fatalf("globex's workload resolved %s, want globex's own secrets", r.Body)
	}
	wantStatus(t, e.resolveIAMIn(t, "initech", role, map[string]any{"environment": "production"}), http.StatusUnauthorized)
	wantStatus(t, e.resolveIAMIn(t, "", role, map[string]any{"environment": "production"}), http.StatusUnauthorized)
}
