package dynamostore

import (
	"context"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// History: PK "V#org#id" SK the version zero-padded, one item per
// earlier version of a secret.

// PutVersion implements secrets.SecretStore: a create; a version already
// kept stays as it is.
func (s *Store) PutVersion(ctx context.Context, sec *secrets.Secret) error {
	item, err := versionItem(sec)
	if err != nil {
		return fmt.Errorf("put version %d of secret %s: %w", sec.Version, sec.ID, err)
	}
	failed, _, err := s.putIfAbsent(ctx, item, "")
	if failed {
		return nil // versions are immutable: the first one stays
	}
	if err != nil {
		return fmt.Errorf("put version %d of secret %s: %w", sec.Version, sec.ID, storeErr(err))
	}
	return nil
}

// GetVersion implements secrets.SecretStore: one GetItem.
func (s *Store) GetVersion(ctx context.Context, org, id string, n int64) (*secrets.Secret, error) {
	k, err := versionKey(org, id, n)
	if err != nil {
		return nil, fmt.Errorf("get version %d of secret %s: %w", n, id, notFoundIfInvalid(err))
	}
	sec, err := getDecoded(ctx, s, k, decodeVersion)
	if err != nil {
		return nil, fmt.Errorf("get version %d of secret %s: %w", n, id, err)
	}
	return sec, nil
}

// ListVersions implements secrets.SecretStore: one Query, newest first.
func (s *Store) ListVersions(ctx context.Context, org, id string) ([]*secrets.Secret, error) {
	pk, err := versionPK(org, id)
	if err != nil {
		return nil, nil // no history can be stored there
	}
	list, err := queryAll(ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  exprNames("#pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
	}, decodeVersion)
	if err != nil {
		return nil, fmt.Errorf("list versions of secret %s: %w", id, err)
	}
	return list, nil
}

// PruneVersions implements secrets.SecretStore: one Query for the keys of
// the versions before keepFrom, then one DeleteItem each.
func (s *Store) PruneVersions(ctx context.Context, org, id string, keepFrom int64) error {
	if keepFrom <= 1 {
		return nil
	}
	if err := s.deleteHistory(ctx, org, id, keepFrom); err != nil {
		return fmt.Errorf("prune versions of secret %s: %w", id, err)
	}
	return nil
}

// deleteHistory deletes the history records of id older than version
// before, one DeleteItem each.
func (s *Store) deleteHistory(ctx context.Context, org, id string, before int64) error {
	keys, err := s.historyKeys(ctx, org, id, before)
	if err != nil {
		return err
	}
	for _, k := range keys {
		if err := s.deleteKey(ctx, k, "", nil); err != nil {
			return fmt.Errorf("delete version %s: %w", strings.TrimLeft(k.sk, "0"), err)
		}
	}
	return nil
}

// historyKeys returns the keys of id's history records older than version
// before, oldest first (one strongly consistent Query, keys only).
func (s *Store) historyKeys(ctx context.Context, org, id string, before int64) ([]key, error) {
	pk, err := versionPK(org, id)
	if err != nil {
		return nil, nil // no history can be stored there
	}
	in := &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk AND #sk < :before"),
		ExpressionAttributeNames:  exprNames("#pk #sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":before": str(versionSK(before))},
		ProjectionExpression:      aws.String("#pk, #sk"),
		ConsistentRead:            aws.Bool(true),
	}
	var keys []key
	err = s.query(ctx, in, func(item map[string]types.AttributeValue) (bool, error) {
		keys = append(keys, key{stringAttr(item, AttrPK), stringAttr(item, AttrSK)})
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("query history: %w", err)
	}
	return keys, nil
}
