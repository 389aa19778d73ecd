package httpapi

import (
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
)

// Function names the Lambda function that serves a route on AWS.
type Function string

const (
	FnSet     Function = "set"
	FnList    Function = "list"
	FnDelete  Function = "delete"
	FnResolve Function = "resolve"
	FnAdmin   Function = "admin"
	// FnAuthorizer serves no route: it is the Lambda authorizer in front of
	// the bearer routes.
	FnAuthorizer Function = "authorizer"
	// FnResolveDirect serves no route: workloads invoke it directly
	// (lambda:InvokeFunction) with a service token in the payload.
	FnResolveDirect Function = "resolve-direct"
)

// AuthKind says how a route establishes who is calling.
type AuthKind int

const (
	AuthBearer AuthKind = iota // a zwrm token (or, behind API Gateway, what the Lambda authorizer established)
	AuthNone                   // public: no identity
	AuthIAM                    // an AWS IAM principal that API Gateway verified (SigV4)
)

// Route is one API call.
type Route struct {
	Method   string
	Pattern  string // net/http pattern, without the method
	Name     string // stable operation name, also the OpenAPI operationId
	Function Function
	Auth     AuthKind
	handle   func(a *api, w http.ResponseWriter, r *http.Request, id secrets.Identity) error
}

// Routes lists every API call; the OpenAPI document is tested against it.
func Routes() []Route {
	var rs []Route
	// The org, app and machine secrets API of seed 000: one set of three
	// calls per layer kind.
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/{app}/secrets", "/v1/apps/{app}/machines/{machine}/secrets"} {
		kind := map[string]string{"/v1/org/secrets": "org", "/v1/apps/{app}/secrets": "app", "/v1/apps/{app}/machines/{machine}/secrets": "machine"}[base]
		rs = append(rs,
			Route{"POST", base, "set" + title(kind) + "Secret", FnSet, AuthBearer, (*api).setLayerSecret},
			Route{"GET", base, "list" + title(kind) + "Secrets", FnList, AuthBearer, (*api).listLayerSecrets},
			Route{"DELETE", base + "/{name}", "delete" + title(kind) + "Secret", FnDelete, AuthBearer, (*api).deleteLayerSecret},
		)
	}
	return append(rs,
		Route{"GET", "/healthz", "health", FnList, AuthNone, (*api).health},
		Route{"GET", "/v1/openapi.json", "openapi", FnList, AuthNone, (*api).openapi},
		Route{"GET", "/v1/me", "me", FnList, AuthBearer, (*api).me},
		Route{"GET", "/v1/layers", "listLayers", FnList, AuthBearer, (*api).listLayers},
		Route{"GET", "/v1/secrets", "listSecrets", FnList, AuthBearer, (*api).listSecrets},
		Route{"POST", "/v1/secrets", "createSecret", FnSet, AuthBearer, (*api).createSecret},
		Route{"GET", "/v1/secrets/{id}", "getSecret", FnList, AuthBearer, (*api).getSecret},
		Route{"PATCH", "/v1/secrets/{id}", "updateSecret", FnSet, AuthBearer, (*api).updateSecret},
		Route{"DELETE", "/v1/secrets/{id}", "deleteSecret", FnDelete, AuthBearer, (*api).deleteSecret},
		Route{"GET", "/v1/secrets/{id}/versions", "listVersions", FnList, AuthBearer, (*api).listVersions},
		Route{"POST", "/v1/secrets/{id}/versions/{n}/restore", "restoreVersion", FnSet, AuthBearer, (*api).restoreVersion},
		Route{"PUT", "/v1/secrets/{id}/rotation", "setRotation", FnSet, AuthBearer, (*api).setRotation},
		Route{"DELETE", "/v1/secrets/{id}/rotation", "clearRotation", FnSet, AuthBearer, (*api).clearRotation},
		Route{"GET", "/v1/effective", "getEffective", FnList, AuthBearer, (*api).getEffective},
		Route{"POST", "/v1/resolve", "resolve", FnResolve, AuthBearer, (*api).resolve},
		Route{"POST", "/v1/resolve/iam", "resolveIAM", FnResolve, AuthIAM, (*api).resolve},
		Route{"POST", "/v1/tokens", "createToken", FnAdmin, AuthBearer, (*api).createToken},
		Route{"GET", "/v1/tokens", "listTokens", FnAdmin, AuthBearer, (*api).listTokens},
		Route{"DELETE", "/v1/tokens/{id}", "revokeToken", FnAdmin, AuthBearer, (*api).revokeToken},
		Route{"GET", "/v1/audit", "listAudit", FnAdmin, AuthBearer, (*api).listAudit},
		Route{"GET", "/v1/org", "getOrg", FnAdmin, AuthBearer, (*api).getOrg},
		Route{"PATCH", "/v1/org", "updateOrg", FnAdmin, AuthBearer, (*api).updateOrg},
	)
}
