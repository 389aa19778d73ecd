package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/kms"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/wire"
)

// A call is one AWS call as IAM sees it: the action, the resource (the
// table or one of its indexes, the key) and the partition key's kind of
// item (dynamodb:LeadingKeys) or the encryption context's service.
type call struct{ action, resource, condition string }

// calls records the calls of each function.
type calls struct {
	mu sync.Mutex
	by map[string]map[call]bool
}

func (c *calls) add(fn string, k call) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.by[fn] == nil {
		c.by[fn] = map[call]bool{}
	}
	c.by[fn][k] = true
}

// recordingDynamo is the DynamoDB client of one function, recording what it
// asks for. Its first audit write lands but answers an error, as a write
// whose answer was lost does: the store then reads the record back.
type recordingDynamo struct {
	api        dynamostore.API
	fn         string
	calls      *calls
	mu         sync.Mutex
	failedOnce bool
}

var _ dynamostore.API = (*recordingDynamo)(nil)

// kind is the item kind of a partition key: "S#acme#g" → "S#".
func kind(av types.AttributeValue) string {
	s, _ := av.(*types.AttributeValueMemberS)
	if s == nil {
		return "?"
	}
	k, _, _ := strings.Cut(s.Value, "#")
	return k + "#"
}

func (r *recordingDynamo) GetItem(ctx context.Context, in *dynamodb.GetItemInput, o ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	r.calls.add(r.fn, call{"dynamodb:GetItem", "table", kind(in.Key[dynamostore.AttrPK])})
	return r.api.GetItem(ctx, in, o...)
}

func (r *recordingDynamo) PutItem(ctx context.Context, in *dynamodb.PutItemInput, o ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	k := kind(in.Item[dynamostore.AttrPK])
	r.calls.add(r.fn, call{"dynamodb:PutItem", "table", k})
	out, err := r.api.PutItem(ctx, in, o...)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err == nil && k == itemAudit && !r.failedOnce {
		r.failedOnce = true
		return nil, &types.InternalServerError{Message: aws.String("the answer was lost")}
	}
	return out, err
}

func (r *recordingDynamo) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, o ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	r.calls.add(r.fn, call{"dynamodb:UpdateItem", "table", kind(in.Key[dynamostore.AttrPK])})
	return r.api.UpdateItem(ctx, in, o...)
}

func (r *recordingDynamo) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, o ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	r.calls.add(r.fn, call{"dynamodb:DeleteItem", "table", kind(in.Key[dynamostore.AttrPK])})
	return r.api.DeleteItem(ctx, in, o...)
}

var keyCondition = regexp.MustCompile(`^(#\w+) = (:\w+)`)

func (r *recordingDynamo) Query(ctx context.Context, in *dynamodb.QueryInput, o ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	if in.IndexName != nil {
		r.calls.add(r.fn, call{"dynamodb:Query", "index/" + *in.IndexName, ""})
	} else {
		k := "?"
		if m := keyCondition.FindStringSubmatch(*in.KeyConditionExpression); m != nil && in.ExpressionAttributeNames[m[1]] == dynamostore.AttrPK {
			k = kind(in.ExpressionAttributeValues[m[2]])
		}
		r.calls.add(r.fn, call{"dynamodb:Query", "table", k})
	}
	return r.api.Query(ctx, in, o...)
}

// recordingKMS is the KMS client of one function: the data key's calls and
// the identity key's.
type recordingKMS struct {
	api interface {
		kmskeys.API
		kmskeys.MacAPI
	}
	fn    string
	calls *calls
}

func (r *recordingKMS) GenerateDataKey(ctx context.Context, in *kms.GenerateDataKeyInput, o ...func(*kms.Options)) (*kms.GenerateDataKeyOutput, error) {
	r.calls.add(r.fn, call{"kms:GenerateDataKey", "key", "service=" + in.EncryptionContext["service"]})
	return r.api.GenerateDataKey(ctx, in, o...)
}

func (r *recordingKMS) Decrypt(ctx context.Context, in *kms.DecryptInput, o ...func(*kms.Options)) (*kms.DecryptOutput, error) {
	r.calls.add(r.fn, call{"kms:Decrypt", "key", "service=" + in.EncryptionContext["service"]})
	return r.api.Decrypt(ctx, in, o...)
}

func (r *recordingKMS) GenerateMac(ctx context.Context, in *kms.GenerateMacInput, o ...func(*kms.Options)) (*kms.GenerateMacOutput, error) {
	r.calls.add(r.fn, call{"kms:GenerateMac", "identity-key", ""})
	return r.api.GenerateMac(ctx, in, o...)
}

func (r *recordingKMS) VerifyMac(ctx context.Context, in *kms.VerifyMacInput, o ...func(*kms.Options)) (*kms.VerifyMacOutput, error) {
	r.calls.add(r.fn, call{"kms:VerifyMac", "identity-key", ""})
	return r.api.VerifyMac(ctx, in, o...)
}

// deployment is the functions over one table and one key, as deployed.
type deployment struct {
	t      *testing.T
	calls  *calls
	newApp func(fn string) *lambdaapp.App
	apps   map[string]*lambdaapp.App
	now    time.Time
	mu     sync.Mutex
	routes map[string]bool // route keys served with a 2xx answer
}

func (d *deployment) clock() time.Time { d.mu.Lock(); defer d.mu.Unlock(); return d.now }

// identity asks the authorizer about a bearer token, as API Gateway does.
func (d *deployment) identity(token string) map[string]any {
	d.t.Helper()
	resp, err := d.apps["authorizer"].Authorize(context.Background(), events.APIGatewayV2CustomAuthorizerV2Request{
		Version: "2.0", Type: "REQUEST", RouteKey: "GET /v1/me",
		Headers:        map[string]string{"authorization": "Bearer " + token},
		RequestContext: events.APIGatewayV2HTTPRequestContext{RequestID: "authz"},
	})
	if err != nil || !resp.IsAuthorized {
		d.t.Fatalf("authorizer: %v, authorized %v", err, resp.IsAuthorized)
	}
	return resp.Context
}

// request sends fn an API Gateway request for route (a route key) at path,
// through the entry point its main uses, and returns the answer.
func (d *deployment) request(fn, route, path, query string, body any, authorizer events.APIGatewayV2HTTPRequestContextAuthorizerDescription) (int, map[string]any) {
	d.t.Helper()
	method, _, _ := strings.Cut(route, " ")
	req := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RouteKey: route, RawPath: path, RawQueryString: query,
		Headers: map[string]string{"content-type": "application/json", "host": "api.example.com"},
		RequestContext: events.APIGatewayV2HTTPRequestContext{
			RouteKey: route, Stage: "$default", RequestID: fmt.Sprintf("req-%d", time.Now().UnixNano()),
			HTTP:       events.APIGatewayV2HTTPRequestContextHTTPDescription{Method: method, Path: path, Protocol: "HTTP/1.1", SourceIP: "203.0.113.7"},
			Authorizer: &authorizer,
		},
	}
	if body != nil {
		b, _ := json.Marshal(body)
		req.Body = string(b)
	}
	raw, _ := json.Marshal(req)
	app := d.apps[fn]
	var out any
	var err error
	switch fn {
	case "set":
		out, err = app.Set(context.Background(), raw)
	default:
		out, err = app.HTTP(context.Background(), req)
	}
	if err != nil {
		d.t.Fatalf("%s %s: %v", fn, route, err)
	}
	resp := out.(events.APIGatewayV2HTTPResponse)
	var answer map[string]any
	_ = json.Unmarshal([]byte(resp.Body), &answer)
	if resp.StatusCode < 300 {
		d.mu.Lock()
		d.routes[route] = true
		d.mu.Unlock()
	}
	return resp.StatusCode, answer
}

// expect sends a request and requires a status.
func (d *deployment) expect(status int, fn, route, path, query string, body any, authorizer events.APIGatewayV2HTTPRequestContextAuthorizerDescription) map[string]any {
	d.t.Helper()
	got, answer := d.request(fn, route, path, query, body, authorizer)
	if got != status {
		d.t.Fatalf("%s: %d %v, want %d", route, got, answer, status)
	}
	return answer
}

// TestTheGrantsAreExactlyTheCallsTheFunctionsMake runs every route of every
// function, the authorizer, direct resolve and the rotation sweep against
// DynamoDB's API (dynalite) and KMS's (local-kms, for the data keys and the
// identity key), records each function's calls as IAM would see them, and
// compares them with the stack's policies both ways: every call is allowed,
// every grant is used.
func TestTheGrantsAreExactlyTheCallsTheFunctionsMake(t *testing.T) {
	s := stackUnderTest(t)
	srv := dynalite.Start(t)
	client := srv.Client(t)
	table := srv.NewTable(t)
	kmsSrv := localkms.Start(t)
	keyARN := kmsSrv.NewSymmetricKey(t)
	identityKey := kmsSrv.NewHMACKey(t)
	kmsClient := kmsSrv.Client()

	rec := &calls{by: map[string]map[call]bool{}}
	d := &deployment{t: t, calls: rec, apps: map[string]*lambdaapp.App{}, now: time.Now().UTC(), routes: map[string]bool{}}
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	d.newApp = func(fn string) *lambdaapp.App {
		store := dynamostore.New(&recordingDynamo{api: client, fn: fn, calls: rec}, table)
		wrapper := kmskeys.New(&recordingKMS{api: kmsClient, fn: fn, calls: rec}, keyARN)
		// Two versions kept, so that a third change prunes history.
		cfg := lambdaapp.Config{Table: table, KeyID: keyARN, KeyCacheTTL: time.Minute, KeyCacheSize: 10, MaxVersions: 2, Now: d.clock,
			IdentityKeyID: identityKey, AuthorizerCacheTTL: time.Minute}
		var ids lambdaapp.IdentityMAC
		if lambdaapp.UsesIdentityKey(httpapi.Function(fn)) {
			ids = kmskeys.NewMAC(&recordingKMS{api: kmsClient, fn: fn, calls: rec}, identityKey)
		}
		return lambdaapp.New(httpapi.Function(fn), store, wrapper, ids, cfg, logger)
	}
	for _, fn := range functionNames {
		d.apps[fn] = d.newApp(fn)
	}

	// The first superadmin, as `zwrm admin bootstrap` makes it: not a
	// function, so its calls are not recorded.
	ctx := context.Background()
	bootstrap := lambdaapp.New(httpapi.FnAdmin, dynamostore.New(client, table), kmskeys.New(kmsClient, keyARN), nil,
		lambdaapp.Config{Table: table, KeyID: keyARN, Now: d.clock}, logger)
	superadmin, err := bootstrap.Service.Bootstrap(ctx, "acme", "ann@acme.test", "Ann")
	if err != nil {
		t.Fatal(err)
	}

	ann := events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: d.identity(superadmin)}
	none := events.APIGatewayV2HTTPRequestContextAuthorizerDescription{}
	value := "sk_live_0123456789abcdefRgA1"

	// set: the layer API, create, conflict, updates (pruning), restore, rotation policies.
	d.expect(201, "set", "POST /v1/org/secrets", "/v1/org/secrets", "", map[string]any{"name": "DB_PASSWORD", "value": value}, ann)
	d.expect(200, "set", "POST /v1/org/secrets", "/v1/org/secrets", "", map[string]any{"name": "DB_PASSWORD", "value": value + "2"}, ann)
	d.expect(201, "set", "POST /v1/apps/{app}/secrets", "/v1/apps/web/secrets", "", map[string]any{"name": "DB_PASSWORD", "value": value}, ann)
	d.expect(201, "set", "POST /v1/apps/{app}/machines/{machine}/secrets", "/v1/apps/web/machines/web-1/secrets", "", map[string]any{"name": "DB_PASSWORD", "value": value}, ann)
	created := d.expect(201, "set", "POST /v1/secrets", "/v1/secrets", "", map[string]any{
		"name": "API_KEY", "description": "payments", "app": "web", "values": map[string]any{"development": value, "production": value},
	}, ann)
	id, _ := created["id"].(string)
	d.expect(409, "set", "POST /v1/secrets", "/v1/secrets", "", map[string]any{"name": "API_KEY", "description": "again", "app": "web", "values": map[string]any{"development": value}}, ann)
	d.expect(200, "set", "PATCH /v1/secrets/{id}", "/v1/secrets/"+id, "", map[string]any{"version": 1, "values": map[string]any{"staging": value}}, ann)
	d.expect(200, "set", "PATCH /v1/secrets/{id}", "/v1/secrets/"+id, "", map[string]any{"version": 2, "description": "payments API"}, ann)
	d.expect(200, "set", "POST /v1/secrets/{id}/versions/{n}/restore", "/v1/secrets/"+id+"/versions/2/restore", "", nil, ann)
	d.expect(200, "set", "PUT /v1/secrets/{id}/rotation", "/v1/secrets/"+id+"/rotation", "", map[string]any{"every": "1m", "environments": []string{"production"}}, ann)
	d.expect(200, "set", "DELETE /v1/secrets/{id}/rotation", "/v1/secrets/"+id+"/rotation", "", nil, ann)
	d.expect(200, "set", "PUT /v1/secrets/{id}/rotation", "/v1/secrets/"+id+"/rotation", "", map[string]any{"every": "1m", "environments": []string{"production"}}, ann)

	// list: everything that reads.
	d.expect(200, "list", "GET /healthz", "/healthz", "", nil, none)
	d.expect(200, "list", "GET /v1/openapi.json", "/v1/openapi.json", "", nil, none)
	d.expect(200, "list", "GET /v1/me", "/v1/me", "", nil, ann)
	d.expect(200, "list", "GET /v1/org/secrets", "/v1/org/secrets", "", nil, ann)
	d.expect(200, "list", "GET /v1/apps/{app}/secrets", "/v1/apps/web/secrets", "", nil, ann)
	d.expect(200, "list", "GET /v1/apps/{app}/machines/{machine}/secrets", "/v1/apps/web/machines/web-1/secrets", "", nil, ann)
	d.expect(200, "list", "GET /v1/layers", "/v1/layers", "", nil, ann)
	d.expect(200, "list", "GET /v1/effective", "/v1/effective", "environment=development&app=web", nil, ann)
	d.expect(200, "list", "GET /v1/secrets", "/v1/secrets", "app=web", nil, ann)
	d.expect(200, "list", "GET /v1/secrets/{id}", "/v1/secrets/"+id, "", nil, ann)
	d.expect(200, "list", "GET /v1/secrets/{id}/versions", "/v1/secrets/"+id+"/versions", "", nil, ann)

	// admin: tokens of each kind, revocation, audit, org settings.
	svcTok := d.expect(201, "admin", "POST /v1/tokens", "/v1/tokens", "", map[string]any{"kind": "service", "name": "web", "app": "web", "environments": []string{"production"}}, ann)
	d.expect(201, "admin", "POST /v1/tokens", "/v1/tokens", "", map[string]any{"kind": "iam", "name": "web role", "principal_arn": "arn:aws:iam::123456789012:role/web-prod", "app": "web", "environments": []string{"production"}}, ann)
	bob := d.expect(201, "admin", "POST /v1/tokens", "/v1/tokens", "", map[string]any{"kind": "user", "subject": "bob@acme.test", "name": "Bob", "role": "member"}, ann)
	d.expect(200, "admin", "GET /v1/tokens", "/v1/tokens", "", nil, ann)
	d.expect(204, "admin", "DELETE /v1/tokens/{id}", "/v1/tokens/"+bob["id"].(string), "", nil, ann)
	d.expect(200, "admin", "GET /v1/audit", "/v1/audit", "limit=5", nil, ann)
	d.expect(200, "admin", "GET /v1/org", "/v1/org", "", nil, ann)
	d.expect(200, "admin", "PATCH /v1/org", "/v1/org", "", map[string]any{"user_resolve_environments": []string{"development", "staging"}}, ann)

	// resolve: by a user token (via the authorizer), by a SigV4 caller, and directly.
	d.expect(200, "resolve", "POST /v1/resolve", "/v1/resolve", "", map[string]any{"environment": "development", "app": "web", "machine": "web-1"}, ann)
	iamCaller := events.APIGatewayV2HTTPRequestContextAuthorizerDescription{IAM: &events.APIGatewayV2HTTPRequestContextAuthorizerIAMDescription{
		AccountID: "123456789012", UserARN: "arn:aws:sts::123456789012:assumed-role/web-prod/i-0abc", UserID: "AROAEXAMPLE:i-0abc",
	}}
	d.expect(200, "resolve", "POST /v1/resolve/iam", "/v1/resolve/iam", "org=acme", map[string]any{"environment": "production"}, iamCaller)
	direct, _ := json.Marshal(wire.DirectResolveRequest{Token: svcTok["token"].(string), ResolveRequest: wire.ResolveRequest{Environment: "production"}})
	if out, err := d.apps["resolve-direct"].ResolveDirect(ctx, direct); err != nil || out.Error != nil || out.Secrets["API_KEY"] == "" {
		t.Fatalf("direct resolve: %+v %v", out.Error, err)
	}
	// admin: the whole audit trail again (the clock stands still, so the
	// records share a time and their order is the ids' random part), now
	// with the resolves' manifests.
	if page := jsonString(d.expect(200, "admin", "GET /v1/audit", "/v1/audit", "limit=500", nil, ann)); strings.Count(page, `"action":"resolve"`) != 3 || strings.Contains(page, `"manifest"`) || strings.Contains(page, "could not be read") {
		t.Fatalf("the audit trail does not show the three resolves with their names: %s", page)
	}

	// The rotation sweep, in a new container of the set function (its
	// data keys not cached), once the policy is due.
	d.mu.Lock()
	d.now = d.now.Add(2 * time.Minute)
	d.mu.Unlock()
	d.apps["set"] = d.newApp("set")
	ev, _ := json.Marshal(lambdaapp.RotationEvent{Source: lambdaapp.RotationSource, Schedule: RotationScheduleName})
	rep, err := d.apps["set"].Set(ctx, ev)
	if err != nil || fmt.Sprint(rep) == "" {
		t.Fatalf("rotation sweep: %v %v", rep, err)
	}
	if got := jsonString(rep); !strings.Contains(got, `"rotated":1`) {
		t.Fatalf("rotation sweep: %s, want one rotation", got)
	}
	// Two minutes on, ann's signed identity has expired: API Gateway would
	// have asked the authorizer again.
	ann = events.APIGatewayV2HTTPRequestContextAuthorizerDescription{Lambda: d.identity(superadmin)}

	// delete: by name at each layer, and by id (with history).
	d.expect(204, "delete", "DELETE /v1/apps/{app}/machines/{machine}/secrets/{name}", "/v1/apps/web/machines/web-1/secrets/DB_PASSWORD", "", nil, ann)
	d.expect(204, "delete", "DELETE /v1/apps/{app}/secrets/{name}", "/v1/apps/web/secrets/DB_PASSWORD", "", nil, ann)
	d.expect(204, "delete", "DELETE /v1/org/secrets/{name}", "/v1/org/secrets/DB_PASSWORD", "", nil, ann)
	d.expect(204, "delete", "DELETE /v1/secrets/{id}", "/v1/secrets/"+id, "", nil, ann)
	// Deleting again looks for what an interrupted delete left, by id and
	// by name, and finds nothing.
	d.expect(404, "delete", "DELETE /v1/secrets/{id}", "/v1/secrets/"+id, "", nil, ann)
	d.expect(404, "delete", "DELETE /v1/org/secrets/{name}", "/v1/org/secrets/DB_PASSWORD", "", nil, ann)

	// Every route was served.
	for _, r := range httpapi.Routes() {
		if !d.routes[r.Method+" "+r.Pattern] {
			t.Errorf("the scenario does not exercise %s %s", r.Method, r.Pattern)
		}
	}

	// The calls against the grants.
	granted := map[string]map[call]bool{}
	for fn, gs := range s.grants(t) {
		granted[fn] = map[call]bool{}
		for _, g := range gs {
			if strings.HasPrefix(g.Actions, "logs:") || strings.HasPrefix(g.Actions, "sqs:") {
				continue // not calls the code makes: Lambda's logging, the failure destination
			}
			for _, a := range strings.Split(g.Actions, ",") {
				for _, c := range strings.Fields(g.Condition) {
					granted[fn][call{a, g.Resource, c}] = true
				}
				if g.Condition == "" {
					granted[fn][call{a, g.Resource, ""}] = true
				}
			}
		}
	}
	for _, fn := range functionNames {
		var denied, unused []string
		for c := range rec.by[fn] {
			if !granted[fn][c] {
				denied = append(denied, fmt.Sprint(c))
			}
		}
		for c := range granted[fn] {
			if !rec.by[fn][c] {
				unused = append(unused, fmt.Sprint(c))
			}
		}
		slices.Sort(denied)
		slices.Sort(unused)
		if len(denied) > 0 {
			t.Errorf("%s makes calls its role does not allow: %v", fn, denied)
		}
		if len(unused) > 0 {
			t.Errorf("%s is allowed calls it never makes: %v", fn, unused)
		}
		var made []string
		for c := range rec.by[fn] {
			made = append(made, fmt.Sprint(c))
		}
		slices.Sort(made)
		t.Logf("%s: %s", fn, strings.Join(made, " "))
	}
}
