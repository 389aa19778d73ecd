package dynamostore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
)

// shortAnswersAPI answers every Query with at most max items and the
// LastEvaluatedKey of the last one, as DynamoDB does when a page of items
// reaches 1 MB before the Limit, and records what was asked and read.
type shortAnswersAPI struct {
	dynamostore.API
	max int

	mu     sync.Mutex
	limits []int32
	read   int
}

func (a *shortAnswersAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	out, err := a.API.Query(ctx, in, opts...)
	if err != nil {
		return out, err
	}
	if len(out.Items) > a.max {
		out.Items = out.Items[:a.max]
		last := out.Items[a.max-1]
		out.LastEvaluatedKey = map[string]types.AttributeValue{dynamostore.AttrPK: last[dynamostore.AttrPK], dynamostore.AttrSK: last[dynamostore.AttrSK]}
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if in.Limit != nil {
		a.limits = append(a.limits, *in.Limit)
	} else {
		a.limits = append(a.limits, 0)
	}
	a.read += len(out.Items)
	return out, nil
}

func TestAPageReadsOnlyItsItems(t *testing.T) {
	client, table := newTable(t)
	ctx := t.Context()
	org, layer := "acme", secrets.Layer{App: "billing"}
	seed := dynamostore.New(client, table)
	for i := range 40 {
		s := &secrets.Secret{ID: fmt.Sprintf("id-%d", i), Org: org, Layer: layer, Name: fmt.Sprintf("S%02d", i), Version: 1, Change: "create"}
		if err := seed.CreateSecret(ctx, s); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
	}

	t.Run("a page asks for its limit and reads no more", func(t *testing.T) {
		api := &shortAnswersAPI{API: client, max: 1000}
		got, err := dynamostore.New(api, table).ListSecretsAfter(ctx, org, []secrets.Layer{layer}, "S09", 5)
		if err != nil {
			t.Fatalf("ListSecretsAfter: %v", err)
		}
		if g, w := names(got[0]), []string{"S10", "S11", "S12", "S13", "S14"}; !slices.Equal(g, w) {
			t.Errorf("page = %v, want %v", g, w)
		}
		if g, w := api.limits, []int32{5}; !slices.Equal(g, w) {
			t.Errorf("Query limits = %v, want %v", g, w)
		}
		if g, w := api.read, 5; g != w {
			t.Errorf("items read = %d, want %d", g, w)
		}
	})

	t.Run("a short answer is followed until the page is full, and no further", func(t *testing.T) {
		api := &shortAnswersAPI{API: client, max: 2}
		got, err := dynamostore.New(api, table).ListSecretsAfter(ctx, org, []secrets.Layer{layer}, "", 5)
		if err != nil {
			t.Fatalf("ListSecretsAfter: %v", err)
		}
		if g, w := names(got[0]), []string{"S00", "S01", "S02", "S03", "S04"}; !slices.Equal(g, w) {
			t.Errorf("page = %v, want %v", g, w)
		}
		if g, w := api.limits, []int32{5, 3, 1}; !slices.Equal(g, w) {
			t.Errorf("Query limits = %v, want %v: each asks only for what the page still lacks", g, w)
		}
		if g, w := api.read, 5; g != w {
			t.Errorf("items read = %d, want %d", g, w)
		}
	})

	t.Run("the last page stops at the end of the layer", func(t *testing.T) {
		api := &shortAnswersAPI{API: client, max: 2}
		got, err := dynamostore.New(api, table).ListSecretsAfter(ctx, org, []secrets.Layer{layer}, "S36", 10)
		if err != nil {
			t.Fatalf("ListSecretsAfter: %v", err)
		}
		if g, w := names(got[0]), []string{"S37", "S38", "S39"}; !slices.Equal(g, w) {
			t.Errorf("page = %v, want %v", g, w)
		}
	})
}

func names(list []*secrets.Secret) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Name
	}
	return out
}
