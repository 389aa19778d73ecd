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
	keyID := s.logicalID(t, "Key")
	s.hasResource(t, "key settings", "AWS::KMS::Key", map[string]any{
		"DeletionPolicy": "Retain",
		"Properties": map[string]any{
			"EnableKeyRotation":   true,
			"PendingWindowInDays": 30,
			"KeySpec":             assertions.Match_Absent(), // symmetric (SYMMETRIC_DEFAULT)
			"KeyUsage":            assertions.Match_Absent(), // ENCRYPT_DECRYPT
		},
	})
	s.hasProperties(t, "alias", "AWS::KMS::Alias", map[string]any{
		"AliasName":   "alias/zwrm-secrets-test",
		"TargetKeyId": map[string]any{"Fn::GetAtt": []any{keyID, "Arn"}},
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
	s.hasResource(t, "identity key settings", "AWS::KMS::Key", map[string]any{
		"DeletionPolicy": "Retain",
		"Properties": map[string]any{
			"KeySpec":             "HMAC_256",
			"KeyUsage":            "GENERATE_VERIFY_MAC",
			"PendingWindowInDays": 30,
			"EnableKeyRotation":   assertions.Match_Absent(), // KMS does not rotate HMAC keys
		},
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
