package main

import (
	"reflect"
	"testing"

	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func TestEveryFunctionIsGoOnGraviton(t *testing.T) {
	s := stackUnderTest(t)
	roles, logs, code := map[string]string{}, map[string]string{}, map[string]string{}
	for _, name := range functionNames {
		id := s.logicalID(t, httpapi.Title(name)+"Function")
		p := s.tpl.Resources[id].Properties
		check(t, name+" function", func() {
			s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), &map[string]any{
				"Runtime":                      "provided.al2023",
				"Architectures":                []any{"arm64"},
				"Handler":                      "bootstrap",
				"Role":                         map[string]any{"Fn::GetAtt": []any{s.logicalID(t, httpapi.Title(name)+"Role"), "Arn"}},
				"LoggingConfig":                map[string]any{"LogGroup": map[string]any{"Ref": s.logicalID(t, httpapi.Title(name)+"Logs")}},
				"ReservedConcurrentExecutions": 5,
				"Description":                  "zwrm secrets: " + name + " (test)",
			})
		})
		roles[ref(p["Role"])] = name
		logs[ref(get(p, "LoggingConfig", "LogGroup"))] = name
		code[jsonString(get(p, "Code", "S3Key"))] = name
		timeout, _ := p["Timeout"].(float64)
		if timeout < 5 || timeout > 60 {
			t.Errorf("%s: timeout %vs", name, timeout)
		}
	}
	if len(roles) != len(functionNames) || len(logs) != len(functionNames) || len(code) != len(functionNames) {
		t.Errorf("functions share roles, log groups or code: %v %v %v", roles, logs, code)
	}
	for _, id := range s.tpl.ofType("AWS::Logs::LogGroup") {
		r := s.tpl.Resources[id]
		if got := r.Properties["RetentionInDays"]; got != float64(90) {
			t.Errorf("log group %s: retention %v days, want 90", id, got)
		}
	}
}

func TestEveryFunctionGetsTheEnvironmentTheAppReads(t *testing.T) {
	s := stackUnderTest(t)
	tableID, keyID, identityKeyID := s.logicalID(t, "Table"), s.logicalID(t, "Key"), s.logicalID(t, "IdentityKey")
	authorizerTTL := get(s.tpl.Resources[s.logicalID(t, "Api", "Authorizer")].Properties, "AuthorizerResultTtlInSeconds")
	for _, name := range functionNames {
		vars, _ := get(s.tpl.Resources[s.logicalID(t, httpapi.Title(name)+"Function")].Properties, "Environment", "Variables").(map[string]any)
		want := map[string]any{
			"TABLE_NAME":     map[string]any{"Ref": tableID},
			"KMS_KEY_ID":     map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
			"KEY_CACHE_TTL":  "2m0s",
			"KEY_CACHE_SIZE": "500",
			"KEEP_VERSIONS":  "10",
		}
		if name != "resolve-direct" {
			// The authorizer and the functions behind it; API Gateway
			// never invokes resolve-direct.
			want["IDENTITY_KEY_ID"] = map[string]any{"Fn::GetAtt": []any{identityKeyID, "Arn"}}
			want["AUTHORIZER_CACHE_TTL"] = "1m0s"
		}
		if !reflect.DeepEqual(vars, want) {
			t.Errorf("%s environment:\n got %s\nwant %s", name, jsonString(vars), jsonString(want))
			continue
		}
		// What lambdaapp reads at init, it must find and accept.
		for k, v := range vars {
			if s, ok := v.(string); ok {
				t.Setenv(k, s)
			} else {
				t.Setenv(k, "resolved-by-cloudformation")
			}
		}
		if name == "resolve-direct" {
			t.Setenv("IDENTITY_KEY_ID", "")
			t.Setenv("AUTHORIZER_CACHE_TTL", "")
		}
		cfg, err := lambdaapp.ConfigFromEnv(httpapi.Function(name))
		if err != nil {
			t.Fatalf("%s: lambdaapp.ConfigFromEnv refuses the stack's environment: %v", name, err)
		}
		if cfg.KeyCacheTTL != s.props.KeyCacheTTL || cfg.KeyCacheSize != s.props.KeyCacheSize || cfg.MaxVersions != s.props.KeepVersions {
			t.Errorf("%s: the app reads %+v from the stack's environment", name, cfg)
		}
		// A signed identity lives, and a checked one is remembered, as
		// long as API Gateway caches the authorizer's answer.
		if name != "resolve-direct" && (cfg.AuthorizerCacheTTL != s.props.AuthorizerCacheTTL || authorizerTTL != cfg.AuthorizerCacheTTL.Seconds()) {
			t.Errorf("%s: the app's authorizer cache TTL is %s; the stack's %s, the authorizer's %v s", name, cfg.AuthorizerCacheTTL, s.props.AuthorizerCacheTTL, authorizerTTL)
		}
	}
}
