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

	for _, c := range []struct {
		name       string
		max        int // items a Query answers at most
		after      string
		limit      int
		want       []string
		wantLimits []int32 // the Limit of each Query; nil: not checked
		whyLimits  string
		wantRead   int // items read; 0: not checked
	}{
		{name: "a page asks for its limit and reads no more", max: 1000, after: "S09", limit: 5,
			want: []string{"S10", "S11", "S12", "S13", "S14"}, wantLimits: []int32{5}, wantRead: 5},
		{name: "a short answer is followed until the page is full, and no further", max: 2, limit: 5,
			want: []string{"S00", "S01", "S02", "S03", "S04"}, wantLimits: []int32{5, 3, 1}, whyLimits: ": each asks only for what the page still lacks", wantRead: 5},
		{name: "the last page stops at the end of the layer", max: 2, after: "S36", limit: 10,
			want: []string{"S37", "S38", "S39"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			api := &shortAnswersAPI{API: client, max: c.max}
			got, err := dynamostore.New(api, table).ListSecretsAfter(ctx, org, []secrets.Layer{layer}, c.after, c.limit)
			if err != nil {
				t.Fatalf("ListSecretsAfter: %v", err)
			}
			if g, w := names(got[0]), c.want; !slices.Equal(g, w) {
				t.Errorf("page = %v, want %v", g, w)
			}
			if g, w := api.limits, c.wantLimits; w != nil && !slices.Equal(g, w) {
				t.Errorf("Query limits = %v, want %v%s", g, w, c.whyLimits)
			}
			if g, w := api.read, c.wantRead; w != 0 && g != w {
				t.Errorf("items read = %d, want %d", g, w)
			}
		})
	}
}

func names(list []*secrets.Secret) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Name
	}
	return out
}
