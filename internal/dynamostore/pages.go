package dynamostore

import (
	"context"
	"fmt"
	"math"
	"strings"

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
	out, err := s.eachLayer(ctx, layers, func(ctx context.Context, layer secrets.Layer) ([]*secrets.Secret, error) {
		return s.layerAfter(ctx, org, layer, after, limit)
	})
	if err != nil {
		return nil, fmt.Errorf("list secrets after %q at %w", after, err)
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
