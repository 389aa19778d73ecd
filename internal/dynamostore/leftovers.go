package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// Leftovers.
//
// A create writes the id pointer, then the head; a delete removes the head,
// then the history, then the pointer. While either is under way its pointer
// is marked (attrPending) and listed in the org's leftovers partition of
// GSI2, by the time the write started. A write that stops half way leaves
// its pointer there, so that what it left is found again, by id, by name,
// or by the sweep, and never stays for good. The last write of a create
// (the unmark) and of a delete (the pointer's removal) takes it out.

// pendingValues are the attributes of a pointer marked kind, now.
func pendingValues(org, id, kind string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		":pending": str(kind),
		":gpk":     str(leftoversPK(org)),
		":gsk":     str(join(timeSK(time.Now()), id)),
	}
}

// mark marks the pointer at ptr, if it still points at head, as a write of
// kind under way. ErrNotFound if it no longer does.
func (s *Store) mark(ctx context.Context, org, id string, ptr, head key, kind string) error {
	values := pendingValues(org, id, kind)
	maps.Copy(values, pointerValues(head))
	failed, err := s.updatePointer(ctx, ptr, "SET #pending = :pending, #gpk = :gpk, #gsk = :gsk", "#hpk = :hpk AND #hsk = :hsk", values)
	if failed {
		return secrets.ErrNotFound
	}
	return err
}

// unmark takes the mark of kind off the pointer at ptr: the write is done,
// or decided nothing. A pointer marked otherwise meanwhile keeps its mark.
func (s *Store) unmark(ctx context.Context, ptr, head key, kind string) error {
	values := pointerValues(head)
	values[":pending"] = str(kind)
	_, err := s.updatePointer(ctx, ptr, "REMOVE #pending, #gpk, #gsk", "#hpk = :hpk AND #hsk = :hsk AND #pending = :pending", values)
	return err
}

// updatePointer applies update to the pointer at ptr if cond holds, and
// reports whether it did not.
func (s *Store) updatePointer(ctx context.Context, ptr key, update, cond string, values map[string]types.AttributeValue) (failed bool, err error) {
	_, err = s.api.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName:                 aws.String(s.table),
		Key:                       ptr.av(),
		UpdateExpression:          aws.String(update),
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  exprNames(update, cond),
		ExpressionAttributeValues: values,
	})
	if failed, _ := conditionFailed(err); failed {
		return true, nil
	}
	return false, storeErr(err)
}

// FinishDelete implements secrets.SecretStore.
func (s *Store) FinishDelete(ctx context.Context, org, id string) (*secrets.Leftover, error) {
	left, err := s.finish(ctx, org, id, false)
	if err != nil {
		return nil, fmt.Errorf("finish the delete of secret %s: %w", id, err)
	}
	return left, nil
}

// finish removes what is left of id if no head holds it: its history,
// then its pointer. On request (sweeping false) it finishes only a delete:
// a pointer marked as a create under way may belong to a create still
// writing its head, which removing the pointer would leave unreachable by
// id. The sweep, which sees only marks older than any request, finishes
// both, and unmarks a pointer whose head is alive.
func (s *Store) finish(ctx context.Context, org, id string, sweeping bool) (*secrets.Leftover, error) {
	ptrKey, err := secretIDKey(org, id)
	if err != nil {
		return nil, notFoundIfInvalid(err)
	}
	ptr, err := s.get(ctx, ptrKey)
	if err != nil {
		return nil, fmt.Errorf("get id pointer: %w", err)
	}
	if ptr == nil {
		return s.finishHistory(ctx, org, id)
	}
	head := key{stringAttr(ptr, attrHeadPK), stringAttr(ptr, attrHeadSK)}
	kind := stringAttr(ptr, attrPending)
	item, err := s.get(ctx, head)
	if err != nil {
		return nil, fmt.Errorf("get head: %w", err)
	}
	if item != nil && stringAttr(item, attrID) == id {
		if sweeping && kind != "" {
			if err := s.unmark(ctx, ptrKey, head, kind); err != nil {
				return nil, fmt.Errorf("unmark the pointer of a live secret: %w", err)
			}
		}
		return nil, secrets.ErrExists
	}
	if kind != pendingDelete && !(sweeping && kind == pendingCreate) {
		return nil, secrets.ErrNotFound
	}
	if err := s.deleteHistory(ctx, org, id, math.MaxInt64); err != nil {
		return nil, err
	}
	// Only as the mark was read: a pointer marked again since (a retried
	// create putting it back) is not this leftover.
	values := pointerValues(head)
	values[":pending"], values[":gsk"] = str(kind), str(stringAttr(ptr, AttrGSI2SK))
	if err := s.deleteKey(ctx, ptrKey, "#hpk = :hpk AND #hsk = :hsk AND #pending = :pending AND #gsk = :gsk", values); err != nil {
		return nil, fmt.Errorf("delete id pointer: %w", err)
	}
	left := &secrets.Leftover{ID: id, Deleted: kind == pendingDelete}
	left.Layer, left.Name = placeOfHead(head)
	return left, nil
}

// finishHistory removes the history of id, whose pointer is gone: the
// delete was done, and this is history a writer racing it put back. Its
// newest record says what it was.
func (s *Store) finishHistory(ctx context.Context, org, id string) (*secrets.Leftover, error) {
	pk, err := versionPK(org, id)
	if err != nil {
		return nil, secrets.ErrNotFound
	}
	newest, err := s.api.Query(ctx, &dynamodb.QueryInput{
		TableName:                 aws.String(s.table),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  exprNames("#pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ScanIndexForward:          aws.Bool(false),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, fmt.Errorf("query history: %w", storeErr(err))
	}
	if len(newest.Items) == 0 {
		return nil, secrets.ErrNotFound
	}
	left := &secrets.Leftover{ID: id}
	if sec, err := decodeVersion(newest.Items[0]); err == nil {
		left.Layer, left.Name = sec.Layer, sec.Name
	}
	if err := s.deleteHistory(ctx, org, id, math.MaxInt64); err != nil {
		return nil, err
	}
	return left, nil
}

// placeOfHead returns the layer and name a head key names; zero values if
// it names none (a pointer damaged behind the store's back).
func placeOfHead(head key) (secrets.Layer, string) {
	_, layer, name, err := parseHeadKey(head)
	if err != nil {
		return secrets.Layer{}, ""
	}
	return layer, name
}

// idOfPointer returns the secret id in an id pointer's key ("I#org#id").
func idOfPointer(item map[string]types.AttributeValue) string {
	rest, isPointer := strings.CutPrefix(stringAttr(item, AttrPK), PrefixSecretID)
	if _, id, ok := strings.Cut(rest, sep); isPointer && ok && !strings.Contains(id, sep) {
		return id
	}
	return ""
}

// InterruptedDeletes implements secrets.SecretStore: one Query of the
// org's leftovers partition (small: only writes under way or interrupted)
// for the pointers marked as deletes of the head at (layer, name).
func (s *Store) InterruptedDeletes(ctx context.Context, org string, layer secrets.Layer, name string) ([]string, error) {
	head, err := headKey(org, layer, name)
	if err != nil {
		return nil, nil // nothing can be stored there
	}
	values := pointerValues(head)
	values[":pk"], values[":pending"] = str(leftoversPK(org)), str(pendingDelete)
	var ids []string
	err = s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexGSI2),
		KeyConditionExpression:    aws.String("#gpk = :pk"),
		FilterExpression:          aws.String("#hpk = :hpk AND #hsk = :hsk AND #pending = :pending"),
		ExpressionAttributeNames:  exprNames("#gpk #hpk #hsk #pending"),
		ExpressionAttributeValues: values,
	}, func(item map[string]types.AttributeValue) (bool, error) {
		if id := idOfPointer(item); id != "" {
			ids = append(ids, id)
		}
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("interrupted deletes of %s at %s: %w", name, layer, err)
	}
	return ids, nil
}

// SweepLeftovers implements secrets.SecretStore: one Query of the org's
// leftovers partition for pointers marked before the time given, then each
// finished. One that cannot be finished is skipped, so that it does not
// hold back the others; its error is returned with what was removed.
func (s *Store) SweepLeftovers(ctx context.Context, org string, before time.Time, limit int) ([]secrets.Leftover, error) {
	if limit < 1 {
		return nil, fmt.Errorf("sweep leftovers: %w", secrets.Invalid("limit", "must be 1 or more, not %d", limit))
	}
	if checkParts(org) != nil {
		return nil, nil
	}
	var ids []string
	err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                aws.String(IndexGSI2),
		KeyConditionExpression:   aws.String("#gpk = :pk AND #gsk < :end"),
		ExpressionAttributeNames: exprNames("#gpk #gsk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":pk":  str(leftoversPK(org)),
			":end": str(timeSK(before) + "$"),
		},
		Limit: aws.Int32(int32(min(limit, math.MaxInt32))),
	}, func(item map[string]types.AttributeValue) (bool, error) {
		if id := idOfPointer(item); id != "" {
			ids = append(ids, id)
		}
		return len(ids) < limit, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sweep leftovers of org %s: %w", org, err)
	}
	var removed []secrets.Leftover
	var errs []error
	for _, id := range ids {
		left, err := s.finish(ctx, org, id, true)
		switch {
		case errors.Is(err, secrets.ErrNotFound) || errors.Is(err, secrets.ErrExists):
		case err != nil:
			errs = append(errs, fmt.Errorf("secret %s: %w", id, err))
		default:
			removed = append(removed, *left)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return removed, fmt.Errorf("sweep leftovers of org %s: %w", org, err)
	}
	return removed, nil
}
