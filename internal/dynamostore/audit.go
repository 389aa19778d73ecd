package dynamostore

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/secrets"
)

// AttrTTL is the table's time-to-live attribute: when DynamoDB may delete
// the item, in seconds since the epoch. Audit records and manifests carry
// it; the stack enables TTL on it. DynamoDB deletes expired items within a
// few days, so readers leave out what has expired (AuditRecord.Expired).
const AttrTTL = "ExpiresAt"

// Audit manifests: PK "M#org" SK "day#hash#part". A manifest is cut into
// parts of at most manifestPartBytes, each an item of its own, so that
// DynamoDB's 400 KB item limit bounds no resolve.
const (
	typeAuditManifest  = "audit_manifest"
	attrContent        = "content"
	attrParts          = "parts"
	manifestPartBytes  = 300 << 10
	manifestPartDigits = 4
)

func manifestPK(org string) (string, error) { return PrefixManifest + org, checkParts(org) }

func manifestPrefix(day, hash string) (string, error) {
	return join(day, hash) + sep, checkParts(day, hash)
}

// Audit: PK "A#org" SK the record's id, which sorts by time.

// auditItem is r as an item: its expiry is the TTL attribute alone.
func auditItem(r *secrets.AuditRecord) (map[string]types.AttributeValue, error) {
	pk, err := auditPK(r.Org)
	if err == nil {
		err = checkParts(r.ID)
	}
	if err != nil {
		return nil, err
	}
	item, err := encodeItem(records.FromAudit(r), typeAudit, key{pk, r.ID}, nil)
	if err != nil {
		return nil, err
	}
	if !r.ExpiresAt.IsZero() {
		item[AttrTTL] = num(r.ExpiresAt.Unix())
	}
	return item, nil
}

func decodeAudit(item map[string]types.AttributeValue) (*secrets.AuditRecord, error) {
	rec, err := decodeItem[records.Audit](item)
	if err != nil {
		return nil, err
	}
	r := rec.Domain()
	if ttl := numberAttr(item, AttrTTL); ttl != 0 {
		r.ExpiresAt = time.Unix(ttl, 0).UTC()
	}
	return r, nil
}

// AppendAudit implements secrets.AuditLog. The log is append-only: a
// record id already taken is refused (ErrExists), never overwritten.
func (s *Store) AppendAudit(ctx context.Context, r *secrets.AuditRecord) error {
	return createFrom(ctx, s, r, auditItem, "append audit record %s", r.ID)
}

// ListAudit implements secrets.AuditLog: one Query backwards from the
// cursor, for one record more than the page holds, so that the next cursor
// is "" exactly when nothing follows.
func (s *Store) ListAudit(ctx context.Context, org, cursor string, limit int) ([]*secrets.AuditRecord, string, error) {
	if limit < 1 {
		return nil, "", fmt.Errorf("list audit: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	pk, err := auditPK(org)
	if err != nil {
		return nil, "", nil // no record can be stored there
	}
	cond := "#pk = :pk"
	values := map[string]types.AttributeValue{":pk": str(pk)}
	if cursor != "" {
		cond += " AND #sk < :cursor"
		values[":cursor"] = str(cursor)
	}
	want := min(limit, math.MaxInt32-1) + 1
	var list []*secrets.AuditRecord
	err = s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  exprNames(cond),
		ExpressionAttributeValues: values,
		ScanIndexForward:          aws.Bool(false),
		ConsistentRead:            aws.Bool(true),
		Limit:                     aws.Int32(int32(want)),
	}, func(item map[string]types.AttributeValue) (bool, error) {
		r, err := decodeAudit(item)
		if err != nil {
			return false, err
		}
		list = append(list, r)
		return len(list) < want, nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = list[limit-1].ID
	}
	return list, next, nil
}

// PutAuditManifest implements secrets.AuditLog: one PutItem per part,
// each if absent. A part already there holds the same bytes (the hash
// names the content), so a failed condition is success. The parts are
// written before the record that refers to them.
func (s *Store) PutAuditManifest(ctx context.Context, m *secrets.AuditManifest) error {
	pk, err := manifestPK(m.Org)
	var prefix string
	if err == nil {
		prefix, err = manifestPrefix(m.Day, m.Hash)
	}
	if err != nil {
		return fmt.Errorf("put audit manifest %s: %w", m.Hash, err)
	}
	parts := max(1, (len(m.Content)+manifestPartBytes-1)/manifestPartBytes)
	if parts >= int(math.Pow10(manifestPartDigits)) {
		return fmt.Errorf("put audit manifest %s: %w", m.Hash, secrets.Invalid("manifest", "holds %d bytes, more than %d parts", len(m.Content), parts))
	}
	cond := "attribute_not_exists(#pk)"
	for i := range parts {
		item := map[string]types.AttributeValue{
			AttrPK:      str(pk),
			AttrSK:      str(prefix + fmt.Sprintf("%0*d", manifestPartDigits, i)),
			AttrType:    str(typeAuditManifest),
			attrContent: &types.AttributeValueMemberB{Value: m.Content[i*manifestPartBytes : min((i+1)*manifestPartBytes, len(m.Content))]},
			attrParts:   num(int64(parts)),
		}
		if !m.ExpiresAt.IsZero() {
			item[AttrTTL] = num(m.ExpiresAt.Unix())
		}
		_, err := s.api.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                aws.String(s.table),
			Item:                     item,
			ConditionExpression:      aws.String(cond),
			ExpressionAttributeNames: map[string]string{"#pk": AttrPK},
		})
		if failed, _ := conditionFailed(err); failed {
			continue
		}
		if err != nil {
			return fmt.Errorf("put audit manifest %s part %d of %d: %w", m.Hash, i+1, parts, storeErr(err))
		}
	}
	return nil
}

// GetAuditManifest implements secrets.AuditLog: one Query for its parts,
// strongly consistent (a record is written after its manifest).
func (s *Store) GetAuditManifest(ctx context.Context, org, day, hash string) (*secrets.AuditManifest, error) {
	pk, err := manifestPK(org)
	var prefix string
	if err == nil {
		prefix, err = manifestPrefix(day, hash)
	}
	if err != nil {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, notFoundIfInvalid(err))
	}
	cond := "#pk = :pk AND begins_with(#sk, :prefix)"
	var content bytes.Buffer
	var found, parts int64
	var ttl int64
	err = s.query(ctx, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrPK, "#sk": AttrSK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk), ":prefix": str(prefix)},
		ConsistentRead:            aws.Bool(true),
	}, func(item map[string]types.AttributeValue) (bool, error) {
		k := keyOf(item)
		n, err := strconv.ParseInt(strings.TrimPrefix(k.sk, prefix), 10, 64)
		b, ok := item[attrContent].(*types.AttributeValueMemberB)
		if err != nil || n != found || !ok || stringAttr(item, AttrType) != typeAuditManifest {
			return false, secrets.Internalf(err, "integrity error: the item at %s/%s is not part %d of an audit manifest", k.pk, k.sk, found)
		}
		parts, ttl = numberAttr(item, attrParts), numberAttr(item, AttrTTL)
		content.Write(b.Value)
		found++
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, err)
	}
	if found == 0 {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, secrets.ErrNotFound)
	}
	if found != parts {
		return nil, fmt.Errorf("get audit manifest %s: %w", hash, secrets.Internalf(nil, "integrity error: %d of its %d parts are stored", found, parts))
	}
	m := &secrets.AuditManifest{Org: org, Day: day, Hash: hash, Content: content.Bytes()}
	if ttl != 0 {
		m.ExpiresAt = time.Unix(ttl, 0).UTC()
	}
	return m, nil
}
