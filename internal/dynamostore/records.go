package dynamostore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// create puts item if no item has its key: the store's one way to create.
// A taken key is ErrExists, unless it holds this very item: the write
// landed before, and this is its retry.
func (s *Store) create(ctx context.Context, item map[string]types.AttributeValue) error {
	cond := "attribute_not_exists(#pk)"
	_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            exprNames(cond),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	failed, old := conditionFailed(err)
	if !failed {
		return storeErr(err)
	}
	if old == nil {
		if old, err = s.get(ctx, keyOf(item)); err != nil {
			return fmt.Errorf("read the item that failed a create: %w", err)
		}
	}
	if sameItem(old, item) {
		return nil
	}
	return secrets.ErrExists
}

// getRecord reads the item at k (strongly consistent) into a T;
// ErrNotFound if absent.
func getRecord[T any](ctx context.Context, s *Store, k key) (*T, error) {
	item, err := s.get(ctx, k)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, secrets.ErrNotFound
	}
	return decodeItem[T](item)
}

// Tokens: PK "T#id" SK "T", so that authenticating a request is one
// GetItem; GSI2 lists an org's tokens by creation time.

// CreateToken implements secrets.TokenStore.
func (s *Store) CreateToken(ctx context.Context, t *secrets.Token) error {
	item, err := tokenItem(t)
	if err == nil {
		err = s.create(ctx, item)
	}
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.ID, err)
	}
	return nil
}

// GetToken implements secrets.TokenStore: one strongly consistent GetItem,
// so that a revocation holds from the moment it is written.
func (s *Store) GetToken(ctx context.Context, id string) (*secrets.Token, error) {
	k, err := tokenKey(id)
	if err != nil {
		return nil, fmt.Errorf("get token %s: %w", id, notFoundIfInvalid(err))
	}
	t, err := getRecord[secrets.Token](ctx, s, k)
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
	}, decodeItem[secrets.Token])
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
	atValue, err := encodeValue(at)
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:           aws.String(s.table),
		Key:                 k.av(),
		UpdateExpression:    aws.String("SET #revoked = if_not_exists(#revoked, :at)"),
		ConditionExpression: aws.String("attribute_exists(#pk) AND #org = :org"),
		ExpressionAttributeNames: map[string]string{
			"#pk": AttrPK, "#org": "org", "#revoked": "revoked_at",
		},
		ExpressionAttributeValues: map[string]types.AttributeValue{":at": atValue, ":org": str(org)},
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
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#org": "org", "#revoked": "revoked_at"},
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

// Orgs: PK "O#org" SK "O".

// CreateOrg implements secrets.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *secrets.Org) error {
	k, err := orgKey(o.ID)
	var item map[string]types.AttributeValue
	if err == nil {
		item, err = encodeItem(o, typeOrg, k, orgIndex(o.ID))
	}
	if err == nil {
		err = s.create(ctx, item)
	}
	if err != nil {
		return fmt.Errorf("create org %s: %w", o.ID, err)
	}
	return nil
}

// orgIndex lists an org in GSI2's orgs partition, where the rotation sweep
// finds the orgs whose due secrets it shares its batch among.
func orgIndex(org string) map[string]string {
	return map[string]string{AttrGSI2PK: orgsPartition, AttrGSI2SK: org}
}

// GetOrg implements secrets.OrgStore.
func (s *Store) GetOrg(ctx context.Context, id string) (*secrets.Org, error) {
	k, err := orgKey(id)
	if err != nil {
		return nil, fmt.Errorf("get org %s: %w", id, notFoundIfInvalid(err))
	}
	o, err := getRecord[secrets.Org](ctx, s, k)
	if err != nil {
		return nil, fmt.Errorf("get org %s: %w", id, err)
	}
	return o, nil
}

// attrSettingsVersion is the org item's settings version.
const attrSettingsVersion = "settings_version"

// sameSettings reports whether the stored org item holds exactly the
// settings of the written one.
func sameSettings(stored, written map[string]types.AttributeValue) bool {
	for _, name := range orgSettings() {
		if !reflect.DeepEqual(stored[name], written[name]) {
			return false
		}
	}
	return true
}

// orgSettings are the attributes of an org item that PutOrgSettings
// replaces: every field of secrets.Org but its id and creation time.
var orgSettings = sync.OnceValue(func() []string {
	var out []string
	t := reflect.TypeFor[secrets.Org]()
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || name == "id" || name == "created_at" {
			continue
		}
		out = append(out, name)
	}
	return out
})

// PutOrgSettings implements secrets.OrgStore: one UpdateItem that sets the
// settings o has and removes those it leaves empty, if the org exists at
// the expected settings version.
func (s *Store) PutOrgSettings(ctx context.Context, o *secrets.Org, expected int64) error {
	if o.SettingsVersion != expected+1 {
		return fmt.Errorf("put settings of org %s: %w", o.ID, secrets.Invalid("settings_version", "must be %d (expected+1), not %d", expected+1, o.SettingsVersion))
	}
	k, err := orgKey(o.ID)
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, notFoundIfInvalid(err))
	}
	encoded, err := encodeItem(o, typeOrg, k, nil)
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, err)
	}
	var set, remove []string
	attrNames := map[string]string{"#pk": AttrPK, "#sv": attrSettingsVersion}
	values := map[string]types.AttributeValue{}
	cond := "attribute_exists(#pk) AND attribute_not_exists(#sv)"
	if expected != 0 {
		cond = "attribute_exists(#pk) AND #sv = :expected"
		values[":expected"] = num(expected)
	}
	for i, name := range orgSettings() {
		placeholder := fmt.Sprintf("#s%d", i)
		attrNames[placeholder] = name
		if v, ok := encoded[name]; ok {
			set = append(set, fmt.Sprintf("%s = :s%d", placeholder, i))
			values[fmt.Sprintf(":s%d", i)] = v
		} else {
			remove = append(remove, placeholder)
		}
	}
	// An org item written before orgs were indexed joins the index here.
	for i, name := range []string{AttrGSI2PK, AttrGSI2SK} {
		attrNames[fmt.Sprintf("#x%d", i)] = name
		values[fmt.Sprintf(":x%d", i)] = str(orgIndex(o.ID)[name])
		set = append(set, fmt.Sprintf("#x%d = :x%d", i, i))
	}
	var update []string
	if len(set) > 0 {
		update = append(update, "SET "+strings.Join(set, ", "))
	}
	if len(remove) > 0 {
		update = append(update, "REMOVE "+strings.Join(remove, ", "))
	}
	in := &dynamodb.UpdateItemInput{
		TableName:                aws.String(s.table),
		Key:                      k.av(),
		UpdateExpression:         aws.String(strings.Join(update, " ")),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: attrNames,
	}
	if len(values) > 0 {
		in.ExpressionAttributeValues = values
	}
	_, err = s.api.UpdateItem(ctx, in)
	if failed, _ := conditionFailed(err); failed {
		// Absent, changed meanwhile, or this very write landing before a
		// lost reply (the SDK retried it): the stored item tells which.
		stored, gerr := s.get(ctx, k)
		switch {
		case gerr != nil:
			return fmt.Errorf("put settings of org %s: %w", o.ID, gerr)
		case stored == nil:
			return fmt.Errorf("put settings of org %s: %w", o.ID, secrets.ErrNotFound)
		case sameSettings(stored, encoded):
			return nil
		}
		return fmt.Errorf("put settings of org %s: %w", o.ID, secrets.ErrStale)
	}
	if err != nil {
		return fmt.Errorf("put settings of org %s: %w", o.ID, storeErr(err))
	}
	return nil
}

// Data keys: PK "K#org" SK "environment#generation".

// CreateDataKey implements secrets.DataKeyStore.
func (s *Store) CreateDataKey(ctx context.Context, dk *secrets.DataKey) error {
	k, err := dataKeyKey(dk.Org, dk.Environment, dk.Generation)
	var item map[string]types.AttributeValue
	if err == nil {
		item, err = encodeItem(dk, typeDataKey, k, nil)
	}
	if err == nil {
		err = s.create(ctx, item)
	}
	if err != nil {
		return fmt.Errorf("create %s data key %d: %w", dk.Environment, dk.Generation, err)
	}
	return nil
}

// GetDataKey implements secrets.DataKeyStore: one GetItem, strongly
// consistent, so that a writer that lost CreateDataKey's race reads the
// winner's key.
func (s *Store) GetDataKey(ctx context.Context, org string, env secrets.Environment, generation int) (*secrets.DataKey, error) {
	k, err := dataKeyKey(org, env, generation)
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, notFoundIfInvalid(err))
	}
	dk, err := getRecord[secrets.DataKey](ctx, s, k)
	if err != nil {
		return nil, fmt.Errorf("get %s data key %d: %w", env, generation, err)
	}
	return dk, nil
}
