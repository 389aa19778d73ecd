package httpapi

import (
	"net/http"
	"reflect"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/wire"
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
	// Request and Response are the wire types of the bodies (nil: none,
	// or not JSON of a wire type); the OpenAPI document takes its schemas
	// from them.
	Request, Response reflect.Type
}

// body is the type of a wire body.
func body[T any]() reflect.Type { return reflect.TypeFor[T]() }

// Routes lists every API call; the OpenAPI document is tested against it.
func Routes() []Route {
	var rs []Route
	// The org, app and machine secrets API: one set of three
	// calls per layer kind.
	for _, base := range []string{"/v1/org/secrets", "/v1/apps/{app}/secrets", "/v1/apps/{app}/machines/{machine}/secrets"} {
		kind := map[string]string{"/v1/org/secrets": "org", "/v1/apps/{app}/secrets": "app", "/v1/apps/{app}/machines/{machine}/secrets": "machine"}[base]
		rs = append(rs,
			Route{"POST", base, "set" + title(kind) + "Secret", FnSet, AuthBearer, (*api).setLayerSecret, body[wire.SetLayerSecretRequest](), body[wire.LayerSecret]()},
			Route{"GET", base, "list" + title(kind) + "Secrets", FnList, AuthBearer, (*api).listLayerSecrets, nil, body[wire.LayerSecretList]()},
			Route{"DELETE", base + "/{name}", "delete" + title(kind) + "Secret", FnDelete, AuthBearer, (*api).deleteLayerSecret, nil, nil},
		)
	}
	return append(rs,
		Route{"GET", "/healthz", "health", FnList, AuthNone, (*api).health, nil, body[wire.Health]()},
		Route{"GET", "/v1/openapi.json", "openapi", FnList, AuthNone, (*api).openapi, nil, nil},
		Route{"GET", "/v1/me", "me", FnList, AuthBearer, (*api).me, nil, body[wire.Me]()},
		Route{"GET", "/v1/layers", "listLayers", FnList, AuthBearer, (*api).listLayers, nil, body[wire.LayerList]()},
		Route{"GET", "/v1/secrets", "listSecrets", FnList, AuthBearer, (*api).listSecrets, nil, body[wire.SecretList]()},
		Route{"POST", "/v1/secrets", "createSecret", FnSet, AuthBearer, (*api).createSecret, body[wire.CreateSecretRequest](), body[wire.SecretDetail]()},
		Route{"GET", "/v1/secrets/{id}", "getSecret", FnList, AuthBearer, (*api).getSecret, nil, body[wire.SecretDetail]()},
		Route{"PATCH", "/v1/secrets/{id}", "updateSecret", FnSet, AuthBearer, (*api).updateSecret, body[wire.UpdateSecretRequest](), body[wire.SecretDetail]()},
		Route{"DELETE", "/v1/secrets/{id}", "deleteSecret", FnDelete, AuthBearer, (*api).deleteSecret, nil, nil},
		Route{"GET", "/v1/secrets/{id}/versions", "listVersions", FnList, AuthBearer, (*api).listVersions, nil, body[wire.VersionList]()},
		Route{"POST", "/v1/secrets/{id}/versions/{n}/restore", "restoreVersion", FnSet, AuthBearer, (*api).restoreVersion, body[wire.RestoreVersionRequest](), body[wire.SecretDetail]()},
		Route{"PUT", "/v1/secrets/{id}/rotation", "setRotation", FnSet, AuthBearer, (*api).setRotation, body[wire.RotationRequest](), body[wire.SecretDetail]()},
		Route{"DELETE", "/v1/secrets/{id}/rotation", "clearRotation", FnSet, AuthBearer, (*api).clearRotation, nil, body[wire.SecretDetail]()},
		Route{"GET", "/v1/effective", "getEffective", FnList, AuthBearer, (*api).getEffective, nil, body[wire.Effective]()},
		Route{"POST", "/v1/resolve", "resolve", FnResolve, AuthBearer, (*api).resolve, body[wire.ResolveRequest](), body[wire.Resolved]()},
		Route{"POST", "/v1/resolve/iam", "resolveIAM", FnResolve, AuthIAM, (*api).resolve, body[wire.ResolveRequest](), body[wire.Resolved]()},
		Route{"POST", "/v1/tokens", "createToken", FnAdmin, AuthBearer, (*api).createToken, body[wire.CreateTokenRequest](), body[wire.Token]()},
		Route{"GET", "/v1/tokens", "listTokens", FnAdmin, AuthBearer, (*api).listTokens, nil, body[wire.TokenList]()},
		Route{"DELETE", "/v1/tokens/{id}", "revokeToken", FnAdmin, AuthBearer, (*api).revokeToken, nil, nil},
		Route{"GET", "/v1/audit", "listAudit", FnAdmin, AuthBearer, (*api).listAudit, nil, body[wire.AuditPage]()},
		Route{"GET", "/v1/org", "getOrg", FnAdmin, AuthBearer, (*api).getOrg, nil, body[wire.Org]()},
		Route{"PATCH", "/v1/org", "updateOrg", FnAdmin, AuthBearer, (*api).updateOrg, body[wire.UpdateOrgRequest](), body[wire.Org]()},
	)
}
