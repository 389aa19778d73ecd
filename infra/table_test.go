package main

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynamostore"
)

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
	s.hasResource(t, "table settings", "AWS::DynamoDB::Table", map[string]any{
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
}
