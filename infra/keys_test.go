package main

import (
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"

	"github.com/zwrm/secrets/internal/httpapi"
)

func TestTheKeyRotatesHasAnAliasAndOnlySetAndResolveMayUseIt(t *testing.T) {
	s := stackUnderTest(t)
	keyID, stmts := s.key(t, "key", "Key", map[string]any{
		"EnableKeyRotation": true,
		"KeySpec":           assertions.Match_Absent(), // symmetric (SYMMETRIC_DEFAULT)
		"KeyUsage":          assertions.Match_Absent(), // ENCRYPT_DECRYPT
	})
	s.hasProperties(t, "alias", "AWS::KMS::Alias", map[string]any{
		"AliasName":   "alias/zwrm-secrets-test",
		"TargetKeyId": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
	})

	setRole, resolveRole, directRole := s.logicalID(t, "SetRole"), s.logicalID(t, "ResolveRole"), s.logicalID(t, "ResolveDirectRole")
	if len(stmts) != 4 {
		t.Fatalf("key policy has %d statements, want 4 (administration, set, resolve, resolve-direct): %s", len(stmts), jsonString(stmts))
	}
	// Use of the key, or a grant of use: what administration must not match.
	use := []string{"kms:Encrypt", "kms:Decrypt", "kms:ReEncryptFrom", "kms:ReEncryptTo", "kms:GenerateDataKey",
		"kms:GenerateDataKeyWithoutPlaintext", "kms:GenerateDataKeyPair", "kms:GenerateDataKeyPairWithoutPlaintext",
		"kms:Sign", "kms:Verify", "kms:GenerateMac", "kms:VerifyMac", "kms:DeriveSharedSecret", "kms:CreateGrant"}
	users := map[string][]string{}
	for _, st := range accountStatements(t, "key policy", stmts) {
		actions, cond := st.actions, st.cond
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
			t.Errorf("key policy statement %v: conditions %s; want one role and the service's encryption context", st.sid, jsonString(cond))
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
	_, stmts := s.key(t, "identity key", "IdentityKey", map[string]any{
		"KeySpec":           "HMAC_256",
		"KeyUsage":          "GENERATE_VERIFY_MAC",
		"EnableKeyRotation": assertions.Match_Absent(), // KMS does not rotate HMAC keys
	})
	roleOf := map[string]string{}
	for _, name := range functionNames {
		roleOf[s.logicalID(t, httpapi.Title(name)+"Role")] = name
	}
	users := map[string][]string{}
	for _, st := range accountStatements(t, "identity key policy", stmts) {
		actions, cond := st.actions, st.cond
		if cond == nil {
			if !slices.Equal(slices.Sorted(slices.Values(actions)), slices.Sorted(slices.Values(keyAdminActions))) {
				t.Errorf("the account may %v on the identity key, want exactly the administration of the data key: %v", actions, keyAdminActions)
			}
			continue
		}
		role := ref(get(cond, "ArnEquals", "aws:PrincipalArn"))
		if len(cond) != 1 || roleOf[role] == "" {
			t.Errorf("identity key policy statement %v: conditions %s; want one function's role", st.sid, jsonString(cond))
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

// key requires the KMS key at path (what names it in messages) to be
// retained, with a 30-day deletion window and the properties props, and
// returns its logical id and its key policy's statements.
func (s *synthesized) key(t *testing.T, what, path string, props map[string]any) (string, []map[string]any) {
	t.Helper()
	id := s.logicalID(t, path)
	props["PendingWindowInDays"] = 30
	s.hasResource(t, what+" settings", "AWS::KMS::Key", map[string]any{"DeletionPolicy": "Retain", "Properties": props})
	return id, statements(get(s.tpl.Resources[id].Properties, "KeyPolicy"))
}

// accountRoot matches the account's root principal, as the stack names it.
var accountRoot = regexp.MustCompile(`:iam::[0-9]{12}:root"\]\]\}$`)

// keyStatement is one statement of a key policy: what it allows, and the
// conditions that narrow it (nil for none).
type keyStatement struct {
	sid     any
	actions []string
	cond    map[string]any
}

// accountStatements returns the statements of a key policy (what names it
// in messages) that allow the account, and reports every other one: a key
// policy grants only the account, and IAM and conditions narrow it.
func accountStatements(t *testing.T, what string, stmts []map[string]any) []keyStatement {
	t.Helper()
	var out []keyStatement
	for _, st := range stmts {
		if st["Effect"] != "Allow" || !accountRoot.MatchString(jsonString(get(st, "Principal", "AWS"))) {
			t.Errorf("%s statement %v: %s; want Allow statements for the account, narrowed by conditions", what, st["Sid"], jsonString(st))
			continue
		}
		cond, _ := st["Condition"].(map[string]any)
		out = append(out, keyStatement{sid: st["Sid"], actions: strs(st["Action"]), cond: cond})
	}
	return out
}
