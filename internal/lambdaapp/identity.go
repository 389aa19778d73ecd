package lambdaapp

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/awslabs/aws-lambda-go-api-proxy/core"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// Keys of the identity the authorizer puts in its context. API Gateway
// passes the context to the functions as requestContext.authorizer.lambda.
const (
	ctxOrg          = "org"
	ctxTokenID      = "token_id"
	ctxKind         = "kind"
	ctxSubject      = "subject"
	ctxName         = "name"
	ctxRole         = "role"
	ctxScopeApp     = "scope_app"
	ctxScopeMachine = "scope_machine"
	ctxScopeEnvs    = "scope_environments" // comma-separated
)

// identityContext is what the authorizer returns for id: strings only, as
// API Gateway passes them on.
func identityContext(id secrets.Identity) map[string]any {
	envs := make([]string, 0, len(id.Scope.Environments))
	for _, e := range id.Scope.Environments {
		envs = append(envs, string(e))
	}
	return map[string]any{
		ctxOrg: id.Org, ctxTokenID: id.TokenID, ctxKind: string(id.Kind), ctxSubject: id.Subject, ctxName: id.Name,
		ctxRole: string(id.Role), ctxScopeApp: id.Scope.App, ctxScopeMachine: id.Scope.Machine, ctxScopeEnvs: strings.Join(envs, ","),
	}
}

// authorizerContext takes identity from the authorizer's context in the
// request API Gateway sent: the functions never read the token again. The
// context must carry the authorizer's signature over every field read here
// (see identityMessage): whoever may invoke a function directly can write
// any context, but cannot sign one.
type authorizerContext struct {
	verifier *identityVerifier
	logger   *slog.Logger
}

func (a authorizerContext) Identify(r *http.Request) (secrets.Identity, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.Lambda == nil {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "no authorizer context: this route must sit behind the zwrm authorizer")
	}
	c := rc.Authorizer.Lambda
	if err := a.verifier.verify(r.Context(), c); err != nil {
		if secrets.IsCode(err, secrets.CodeUnauthorized) {
			// Not API Gateway's doing: someone invoked the function with a
			// context of their own, or replayed an old one.
			a.logger.WarnContext(r.Context(), "authorizer context refused", "request_id", rc.RequestID, "reason", err.Error())
		}
		return secrets.Identity{}, err
	}
	str := func(k string) string { s, _ := c[k].(string); return s }
	id := secrets.Identity{Org: str(ctxOrg), TokenID: str(ctxTokenID), Kind: secrets.TokenKind(str(ctxKind)), Subject: str(ctxSubject),
		Name: str(ctxName), Role: secrets.Role(str(ctxRole)), Scope: secrets.Scope{App: str(ctxScopeApp), Machine: str(ctxScopeMachine)}}
	if envs := str(ctxScopeEnvs); envs != "" {
		for _, e := range strings.Split(envs, ",") {
			id.Scope.Environments = append(id.Scope.Environments, secrets.Environment(e))
		}
	}
	if id.Org == "" || (id.Kind != secrets.TokenUser && id.Kind != secrets.TokenService) {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "the authorizer context holds no identity")
	}
	return id, nil
}

// iamContext takes the IAM principal API Gateway verified (SigV4) and maps
// it to the identity an admin registered for it.
type iamContext struct{ svc *service.Service }

func (c iamContext) IdentifyIAM(r *http.Request) (secrets.Identity, error) {
	rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context())
	if !ok || rc.Authorizer == nil || rc.Authorizer.IAM == nil || rc.Authorizer.IAM.UserARN == "" {
		return secrets.Identity{}, secrets.Errorf(secrets.CodeUnauthorized, "no IAM caller: this route must use IAM authorization")
	}
	return c.svc.AuthenticateIAM(r.Context(), httpapi.IAMOrg(r), rc.Authorizer.IAM.UserARN)
}

// apiGatewayRequestID uses API Gateway's request id, so that logs and
// audit records match API Gateway's access log.
func apiGatewayRequestID(r *http.Request) string {
	if rc, ok := core.GetAPIGatewayV2ContextFromContext(r.Context()); ok {
		return rc.RequestID
	}
	return ""
}
