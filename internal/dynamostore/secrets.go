package dynamostore

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/secrets"
)

// Secrets.
//
// A secret is three kinds of item:
//
//   - its head, the current version, at PK "S#org#layer" SK "N#name": the
//     name's uniqueness is the head's attribute_not_exists;
//   - its id pointer, at PK "I#org#id" SK "I", holding the head's key, so
//     that the id finds the head;
//   - its history, one item per earlier version, at PK "V#org#id" SK the
//     version zero-padded.
//
// The head is the truth. A pointer is believed only when the head it
// points at carries the same id, so a pointer left by a crash or by a
// create that lost its name's race leads nowhere.

// pointerItem is the id pointer at k to the head at head.
func pointerItem(k, head key) map[string]types.AttributeValue {
	item := k.av()
	item[AttrType] = str(typeSecretID)
	item[attrHeadPK], item[attrHeadSK] = str(head.pk), str(head.sk)
	return item
}

func pointerValues(head key) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{":hpk": str(head.pk), ":hsk": str(head.sk)}
}

// CreateSecret implements secrets.SecretStore. It writes the id pointer,
// marked as a create under way, then the head, then takes the mark off: a
// crash between the first two leaves a marked pointer to no head (or to
// another id's), which nothing believes and the sweep removes, and the
// head's create is the one that decides. Each write may be repeated: the
// pointer's condition lets the same pointer be put again, and a head that
// is exactly this one is a create that had landed.
func (s *Store) CreateSecret(ctx context.Context, sec *secrets.Secret) error {
	if sec.Version != 1 {
		return fmt.Errorf("create secret %s: %w", sec.Name, secrets.Invalid("version", "a new secret is version 1, not %d", sec.Version))
	}
	item, err := secretItem(sec)
	if err != nil {
		return fmt.Errorf("create secret %s: %w", sec.Name, err)
	}
	ptr, err := secretIDKey(sec.Org, sec.ID)
	if err != nil {
		return fmt.Errorf("create secret %s: %w", sec.Name, err)
	}
	head := keyOf(item)

	// The pointer: new, or the very same one (a retried create).
	cond := "attribute_not_exists(#pk) OR (#hpk = :hpk AND #hsk = :hsk)"
	pointer := pointerItem(ptr, head)
	pending := pendingValues(sec.Org, sec.ID, pendingCreate)
	pointer[attrPending], pointer[AttrGSI2PK], pointer[AttrGSI2SK] = pending[":pending"], pending[":gpk"], pending[":gsk"]
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 aws.String(s.table),
		Item:                      pointer,
		ConditionExpression:       aws.String(cond),
		ExpressionAttributeNames:  exprNames(cond),
		ExpressionAttributeValues: pointerValues(head),
	})
	if failed, _ := conditionFailed(err); failed {
		return fmt.Errorf("create secret %s: id %s: %w", sec.Name, sec.ID, secrets.ErrExists)
	}
	if err != nil {
		return fmt.Errorf("create secret %s: put id pointer: %w", sec.Name, storeErr(err))
	}

	// The head.
	taken, old, err := s.putNew(ctx, item)
	if err != nil {
		// The head may or may not have been written: the pointer stays
		// marked, harmless either way, until the sweep.
		return fmt.Errorf("create secret %s: put head: %w", sec.Name, err)
	}
	if !taken || sameItem(old, item) {
		return s.created(ctx, sec, ptr, head) // written, or this create's own head: it had landed
	}
	// The name is taken. Unless by this very id, the pointer is a
	// loser's: remove it. If that fails, it stays behind, harmless.
	if stringAttr(old, attrID) != sec.ID {
		_ = s.deleteKey(ctx, ptr, "#hpk = :hpk AND #hsk = :hsk", pointerValues(head))
	}
	return fmt.Errorf("create secret %s at %s: %w", sec.Name, sec.Layer, secrets.ErrExists)
}

// created takes the mark off the pointer of a create whose head is
// written. The create has landed whatever happens here: a mark left on
// is taken off by the sweep. A pointer found gone (the sweep took it for
// a create that never wrote its head, which a create stalled for longer
// than any request runs could meet) is put back, so that the head is
// reachable by id.
func (s *Store) created(ctx context.Context, sec *secrets.Secret, ptr, head key) error {
	values := pointerValues(head)
	values[":pending"] = str(pendingCreate)
	failed, err := s.updatePointer(ctx, ptr, "REMOVE #pending, #gpk, #gsk", "#hpk = :hpk AND #hsk = :hsk AND #pending = :pending", values)
	if err != nil || !failed {
		return nil
	}
	if item, err := s.get(ctx, ptr); err != nil || item != nil {
		return nil // unmarked already, or marked by a delete since
	}
	if item, err := s.get(ctx, head); err != nil || stringAttr(item, attrID) != sec.ID {
		return nil // deleted since: nothing to reach
	}
	cond := "attribute_not_exists(#pk)"
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     pointerItem(ptr, head),
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: exprNames(cond),
	})
	if failed, _ := conditionFailed(err); err != nil && !failed {
		return fmt.Errorf("create secret %s: put its id pointer back: %w", sec.Name, storeErr(err))
	}
	return nil
}

// headByID follows the id pointer to the head record of id and returns the
// head's key and item. ErrNotFound if there is no pointer, or no head with
// that id where it points. The head is read strongly consistently.
func (s *Store) headByID(ctx context.Context, org, id string) (key, map[string]types.AttributeValue, error) {
	ptrKey, err := secretIDKey(org, id)
	if err != nil {
		return key{}, nil, notFoundIfInvalid(err)
	}
	ptr, err := s.get(ctx, ptrKey)
	if err != nil {
		return key{}, nil, fmt.Errorf("get id pointer: %w", err)
	}
	if ptr == nil {
		return key{}, nil, secrets.ErrNotFound
	}
	head := key{stringAttr(ptr, attrHeadPK), stringAttr(ptr, attrHeadSK)}
	item, err := s.get(ctx, head)
	if err != nil {
		return key{}, nil, fmt.Errorf("get head: %w", err)
	}
	if item == nil || stringAttr(item, attrID) != id {
		return head, nil, secrets.ErrNotFound
	}
	return head, item, nil
}

// checkStored explains why a write conditional on the head of id at
// version expected (0: any version) failed, from the head as it was: nil
// if it matched both.
func checkStored(old map[string]types.AttributeValue, id string, expected int64) error {
	if old == nil || stringAttr(old, attrID) != id {
		return secrets.ErrNotFound
	}
	if v := numberAttr(old, attrVersion); expected != 0 && v != expected {
		return fmt.Errorf("stored version %d, expected %d: %w", v, expected, secrets.ErrStale)
	}
	return nil
}

// UpdateSecret implements secrets.SecretStore: one PutItem that replaces
// the head if it still holds id at version expected and the same owner
// (layer and name are its key). The caller puts the version it replaces
// first (PutVersion), so history is whole even if it stops between. A
// failed condition where the head is exactly this record is an update
// that had landed (a retried request), not a stale one.
func (s *Store) UpdateSecret(ctx context.Context, sec *secrets.Secret, expected int64) error {
	if sec.Version != expected+1 {
		return fmt.Errorf("update secret %s: %w", sec.ID, secrets.Invalid("version", "the new version must be %d (expected+1), not %d", expected+1, sec.Version))
	}
	ptrKey, err := secretIDKey(sec.Org, sec.ID)
	if err != nil {
		return fmt.Errorf("update secret %s: %w", sec.ID, notFoundIfInvalid(err))
	}
	ptr, err := s.get(ctx, ptrKey)
	if err != nil {
		return fmt.Errorf("update secret %s: get id pointer: %w", sec.ID, err)
	}
	if ptr == nil {
		return fmt.Errorf("update secret %s: %w", sec.ID, secrets.ErrNotFound)
	}
	head := key{stringAttr(ptr, attrHeadPK), stringAttr(ptr, attrHeadSK)}
	refused := secrets.Invalid("secret", "layer, name and owner of a secret never change")

	item, err := secretItem(sec)
	if err != nil || stringAttr(item, AttrPK) != head.pk || stringAttr(item, AttrSK) != head.sk {
		// The record names another layer or name than the stored head:
		// refused, unless the head is gone or moved on.
		old, err := s.get(ctx, head)
		if err != nil {
			return fmt.Errorf("update secret %s: get head: %w", sec.ID, err)
		}
		if err := checkStored(old, sec.ID, expected); err != nil {
			return fmt.Errorf("update secret %s: %w", sec.ID, err)
		}
		return fmt.Errorf("update secret %s: %w", sec.ID, refused)
	}

	cond := "attribute_exists(#pk) AND #id = :id AND #version = :expected AND #owner.#subject = :subject AND #owner.#name = :name"
	_, err = s.api.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(s.table),
		Item:                     item,
		ConditionExpression:      aws.String(cond),
		ExpressionAttributeNames: exprNames(cond),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":id": str(sec.ID), ":expected": num(expected),
			":subject": str(sec.Owner.Subject), ":name": str(sec.Owner.Name),
		},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	failed, old := conditionFailed(err)
	if !failed {
		if err != nil {
			return fmt.Errorf("update secret %s: put head: %w", sec.ID, storeErr(err))
		}
		return nil
	}
	if old == nil {
		if old, err = s.get(ctx, head); err != nil {
			return fmt.Errorf("update secret %s: get head: %w", sec.ID, err)
		}
	}
	if sameItem(old, item) {
		return nil // this update's own head: it had landed
	}
	if err := checkStored(old, sec.ID, expected); err != nil {
		return fmt.Errorf("update secret %s: %w", sec.ID, err)
	}
	// Same id and version: the owner differs.
	return fmt.Errorf("update secret %s: %w", sec.ID, refused)
}

// DeleteSecret implements secrets.SecretStore. In order: the id pointer
// is marked as a delete under way, the head is deleted (a conditional
// delete: this is the delete), then the history, then the pointer. A crash
// after the head leaves history of an id no head has, which nothing reads,
// under a marked pointer, which FinishDelete, FinishDeleteByName and the
// sweep find. A head found gone when its delete is tried (the SDK's retry
// of a delete whose answer was lost, or another delete at the same moment)
// is a delete that happened: the rest is removed and the answer is success.
func (s *Store) DeleteSecret(ctx context.Context, org, id string, expected int64) error {
	ptrKey, err := secretIDKey(org, id)
	if err != nil {
		return fmt.Errorf("delete secret %s: %w", id, notFoundIfInvalid(err))
	}
	ptr, err := s.get(ctx, ptrKey)
	if err != nil {
		return fmt.Errorf("delete secret %s: get id pointer: %w", id, err)
	}
	if ptr == nil {
		// Gone already; history an interrupted delete left goes now.
		if _, err := s.finish(ctx, org, id, false); err != nil && !errors.Is(err, secrets.ErrNotFound) && !errors.Is(err, secrets.ErrExists) {
			return fmt.Errorf("delete secret %s: remove history left behind: %w", id, err)
		}
		return fmt.Errorf("delete secret %s: %w", id, secrets.ErrNotFound)
	}
	head := key{stringAttr(ptr, attrHeadPK), stringAttr(ptr, attrHeadSK)}
	if err := s.mark(ctx, org, id, ptrKey, head, pendingDelete); err != nil {
		return fmt.Errorf("delete secret %s: mark the delete under way: %w", id, err)
	}

	cond := "attribute_exists(#pk) AND #id = :id"
	values := map[string]types.AttributeValue{":id": str(id)}
	if expected != 0 {
		cond += " AND #version = :expected"
		values[":expected"] = num(expected)
	}
	_, err = s.api.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName:                           aws.String(s.table),
		Key:                                 head.av(),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            exprNames(cond),
		ExpressionAttributeValues:           values,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if failed, old := conditionFailed(err); failed {
		if old == nil {
			if old, err = s.get(ctx, head); err != nil {
				return fmt.Errorf("delete secret %s: get head: %w", id, err)
			}
		}
		err := checkStored(old, id, expected)
		if err == nil {
			// It matched when read again: it changed between the two.
			err = secrets.ErrStale
		}
		if !errors.Is(err, secrets.ErrNotFound) {
			// Still there, at another version: nothing is deleted.
			_ = s.unmark(ctx, ptrKey, head, pendingDelete)
			return fmt.Errorf("delete secret %s: %w", id, err)
		}
		// Gone: deleted by this very call before its answer was lost,
		// or by another at the same moment. Either way, finish it.
	} else if err != nil {
		return fmt.Errorf("delete secret %s: delete head: %w", id, storeErr(err))
	}
	if err := s.removeRest(ctx, org, id, ptrKey, head); err != nil {
		return fmt.Errorf("delete secret %s: the secret is deleted, but not all its history is (deleting it again, or the sweep, removes it): %w", id, err)
	}
	return nil
}

// removeRest removes what a secret leaves behind its head: the history,
// then the id pointer (if it still points at head), whose mark keeps what
// is left findable until then.
func (s *Store) removeRest(ctx context.Context, org, id string, ptr, head key) error {
	if err := s.deleteHistory(ctx, org, id, math.MaxInt64); err != nil {
		return err
	}
	if err := s.deleteKey(ctx, ptr, "#hpk = :hpk AND #hsk = :hsk", pointerValues(head)); err != nil {
		// The last write: if its answer was lost, the table says
		// whether it landed, and a delete that is done says so.
		if item, gerr := s.get(ctx, ptr); gerr == nil && item == nil {
			return nil
		}
		return fmt.Errorf("delete id pointer: %w", err)
	}
	return nil
}

// GetSecret implements secrets.SecretStore: the id pointer, then the head
// (two strongly consistent GetItems).
func (s *Store) GetSecret(ctx context.Context, org, id string) (*secrets.Secret, error) {
	_, item, err := s.headByID(ctx, org, id)
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", id, err)
	}
	sec, err := decodeHead(item)
	if err != nil {
		return nil, fmt.Errorf("get secret %s: %w", id, err)
	}
	if err := (secrets.Place{Org: org, ID: id}).Check(sec, "the head of id "+id); err != nil {
		return nil, err
	}
	return sec, nil
}

// GetSecretByName implements secrets.SecretStore: one GetItem.
func (s *Store) GetSecretByName(ctx context.Context, org string, layer secrets.Layer, name string) (*secrets.Secret, error) {
	k, err := headKey(org, layer, name)
	if err != nil {
		return nil, fmt.Errorf("get secret %s at %s: %w", name, layer, notFoundIfInvalid(err))
	}
	sec, err := getDecoded(ctx, s, k, decodeHead)
	if err != nil {
		return nil, fmt.Errorf("get secret %s at %s: %w", name, layer, err)
	}
	return sec, nil
}

// ListSecrets implements secrets.SecretStore: one Query.
func (s *Store) ListSecrets(ctx context.Context, org string, layer secrets.Layer) ([]*secrets.Secret, error) {
	list, err := s.listLayer(ctx, org, layer)
	if err != nil {
		return nil, fmt.Errorf("list secrets at %s: %w", layer, err)
	}
	return list, nil
}

// listLayer reads one layer's heads, ordered by name (the sort key), with
// one strongly consistent Query.
func (s *Store) listLayer(ctx context.Context, org string, layer secrets.Layer) ([]*secrets.Secret, error) {
	probe, err := headKey(org, layer, "x")
	if err != nil {
		return nil, nil // no head can be stored there
	}
	return queryAll(ctx, s, &dynamodb.QueryInput{
		KeyConditionExpression:    aws.String("#pk = :pk AND begins_with(#sk, :names)"),
		ExpressionAttributeNames:  exprNames("#pk #sk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(probe.pk), ":names": str(namePrefix)},
		ConsistentRead:            aws.Bool(true),
	}, decodeHead)
}

// ListSecretsIn implements secrets.SecretStore: one Query per layer, all
// at once, each asking only for what a resolve reads (resolveLayer). The
// layers are read at slightly different moments; a write that lands
// between two of them shows in one layer and not another, as it would
// between two requests.
func (s *Store) ListSecretsIn(ctx context.Context, org string, layers []secrets.Layer, env secrets.Environment) ([][]*secrets.Secret, error) {
	out, err := s.eachLayer(ctx, layers, func(ctx context.Context, layer secrets.Layer) ([]*secrets.Secret, error) {
		return s.resolveLayer(ctx, org, layer, env)
	})
	if err != nil {
		return nil, fmt.Errorf("list secrets at %w", err)
	}
	return out, nil
}

// eachLayer calls read for each of layers, all at once, and returns their
// answers in the order of layers. The first failure cancels the others
// and is returned (not a cancellation it caused), prefixed with its layer.
func (s *Store) eachLayer(ctx context.Context, layers []secrets.Layer, read func(context.Context, secrets.Layer) ([]*secrets.Secret, error)) ([][]*secrets.Secret, error) {
	out := make([][]*secrets.Secret, len(layers))
	errs := make([]error, len(layers))
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for i, layer := range layers {
		wg.Go(func() {
			out[i], errs[i] = read(ctx, layer)
			if errs[i] != nil {
				cancel() // the others' answers are of no use now
			}
		})
	}
	wg.Wait()
	var first error
	for i, err := range errs {
		if err != nil && (first == nil || errors.Is(first, context.Canceled) && !errors.Is(err, context.Canceled)) {
			first = fmt.Errorf("%s: %w", layers[i], err)
		}
	}
	if first != nil {
		return nil, first
	}
	return out, nil
}

// ListLayers implements secrets.SecretStore: one Query of GSI1, which
// holds the key of every app and machine head (not the global ones), so
// it reads one small index entry per secret. The index is eventually
// consistent: a layer may show or vanish a moment after its first
// secret's create or its last one's delete.
func (s *Store) ListLayers(ctx context.Context, org string) ([]secrets.Layer, error) {
	if checkParts(org) != nil {
		return nil, nil
	}
	seen := map[string]bool{}
	var layers []secrets.Layer
	err := s.query(ctx, &dynamodb.QueryInput{
		IndexName:                 aws.String(IndexGSI1),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  map[string]string{"#pk": AttrGSI1PK},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(layersPK(org))},
	}, func(item map[string]types.AttributeValue) (bool, error) {
		layerKey, _, _ := strings.Cut(stringAttr(item, AttrGSI1SK), sep)
		if seen[layerKey] {
			return true, nil
		}
		seen[layerKey] = true
		layer, err := parseLayerKey(layerKey)
		if err != nil {
			return false, err
		}
		layers = append(layers, layer)
		return true, nil
	})
	if err != nil {
		return nil, fmt.Errorf("list layers: %w", err)
	}
	slices.SortFunc(layers, secrets.CompareLayers)
	return layers, nil
}
