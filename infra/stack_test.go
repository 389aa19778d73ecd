package main

import (
	"context"
	"encoding/json"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/jsii-runtime-go"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
)

func TestTheStackHoldsExactlyTheseResources(t *testing.T) {
	s := stackUnderTest(t)
	routes := len(httpapi.Routes())
	want := map[string]int{
		"AWS::DynamoDB::Table":                   1,
		"AWS::KMS::Key":                          2, // the data keys' and the identity key
		"AWS::KMS::Alias":                        1,
		"AWS::Lambda::Function":                  7 + 1, // and the UI upload's (the CDK's BucketDeployment)
		"AWS::IAM::Role":                         8 + 1, // a role per function, the schedule's, the UI upload's
		"AWS::IAM::Policy":                       8 + 1,
		"AWS::Logs::LogGroup":                    8 + 1, // a log group per function, the API's access log, the UI upload's
		"AWS::ApiGatewayV2::Api":                 1,
		"AWS::ApiGatewayV2::Stage":               1,
		"AWS::ApiGatewayV2::Authorizer":          1,
		"AWS::ApiGatewayV2::Integration":         5, // one per function that serves routes
		"AWS::ApiGatewayV2::Route":               routes,
		"AWS::ApiGatewayV2::DomainName":          1,
		"AWS::ApiGatewayV2::ApiMapping":          1,
		"AWS::Lambda::Permission":                routes + 1 + len(s.props.ResolveInvokerRoleARNs), // routes, the authorizer, direct resolvers
		"AWS::Lambda::EventInvokeConfig":         1,
		"AWS::Scheduler::Schedule":               1,
		"AWS::SQS::Queue":                        1,
		"AWS::SQS::QueuePolicy":                  1,
		"AWS::CloudWatch::Alarm":                 2*7 + 2, // errors and throttles per function, API 5xx, rotation failures
		"AWS::SNS::Topic":                        1,
		"AWS::SNS::TopicPolicy":                  1,
		"AWS::SNS::Subscription":                 1,
		"AWS::S3::Bucket":                        2, // the UI's files, and the access logs
		"AWS::S3::BucketPolicy":                  2,
		"AWS::CloudFront::Distribution":          1,
		"AWS::CloudFront::OriginAccessControl":   1,
		"AWS::CloudFront::CachePolicy":           1, // the UI's; the API's paths use the managed CachingDisabled
		"AWS::CloudFront::ResponseHeadersPolicy": 1,
		"Custom::CDKBucketDeployment":            2, // the hashed assets, then index.html
		"AWS::Lambda::LayerVersion":              1, // the AWS CLI the upload runs
		"AWS::IAM::ManagedPolicy":                0,
		"AWS::DynamoDB::GlobalTable":             0,
		"Custom::LogRetention":                   0,
		"Custom::S3AutoDeleteObjects":            0,
		"AWS::CloudFormation::CustomResource":    0,
	}
	got := map[string]int{}
	for _, r := range s.tpl.Resources {
		got[r.Type]++
	}
	for typ, n := range want {
		check(t, typ, func() { s.template.ResourceCountIs(jsii.String(typ), jsii.Number(float64(n))) })
	}
	for typ, n := range got {
		if _, ok := want[typ]; !ok {
			t.Errorf("unexpected resources: %d of %s", n, typ)
		}
	}
}

// tableAPI records the table dynamostore.CreateTable asks for.
type tableAPI struct{ in *dynamodb.CreateTableInput }

func (a *tableAPI) CreateTable(_ context.Context, in *dynamodb.CreateTableInput, _ ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error) {
	a.in = in
	return &dynamodb.CreateTableOutput{}, nil
}

func (a *tableAPI) DescribeTable(context.Context, *dynamodb.DescribeTableInput, ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	return &dynamodb.DescribeTableOutput{Table: &types.TableDescription{TableStatus: types.TableStatusActive}}, nil
}

func TestTheTableHasTheStoresSchema(t *testing.T) {
	s := stackUnderTest(t)
	api := &tableAPI{}
	if err := dynamostore.CreateTable(context.Background(), api, "reference"); err != nil {
		t.Fatal(err)
	}
	// The store's CreateTable, in CloudFormation's words.
	in := api.in
	keys := func(ks []types.KeySchemaElement) []any {
		var out []any
		for _, k := range ks {
			out = append(out, map[string]any{"AttributeName": *k.AttributeName, "KeyType": string(k.KeyType)})
		}
		return out
	}
	var attrs []any
	for _, a := range in.AttributeDefinitions {
		attrs = append(attrs, map[string]any{"AttributeName": *a.AttributeName, "AttributeType": string(a.AttributeType)})
	}
	var gsis []any
	for _, g := range in.GlobalSecondaryIndexes {
		gsis = append(gsis, map[string]any{
			"IndexName":  *g.IndexName,
			"KeySchema":  keys(g.KeySchema),
			"Projection": map[string]any{"ProjectionType": string(g.Projection.ProjectionType)},
		})
	}
	want := map[string]any{
		"KeySchema":              keys(in.KeySchema),
		"AttributeDefinitions":   attrs,
		"GlobalSecondaryIndexes": gsis,
		"BillingMode":            string(in.BillingMode),
	}
	id := s.logicalID(t, "Table")
	props := s.tpl.Resources[id].Properties
	for field, w := range want {
		if got := props[field]; !reflect.DeepEqual(normalize(got), normalize(w)) {
			t.Errorf("table %s:\n got %s\nwant %s (dynamostore.CreateTable)", field, jsonString(got), jsonString(w))
		}
	}
}

// normalize round-trips v through JSON, so that typed and decoded values
// compare equal.
func normalize(v any) any {
	b, _ := json.Marshal(v)
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

func TestTheTableIsOnDemandRecoverableProtectedEncryptedRetainedAndExpiresAudit(t *testing.T) {
	s := stackUnderTest(t)
	check(t, "table settings", func() {
		s.template.HasResource(jsii.String("AWS::DynamoDB::Table"), &map[string]any{
			"DeletionPolicy":      "Retain",
			"UpdateReplacePolicy": "Retain",
			"Properties": map[string]any{
				"BillingMode":                      "PAY_PER_REQUEST",
				"PointInTimeRecoverySpecification": map[string]any{"PointInTimeRecoveryEnabled": true},
				"DeletionProtectionEnabled":        true,
				// Encrypted at rest with the AWS-owned key (SSEEnabled false
				// selects it); values are sealed under the KMS key before
				// they reach the table. A fixed table name would stop two
				// stages sharing an account.
				"SSESpecification": map[string]any{"SSEEnabled": false},
				"TableName":        assertions.Match_Absent(),
				// Audit records and manifests expire on the store's TTL
				// attribute.
				"TimeToLiveSpecification": map[string]any{"AttributeName": dynamostore.AttrTTL, "Enabled": true},
			},
		})
	})
}

func TestTheKeyRotatesHasAnAliasAndOnlySetAndResolveMayUseIt(t *testing.T) {
	s := stackUnderTest(t)
	keyID := s.logicalID(t, "Key")
	check(t, "key settings", func() {
		s.template.HasResource(jsii.String("AWS::KMS::Key"), &map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"EnableKeyRotation":   true,
				"PendingWindowInDays": 30,
				"KeySpec":             assertions.Match_Absent(), // symmetric (SYMMETRIC_DEFAULT)
				"KeyUsage":            assertions.Match_Absent(), // ENCRYPT_DECRYPT
			},
		})
	})
	check(t, "alias", func() {
		s.template.HasResourceProperties(jsii.String("AWS::KMS::Alias"), &map[string]any{
			"AliasName":   "alias/zwrm-secrets-test",
			"TargetKeyId": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
		})
	})

	setRole, resolveRole, directRole := s.logicalID(t, "SetRole"), s.logicalID(t, "ResolveRole"), s.logicalID(t, "ResolveDirectRole")
	stmts := statements(get(s.tpl.Resources[keyID].Properties, "KeyPolicy"))
	if len(stmts) != 4 {
		t.Fatalf("key policy has %d statements, want 4 (administration, set, resolve, resolve-direct): %s", len(stmts), jsonString(stmts))
	}
	// Use of the key, or a grant of use: what administration must not match.
	use := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
		"kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
		"kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret", "kms:CreateGrant"}
	root := regexp.MustCompile(`:iam::[0-9]{12}:root"\]\]\}$`)
	users := map[string][]string{}
	for _, st := range stmts {
		actions := strs(st["Action"])
		if st["Effect"] != "Allow" || !root.MatchString(jsonString(get(st, "Principal", "AWS"))) {
			t.Errorf("key policy statement %v: %s; want Allow statements for the account, narrowed by conditions", st["Sid"], jsonString(st))
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		if cond == nil {
			// Administration: everything but use.
			for _, a := range actions {
				glob := regexp.MustCompile("^" + strings.ReplaceAll(regexp.QuoteMeta(a), `\*`, ".*") + "$")
				for _, u := range use {
					if glob.MatchString(u) {
						t.Errorf("key policy lets the account %s (%s): administrators must not be able to use the key without changing its policy", u, a)
					}
				}
			}
			if !slices.Contains(actions, "kms:Put*") {
				t.Errorf("key policy does not let the account change it: the key could become unmanageable")
			}
			continue
		}
		// Use: one role, this service's encryption context only.
		role := ref(get(cond, "ArnEquals", "aws:PrincipalArn"))
		if len(cond) != 2 || get(cond, "StringEquals", "kms:EncryptionContext:service") != "zwrm-secrets" || len(get(cond, "StringEquals").(map[string]any)) != 1 || role == "" {
			t.Errorf("key policy statement %v: conditions %s; want one role and the service's encryption context", st["Sid"], jsonString(cond))
			continue
		}
		users[role] = actions
	}
	want := map[string][]string{setRole: {"kms:Decrypt", "kms:GenerateDataKey"}, resolveRole: {"kms:Decrypt"}, directRole: {"kms:Decrypt"}}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("the key policy lets these roles use the key: %v, want %v", users, want)
	}
}

func TestOnlyTheAuthorizerMaySignIdentitiesAndOnlyTheFunctionsBehindItCheckThem(t *testing.T) {
	s := stackUnderTest(t)
	keyID := s.logicalID(t, "IdentityKey")
	check(t, "identity key settings", func() {
		s.template.HasResource(jsii.String("AWS::KMS::Key"), &map[string]any{
			"DeletionPolicy": "Retain",
			"Properties": map[string]any{
				"KeySpec":             "HMAC_256",
				"KeyUsage":            "GENERATE_VERIFY_MAC",
				"PendingWindowInDays": 30,
				"EnableKeyRotation":   assertions.Match_Absent(), // KMS does not rotate HMAC keys
			},
		})
	})
	roleOf := map[string]string{}
	for _, name := range functionNames {
		roleOf[s.logicalID(t, httpapi.Title(name)+"Role")] = name
	}
	stmts := statements(get(s.tpl.Resources[keyID].Properties, "KeyPolicy"))
	root := regexp.MustCompile(`:iam::[0-9]{12}:root"\]\]\}$`)
	users := map[string][]string{}
	for _, st := range stmts {
		actions := strs(st["Action"])
		if st["Effect"] != "Allow" || !root.MatchString(jsonString(get(st, "Principal", "AWS"))) {
			t.Errorf("identity key policy statement %v: %s; want Allow statements for the account, narrowed by conditions", st["Sid"], jsonString(st))
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		if cond == nil {
			if !slices.Equal(slices.Sorted(slices.Values(actions)), slices.Sorted(slices.Values(keyAdminActions))) {
				t.Errorf("the account may %v on the identity key, want exactly the administration of the data key: %v", actions, keyAdminActions)
			}
			continue
		}
		role := ref(get(cond, "ArnEquals", "aws:PrincipalArn"))
		if len(cond) != 1 || roleOf[role] == "" {
			t.Errorf("identity key policy statement %v: conditions %s; want one function's role", st["Sid"], jsonString(cond))
			continue
		}
		users[roleOf[role]] = actions
	}
	verify := []string{"kms:VerifyMac"}
	want := map[string][]string{"authorizer": {"kms:GenerateMac"}, "set": verify, "list": verify, "delete": verify, "resolve": verify, "admin": verify}
	if !reflect.DeepEqual(users, want) {
		t.Errorf("the identity key policy lets these functions use the key: %v, want %v", users, want)
	}
	// Every route behind the authorizer goes to a function that may check.
	for _, r := range httpapi.Routes() {
		if r.Auth == httpapi.AuthBearer && !slices.Equal(want[string(r.Function)], verify) {
			t.Errorf("%s %s is served by %s, which may not check the authorizer's signature", r.Method, r.Pattern, r.Function)
		}
	}
}

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

// grant is one IAM statement, reduced to what least privilege is about.
type grant struct {
	Actions   string // sorted, comma-separated
	Resource  string // table, index/NAME, key, logs, dlq, set
	Condition string // the item kinds (T#, A#, …) or the encryption context
}

func TestEachFunctionMayDoExactlyWhatItsRoutesNeed(t *testing.T) {
	s := stackUnderTest(t)
	// Written out, not derived from functionAccess: a change to a
	// function's permissions changes this table too, in review.
	table := func(action string, kinds ...string) grant {
		return grant{action, "table", strings.Join(kinds, " ")}
	}
	logs := grant{"logs:CreateLogStream,logs:PutLogEvents", "logs", ""}
	// The functions behind the authorizer check its signature; only the
	// authorizer signs.
	verifyMac := grant{"kms:VerifyMac", "identity-key", ""}
	want := map[string][]grant{
		"set": {
			logs,
			table("dynamodb:GetItem", "A#", "I#", "K#", "O#", "S#", "V#"),
			table("dynamodb:PutItem", "A#", "I#", "K#", "S#", "V#"),
			table("dynamodb:DeleteItem", "I#", "V#"),
			table("dynamodb:UpdateItem", "I#"),
			table("dynamodb:Query", "V#"),
			{"dynamodb:Query", "index/GSI2", ""},
			{"kms:Decrypt,kms:GenerateDataKey", "key", "service=zwrm-secrets"},
			verifyMac,
			{"sqs:GetQueueAttributes,sqs:GetQueueUrl,sqs:SendMessage", "dlq", ""},
		},
		"list": {
			logs,
			table("dynamodb:GetItem", "I#", "O#", "S#"),
			table("dynamodb:Query", "S#", "V#"),
			{"dynamodb:Query", "index/GSI1", ""},
			verifyMac,
		},
		"delete": {
			logs,
			table("dynamodb:GetItem", "A#", "I#", "O#", "S#"),
			table("dynamodb:DeleteItem", "I#", "S#", "V#"),
			table("dynamodb:UpdateItem", "I#"),
			table("dynamodb:Query", "V#"),
			{"dynamodb:Query", "index/GSI2", ""},
			table("dynamodb:PutItem", "A#"),
			verifyMac,
		},
		"resolve": {
			logs,
			table("dynamodb:GetItem", "A#", "K#", "O#", "T#"),
			table("dynamodb:Query", "S#"),
			table("dynamodb:PutItem", "A#", "M#"),
			{"kms:Decrypt", "key", "service=zwrm-secrets"},
			verifyMac,
		},
		"resolve-direct": {
			logs,
			table("dynamodb:GetItem", "A#", "K#", "O#", "T#"),
			table("dynamodb:Query", "S#"),
			table("dynamodb:PutItem", "A#", "M#"),
			{"kms:Decrypt", "key", "service=zwrm-secrets"},
		},
		"admin": {
			logs,
			table("dynamodb:GetItem", "A#", "O#", "T#"),
			table("dynamodb:PutItem", "A#", "T#"),
			table("dynamodb:UpdateItem", "O#", "T#"),
			table("dynamodb:Query", "A#", "M#"),
			{"dynamodb:Query", "index/GSI2", ""},
			verifyMac,
		},
		"authorizer": {
			logs,
			table("dynamodb:GetItem", "T#"),
			{"kms:GenerateMac", "identity-key", ""},
		},
	}
	got := s.grants(t)
	for _, name := range functionNames {
		w, g := sortedGrants(want[name]), sortedGrants(got[name])
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s may do:\n%s\nwant:\n%s", name, formatGrants(g), formatGrants(w))
		}
	}
	schedule := sortedGrants(got["schedule"])
	if w := sortedGrants([]grant{{"lambda:InvokeFunction", "set", ""}, {"sqs:SendMessage", "dlq", ""}}); !reflect.DeepEqual(schedule, w) {
		t.Errorf("the rotation schedule may do:\n%s\nwant:\n%s", formatGrants(schedule), formatGrants(w))
	}
	// The web UI upload (the CDK's BucketDeployment, which writes these
	// grants): read the uploaded asset, read and write the UI bucket, and
	// nothing else; the table and the key are out of its reach.
	upload := sortedGrants(got["ui-upload"])
	if w := sortedGrants([]grant{
		logs,
		{"s3:GetBucket*,s3:GetObject*,s3:List*", "cdk-assets cdk-assets/*", ""},
		{"s3:Abort*,s3:DeleteObject*,s3:GetBucket*,s3:GetObject*,s3:List*,s3:PutObject,s3:PutObjectLegalHold," +
			"s3:PutObjectRetention,s3:PutObjectTagging,s3:PutObjectVersionTagging", "ui-bucket ui-bucket/*", ""},
	}); !reflect.DeepEqual(upload, w) {
		t.Errorf("the web UI upload may do:\n%s\nwant:\n%s", formatGrants(upload), formatGrants(w))
	}
}

func TestNoRoleHasBroadPermissions(t *testing.T) {
	s := stackUnderTest(t)
	for _, id := range s.tpl.ofType("AWS::IAM::Role") {
		p := s.tpl.Resources[id].Properties
		if p["ManagedPolicyArns"] != nil || p["Policies"] != nil {
			t.Errorf("role %s has managed or inline policies besides its own policy: %s", id, jsonString(p))
		}
	}
	upload := s.logicalID(t, "UiDeploymentRole")
	for _, id := range s.tpl.ofType("AWS::IAM::Policy") {
		// The UI upload's S3 grants are the CDK's, with wildcards in the
		// actions (s3:GetObject*, …); they name its two buckets, exactly, in
		// TestEachFunctionMayDoExactlyWhatItsRoutesNeed.
		cdkManaged := slices.Equal(refs(s.tpl.Resources[id].Properties["Roles"]), []string{upload})
		for _, st := range statements(get(s.tpl.Resources[id].Properties, "PolicyDocument")) {
			if st["Effect"] != "Allow" || st["NotAction"] != nil || st["NotResource"] != nil {
				t.Errorf("policy %s: unusual statement %s", id, jsonString(st))
			}
			for _, a := range strs(st["Action"]) {
				if cdkManaged && strings.HasPrefix(a, "s3:") && a != "s3:*" {
					continue
				}
				if strings.Contains(a, "*") || a == "dynamodb:Scan" || strings.HasPrefix(a, "dynamodb:Batch") || strings.HasPrefix(a, "dynamodb:PartiQL") {
					t.Errorf("policy %s allows %s", id, a)
				}
			}
			for _, r := range strs(st["Resource"]) {
				if strings.Contains(r, "*") {
					t.Errorf("policy %s: a wildcard resource %s", id, r)
				}
			}
		}
	}
}

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
	check(t, "authorizer", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Authorizer"), &map[string]any{
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
	})
	check(t, "API Gateway may invoke the authorizer", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Permission"), &map[string]any{
			"Action":       "lambda:InvokeFunction",
			"Principal":    "apigateway.amazonaws.com",
			"FunctionName": map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "AuthorizerFunction"), "Arn"}},
		})
	})
}

func TestTheStageThrottlesAndLogsNeitherHeadersNorBodies(t *testing.T) {
	s := stackUnderTest(t)
	check(t, "stage", func() {
		s.template.HasResourceProperties(jsii.String("AWS::ApiGatewayV2::Stage"), &map[string]any{
			"StageName":            "$default",
			"AutoDeploy":           true,
			"DefaultRouteSettings": map[string]any{"ThrottlingRateLimit": 50, "ThrottlingBurstLimit": 100},
			"AccessLogSettings": map[string]any{
				"DestinationArn": map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "ApiAccessLogs"), "Arn"}},
				"Format":         assertions.Match_AnyValue(),
			},
		})
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

func TestTheRotationScheduleInvokesSetWithTheRotationEvent(t *testing.T) {
	s := stackUnderTest(t)
	set, dlq := s.logicalID(t, "SetFunction"), s.logicalID(t, "RotationDeadLetters")
	check(t, "schedule", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Scheduler::Schedule"), &map[string]any{
			"ScheduleExpression": "rate(5 minutes)",
			"State":              "ENABLED",
			"FlexibleTimeWindow": map[string]any{"Mode": "OFF"},
			"Target": map[string]any{
				"Arn":              map[string]any{"Fn::GetAtt": []any{set, "Arn"}},
				"RoleArn":          map[string]any{"Fn::GetAtt": []any{s.logicalID(t, "RotationScheduleRole"), "Arn"}},
				"DeadLetterConfig": map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}},
				"RetryPolicy":      map[string]any{"MaximumRetryAttempts": 3, "MaximumEventAgeInSeconds": 600},
				"Input":            assertions.Match_AnyValue(),
			},
		})
	})
	input, _ := get(s.tpl.Resources[s.logicalID(t, "RotationSchedule")].Properties, "Target", "Input").(string)
	var ev lambdaapp.RotationEvent
	dec := json.NewDecoder(strings.NewReader(input))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil || ev.Source != lambdaapp.RotationSource || ev.Schedule != RotationScheduleName {
		t.Errorf("schedule input %s is not the rotation event (%v)", input, err)
	}
	// The scheduler invokes asynchronously: Lambda retries a failed sweep,
	// then sends it to the same dead-letter queue.
	check(t, "set's asynchronous invocations", func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), &map[string]any{
			"FunctionName":             map[string]any{"Ref": set},
			"MaximumRetryAttempts":     2,
			"MaximumEventAgeInSeconds": 900,
			"DestinationConfig":        map[string]any{"OnFailure": map[string]any{"Destination": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}}},
		})
	})
	check(t, "dead-letter queue", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SQS::Queue"), &map[string]any{
			"SqsManagedSseEnabled":   true,
			"MessageRetentionPeriod": 14 * 24 * 3600,
		})
		s.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), &map[string]any{
			"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
				"Effect":    "Deny",
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			})})},
		})
	})
}

func TestAlarmsWatchEveryFunctionTheAPIAndRotation(t *testing.T) {
	s := stackUnderTest(t)
	topic := s.logicalID(t, "Alarms")
	type alarm struct{ metric, namespace, dimension string }
	var got []alarm
	for _, id := range s.tpl.ofType("AWS::CloudWatch::Alarm") {
		p := s.tpl.Resources[id].Properties
		if p["Threshold"] != float64(1) || p["ComparisonOperator"] != "GreaterThanOrEqualToThreshold" || p["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: %s", id, jsonString(p))
		}
		if actions := refs(p["AlarmActions"]); !slices.Equal(actions, []string{topic}) {
			t.Errorf("alarm %s notifies %v, want the alarm topic", id, actions)
		}
		dims, _ := p["Dimensions"].([]any)
		a := alarm{metric: p["MetricName"].(string), namespace: p["Namespace"].(string)}
		if len(dims) == 1 {
			a.dimension = ref(get(dims[0], "Value"))
		}
		got = append(got, a)
	}
	var want []alarm
	for _, name := range functionNames {
		fn := s.logicalID(t, httpapi.Title(name)+"Function")
		want = append(want, alarm{"Errors", "AWS/Lambda", fn}, alarm{"Throttles", "AWS/Lambda", fn})
	}
	want = append(want,
		alarm{"5xx", "AWS/ApiGateway", s.logicalID(t, "Api")},
		alarm{"ApproximateNumberOfMessagesVisible", "AWS/SQS", s.logicalID(t, "RotationDeadLetters")},
	)
	less := func(a, b alarm) int { return strings.Compare(a.metric+a.dimension, b.metric+b.dimension) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("alarms:\n got %v\nwant %v", got, want)
	}
	check(t, "authorizer failures", func() {
		s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), &map[string]any{
			"MetricName": "Errors",
			"Dimensions": []any{map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": s.logicalID(t, "AuthorizerFunction")}}},
		})
	})
	check(t, "e-mail", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Subscription"), &map[string]any{
			"Protocol": "email", "Endpoint": "ops@example.com", "TopicArn": map[string]any{"Ref": topic},
		})
	})
	check(t, "CloudWatch may publish to the topic, for this account's alarms only", func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::TopicPolicy"), &map[string]any{
			"PolicyDocument": assertions.Match_ObjectLike(&map[string]any{
				"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
					"Effect":    "Allow",
					"Action":    "sns:Publish",
					"Principal": map[string]any{"Service": "cloudwatch.amazonaws.com"},
					"Condition": map[string]any{"StringEquals": map[string]any{"aws:SourceAccount": "123456789012"}},
				})}),
			}),
		})
	})
}

func TestTheOutputsNameWhatOperatorsNeed(t *testing.T) {
	s := stackUnderTest(t)
	want := map[string]string{
		"TableName":          s.logicalID(t, "Table"),
		"KeyArn":             s.logicalID(t, "Key"),
		"ResolveFunctionArn": s.logicalID(t, "ResolveDirectFunction"),
		"ApiUrl":             s.logicalID(t, "Api"),
		"CustomDomainTarget": s.logicalID(t, "Domain"),
	}
	for name, id := range want {
		out, ok := s.tpl.Outputs[name]
		if !ok {
			t.Errorf("output %s is missing", name)
			continue
		}
		if !slices.Contains(refs(out.Value), id) {
			t.Errorf("output %s = %s, want it to name %s", name, jsonString(out.Value), id)
		}
	}
	if got := jsonString(s.tpl.Outputs["CustomDomainUrl"].Value); got != `"https://secrets.example.com/"` {
		t.Errorf("custom domain URL %s", got)
	}
	ui := `{"Fn::Join":["",["https://",{"Fn::GetAtt":["` + s.logicalID(t, "UiDistribution") + `","DomainName"]}]]}`
	if got := jsonString(s.tpl.Outputs["UiUrl"].Value); got != ui {
		t.Errorf("UI URL %s, want %s", got, ui)
	}
}

// statements returns the statements of a policy document.
func statements(doc any) []map[string]any {
	list, _ := get(doc, "Statement").([]any)
	out := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// cdkAssets matches the CDK's bootstrap asset bucket in the test's account
// and region, as a bucket ARN or an object ARN.
var cdkAssets = regexp.MustCompile(`^\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":s3:::cdk-[a-z0-9]+-assets-123456789012-eu-west-1(/\*)?"\]\]\}$`)

// grants reads every role's policy, keyed by function name ("schedule" for
// the rotation schedule's role, "ui-upload" for the web UI upload's), with
// resources named by what they are.
func (s *synthesized) grants(tb testing.TB) map[string][]grant {
	tb.Helper()
	owner := map[string]string{
		s.logicalID(tb, "RotationScheduleRole"): "schedule",
		s.logicalID(tb, "UiDeploymentRole"):     "ui-upload",
	}
	for _, name := range functionNames {
		owner[s.logicalID(tb, httpapi.Title(name)+"Role")] = name
	}
	what := map[string]string{
		s.logicalID(tb, "Table"):               "table",
		s.logicalID(tb, "Key"):                 "key",
		s.logicalID(tb, "IdentityKey"):         "identity-key",
		s.logicalID(tb, "RotationDeadLetters"): "dlq",
		s.logicalID(tb, "SetFunction"):         "set",
		s.logicalID(tb, "UiBucket"):            "ui-bucket",
		s.logicalID(tb, "UiDeploymentLogs"):    "logs",
	}
	for _, name := range functionNames {
		what[s.logicalID(tb, httpapi.Title(name)+"Logs")] = "logs"
	}
	out := map[string][]grant{}
	for _, id := range s.tpl.ofType("AWS::IAM::Policy") {
		p := s.tpl.Resources[id].Properties
		roles := refs(p["Roles"])
		if len(roles) != 1 || owner[roles[0]] == "" {
			tb.Errorf("policy %s is attached to %v, want one of the stack's roles", id, roles)
			continue
		}
		for _, st := range statements(p["PolicyDocument"]) {
			g := grant{Actions: strings.Join(strs(st["Action"]), ",")}
			res, _ := st["Resource"].([]any)
			if res == nil {
				res = []any{st["Resource"]}
			}
			var names []string
			for _, r := range res {
				name := what[ref(r)]
				if j, ok := get(r, "Fn::Join").([]any); ok && len(j) == 2 {
					parts, _ := j[1].([]any)
					if len(parts) == 2 && what[ref(parts[0])] == "table" {
						name = strings.TrimPrefix(parts[1].(string), "/")
					} else if len(parts) == 2 && what[ref(parts[0])] != "" {
						name = what[ref(parts[0])] + parts[1].(string) // ui-bucket/*
					}
				}
				if m := cdkAssets.FindStringSubmatch(jsonString(r)); m != nil {
					name = "cdk-assets" + m[1]
				}
				if name == "" {
					name = jsonString(r)
				}
				names = append(names, name)
			}
			sort.Strings(names)
			g.Resource = strings.Join(names, " ")
			if c, ok := st["Condition"].(map[string]any); ok {
				switch {
				case get(c, "ForAllValues:StringLike", "dynamodb:LeadingKeys") != nil && len(c) == 1:
					var kinds []string
					for _, k := range strs(get(c, "ForAllValues:StringLike", "dynamodb:LeadingKeys")) {
						kinds = append(kinds, strings.TrimSuffix(k, "*"))
					}
					g.Condition = strings.Join(kinds, " ")
				case len(c) == 1 && get(c, "StringEquals", "kms:EncryptionContext:service") != nil && len(c["StringEquals"].(map[string]any)) == 1:
					g.Condition = "service=" + get(c, "StringEquals", "kms:EncryptionContext:service").(string)
				default:
					g.Condition = jsonString(c)
				}
			}
			out[owner[roles[0]]] = append(out[owner[roles[0]]], g)
		}
	}
	return out
}

func sortedGrants(gs []grant) []grant {
	out := slices.Clone(gs)
	slices.SortFunc(out, func(a, b grant) int {
		return strings.Compare(a.Actions+a.Resource+a.Condition, b.Actions+b.Resource+b.Condition)
	})
	return out
}

func formatGrants(gs []grant) string {
	var b strings.Builder
	for _, g := range gs {
		b.WriteString("  " + g.Actions + " on " + g.Resource)
		if g.Condition != "" {
			b.WriteString(" if " + g.Condition)
		}
		b.WriteString("\n")
	}
	return b.String()
}
