// Package dynamostore is the secrets.Store on Amazon DynamoDB: one table,
// generic key names (PK/SK and two global secondary indexes), one item
// type per record kind.
//
// The store keeps to what DynamoDB does well and cheaply:
//
//   - Every write is one single-item write, conditional wherever a
//     condition guards something: creates use attribute_not_exists (that
//     is the uniqueness guarantee), replacements of a head record require
//     the stored version. There are no transactions and no batch writes;
//     effects that span items (a history record beside its head, the id
//     pointer beside the head) are ordered so that a crash between two
//     writes leaves nothing a reader can see, and repeating the operation
//     (or the sweep, for what a create or delete left: see leftovers.go)
//     repairs what it left.
//   - Every read is one GetItem or one Query (its pages followed), except
//     a read by secret id, which follows the id pointer to the head: two
//     GetItems. There is no Scan.
//   - Reads of the table are strongly consistent. The indexes are
//     eventually consistent and answer only the reads that may lag a
//     little: ListLayers, ListTokens, ListDueRotations, FinishDeleteByName
//     and SweepLeftovers.
//
// Each item holds the stores' record of its kind (package records, the
// embedded store's too), encoded with attributevalue under snake_case
// names (records.go), so an item reads like the embedded store's JSON,
// plus the key attributes below.
package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// The table's key schema. Infrastructure code (the CDK stack) creates the
// same table from these names; CreateTable is the reference.
const (
	// AttrPK and AttrSK are the table's partition and sort key (strings).
	AttrPK = "PK"
	AttrSK = "SK"

	// IndexGSI1 lists the layers of an org: keys only, on the heads of
	// app and machine secrets.
	IndexGSI1  = "GSI1"
	AttrGSI1PK = "GSI1PK"
	AttrGSI1SK = "GSI1SK"

	// IndexGSI2 lists an org's tokens by creation time and the heads due
	// for rotation by due time: all attributes, on tokens and on heads
	// with a rotation policy.
	IndexGSI2  = "GSI2"
	AttrGSI2PK = "GSI2PK"
	AttrGSI2SK = "GSI2SK"

	// AttrType names an item's kind (org, secret, secret_id, version,
	// token, data_key, audit), for people reading the table.
	AttrType = "ItemType"
)

// API is the part of the DynamoDB client the store uses: *dynamodb.Client
// implements it, and a test can stand in for it.
type API interface {
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
}

// TableAPI is the part of the DynamoDB client CreateTable uses.
type TableAPI interface {
	CreateTable(ctx context.Context, in *dynamodb.CreateTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.CreateTableOutput, error)
	DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error)
}

// Store is a secrets.Store in one DynamoDB table.
type Store struct {
	api   API
	table string
}

var _ secrets.Store = (*Store)(nil)

// New returns a store on table, which must have the schema CreateTable
// makes.
func New(api API, table string) *Store {
	return &Store{api: api, table: table}
}

// CreateTable creates table name with the store's schema, billed on demand,
// and waits until it is active (bounded by ctx, and by five minutes). The
// stack also enables TTL on AttrTTL, a separate call that CreateTable
// leaves out (dynalite does not implement it): nothing the store reads
// depends on expired items being gone.
func CreateTable(ctx context.Context, api TableAPI, name string) error {
	str := func(attr string) types.AttributeDefinition {
		return types.AttributeDefinition{AttributeName: aws.String(attr), AttributeType: types.ScalarAttributeTypeS}
	}
	keys := func(pk, sk string) []types.KeySchemaElement {
		return []types.KeySchemaElement{
			{AttributeName: aws.String(pk), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(sk), KeyType: types.KeyTypeRange},
		}
	}
	_, err := api.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   aws.String(name),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			str(AttrPK), str(AttrSK), str(AttrGSI1PK), str(AttrGSI1SK), str(AttrGSI2PK), str(AttrGSI2SK),
		},
		KeySchema: keys(AttrPK, AttrSK),
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{
			{
				IndexName:  aws.String(IndexGSI1),
				KeySchema:  keys(AttrGSI1PK, AttrGSI1SK),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
			},
			{
				IndexName:  aws.String(IndexGSI2),
				KeySchema:  keys(AttrGSI2PK, AttrGSI2SK),
				Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
			},
		},
	})
	if err != nil {
		return fmt.Errorf("create table %s: %w", name, storeErr(err))
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	for delay := 50 * time.Millisecond; ; delay = min(2*delay, 5*time.Second) {
		out, err := api.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
		var missing *types.ResourceNotFoundException
		switch {
		case errors.As(err, &missing):
			// Not visible yet: keep waiting.
		case err != nil:
			return fmt.Errorf("describe table %s: %w", name, storeErr(err))
		case active(out.Table):
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for table %s to become active: %w", name, ctx.Err())
		case <-time.After(delay):
		}
	}
}

// active reports whether the table and every index are ready.
func active(t *types.TableDescription) bool {
	if t == nil || t.TableStatus != types.TableStatusActive {
		return false
	}
	for _, gsi := range t.GlobalSecondaryIndexes {
		if gsi.IndexStatus != "" && gsi.IndexStatus != types.IndexStatusActive {
			return false
		}
	}
	return true
}
