package service

import (
	"context"
	"errors"
	"sort"

	"github.com/zwrm/secrets/internal/secrets"
)

// keepFrom is the oldest version kept when version current is the head.
func (s *Service) keepFrom(current int64) int64 {
	return max(1, current-int64(s.cfg.MaxVersions)+1)
}

// Versions returns a secret's versions, newest (the current one) first.
func (s *Service) Versions(ctx context.Context, id secrets.Identity, secretID string) ([]*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	head, err := s.get(ctx, id, secretID)
	if err != nil {
		return nil, err
	}
	history, err := s.store.ListVersions(ctx, id.Org, head.ID)
	if err != nil {
		return nil, wrap(err, "list versions of %s", head.Name)
	}
	out := []*secrets.Secret{head}
	keepFrom := s.keepFrom(head.Version)
	for _, v := range history {
		if err := s.checkRecord(ctx, v, secrets.Place{Org: id.Org, Layer: &head.Layer, Name: head.Name, ID: head.ID}); err != nil {
			return nil, err
		}
		// A version kept by a writer that then lost its race is the head
		// itself: list it once. One older than the kept window is a
		// pruned version a slow writer put back; the next prune removes it.
		if v.Version < head.Version && v.Version >= keepFrom {
			out = append(out, v)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Version > out[j].Version })
	return out, nil
}

// Restore makes version n of a secret its current content again, as a new
// version.
func (s *Service) Restore(ctx context.Context, id secrets.Identity, secretID string, n int64) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	head, err := s.getToModify(ctx, id, secretID)
	if err != nil {
		return nil, err
	}
	var old *secrets.Secret
	switch {
	case n == head.Version:
		old = head
	case n < 1 || n > head.Version:
		return nil, secrets.Errorf(secrets.CodeNotFound, "version %d of %s not found: versions run from 1 to %d", n, head.Name, head.Version)
	case n < s.keepFrom(head.Version):
		return nil, secrets.Errorf(secrets.CodeNotFound, "version %d of %s is no longer kept (the last %d versions are)", n, head.Name, s.cfg.MaxVersions)
	default:
		old, err = s.store.GetVersion(ctx, id.Org, head.ID, n)
		if secrets.IsCode(err, secrets.CodeNotFound) {
			return nil, secrets.Errorf(secrets.CodeNotFound, "version %d of %s is no longer kept (the last %d versions are)", n, head.Name, s.cfg.MaxVersions)
		}
		if err != nil {
			return nil, wrap(err, "get version %d of %s", n, head.Name)
		}
		if err := s.checkRecord(ctx, old, secrets.Place{Org: id.Org, Layer: &head.Layer, Name: head.Name, ID: head.ID, Version: n}); err != nil {
			return nil, err
		}
	}
	plain, err := s.open(ctx, id.Org, old)
	if err != nil {
		return nil, err
	}
	current, err := s.open(ctx, id.Org, head)
	if err != nil {
		return nil, err
	}
	changed := changedBetween(current, plain)
	if err := s.checkWrite(ctx, id, changed, "restoring a version that changes the %s value"); err != nil {
		return nil, err
	}
	setsValue := false
	for _, env := range changed {
		if v, ok := plain[env]; ok {
			// A version kept before values were checked may hold what no
			// write may store now.
			if err := secrets.ValidateValue("version", env, v); err != nil {
				return nil, err
			}
			setsValue = true
		}
	}
	if setsValue {
		if err := s.checkValueWrite(ctx, id, head.Layer, head.Name); err != nil {
			return nil, err
		}
	}
	next, err := s.replace(ctx, id, head, plain, func(next *secrets.Secret) {
		next.Description, next.Change, next.RestoredFrom = old.Description, changeRestore, n
	})
	if errors.Is(err, secrets.ErrStale) {
		return nil, staleError(head.Version, 0)
	}
	if err != nil {
		return nil, err
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionSecretRestore, SecretID: next.ID, Layer: &next.Layer,
		Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}}, Detail: "restored version " + itoa(n)})
	return next, nil
}

// changedBetween returns the environments whose value differs between a
// and b (set in one only, or set to different values), in display order.
func changedBetween(a, b map[secrets.Environment]string) []secrets.Environment {
	var out []secrets.Environment
	for _, env := range secrets.Environments {
		va, inA := a[env]
		vb, inB := b[env]
		if inA != inB || va != vb {
			out = append(out, env)
		}
	}
	return out
}
