package dynamostore

import (
	"context"
	"fmt"
	"regexp"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// The table's operations that the store's kinds of item share: reads,
// queries, creates and uncontested deletes, and the names expressions use.

// Expression attribute names every expression here may use.
var names = map[string]string{
	"#pk": AttrPK, "#sk": AttrSK,
	"#hpk": attrHeadPK, "#hsk": attrHeadSK,
	"#id": attrID, "#version": attrVersion,
	"#owner": attrOwner, "#subject": attrSubject, "#name": attrName,
	"#pending": attrPending, "#gpk": AttrGSI2PK, "#gsk": AttrGSI2SK,
}

var placeholder = regexp.MustCompile(`#[A-Za-z0-9_]+`)

// exprNames returns the entries of names that exprs use: DynamoDB refuses
// names an expression does not use.
func exprNames(exprs ...string) map[string]string {
	out := map[string]string{}
	for _, e := range exprs {
		for _, p := range placeholder.FindAllString(e, -1) {
			name, ok := names[p]
			if !ok {
				panic("dynamostore: no attribute name for " + p)
			}
			out[p] = name
		}
	}
	return out
}

// get reads the item at k with a strongly consistent read; nil if absent.
func (s *Store) get(ctx context.Context, k key) (map[string]types.AttributeValue, error) {
	out, err := s.api.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(s.table),
		Key:            k.av(),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return nil, storeErr(err)
	}
	if len(out.Item) == 0 {
		return nil, nil
	}
	return out.Item, nil
}

// query calls fn with each item the query finds, following pages, until fn
// returns false.
func (s *Store) query(ctx context.Context, in *dynamodb.QueryInput, fn func(map[string]types.AttributeValue) (bool, error)) error {
	q := *in
	q.TableName = aws.String(s.table)
	for {
		out, err := s.api.Query(ctx, &q)
		if err != nil {
			return storeErr(err)
		}
		for _, item := range out.Items {
			more, err := fn(item)
			if err != nil || !more {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		q.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// queryAll decodes every item the query finds with decode.
func queryAll[T any](ctx context.Context, s *Store, in *dynamodb.QueryInput, decode func(map[string]types.AttributeValue) (*T, error)) ([]*T, error) {
	var list []*T
	err := s.query(ctx, in, func(item map[string]types.AttributeValue) (bool, error) {
		v, err := decode(item)
		if err != nil {
			return false, err
		}
		list = append(list, v)
		return true, nil
	})
	return list, err
}

// deleteKey deletes the item at k, if cond (with values) holds; a failed
// condition is not an error. It serves removals that nothing can contest:
// history, and id pointers whose head is gone.
func (s *Store) deleteKey(ctx context.Context, k key, cond string, values map[string]types.AttributeValue) error {
	in := &dynamodb.DeleteItemInput{TableName: aws.String(s.table), Key: k.av()}
	if cond != "" {
		in.ConditionExpression = aws.String(cond)
		in.ExpressionAttributeNames = exprNames(cond)
		in.ExpressionAttributeValues = values
	}
	_, err := s.api.DeleteItem(ctx, in)
	if failed, _ := conditionFailed(err); failed {
		return nil
	}
	return storeErr(err)
}

// create puts item if no item has its key: the store's one way to create.
// A taken key is ErrExists, unless it holds this very item: the write
// landed before, and this is its retry.
func (s *Store) create(ctx context.Context, item map[string]types.AttributeValue) error {
	taken, old, err := s.putNew(ctx, item)
	if err != nil || !taken || sameItem(old, item) {
		return err
	}
	return secrets.ErrExists
}

// createFrom creates the item toItem makes of v; an error starts with
// what (a format, with args) was being created.
func createFrom[T any](ctx context.Context, s *Store, v *T, toItem func(*T) (map[string]types.AttributeValue, error), what string, args ...any) error {
	item, err := toItem(v)
	if err == nil {
		err = s.create(ctx, item)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", fmt.Sprintf(what, args...), err)
	}
	return nil
}

// putNew puts item if no item has its key. It reports whether the key was
// taken and, if it was, the item there (nil if gone since). An error is
// the put's own: the item may or may not have been written.
func (s *Store) putNew(ctx context.Context, item map[string]types.AttributeValue) (taken bool, old map[string]types.AttributeValue, err error) {
	failed, old, err := s.putIfAbsent(ctx, item, types.ReturnValuesOnConditionCheckFailureAllOld)
	if !failed {
		return false, nil, storeErr(err)
	}
	if old == nil {
		if old, err = s.get(ctx, keyOf(item)); err != nil {
			return true, nil, fmt.Errorf("read the item that failed a create: %w", err)
		}
	}
	return true, old, nil
}

// putIfAbsent is one PutItem of item on the condition that no item has
// its key. It reports whether the condition failed and, if returnOld asks
// for it, the item that failed it; err is the call's own, untranslated.
func (s *Store) putIfAbsent(ctx context.Context, item map[string]types.AttributeValue, returnOld types.ReturnValuesOnConditionCheckFailure) (failed bool, old map[string]types.AttributeValue, err error) {
	cond := "attribute_not_exists(#pk)"
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           aws.String(s.table),
		Item:                                item,
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            exprNames(cond),
		ReturnValuesOnConditionCheckFailure: returnOld,
	})
	failed, old = conditionFailed(err)
	return failed, old, err
}

// getDecoded reads the item at k (strongly consistent) and decodes it
// with decode; ErrNotFound if absent.
func getDecoded[T any](ctx context.Context, s *Store, k key, decode func(map[string]types.AttributeValue) (*T, error)) (*T, error) {
	item, err := s.get(ctx, k)
	if err != nil {
		return nil, err
	}
	if item == nil {
		return nil, secrets.ErrNotFound
	}
	return decode(item)
}
