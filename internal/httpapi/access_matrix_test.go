package httpapi_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/httpapi"
)

// identities are the callers of the access matrix: two members of acme
// (one owns every fixture secret), an admin and a superadmin of acme, a
// service token of acme, and the superadmin of another org.
type identities struct {
	owner, member, admin, super, service, otherOrg string
}

const (
	asOwner    = "member-owner"
	asMember   = "member-non-owner"
	asAdmin    = "admin"
	asSuper    = "superadmin"
	asService  = "service token"
	asOtherOrg = "other-org superadmin"
)

// ownerRoutes are the routes whose 403 names the secret's owner.
var ownerRoutes = map[string]bool{
	"updateSecret": true, "deleteSecret": true, "restoreVersion": true,
	"setOrgSecret": true, "setAppSecret": true, "setMachineSecret": true,
	"deleteOrgSecret": true, "deleteAppSecret": true, "deleteMachineSecret": true,
	"setRotation": true, "clearRotation": true,
}

// rotationPolicy is a valid body of PUT /v1/secrets/{id}/rotation; it
// covers production, which needs the admin role by default.
var rotationPolicy = map[string]any{"every": "30d", "environments": []string{"production"}}

// devRotation covers development only, which members may write.
var devRotation = map[string]any{"every": "30d", "environments": []string{"development"}}

var callers = []string{asOwner, asMember, asAdmin, asSuper, asService, asOtherOrg}

func (ids identities) token(who string) string {
	return map[string]string{asOwner: ids.owner, asMember: ids.member, asAdmin: ids.admin, asSuper: ids.super,
		asService: ids.service, asOtherOrg: ids.otherOrg}[who]
}

func newAccessEnv(t *testing.T) (*env, identities) {
	t.Helper()
	e := newEnv(t)
	var ids identities
	ids.super = e.bootstrap(t, "acme", "root@acme.test", "Root")
	ids.owner = e.mintUser(t, ids.super, "ann@acme.test", "Ann", "member")
	ids.member = e.mintUser(t, ids.super, "bob@acme.test", "Bob", "member")
	ids.admin = e.mintUser(t, ids.super, "cat@acme.test", "Cat", "admin")
	ids.service = e.mintService(t, ids.super, "web-m1", "web", "m1", "development", "staging", "production")
	ids.otherOrg = e.bootstrap(t, "globex", "root@globex.test", "Gus")
	return e, ids
}

// call is one request of the matrix.
type call struct {
	method, path string
	body         any
}

// TestAccessMatrix runs every write route as each identity against a fresh
// fixture and checks the status of every cell.
func TestAccessMatrix(t *testing.T) {
	e, ids := newAccessEnv(t)
	n := 0
	fresh := func(prefix string) string { n++; return fmt.Sprintf("%s_%d", prefix, n) }

	// ownedSecret creates a secret owned by the member-owner at version 2,
	// so that version 1 can be restored.
	ownedSecret := func(t *testing.T) secretJSON {
		t.Helper()
		s := e.createSecret(t, ids.owner, map[string]any{"name": fresh("OWNED"), "values": map[string]string{"development": "v1"}})
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+s.ID, ids.owner, map[string]any{"version": 1, "values": map[string]any{"development": "v2"}}), 200)
		return s
	}
	// ownedByName creates a secret owned by the member-owner through the
	// layer API at base and returns its name.
	ownedByName := func(t *testing.T, base string) string {
		t.Helper()
		name := fresh("NAMED")
		wantStatus(t, e.do(t, "POST", base, ids.owner, map[string]string{"name": name, "value": "v1", "environment": "development"}), http.StatusCreated)
		return name
	}
	// withProduction gives an owned secret a production value, set by an
	// admin (the owner, a member, may not), at version 3.
	withProduction := func(t *testing.T) secretJSON {
		t.Helper()
		s := ownedSecret(t)
		wantStatus(t, e.do(t, "PATCH", "/v1/secrets/"+s.ID, ids.admin, map[string]any{"version": 2, "values": map[string]any{"production": "p"}}), 200)
		return s
	}
	// rootGlobal creates a global secret owned by the superadmin and
	// returns its name.
	rootGlobal := func(t *testing.T) string {
		t.Helper()
		name := fresh("ROOTS")
		wantStatus(t, e.do(t, "POST", "/v1/org/secrets", ids.super, map[string]string{"name": name, "value": "g"}), http.StatusCreated)
		return name
	}
	memberToken := func(t *testing.T) string {
		t.Helper()
		return e.mint(t, ids.super, map[string]any{"kind": "user", "subject": fresh("m") + "@acme.test", "name": "M", "role": "member"}).ID
	}

	// want lists statuses in the order of callers: owner, non-owner,
	// admin, superadmin, service token, other org.
	type row struct {
		route string
		setup func(t *testing.T) call
		want  [6]int
		// why, when set, is what every 403 of a user must say (else a
		// non-owner's 403 on an owner route names the owner).
		why string
	}
	const (
		prodRule    = "production value needs role admin (priority 100) in this organization"
		rotateRule  = "rotation policy that covers production needs role admin (priority 100)"
		overrideFmt = " is owned by %s; only its owner or an admin may override it"
	)
	var rows []row
	rows = append(rows,
		row{"updateSecret", func(t *testing.T) call {
			s := ownedSecret(t)
			return call{"PATCH", "/v1/secrets/" + s.ID, map[string]any{"version": 2, "description": "changed"}}
		}, [6]int{200, 403, 200, 200, 403, 404}, ""},
		row{"deleteSecret", func(t *testing.T) call {
			return call{"DELETE", "/v1/secrets/" + ownedSecret(t).ID, nil}
		}, [6]int{204, 403, 204, 204, 403, 404}, ""},
		row{"restoreVersion", func(t *testing.T) call {
			return call{"POST", "/v1/secrets/" + ownedSecret(t).ID + "/versions/1/restore", nil}
		}, [6]int{200, 403, 200, 200, 403, 404}, ""},
		// Another org's superadmin setting the same name makes a secret in
		// its own org (201), never a new version of acme's.
		row{"setOrgSecret", func(t *testing.T) call {
			return call{"POST", "/v1/org/secrets", map[string]string{"name": ownedByName(t, "/v1/org/secrets"), "value": "v2", "environment": "development"}}
		}, [6]int{200, 403, 200, 200, 403, 201}, ""},
		row{"setAppSecret", func(t *testing.T) call {
			return call{"POST", "/v1/apps/web/secrets", map[string]string{"name": ownedByName(t, "/v1/apps/web/secrets"), "value": "v2", "environment": "staging"}}
		}, [6]int{200, 403, 200, 200, 403, 201}, ""},
		row{"setMachineSecret", func(t *testing.T) call {
			base := "/v1/apps/web/machines/m1/secrets"
			return call{"POST", base, map[string]string{"name": ownedByName(t, base), "value": "v2", "environment": "development"}}
		}, [6]int{200, 403, 200, 200, 403, 201}, ""},
		row{"setOrgSecret", func(t *testing.T) call {
			return call{"POST", "/v1/org/secrets", map[string]string{"name": fresh("NEW"), "value": "v", "environment": "development"}}
		}, [6]int{201, 201, 201, 201, 403, 201}, ""},
		// Environment policies (defaults: production needs priority 100).
		// A value for all three environments needs the right to all three.
		row{"setOrgSecret", func(t *testing.T) call {
			return call{"POST", "/v1/org/secrets", map[string]string{"name": fresh("ALL3"), "value": "v"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, prodRule},
		row{"setAppSecret", func(t *testing.T) call {
			return call{"POST", "/v1/apps/web/secrets", map[string]string{"name": fresh("PRD"), "value": "v", "environment": "production"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, prodRule},
		row{"setOrgSecret", func(t *testing.T) call {
			return call{"POST", "/v1/org/secrets", map[string]string{"name": ownedByName(t, "/v1/org/secrets"), "value": "v2", "environment": "production"}}
		}, [6]int{403, 403, 200, 200, 403, 201}, prodRule},
		row{"updateSecret", func(t *testing.T) call {
			s := ownedSecret(t)
			return call{"PATCH", "/v1/secrets/" + s.ID, map[string]any{"version": 2, "values": map[string]any{"production": "p"}}}
		}, [6]int{403, 403, 200, 200, 403, 404}, prodRule},
		row{"updateSecret", func(t *testing.T) call {
			s := withProduction(t)
			return call{"PATCH", "/v1/secrets/" + s.ID, map[string]any{"version": 3, "values": map[string]any{"production": nil}}}
		}, [6]int{403, 403, 200, 200, 403, 404}, "clearing a " + prodRule},
		// Changing another environment of a secret that holds a production
		// value needs no production right.
		row{"updateSecret", func(t *testing.T) call {
			s := withProduction(t)
			return call{"PATCH", "/v1/secrets/" + s.ID, map[string]any{"version": 3, "values": map[string]any{"development": "d3"}}}
		}, [6]int{200, 403, 200, 200, 403, 404}, ""},
		row{"deleteSecret", func(t *testing.T) call {
			return call{"DELETE", "/v1/secrets/" + withProduction(t).ID, nil}
		}, [6]int{403, 403, 204, 204, 403, 404}, "deleting a secret that holds a " + prodRule},
		row{"restoreVersion", func(t *testing.T) call {
			return call{"POST", "/v1/secrets/" + withProduction(t).ID + "/versions/2/restore", nil}
		}, [6]int{403, 403, 200, 200, 403, 404}, "restoring a version that changes the " + prodRule},
		row{"setRotation", func(t *testing.T) call {
			return call{"PUT", "/v1/secrets/" + ownedSecret(t).ID + "/rotation", rotationPolicy}
		}, [6]int{403, 403, 200, 200, 403, 404}, rotateRule},
		row{"clearRotation", func(t *testing.T) call {
			s := ownedSecret(t)
			e.setRotation(t, ids.admin, s.ID, rotationPolicy)
			return call{"DELETE", "/v1/secrets/" + s.ID + "/rotation", nil}
		}, [6]int{403, 403, 200, 200, 403, 404}, "removing a " + rotateRule},
		// Overrides need the right to modify what they override.
		row{"setAppSecret", func(t *testing.T) call {
			return call{"POST", "/v1/apps/web/secrets", map[string]string{"name": rootGlobal(t), "value": "o", "environment": "development"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, fmt.Sprintf(overrideFmt, "Root")},
		row{"createSecret", func(t *testing.T) call {
			return call{"POST", "/v1/secrets", map[string]any{"name": rootGlobal(t), "app": "web", "machine": "m1", "values": map[string]string{"staging": "o"}}}
		}, [6]int{403, 403, 201, 201, 403, 201}, fmt.Sprintf(overrideFmt, "Root")},
		row{"setMachineSecret", func(t *testing.T) call {
			name := fresh("APPROOT")
			wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", ids.super, map[string]string{"name": name, "value": "a"}), http.StatusCreated)
			return call{"POST", "/v1/apps/web/machines/m1/secrets", map[string]string{"name": name, "value": "o", "environment": "development"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, fmt.Sprintf(overrideFmt, "Root")},
		// The owner of the overridden secret may override it.
		row{"setAppSecret", func(t *testing.T) call {
			return call{"POST", "/v1/apps/web/secrets", map[string]string{"name": ownedByName(t, "/v1/org/secrets"), "value": "o", "environment": "development"}}
		}, [6]int{201, 403, 201, 201, 403, 201}, fmt.Sprintf(overrideFmt, "Ann")},
		// A global secret over a name a lower layer holds changes no
		// workload: the lower layer still wins.
		row{"setOrgSecret", func(t *testing.T) call {
			name := fresh("LOWER")
			wantStatus(t, e.do(t, "POST", "/v1/apps/web/secrets", ids.super, map[string]string{"name": name, "value": "a"}), http.StatusCreated)
			return call{"POST", "/v1/org/secrets", map[string]string{"name": name, "value": "g", "environment": "development"}}
		}, [6]int{201, 201, 201, 201, 403, 201}, ""},
		// Reserved names need the admin role, in any case.
		row{"createSecret", func(t *testing.T) call {
			return call{"POST", "/v1/secrets", map[string]any{"name": fresh("LD_PRELOAD"), "values": map[string]string{"development": "x"}}}
		}, [6]int{403, 403, 201, 201, 403, 201}, "reserved name"},
		row{"setOrgSecret", func(t *testing.T) call {
			return call{"POST", "/v1/org/secrets", map[string]string{"name": fresh("dyld_insert"), "value": "x", "environment": "development"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, "reserved name"},
		row{"updateOrg", func(t *testing.T) call {
			return call{"PATCH", "/v1/org", map[string]any{"environment_policies": map[string]any{"staging": map[string]int{"min_write_priority": 10}}}}
		}, [6]int{403, 403, 403, 200, 403, 200}, "only a superadmin"},
		row{"deleteOrgSecret", func(t *testing.T) call {
			return call{"DELETE", "/v1/org/secrets/" + ownedByName(t, "/v1/org/secrets"), nil}
		}, [6]int{204, 403, 204, 204, 403, 404}, ""},
		row{"deleteAppSecret", func(t *testing.T) call {
			return call{"DELETE", "/v1/apps/web/secrets/" + ownedByName(t, "/v1/apps/web/secrets"), nil}
		}, [6]int{204, 403, 204, 204, 403, 404}, ""},
		row{"deleteMachineSecret", func(t *testing.T) call {
			base := "/v1/apps/web/machines/m1/secrets"
			return call{"DELETE", base + "/" + ownedByName(t, base), nil}
		}, [6]int{204, 403, 204, 204, 403, 404}, ""},
		row{"createSecret", func(t *testing.T) call {
			return call{"POST", "/v1/secrets", map[string]any{"name": fresh("CREATED"), "app": "web", "values": map[string]string{"development": "d", "staging": "s"}}}
		}, [6]int{201, 201, 201, 201, 403, 201}, ""},
		row{"createSecret", func(t *testing.T) call {
			return call{"POST", "/v1/secrets", map[string]any{"name": fresh("CREATED"), "app": "web", "values": map[string]string{"production": "p"}}}
		}, [6]int{403, 403, 201, 201, 403, 201}, prodRule},
		row{"createToken", func(t *testing.T) call {
			return call{"POST", "/v1/tokens", map[string]any{"kind": "user", "subject": fresh("new") + "@acme.test", "name": "New", "role": "member"}}
		}, [6]int{403, 403, 201, 201, 403, 201}, ""},
		row{"createToken", func(t *testing.T) call {
			return call{"POST", "/v1/tokens", map[string]any{"kind": "service", "name": fresh("svc"), "app": "web", "environments": []string{"production"}}}
		}, [6]int{403, 403, 201, 201, 403, 201}, ""},
		row{"revokeToken", func(t *testing.T) call {
			return call{"DELETE", "/v1/tokens/" + memberToken(t), nil}
		}, [6]int{403, 403, 204, 204, 403, 404}, ""},
		row{"listAudit", func(t *testing.T) call {
			return call{"GET", "/v1/audit", nil}
		}, [6]int{403, 403, 200, 200, 403, 200}, ""},
		row{"listTokens", func(t *testing.T) call {
			return call{"GET", "/v1/tokens", nil}
		}, [6]int{403, 403, 200, 200, 403, 200}, ""},
		row{"updateOrg", func(t *testing.T) call {
			return call{"PATCH", "/v1/org", map[string]any{"user_resolve_environments": []string{"development"}}}
		}, [6]int{403, 403, 403, 200, 403, 200}, ""},
		row{"setRotation", func(t *testing.T) call {
			return call{"PUT", "/v1/secrets/" + ownedSecret(t).ID + "/rotation", devRotation}
		}, [6]int{200, 403, 200, 200, 403, 404}, ""},
		row{"clearRotation", func(t *testing.T) call {
			s := ownedSecret(t)
			e.setRotation(t, ids.owner, s.ID, devRotation)
			return call{"DELETE", "/v1/secrets/" + s.ID + "/rotation", nil}
		}, [6]int{200, 403, 200, 200, 403, 404}, ""},
		// A bearer token is no identity on the IAM route, whoever holds it;
		// IAM callers are TestIAMPrincipalsResolveWithinTheirScope's.
		row{"resolveIAM", func(t *testing.T) call {
			return call{"POST", "/v1/resolve/iam", map[string]any{"environment": "development"}}
		}, [6]int{401, 401, 401, 401, 401, 401}, ""},
	)

	for _, rw := range rows {
		for i, who := range callers {
			want := rw.want[i]
			t.Run(fmt.Sprintf("%s by the %s is %d", rw.route, who, want), func(t *testing.T) {
				c := rw.setup(t)
				r := e.do(t, c.method, c.path, ids.token(who), c.body)
				if r.Status != want {
					t.Fatalf("%s %s = %s, want %d", c.method, c.path, r, want)
				}
				switch {
				case want == 403 && rw.why != "" && who != asService:
					got := errorOf(t, r).Message
					ownerFirst := who == asMember && ownerRoutes[rw.route] && got == "Only Ann can modify this secret"
					if !strings.Contains(got, rw.why) && !ownerFirst {
						t.Errorf("message = %q, want it to say %q", got, rw.why)
					}
				case want == 403 && who == asMember && ownerRoutes[rw.route]:
					if got := errorOf(t, r).Message; got != "Only Ann can modify this secret" {
						t.Errorf("message = %q, want the owner's name", got)
					}
				}
			})
		}
	}

	t.Run("every write route has a row", func(t *testing.T) {
		covered := map[string]bool{}
		for _, rw := range rows {
			covered[rw.route] = true
		}
		for _, rt := range httpapi.Routes() {
			if rt.Method != "GET" && !covered[rt.Name] && rt.Name != "resolve" {
				t.Errorf("write route %s (%s %s) has no row in the access matrix", rt.Name, rt.Method, rt.Pattern)
			}
		}
	})
}

// TestOtherOrgsSecretsAreAbsent: another org's secrets answer 404 by id and
// by name, and appear in no list or resolve.
