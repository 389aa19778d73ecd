package service

import (
	"context"
	"errors"

	"github.com/zwrm/secrets/internal/secrets"
)

// Delete removes a secret and its history.
func (s *Service) Delete(ctx context.Context, id secrets.Identity, secretID string) error {
	if err := requireUser(id); err != nil {
		return err
	}
	head, err := s.get(ctx, id, secretID)
	if secrets.IsCode(err, secrets.CodeNotFound) {
		// No head: perhaps a delete that stopped half way, which
		// deleting again finishes.
		finished, ferr := s.finishDelete(ctx, id, secretID)
		if ferr != nil || finished {
			return ferr
		}
	}
	if err != nil {
		return err
	}
	return s.delete(ctx, id, head)
}

// finishDelete finishes the interrupted delete of secretID, if there is
// one, and reports whether it did. It needs the rights the delete needed,
// judged by the newest version kept of the secret (the head is gone): a
// refusal changes nothing. With no version kept, nothing but an id
// pointer is left, which anyone who may delete may remove.
func (s *Service) finishDelete(ctx context.Context, id secrets.Identity, secretID string) (bool, error) {
	versions, err := s.store.ListVersions(ctx, id.Org, secretID)
	if err != nil {
		return false, wrap(err, "read what a delete of secret %s left", secretID)
	}
	if len(versions) > 0 {
		newest := versions[0]
		if err := secrets.CheckModify(id, newest); err != nil {
			return false, err
		}
		if err := s.checkWrite(ctx, id, envsIn(newest.Values), deleting); err != nil {
			return false, err
		}
	}
	left, err := s.store.FinishDelete(ctx, id.Org, secretID)
	switch {
	case secrets.IsCode(err, secrets.CodeNotFound) || secrets.IsCode(err, secrets.CodeConflict):
		return false, nil
	case err != nil:
		return false, wrap(err, "finish the delete of secret %s", secretID)
	case !left.Deleted:
		return false, nil // history a racing writer put back: cleared, and still not found
	}
	s.auditFinished(ctx, id, []secrets.Leftover{*left})
	return true, nil
}

// deleting is what a delete does to each environment a secret holds a
// value of, as the environment policies' refusals say it.
const deleting = "deleting a secret that holds a %s value"

// finishedDetail marks the audit record of a delete that stopped half way
// and was finished later.
const finishedDetail = "completed an interrupted delete"

// auditFinished records each finished delete of removed as the delete it
// was: its own record was never written, since a delete is audited after
// the store is done.
func (s *Service) auditFinished(ctx context.Context, id secrets.Identity, removed []secrets.Leftover) {
	for _, left := range removed {
		if !left.Deleted {
			continue
		}
		r := &secrets.AuditRecord{Action: secrets.ActionSecretDelete, SecretID: left.ID, Detail: finishedDetail}
		if left.Name != "" {
			layer := left.Layer
			r.Layer = &layer
			r.Secrets = []secrets.AuditEntry{{Name: left.Name, Layer: left.Layer.Key()}}
		}
		s.audit(ctx, id, r)
	}
}

func (s *Service) delete(ctx context.Context, id secrets.Identity, head *secrets.Secret) error {
	if err := secrets.CheckModify(id, head); err != nil {
		return err
	}
	if err := s.checkWrite(ctx, id, envsIn(head.Values), deleting); err != nil {
		return err
	}
	// Conditional on the version checked above, so a change made meanwhile
	// by someone else is not deleted unseen.
	if err := s.store.DeleteSecret(ctx, id.Org, head.ID, head.Version); err != nil {
		if secrets.IsCode(err, secrets.CodeNotFound) {
			return notFound("secret " + head.Name)
		}
		if errors.Is(err, secrets.ErrStale) {
			return staleError(head.Version, 0)
		}
		return wrap(err, "delete secret %s", head.Name)
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionSecretDelete, SecretID: head.ID, Layer: &head.Layer,
		Secrets: []secrets.AuditEntry{{Name: head.Name, Layer: head.Layer.Key(), Version: head.Version}}})
	return nil
}

// DeleteByName removes the secret name at layer.
func (s *Service) DeleteByName(ctx context.Context, id secrets.Identity, layer secrets.Layer, name string) error {
	if err := requireUser(id); err != nil {
		return err
	}
	if err := secrets.ValidateName(name); err != nil {
		return err
	}
	head, err := s.secretByName(ctx, id.Org, layer, name)
	if secrets.IsCode(err, secrets.CodeNotFound) {
		// No head: perhaps the name's last delete stopped half way.
		ids, ferr := s.store.InterruptedDeletes(ctx, id.Org, layer, name)
		if ferr != nil {
			return wrap(ferr, "finish the deletes of %s at %s", name, layer)
		}
		finished := false
		for _, secretID := range ids {
			ok, ferr := s.finishDelete(ctx, id, secretID)
			if ferr != nil {
				return ferr
			}
			finished = finished || ok
		}
		if finished {
			return nil
		}
		return secrets.Errorf(secrets.CodeNotFound, "secret %s not found at the %s layer", name, layer)
	}
	if err != nil {
		return err
	}
	return s.delete(ctx, id, head)
}
