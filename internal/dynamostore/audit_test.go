package dynamostore_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storetest"
)

// itemSize is an item's size as DynamoDB counts it for its 400 KB limit
// and its write units: each attribute's name and value; a number takes a
// byte per two significant digits and one more; a map or list 3 bytes and
// one per element besides its elements (and a map's names).
func itemSize(item map[string]types.AttributeValue) int {
	n := 0
	for name, v := range item {
		n += len(name) + valueSize(v)
	}
	return n
}

func valueSize(v types.AttributeValue) int {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return len(v.Value)
	case *types.AttributeValueMemberN:
		digits := strings.Trim(strings.NewReplacer("-", "", ".", "").Replace(v.Value), "0")
		return (len(digits)+1)/2 + 1
	case *types.AttributeValueMemberB:
		return len(v.Value)
	case *types.AttributeValueMemberBOOL, *types.AttributeValueMemberNULL:
		return 1
	case *types.AttributeValueMemberM:
		n := 3
		for name, e := range v.Value {
			n += len(name) + valueSize(e) + 1
		}
		return n
	case *types.AttributeValueMemberL:
		n := 3
		for _, e := range v.Value {
			n += valueSize(e) + 1
		}
		return n
	}
	panic("itemSize: an attribute type the store does not write")
}

func getAuditItem(t *testing.T, client *dynamodb.Client, table, org, id string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(table), ConsistentRead: aws.Bool(true), Key: map[string]types.AttributeValue{
		dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "A#" + org},
		dynamostore.AttrSK: &types.AttributeValueMemberS{Value: id},
	}})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("GetItem of audit record %s: %v (%d attributes)", id, err, len(out.Item))
	}
	return out.Item
}

func TestAuditItemsAndManifestsCarryTheTTLAttribute(t *testing.T) {
	client, table := newTable(t)
	st := dynamostore.New(client, table)
	ctx := context.Background()
	at := time.Date(2026, 11, 30, 6, 30, 0, 0, time.UTC)
	expires := at.Add(400 * 24 * time.Hour)
	m := secrets.NewAuditManifest("acme", expires, []secrets.AuditEntry{{Name: "API_KEY", Layer: "g", Version: 3}})
	if err := st.PutAuditManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	r := &secrets.AuditRecord{ID: secrets.NewAuditID(at), Org: "acme", Time: at, ExpiresAt: expires, Action: secrets.ActionResolve,
		Actor: secrets.AuditActor{Kind: secrets.TokenService, Name: "web"}, Manifest: m.Hash, SecretCount: 1}
	if err := st.AppendAudit(ctx, r); err != nil {
		t.Fatal(err)
	}

	item := getAuditItem(t, client, table, "acme", r.ID)
	ttl, ok := item[dynamostore.AttrTTL].(*types.AttributeValueMemberN)
	if !ok {
		t.Fatalf("the audit item has no number %s: %v", dynamostore.AttrTTL, item[dynamostore.AttrTTL])
	}
	if got, want := ttl.Value, strconv.FormatInt(expires.Unix(), 10); got != want {
		t.Errorf("the audit item's %s = %s, want %s (%s)", dynamostore.AttrTTL, got, want, expires)
	}
	if _, ok := item["expires_at"]; ok {
		t.Error("the audit item holds its expiry twice")
	}

	out, err := client.Query(ctx, &dynamodb.QueryInput{TableName: aws.String(table), KeyConditionExpression: aws.String("PK = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: "M#acme"}}})
	if err != nil || len(out.Items) != 1 {
		t.Fatalf("the manifest's items: %d, %v; want 1", len(out.Items), err)
	}
	// The records expire on 2028-01-04: the manifest a day after that day.
	wantManifest := time.Date(2028, 1, 6, 0, 0, 0, 0, time.UTC)
	if got, want := out.Items[0][dynamostore.AttrTTL], (&types.AttributeValueMemberN{Value: strconv.FormatInt(wantManifest.Unix(), 10)}); got == nil || got.(*types.AttributeValueMemberN).Value != want.Value {
		t.Errorf("the manifest's %s = %v, want %s (%s)", dynamostore.AttrTTL, got, want.Value, wantManifest)
	}

	list, _, err := st.ListAudit(ctx, "acme", "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAudit = %d, %v", len(list), err)
	}
	if !list[0].ExpiresAt.Equal(expires) {
		t.Errorf("the record read back expires at %s, want %s", list[0].ExpiresAt, expires)
	}
}

func TestAResolveWritesOneAuditItemOfOneWriteUnit(t *testing.T) {
	srv := dynalite.Start(t)
	client := srv.Client(t)
	var table string
	storetest.RunResolveAudit(t, func(t *testing.T) secrets.Store {
		table = srv.NewTable(t)
		return dynamostore.New(client, table)
	}, func(t *testing.T, org, id string) int {
		return itemSize(getAuditItem(t, client, table, org, id))
	}, 50, 1000)
}
