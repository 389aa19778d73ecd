package lambdaapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/wire"
)

// Authorize is the API Gateway HTTP API Lambda authorizer (simple
// responses): it checks the bearer token and hands the identity to the
// functions in its context, signed (expiry and MAC, see identityMessage).
// A bad token is a denial; a failure to check or to sign is an error, which
// API Gateway answers with 500, never an allow.
func (a *App) Authorize(ctx context.Context, req events.APIGatewayV2CustomAuthorizerV2Request) (events.APIGatewayV2CustomAuthorizerSimpleResponse, error) {
	ctx, cancel := withinDeadline(ctx)
	defer cancel()
	deny := events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: false}
	token, err := wire.BearerToken(req.Headers["authorization"])
	if err != nil {
		return deny, nil
	}
	id, err := a.Service.Authenticate(ctx, token)
	if secrets.IsCode(err, secrets.CodeUnauthorized) {
		a.Logger.InfoContext(ctx, "authorizer denied", "request_id", req.RequestContext.RequestID, "route", req.RouteKey)
		return deny, nil
	}
	if err != nil {
		a.Logger.ErrorContext(ctx, "authorizer failed", "request_id", req.RequestContext.RequestID, "error", err.Error())
		return deny, errors.New("authorizer failed")
	}
	c := identityContext(id)
	if err := a.signer.sign(ctx, c); err != nil {
		a.Logger.ErrorContext(ctx, "authorizer failed to sign the identity", "request_id", req.RequestContext.RequestID, "error", err.Error())
		return deny, errors.New("authorizer failed")
	}
	return events.APIGatewayV2CustomAuthorizerSimpleResponse{IsAuthorized: true, Context: c}, nil
}

// isHTTPEvent tells an API Gateway request from other payloads.
func isHTTPEvent(raw json.RawMessage) bool {
	var probe struct {
		RequestContext *struct {
			HTTP *json.RawMessage `json:"http"`
		} `json:"requestContext"`
	}
	return json.Unmarshal(raw, &probe) == nil && probe.RequestContext != nil && probe.RequestContext.HTTP != nil
}

// ResolveDirect is the resolve-direct function's handler: a direct
// invocation by a workload, authenticated by the service token in the
// payload. Errors are answered in the payload, not as a function error, so
// that callers read them as the HTTP API's and Lambda does not retry them.
//
// It never serves an API Gateway request: the roles allowed to invoke it
// could write such an event themselves, authorizer context and all, so an
// event shaped like one is refused. API Gateway invokes the resolve
// function, which workloads may not invoke.
func (a *App) ResolveDirect(ctx context.Context, raw json.RawMessage) (wire.DirectResolveResponse, error) {
	ctx, cancel := withinDeadline(ctx)
	defer cancel()
	return a.resolveDirect(ctx, raw), nil
}

func (a *App) resolveDirect(ctx context.Context, raw json.RawMessage) wire.DirectResolveResponse {
	fail := func(err error) wire.DirectResolveResponse {
		code := secrets.ErrorCode(err)
		body := &wire.ErrorDetail{Code: code, Message: "internal error"}
		var e *secrets.Error
		if code != secrets.CodeInternal && errors.As(err, &e) {
			body.Message, body.Field = e.Message, e.Field
		} else {
			a.Logger.ErrorContext(ctx, "direct resolve failed", "request_id", invocationID(ctx), "error", err.Error())
		}
		return wire.DirectResolveResponse{Error: body}
	}
	if isHTTPEvent(raw) {
		return fail(secrets.Errorf(secrets.CodeForbidden, "this function takes direct invocations only ({\"token\", \"environment\", ...}); HTTP requests go through API Gateway"))
	}
	var in wire.DirectResolveRequest
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fail(secrets.Invalid("", "the payload must be {\"token\", \"environment\", \"app\"?, \"machine\"?, \"names\"?, \"if_none_match\"?}"))
	}
	ctx = service.WithRequestID(ctx, invocationID(ctx))
	id, err := a.Service.Authenticate(ctx, in.Token)
	if err != nil {
		return fail(err)
	}
	if id.Kind != secrets.TokenService {
		return fail(secrets.Errorf(secrets.CodeForbidden, "direct invocation takes a service token (zwrm_s_…); people resolve through the API"))
	}
	env, err := secrets.ParseEnvironment("environment", string(in.Environment))
	if err != nil {
		return fail(err)
	}
	layer, err := secrets.NewLayer(in.App, in.Machine)
	if err != nil {
		return fail(err)
	}
	res, err := a.Service.Resolve(ctx, id, service.ResolveInput{Environment: env, Layer: layer, Names: in.Names, IfNoneMatch: in.IfNoneMatch})
	if err != nil {
		return fail(err)
	}
	if res.NotModified {
		return wire.DirectResolveResponse{Environment: res.Environment, Fingerprint: res.Fingerprint, NotModified: true}
	}
	return wire.DirectResolveResponse{Environment: res.Environment, Fingerprint: res.Fingerprint, Secrets: res.Values}
}

// RotationEvent is the input the rotation schedule (EventBridge Scheduler)
// sends the set function.
type RotationEvent struct {
	Source   string `json:"source"` // "zwrm.rotation"
	Schedule string `json:"schedule"`
}

// RotationSource marks a rotation event.
const RotationSource = "zwrm.rotation"

// Set is the set function's handler: API Gateway requests go to the HTTP
// handler; a rotation event runs the rotation sweep.
func (a *App) Set(ctx context.Context, raw json.RawMessage) (any, error) {
	ctx, cancel := withinDeadline(ctx)
	defer cancel()
	if isHTTPEvent(raw) {
		return a.httpFromRaw(ctx, raw)
	}
	var ev RotationEvent
	if err := json.Unmarshal(raw, &ev); err != nil || ev.Source != RotationSource {
		return nil, errors.New("unknown event: want an API Gateway HTTP API request or a rotation event")
	}
	if ev.Schedule == "" {
		ev.Schedule = "default"
	}
	ctx = service.WithRequestID(ctx, invocationID(ctx))
	rep, err := a.Service.RotateDue(ctx, ev.Schedule)
	if err != nil {
		// A function error makes the scheduler retry, then dead-letter.
		return nil, err
	}
	a.Logger.InfoContext(ctx, "rotation sweep", "schedule", ev.Schedule, "due", rep.Due, "rotated", rep.Rotated, "skipped", rep.Skipped, "failed", rep.Failed, "unlisted_orgs", rep.UnlistedOrgs, "leftovers", rep.Leftovers, "unswept_orgs", rep.UnsweptOrgs)
	if rep.UnsweptOrgs > 0 {
		return rep, fmt.Errorf("sweep: the leftovers of %d organizations could not be removed (see the logs)", rep.UnsweptOrgs)
	}
	if rep.UnlistedOrgs > 0 {
		return rep, fmt.Errorf("rotation sweep: the due secrets of %d organizations could not be listed (see the logs)", rep.UnlistedOrgs)
	}
	if rep.Failed > 0 {
		// Surface it as a function error: the errors alarm fires, and the
		// scheduler's retry finds the rotated ones no longer due.
		return rep, fmt.Errorf("rotation sweep: %d of %d due secrets failed to rotate (see the logs)", rep.Failed, rep.Due)
	}
	return rep, nil
}

func (a *App) httpFromRaw(ctx context.Context, raw json.RawMessage) (any, error) {
	var req events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		return nil, err
	}
	return a.HTTP(ctx, req)
}

func invocationID(ctx context.Context) string {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		return lc.AwsRequestID
	}
	return ""
}
