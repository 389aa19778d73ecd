package dynamostore

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Tokens: PK "T#id" SK "T", so that authenticating a request is one
// GetItem; GSI2 lists an org's tokens by creation time.

// CreateToken implements secrets.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t *secrets.Token) error {
	return createFrom(ctx, s, t, tokenItem, "create token %s", t.ID)
}

// GetToken implements secrets.TokenStore: one strongly consistent GetItem,
// so that a revocation holds from the moment it is written.
func (s *Store) GetToken(ctx context.Context, id string) (*secrets.Token, error) {
	k, err := tokenKey(id)
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, notFoundIfInvalid(err))
	}
	t, err := getDecoded(ctx, s, k, decodeWith((*records.Token).Domain))
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, err)
	}
	return t, nil
}

// ListTokens implements secrets.TokenStore: one Query of GSI2, oldest
// first (the sort key starts with the creation time). The index is
// eventually consistent: a token created a moment ago may be missing, and
// a revocation may show a moment late (GetToken, which authenticates,
// reads the table).
func (s *Store) ListTokens(ctx context.Context, org string) ([]*secrets.Token, error) {
	if checkParts(org) != nil {
		return nil, nil
	}
	list, err := queryAll(ctx, s, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexGSI2),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrGSI2PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(tokensPK(org))},
	}, decodeWith((*records.Token).Domain))
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return list, nil
}

// RevokeToken implements secrets.TokenStore: one UpdateItem that sets the
// revocation time if none is set, on the org's token only.
func (s *Store) RevokeToken(ctx context.Context, org, id string, at time.Time) error {
	k, err := tokenKey(id)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, notFoundIfInvalid(err))
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 k.av(),
		UpdateExpression:    aws.String("SET #revoked = if_not_exists(#revoked, :at)"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #org = :org"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#org": attrOrg, "#revoked": attrRevokedAt,
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": timeValue(at), ":org": str(org)},
	})
	if failed, _ := conditionFailed(err); failed {
		return fmt.Errorf("revoke token %s: %w", id, secrets.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, storeErr(err))
	}
	return nil
}

// ReplaceRevokedToken implements secrets.TokenStore: one PutItem,
// conditional on the stored token being of t's org and revoked.
func (s *Store) ReplaceRevokedToken(ctx context.Context, t *secrets.Token) error {
	item, err := tokenItem(t)
	if err != nil {
		return fmt.Errorf("replace token %s: %w", t.ID, err)
	}
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      item,
		ConditionExpression:       aws.String("attribute_exists(#pk) AND #org = :org AND attribute_exists(#revoked)"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#org": attrOrg, "#revoked": attrRevokedAt},
		ExpressionAttributeValues: map[string]types.AttributeValue{":org": str(t.Org)},
	})
	if failed, _ := conditionFailed(err); failed {
		// Tell absent (or another org's) from present but not revoked.
		old, gerr := s.GetToken(ctx, t.ID)
		switch {
		case secrets.IsCode(gerr, secrets.CodeNotFound) || (gerr == nil && old.Org != t.Org):
			return fmt.Errorf("replace token %s: %w", t.ID, secrets.ErrNotFound)
		case gerr != nil:
			return fmt.Errorf("replace token %s: %w", t.ID, gerr)
		case tokensEqual(old, t):
			return nil // a resent write that landed
		}
		return fmt.Errorf("replace token %s: %w", t.ID, secrets.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("replace token %s: %w", t.ID, storeErr(err))
	}
	return nil
}

// tokensEqual reports whether two records are the same token record: a
// new registration has a new creation time.
func tokensEqual(a, b *secrets.Token) bool {
	return a.ID == b.ID && a.Org == b.Org && a.CreatedAt.Equal(b.CreatedAt) && a.Name == b.Name
}
