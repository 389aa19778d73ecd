package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// ListSecretsAfter implements secrets.SecretStore: one Query per layer,
// all at once, each starting after the name and asking for no more than
// the page needs. As with ListSecretsIn, the layers are read at slightly
// different moments.
func (s *Store) ListSecretsAfter(ctx context.Context, org string, layers []secrets.Layer, after string, limit int) ([][]*secrets.Secret, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list secrets: %w", secrets.Invalid("limit", "must be 1 or more"))
	}
	out := make([][]*secrets.Secret, len(layers))
	errs := make([]error, len(layers))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, layer := range layers {
		wg.Go(func() {
			out[i], errs[i] = s.layerAfter(ctx, org, layer, after, limit)
			if errs[i] != nil {
				cancel() // the others' answers are of no use now
			}
		})
	}
	wg.Wait()
	// Report the failure that cancelled the rest, not a cancellation.
	var first error
	for i, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = fmt.Errorf("list secrets at %s after %q: %w", layers[i], after, err)
		}
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

// layerAfter reads up to limit of one layer's heads whose names sort after
// `after`, ordered by name (the sort key), with strongly consistent
// Queries. A Query stops at its Limit or at 1 MB of items, so it asks
// again from LastEvaluatedKey only while the page is short.
func (s *Store) layerAfter(ctx context.Context, org string, layer secrets.Layer, after string, limit int) ([]*secrets.Secret, error) {
	probe, err := headKey(org, layer, "x")
	if err != nil {
		return nil, nil // no head can be stored there
	}
	namePrefix := "N" + sep
	q := dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk > :after"),
		ExpressionAttributeNames:  exprNames("#pk #sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(probe.pk), ":after": str(namePrefix + after)},
		ConsistentRead:            aws.Bool(true),
	}
	var list []*secrets.Secret
	for len(list) < limit {
		q.Limit = aws.Int32(int32(min(limit-len(list), math.MaxInt32)))
		page, err := s.api.Query(ctx, &q)
		if err != nil {
			return nil, storeErr(err)
		}
		for _, item := range page.Items {
			// Every item of a layer's partition is a head; past the
			// names there is nothing to list.
			if !strings.HasPrefix(stringAttr(item, AttrSK), namePrefix) {
				return list, nil
			}
			sec, err := decodeHead(item)
			if err != nil {
				return nil, err
			}
			list = append(list, sec)
		}
		if len(page.LastEvaluatedKey) == 0 {
			break
		}
		q.ExclusiveStartKey = page.LastEvaluatedKey
	}
	return list, nil
}
