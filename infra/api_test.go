package main

import (
	"encoding/json"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/zwrm/secrets/internal/httpapi"
)

func TestEveryRouteGoesToItsFunctionWithItsAuthorization(t *testing.T) {
	s := stackUnderTest(t)
	authorizer := s.logicalID(t, "Api", "Authorizer")
	fnOf := map[string]string{} // integration logical id → function name
	for _, id := range s.tpl.ofType("AWS::ApiGatewayV2::Integration") {
		p := s.tpl.Resources[id].Properties
		if p["IntegrationType"] != "AWS_PROXY" || p["PayloadFormatVersion"] != "2.0" {
			t.Errorf("integration %s: %s", id, jsonString(p))
		}
		for _, name := range functionNames {
			if ref(p["IntegrationUri"]) == s.logicalID(t, httpapi.Title(name)+"Function") {
				fnOf[id] = name
			}
		}
	}
	type route struct{ fn, auth, authorizer string }
	got := map[string]route{}
	for _, id := range s.tpl.ofType("AWS::ApiGatewayV2::Route") {
		p := s.tpl.Resources[id].Properties
		key, _ := p["RouteKey"].(string)
		if _, dup := got[key]; dup {
			t.Errorf("route %s defined twice", key)
		}
		target := refs(p["Target"])
		r := route{auth: p["AuthorizationType"].(string), authorizer: ref(p["AuthorizerId"])}
		if len(target) == 1 {
			r.fn = fnOf[target[0]]
		}
		got[key] = r
	}
	authName := map[httpapi.AuthKind]string{httpapi.AuthBearer: "CUSTOM", httpapi.AuthIAM: "AWS_IAM", httpapi.AuthNone: "NONE"}
	for _, r := range httpapi.Routes() {
		key := r.Method + " " + r.Pattern
		want := route{fn: string(r.Function), auth: authName[r.Auth]}
		if r.Auth == httpapi.AuthBearer {
			want.authorizer = authorizer
		}
		if g, ok := got[key]; !ok {
			t.Errorf("route %s is missing", key)
		} else if g != want {
			t.Errorf("route %s: %+v, want %+v", key, g, want)
		}
		delete(got, key)
	}
	for key := range got {
		t.Errorf("route %s is not in httpapi.Routes()", key)
	}
}

func TestTheAuthorizerAnswersSimplyAndIsCachedPerAuthorizationHeader(t *testing.T) {
	s := stackUnderTest(t)
	s.hasProperties(t, "authorizer", "AWS::ApiGatewayV2::Authorizer", map[string]any{
		"AuthorizerType":                 "REQUEST",
		"AuthorizerPayloadFormatVersion": "2.0",
		"EnableSimpleResponses":          true,
		"IdentitySource":                 []any{"$request.header.Authorization"},
		// A revoked token keeps working for up to this long.
		"AuthorizerResultTtlInSeconds": 60,
		"AuthorizerUri": assertions.Match_ObjectLike(&map[string]any{"Fn::Join": assertions.Match_ArrayWith(&[]any{
			assertions.Match_ArrayWith(&[]any{map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "AuthorizerFunction"), "Arn"}}}),
		})}),
	})
	s.hasProperties(t, "API Gateway may invoke the authorizer", "AWS::Lambda::Permission", map[string]any{
		"Action":       "lambda:InvokeFunction",
		"Principal":    "apigateway.amazonaws.com",
		"FunctionName": map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "AuthorizerFunction"), "Arn"}},
	})
}

func TestTheStageThrottlesAndLogsNeitherHeadersNorBodies(t *testing.T) {
	s := stackUnderTest(t)
	s.hasProperties(t, "stage", "AWS::ApiGatewayV2::Stage", map[string]any{
		"StageName":            "$default",
		"AutoDeploy":           true,
		"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
		"AccessLogSettings": map[string]any{
			"DestinationArn": map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "ApiAccessLogs"), "Arn"}},
			"Format":         assertions.Match_AnyValue(),
		},
	})
	stage := s.tpl.Resources[s.logicalID(t, "Stage")].Properties
	format, _ := get(stage, "AccessLogSettings", "Format").(string)
	var fields map[string]string
	if err := json.Unmarshal([]byte(format), &fields); err != nil {
		t.Fatalf("access log format is not JSON: %v", err)
	}
	for name, v := range fields {
		lower := strings.ToLower(v)
		for _, banned := range []string{"header", "body", "authorization", "querystring", "$context.path", "$input", "$request"} {
			if strings.Contains(lower, banned) {
				t.Errorf("access log field %s = %s records %s", name, v, banned)
			}
		}
	}
	for _, required := range []string{"$context.requestId", "$context.status", "$context.routeKey", "$context.authorizer.error"} {
		if !strings.Contains(format, required) {
			t.Errorf("access log format lacks %s", required)
		}
	}
}

func TestCORSAllowsOnlyTheUIOrigin(t *testing.T) {
	s := stackUnderTest(t)
	cors := get(s.tpl.Resources[s.logicalID(t, "Api")].Properties, "CorsConfiguration")
	if got := strs(get(cors, "AllowOrigins")); !slices.Equal(got, []string{"https://secrets.example.com"}) {
		t.Errorf("CORS origins %v, want only the UI's", got)
	}
	if get(cors, "AllowCredentials") == true {
		t.Error("CORS allows credentials; tokens travel in the Authorization header, not cookies")
	}
	if got := strs(get(cors, "AllowHeaders")); !slices.Contains(got, "Authorization") || slices.Contains(got, "*") {
		t.Errorf("CORS headers %v", got)
	}
}

func TestOnlyTheConfiguredWorkloadsMayInvokeResolveDirectly(t *testing.T) {
	s := stackUnderTest(t)
	// resolve-direct, never resolve: resolve trusts API Gateway's events.
	resolve := s.logicalID(t, "ResolveDirectFunction")
	var direct []string
	for _, id := range s.tpl.ofType("AWS::Lambda::Permission") {
		p := s.tpl.Resources[id].Properties
		principal, _ := p["Principal"].(string)
		if principal == "apigateway.amazonaws.com" {
			if p["SourceArn"] == nil {
				t.Errorf("permission %s lets any API Gateway API invoke %v", id, ref(p["FunctionName"]))
			}
			continue
		}
		if ref(p["FunctionName"]) != resolve || p["Action"] != "lambda:InvokeFunction" {
			t.Errorf("permission %s: %s", id, jsonString(p))
		}
		direct = append(direct, principal)
	}
	sort.Strings(direct)
	want := slices.Clone(s.props.ResolveInvokerRoleARNs)
	sort.Strings(want)
	if !slices.Equal(direct, want) {
		t.Errorf("direct resolve allowed for %v, want %v", direct, want)
	}
}
