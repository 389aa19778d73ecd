package httpapi

import (
	"net/http"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

// Authenticator establishes who is calling: from a bearer token (the local
// server, the Lambda authorizer) or from what an authorizer already
// established (the Lambda functions behind API Gateway).
type Authenticator interface {
	Identify(r *http.Request) (secrets.Identity, error)
}

// IAMAuthenticator establishes an IAM caller's identity from what API
// Gateway verified (SigV4) for the AuthIAM routes.
type IAMAuthenticator interface {
	IdentifyIAM(r *http.Request) (secrets.Identity, error)
}

// IAMOrg is the organization an IAM caller resolves from: the org query
// parameter (POST /v1/resolve/iam?org=ORG), part of the signed request.
// Registrations are per org, so naming another org finds no registration.
func IAMOrg(r *http.Request) string { return r.URL.Query().Get("org") }

// noIAM answers AuthIAM routes where there is no API Gateway to verify a
// signature: the local server.
type noIAM struct{}

func (noIAM) IdentifyIAM(*http.Request) (secrets.Identity, error) {
	return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized,
		"this route takes AWS SigV4-signed requests through API Gateway; here, use POST /v1/resolve with a service token")
}

// BearerAuth authenticates the bearer token of each request with svc.
func BearerAuth(svc *service.Service) Authenticator { return bearer{svc} }

type bearer struct{ svc *service.Service }

func (b bearer) Identify(r *http.Request) (secrets.Identity, error) {
	token, err := wire.BearerToken(r.Header.Get("Authorization"))
	if err != nil {
		return secrets.Identity{}, err
	}
	return b.svc.Authenticate(r.Context(), token)
}

func (a *api) me(w http.ResponseWriter, r *http.Request, id secrets.Identity) error {
	writable, err := a.svc.WritableEnvironments(r.Context(), id, nil)
	if err != nil {
		return err
	}
	out := wire.Me{Kind: id.Kind, Name: id.Name, Org: id.Org, RolePriority: id.Role.Priority(), Subject: id.Subject,
		TokenID: id.TokenID, WritableEnvironments: writable}
	if id.Kind == secrets.TokenService {
		out.Scope = &wire.Scope{App: id.Scope.App, Machine: id.Scope.Machine, Environments: id.Scope.Environments}
	} else {
		role := id.Role
		out.Role = &role
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
