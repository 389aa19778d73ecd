package main

import (
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/httpapi"
)

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
	// A resolve, behind the authorizer or invoked directly.
	resolve := func() []grant {
		return []grant{
			logs,
			table("dynamodb:GetItem", "A#", "K#", "O#", "T#"),
			table("dynamodb:Query", "S#"),
			table("dynamodb:PutItem", "A#", "M#"),
			{"kms:Decrypt", "key", "service=zwrm-secrets"},
		}
	}
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
		"resolve":        append(resolve(), verifyMac),
		"resolve-direct": resolve(),
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
