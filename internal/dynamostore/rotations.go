package dynamostore

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// Rotation: heads with a policy are in their org's partition of GSI2,
// keyed by due time; every org is in GSI2's orgs partition.

// ListRotationOrgs implements secrets.SecretStore: one Query of GSI2's
// orgs partition (every org item, keys and settings only), whatever is due.
func (s *Store) ListRotationOrgs(ctx context.Context, _ time.Time) ([]string, error) {
	var orgs []string
	err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexGSI2),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrGSI2PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(orgsPartition)},
	}, func(item map[string]types.AttributeValue) (bool, error) {
		if org := stringAttr(item, AttrGSI2SK); org != "" {
			orgs = append(orgs, org)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list rotation orgs: %w", err)
	}
	return orgs, nil
}

// ListDueRotations implements secrets.SecretStore: one Query of the org's
// rotation partition of GSI2, whose sort key starts with the due time. The
// index is eventually consistent, which the contract allows: the sweep
// re-reads each head before rotating it.
func (s *Store) ListDueRotations(ctx context.Context, org string, now time.Time, limit int) ([]*secrets.Secret, error) {
	if limit < 1 {
		return nil, fmt.Errorf("list due rotations: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	if checkParts(org) != nil {
		return nil, nil
	}
	var due []*secrets.Secret
	err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:              aws.String(IndexGSI2),
		KeyConditionExpression: aws.String("#pk = :pk AND #sk < :end"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrGSI2PK, "#sk": AttrGSI2SK,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk": str(rotationPK(org)),
			// Every key of a time at or before now: "$" follows the
			// separator "#".
			":end": str(timeSK(now) + "$"),
		},
		Limit: aws.Int32(int32(min(limit, math.MaxInt32))),
	}, func(item map[string]types.AttributeValue) (bool, error) {
		sec, err := decodeHead(item)
		if err != nil {
			return false, err
		}
		due = append(due, sec)
		return len(due) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list due rotations of org %s: %w", org, err)
	}
	return due, nil
}
