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
)

// Route is one API call.
type Route struct {
	Method   string
	Pattern  string // net/http pattern, without the method
	Name     string // stable operation name, also the OpenAPI operationId
	Function Function
	Public   bool // served without a token
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
			Route{"POST", base, "set" + title(kind) + "Secret", FnSet, false, (*api).setLayerSecret},
			Route{"GET", base, "list" + title(kind) + "Secrets", FnList, false, (*api).listLayerSecrets},
			Route{"DELETE", base + "/{name}", "delete" + title(kind) + "Secret", FnDelete, false, (*api).deleteLayerSecret},
		)
	}
	return append(rs,
		Route{"GET", "/healthz", "health", FnList, true, (*api).health},
		Route{"GET", "/v1/openapi.json", "openapi", FnList, true, (*api).openapi},
		Route{"GET", "/v1/me", "me", FnList, false, (*api).me},
		Route{"GET", "/v1/layers", "listLayers", FnList, false, (*api).listLayers},
		Route{"GET", "/v1/secrets", "listSecrets", FnList, false, (*api).listSecrets},
		Route{"POST", "/v1/secrets", "createSecret", FnSet, false, (*api).createSecret},
		Route{"GET", "/v1/secrets/{id}", "getSecret", FnList, false, (*api).getSecret},
		Route{"PATCH", "/v1/secrets/{id}", "updateSecret", FnSet, false, (*api).updateSecret},
		Route{"DELETE", "/v1/secrets/{id}", "deleteSecret", FnDelete, false, (*api).deleteSecret},
		Route{"GET", "/v1/secrets/{id}/versions", "listVersions", FnList, false, (*api).listVersions},
		Route{"POST", "/v1/secrets/{id}/versions/{n}/restore", "restoreVersion", FnSet, false, (*api).restoreVersion},
		Route{"POST", "/v1/resolve", "resolve", FnResolve, false, (*api).resolve},
		Route{"POST", "/v1/tokens", "createToken", FnAdmin, false, (*api).createToken},
		Route{"GET", "/v1/tokens", "listTokens", FnAdmin, false, (*api).listTokens},
		Route{"DELETE", "/v1/tokens/{id}", "revokeToken", FnAdmin, false, (*api).revokeToken},
		Route{"GET", "/v1/audit", "listAudit", FnAdmin, false, (*api).listAudit},
		Route{"GET", "/v1/org", "getOrg", FnAdmin, false, (*api).getOrg},
		Route{"PATCH", "/v1/org", "updateOrg", FnAdmin, false, (*api).updateOrg},
	)
}

func title(s string) string { return string(s[0]-'a'+'A') + s[1:] }
