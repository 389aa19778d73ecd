package dynamostore

import (
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/records"
)

// Records: the attributes of each item kind, beside its key attributes
// (items.go). Each is one of the stores' record types (package records),
// encoded with attributevalue under their dynamodbav names (snake_case,
// so they never meet the CamelCase key attributes). The golden file
// (testdata/items.golden.json) pins what they encode to. Only this file
// encodes, and only records.

// Attributes that conditions, updates and projections name.
const (
	attrID        = "id"
	attrOrg       = "org"
	attrLayer     = "layer"
	attrName      = "name"
	attrVersion   = "version"
	attrOwner     = "owner"
	attrSubject   = "subject"
	attrValues    = "values"
	attrRevokedAt = "revoked_at"
)

// Times are stored as RFC 3339 with nanoseconds, in UTC.
func timeValue(t time.Time) types.AttributeValue { return str(t.UTC().Format(time.RFC3339Nano)) }

func encoderOptions(o *attributevalue.EncoderOptions) {
	o.EncodeTime = func(t time.Time) (types.AttributeValue, error) { return timeValue(t), nil }
}

// encodeItem returns r as an item of kind typ at k, with extra
// attributes (index keys) added.
func encodeItem[R records.Record](r *R, typ string, k key, extra map[string]string) (map[string]types.AttributeValue, error) {
	item, err := attributevalue.MarshalMapWithOptions(r, encoderOptions)
	if err != nil {
		return nil, fmt.Errorf("encode %s item: %w", typ, err)
	}
	item[AttrPK], item[AttrSK], item[AttrType] = str(k.pk), str(k.sk), str(typ)
	for name, value := range extra {
		item[name] = str(value)
	}
	return item, nil
}

// decodeItem decodes the record in item; the key attributes are not its.
func decodeItem[R records.Record](item map[string]types.AttributeValue) (*R, error) {
	r := new(R)
	if err := attributevalue.UnmarshalMap(item, r); err != nil {
		return nil, fmt.Errorf("decode item %s/%s: %w", stringAttr(item, AttrPK), stringAttr(item, AttrSK), err)
	}
	return r, nil
}

// decodeWith returns a decoder of items holding an R, mapped to the
// domain with domain.
func decodeWith[R records.Record, T any](domain func(*R) *T) func(map[string]types.AttributeValue) (*T, error) {
	return func(item map[string]types.AttributeValue) (*T, error) {
		r, err := decodeItem[R](item)
		if err != nil {
			return nil, err
		}
		return domain(r), nil
	}
}
