package dynamostore_test

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/storegolden"
)

var update = flag.Bool("update", false, "rewrite the golden files from what the store writes")

// goldenFile holds every item the store writes for storegolden.Records,
// attribute by attribute, in DynamoDB's JSON: an org with and without
// settings, secret heads at each layer (with and without values and a
// rotation policy: index keys included), id pointers with and without
// the mark of a create under way, history (a value masked before mask
// rules were numbered included), tokens of each kind (one revoked), a
// data key, audit records with and without a TTL and manifest, and an
// audit manifest's part. It is the table's format: a change to it is a
// change to every table in use.
const goldenFile = "testdata/items.golden.json"

// pendingName is a secret whose create stops after its id pointer, which
// stays marked as a create under way.
const pendingName = "PENDING"

// headFailsAPI fails the PutItem of pendingName's head.
type headFailsAPI struct{ dynamostore.API }

func (a headFailsAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if sk, ok := in.Item[dynamostore.AttrSK].(*types.AttributeValueMemberS); ok && sk.Value == "N#"+pendingName {
		return nil, errors.New("the head's write is lost (injected)")
	}
	return a.API.PutItem(ctx, in, opts...)
}

// TestStoredItemsAreGolden writes one record of each kind and compares
// every stored item, attribute by attribute, with the golden file.
func TestStoredItemsAreGolden(t *testing.T) {
	client, table := newTable(t)
	st := dynamostore.New(headFailsAPI{client}, table)
	storegolden.Write(t.Context(), t, st, storegolden.Records())
	pending := &secrets.Secret{ID: "s-pending", Org: "acme", Name: pendingName, Version: 1, Change: "create", CreatedAt: storegolden.T0, UpdatedAt: storegolden.T0}
	if err := st.CreateSecret(t.Context(), pending); err == nil {
		t.Fatal("CreateSecret of the pending secret succeeded; want its head's write to fail")
	}
	got := formatItems(t, scanAll(t, client, table))
	storegolden.Compare(t, goldenFile, got, *update)
}

// TestGoldenItemsReadBack puts the golden items into an empty table and
// reads every record back through the store: a table written in this
// format reads as it was written.
func TestGoldenItemsReadBack(t *testing.T) {
	data, err := os.ReadFile(goldenFile)
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]attrJSON
	if err := json.Unmarshal(data, &items); err != nil {
		t.Fatalf("%s: %v", goldenFile, err)
	}
	client, table := newTable(t)
	for _, item := range items {
		av := map[string]types.AttributeValue{}
		for name, v := range item {
			av[name] = v.value()
		}
		if _, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: av}); err != nil {
			t.Fatal(err)
		}
	}
	st := dynamostore.New(client, table)
	storegolden.Check(t.Context(), t, st, storegolden.Records())
	if _, err := st.GetSecret(t.Context(), "acme", "s-pending"); !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("GetSecret of a pending create without its head = %v, want not found", err)
	}
}

// scanAll reads every item of the table behind the store's back (a test
// may Scan).
func scanAll(t *testing.T, client *dynamodb.Client, table string) []map[string]types.AttributeValue {
	t.Helper()
	var items []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(table)}
	for {
		out, err := client.Scan(t.Context(), in)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		items = append(items, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return items
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// pendingSince is the time a mark was set, the one part of an item that
// depends on the clock: the golden file has a placeholder.
var pendingSince = regexp.MustCompile(`^[0-9]{20}#`)

// formatItems writes items in key order, one attribute a line, in
// DynamoDB's JSON.
func formatItems(t *testing.T, items []map[string]types.AttributeValue) []byte {
	t.Helper()
	out := make([]map[string]attrJSON, len(items))
	for i, item := range items {
		out[i] = map[string]attrJSON{}
		for name, v := range item {
			out[i][name] = toJSON(v)
		}
		if _, marked := item["Pending"]; marked {
			sk := out[i][dynamostore.AttrGSI2SK]
			masked := pendingSince.ReplaceAllString(*sk.S, "PENDING-SINCE#")
			out[i][dynamostore.AttrGSI2SK] = attrJSON{S: &masked}
		}
	}
	slices.SortFunc(out, func(a, b map[string]attrJSON) int {
		return cmp.Or(strings.Compare(*a[dynamostore.AttrPK].S, *b[dynamostore.AttrPK].S), strings.Compare(*a[dynamostore.AttrSK].S, *b[dynamostore.AttrSK].S))
	})
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(data, '\n')
}

// attrJSON is an attribute value in DynamoDB's JSON.
type attrJSON struct {
	S    *string              `json:"S,omitempty"`
	N    *string              `json:"N,omitempty"`
	B    []byte               `json:"B,omitempty"`
	BOOL *bool                `json:"BOOL,omitempty"`
	NULL *bool                `json:"NULL,omitempty"`
	M    *map[string]attrJSON `json:"M,omitempty"` // a pointer: an empty map is kept
	L    *[]attrJSON          `json:"L,omitempty"`
	SS   []string             `json:"SS,omitempty"`
}

func toJSON(v types.AttributeValue) attrJSON {
	switch v := v.(type) {
	case *types.AttributeValueMemberS:
		return attrJSON{S: &v.Value}
	case *types.AttributeValueMemberN:
		return attrJSON{N: &v.Value}
	case *types.AttributeValueMemberB:
		return attrJSON{B: v.Value}
	case *types.AttributeValueMemberBOOL:
		return attrJSON{BOOL: &v.Value}
	case *types.AttributeValueMemberNULL:
		return attrJSON{NULL: &v.Value}
	case *types.AttributeValueMemberM:
		m := map[string]attrJSON{}
		for name, e := range v.Value {
			m[name] = toJSON(e)
		}
		return attrJSON{M: &m}
	case *types.AttributeValueMemberL:
		l := []attrJSON{}
		for _, e := range v.Value {
			l = append(l, toJSON(e))
		}
		return attrJSON{L: &l}
	case *types.AttributeValueMemberSS:
		return attrJSON{SS: v.Value}
	}
	panic(fmt.Sprintf("an attribute of type %T, which the store does not write", v))
}

func (a attrJSON) value() types.AttributeValue {
	switch {
	case a.S != nil:
		return &types.AttributeValueMemberS{Value: *a.S}
	case a.N != nil:
		return &types.AttributeValueMemberN{Value: *a.N}
	case a.BOOL != nil:
		return &types.AttributeValueMemberBOOL{Value: *a.BOOL}
	case a.NULL != nil:
		return &types.AttributeValueMemberNULL{Value: *a.NULL}
	case a.M != nil:
		m := map[string]types.AttributeValue{}
		for name, e := range *a.M {
			m[name] = e.value()
		}
		return &types.AttributeValueMemberM{Value: m}
	case a.L != nil:
		l := []types.AttributeValue{}
		for _, e := range *a.L {
			l = append(l, e.value())
		}
		return &types.AttributeValueMemberL{Value: l}
	case a.SS != nil:
		return &types.AttributeValueMemberSS{Value: a.SS}
	}
	return &types.AttributeValueMemberB{Value: a.B}
}

// TestRecordsAreTheStoresOwn: an item's attributes beside its keys are
// the stores' record types alone (package records, built of no domain
// type), encoded in records.go only, whose encoder takes nothing else: a
// domain type never reaches it, so a change of the domain changes no
// stored attribute by itself.
func TestRecordsAreTheStoresOwn(t *testing.T) {
	storegolden.CheckEncodingIn(t, ".", "records.go", "github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue")
}
