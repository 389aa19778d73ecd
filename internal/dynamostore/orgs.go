package dynamostore

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// Orgs: PK "O#org" SK "O".

// CreateOrg implements secrets.OrgStore.
func (s *Store) CreateOrg(ctx context.Context, o *secrets.Org) error {
	return createFrom(ctx, s, o, orgItem, "create org %s", o.ID)
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
	o, err := getDecoded(ctx, s, k, decodeWith((*records.Org).Domain))
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
// replaces: every field of records.Org but its id and creation time.
var orgSettings = sync.OnceValue(func() []string {
	var out []string
	t := reflect.TypeFor[records.Org]()
	for f := range t.Fields() {
		name, _, _ := strings.Cut(f.Tag.Get("dynamodbav"), ",")
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
	encoded, err := encodeItem(records.FromOrg(o), typeOrg, k, nil)
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
