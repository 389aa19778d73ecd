package service

import (
	"context"
	"errors"
	"sort"
	"sync"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// Change kinds recorded on each version.
const (
	changeCreate  = "create"
	changeUpdate  = "update"
	changeRestore = "restore"
	changeRotate  = "rotate"
	changePolicy  = "rotation-policy"
)

// maxWriteAttempts bounds the retries of a write that carries no expected
// version (the org secrets API), when concurrent writers keep winning.
const maxWriteAttempts = 64

// CreateInput is a new secret.
type CreateInput struct {
	Layer       secrets.Layer
	Name        string
	Description string
	Values      map[secrets.Environment]string
}

// UpdateInput changes an existing secret. Only what is set changes: a nil
// Description keeps it, a Values entry with a nil value clears that
// environment, an absent entry keeps it.
type UpdateInput struct {
	Version     int64
	Description *string
	Values      map[secrets.Environment]*string
}

func validateValues(values map[secrets.Environment]string) error {
	if err := knownEnvs(values); err != nil {
		return err
	}
	for _, env := range envsIn(values) {
		if err := secrets.ValidateValue("values."+string(env), env, values[env]); err != nil {
			return err
		}
	}
	return nil
}

// knownEnvs refuses a key of m that is not an environment.
func knownEnvs[V any](m map[secrets.Environment]V) error {
	for env := range m {
		if _, err := secrets.ParseEnvironment("values", string(env)); err != nil {
			return err
		}
	}
	return nil
}

// envsIn returns the environments m has a key for, in display order.
func envsIn[V any](m map[secrets.Environment]V) []secrets.Environment {
	var out []secrets.Environment
	for _, env := range secrets.Environments {
		if _, ok := m[env]; ok {
			out = append(out, env)
		}
	}
	return out
}

// Create stores a new secret owned by the caller.
func (s *Service) Create(ctx context.Context, id secrets.Identity, in CreateInput) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	if err := secrets.ValidateName(in.Name); err != nil {
		return nil, err
	}
	if err := secrets.ValidateDescription(in.Description); err != nil {
		return nil, err
	}
	if err := validateValues(in.Values); err != nil {
		return nil, err
	}
	if _, err := secrets.NewLayer(in.Layer.App, in.Layer.Machine); err != nil {
		return nil, err
	}
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkEnvironments(id, org, envsIn(in.Values), "setting a %s value"); err != nil {
		return nil, err
	}
	if err := s.checkValueWrite(ctx, id, in.Layer, in.Name); err != nil {
		return nil, err
	}
	sec, err := s.create(ctx, id, in)
	if errors.Is(err, secrets.ErrExists) {
		return nil, &secrets.Error{Code: secrets.CodeConflict, Field: "name",
			Message: "the name " + in.Name + " is already taken in this organization (" + in.Layer.String() + " layer); pick another name or edit the existing secret"}
	}
	return sec, err
}

// checkValueWrite refuses a secret, or a value of one, that id may not
// write: under a reserved name without the admin role, or at a layer
// above a secret of the same name that id may not modify (the higher one
// overrides it for every workload of its layer). It applies to creates
// and to every later write of a value: a secret created before the one it
// now overrides must not gain values its writer could not create.
func (s *Service) checkValueWrite(ctx context.Context, id secrets.Identity, layer secrets.Layer, name string) error {
	if err := secrets.CheckReservedName(id, name); err != nil {
		return err
	}
	chain := layer.ResolveChain()
	for i := len(chain) - 2; i >= 0; i-- {
		lower, err := s.secretByName(ctx, id.Org, chain[i], name)
		if secrets.IsCode(err, secrets.CodeNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		if err := secrets.CheckOverride(id, lower); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) create(ctx context.Context, id secrets.Identity, in CreateInput) (*secrets.Secret, error) {
	now := s.now()
	sec := &secrets.Secret{
		ID: uuid.NewString(), Org: id.Org, Layer: in.Layer, Name: in.Name, Description: in.Description,
		Owner: id.Principal(), CreatedAt: now, UpdatedAt: now, UpdatedBy: id.Principal(),
		Version: 1, Change: changeCreate,
	}
	if err := s.seal(ctx, sec, in.Values); err != nil {
		return nil, err
	}
	if err := s.store.CreateSecret(ctx, sec); err != nil {
		return nil, wrap(err, "create secret %s", sec.Name)
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionSecretCreate, SecretID: sec.ID, Layer: &sec.Layer,
		Secrets: []secrets.AuditEntry{{Name: sec.Name, Layer: sec.Layer.Key(), Version: sec.Version}}, Detail: changedEnvs(in.Values)})
	return sec, nil
}

// seal sets sec.Values to plain sealed under sec's binding. sec is a
// record this service built (its org is the caller's).
func (s *Service) seal(ctx context.Context, sec *secrets.Secret, plain map[secrets.Environment]string) error {
	sec.Values = make(map[secrets.Environment]secrets.SealedValue, len(plain))
	for env, v := range plain {
		ct, err := s.sealer.Seal(ctx, binding(sec.Org, sec, env), []byte(v))
		if err != nil {
			return wrap(err, "seal %s", env)
		}
		sec.Values[env] = secrets.SealedValue{Ciphertext: ct, Mask: secrets.Mask(v), MaskRule: secrets.MaskRule}
	}
	return nil
}

// open returns every value of sec in plaintext. sec must have passed
// checkRecord for org, the caller's organization.
func (s *Service) open(ctx context.Context, org string, sec *secrets.Secret) (map[secrets.Environment]string, error) {
	plain := make(map[secrets.Environment]string, len(sec.Values))
	for env, sv := range sec.Values {
		p, err := s.sealer.Open(ctx, binding(org, sec, env), sv.Ciphertext)
		if err != nil {
			return nil, err
		}
		plain[env] = string(p)
	}
	return plain, nil
}

// replace writes the next version of head: it keeps head in history, seals
// the values again for the new version (ciphertexts are bound
// to their version), and replaces head if nobody changed it meanwhile.
//
// edit sets what else changes (description, change, rotation) on the next
// version, which starts as a copy of head at the next version number.
func (s *Service) replace(ctx context.Context, id secrets.Identity, head *secrets.Secret,
	plain map[secrets.Environment]string, edit func(next *secrets.Secret)) (*secrets.Secret, error) {
	next := *head
	next.Version = head.Version + 1
	next.UpdatedAt = s.now()
	next.UpdatedBy = id.Principal()
	next.RestoredFrom = 0
	edit(&next)
	if err := s.seal(ctx, &next, plain); err != nil {
		return nil, err
	}
	// History first: if we stop between the two writes, the version we
	// meant to replace is kept twice (harmless), never lost.
	if err := s.store.PutVersion(ctx, head); err != nil {
		return nil, wrap(err, "keep version %d of %s", head.Version, head.Name)
	}
	if err := s.store.UpdateSecret(ctx, &next, head.Version); err != nil {
		if secrets.IsCode(err, secrets.CodeNotFound) {
			// Deleted between our read and our write: the history record
			// we just kept belongs to a deleted secret. Clear it. (The
			// delete audits itself; this is no delete of its own.)
			if _, ferr := s.store.FinishDelete(context.WithoutCancel(ctx), head.Org, head.ID); ferr != nil && !secrets.IsCode(ferr, secrets.CodeNotFound) && !secrets.IsCode(ferr, secrets.CodeConflict) {
				s.cfg.Logger.WarnContext(ctx, "clear history of a deleted secret failed", "request_id", RequestID(ctx), "secret_id", head.ID, "error", ferr.Error())
			}
		}
		return nil, wrap(err, "update secret %s", head.Name)
	}
	if keepFrom := s.keepFrom(next.Version); keepFrom > 1 {
		if err := s.store.PruneVersions(ctx, id.Org, next.ID, keepFrom); err != nil {
			s.cfg.Logger.WarnContext(ctx, "prune versions failed", "request_id", RequestID(ctx), "secret_id", next.ID, "error", err.Error())
		}
	}
	return &next, nil
}

// keepFrom is the oldest version kept when version current is the head.
func (s *Service) keepFrom(current int64) int64 {
	return max(1, current-int64(s.cfg.MaxVersions)+1)
}

// Get returns a secret of the caller's org by id.
func (s *Service) Get(ctx context.Context, id secrets.Identity, secretID string) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	return s.get(ctx, id, secretID)
}

func (s *Service) get(ctx context.Context, id secrets.Identity, secretID string) (*secrets.Secret, error) {
	if uuid.Validate(secretID) != nil {
		return nil, notFound("secret " + secretID)
	}
	sec, err := s.store.GetSecret(ctx, id.Org, secretID)
	if secrets.IsCode(err, secrets.CodeNotFound) {
		return nil, notFound("secret " + secretID)
	}
	if err != nil {
		return nil, wrap(err, "get secret %s", secretID)
	}
	if err := s.checkRecord(ctx, sec, secrets.Place{Org: id.Org, ID: secretID}); err != nil {
		return nil, err
	}
	return sec, nil
}

// secretByName returns the head of name at layer in org, checked against
// where it was found.
func (s *Service) secretByName(ctx context.Context, org string, layer secrets.Layer, name string) (*secrets.Secret, error) {
	sec, err := s.store.GetSecretByName(ctx, org, layer, name)
	if err != nil {
		if secrets.IsCode(err, secrets.CodeNotFound) {
			return nil, err
		}
		return nil, wrap(err, "get secret %s at %s", name, layer)
	}
	if err := s.checkRecord(ctx, sec, secrets.Place{Org: org, Layer: &layer, Name: name}); err != nil {
		return nil, err
	}
	return sec, nil
}

// Update applies in to a secret if in.Version is its current version.
func (s *Service) Update(ctx context.Context, id secrets.Identity, secretID string, in UpdateInput) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	if in.Version < 1 {
		return nil, secrets.Invalid("version", "is required: the version you are changing, as you last read it")
	}
	if in.Description == nil && len(in.Values) == 0 {
		return nil, secrets.Invalid("", "nothing to change: send description or values")
	}
	if in.Description != nil {
		if err := secrets.ValidateDescription(*in.Description); err != nil {
			return nil, err
		}
	}
	if err := knownEnvs(in.Values); err != nil {
		return nil, err
	}
	var set, cleared []secrets.Environment
	for _, env := range envsIn(in.Values) {
		if v := in.Values[env]; v != nil {
			if err := secrets.ValidateValue("values."+string(env), env, *v); err != nil {
				return nil, err
			}
			set = append(set, env)
		} else {
			cleared = append(cleared, env)
		}
	}
	head, err := s.get(ctx, id, secretID)
	if err != nil {
		return nil, err
	}
	if err := secrets.CheckModify(id, head); err != nil {
		return nil, err
	}
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := checkEnvironments(id, org, set, "setting a %s value"); err != nil {
		return nil, err
	}
	if err := checkEnvironments(id, org, cleared, "clearing a %s value"); err != nil {
		return nil, err
	}
	if len(set) > 0 {
		if err := s.checkValueWrite(ctx, id, head.Layer, head.Name); err != nil {
			return nil, err
		}
	}
	if head.Version != in.Version {
		return nil, staleError(in.Version, head.Version)
	}
	plain, err := s.open(ctx, id.Org, head)
	if err != nil {
		return nil, err
	}
	for env, v := range in.Values {
		if v == nil {
			delete(plain, env)
		} else {
			plain[env] = *v
		}
	}
	description := head.Description
	if in.Description != nil {
		description = *in.Description
	}
	next, err := s.replace(ctx, id, head, plain, func(next *secrets.Secret) {
		next.Description, next.Change = description, changeUpdate
	})
	if errors.Is(err, secrets.ErrStale) {
		return nil, staleError(in.Version, 0)
	}
	if err != nil {
		return nil, err
	}
	detail := "values: " + changedEnvsPtr(in.Values)
	if in.Description != nil {
		detail += "; description"
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionSecretUpdate, SecretID: next.ID, Layer: &next.Layer,
		Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}}, Detail: detail})
	return next, nil
}

func staleError(sent, current int64) error {
	msg := "version " + itoa(sent) + " is stale: someone changed this secret"
	if current > 0 {
		msg += " (it is now at version " + itoa(current) + ")"
	}
	return &secrets.Error{Code: secrets.CodeConflict, Field: "version", Message: msg + "; reload it and apply your change again"}
}

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
		org, err := s.writeOrg(ctx, id)
		if err != nil {
			return false, err
		}
		if err := checkEnvironments(id, org, envsIn(newest.Values), "deleting a secret that holds a %s value"); err != nil {
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
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return err
	}
	if err := checkEnvironments(id, org, envsIn(head.Values), "deleting a secret that holds a %s value"); err != nil {
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

// List returns one page of the secrets at one layer, in name order, and
// the cursor of the next page ("" after the last). It reads only that page
// (and one name more, to know whether another follows).
func (s *Service) List(ctx context.Context, id secrets.Identity, layer secrets.Layer, page PageRequest) ([]*secrets.Secret, string, error) {
	if err := requireUser(id); err != nil {
		return nil, "", err
	}
	after, limit, err := page.parse()
	if err != nil {
		return nil, "", err
	}
	lists, err := s.store.ListSecretsAfter(ctx, id.Org, []secrets.Layer{layer}, after, limit+1)
	if err != nil {
		return nil, "", wrap(err, "list secrets at %s", layer)
	}
	list, next := lists[0], ""
	if len(list) > limit {
		list = list[:limit]
		next = CursorAfter(list[limit-1].Name)
	}
	for _, sec := range list {
		if err := s.checkRecord(ctx, sec, secrets.Place{Org: id.Org, Layer: &layer}); err != nil {
			return nil, "", err
		}
	}
	return list, next, nil
}

// Layers returns the app and machine layers that hold secrets.
func (s *Service) Layers(ctx context.Context, id secrets.Identity) ([]secrets.Layer, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	layers, err := s.store.ListLayers(ctx, id.Org)
	if err != nil {
		return nil, wrap(err, "list layers")
	}
	return layers, nil
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
	head, err := s.get(ctx, id, secretID)
	if err != nil {
		return nil, err
	}
	if err := secrets.CheckModify(id, head); err != nil {
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
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	changed := changedBetween(current, plain)
	if err := checkEnvironments(id, org, changed, "restoring a version that changes the %s value"); err != nil {
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

// SetValue creates or updates the secret name at layer with value for env
// (all three environments when env is ""): the org, app and machine secrets
// API. It carries no expected version: concurrent calls all succeed, each
// as its own version.
func (s *Service) SetValue(ctx context.Context, id secrets.Identity, layer secrets.Layer, name, value string, env secrets.Environment) (sec *secrets.Secret, created bool, err error) {
	if err := requireUser(id); err != nil {
		return nil, false, err
	}
	if err := secrets.ValidateName(name); err != nil {
		return nil, false, err
	}
	if err := secrets.ValidateValue("value", env, value); err != nil {
		return nil, false, err
	}
	envs := secrets.Environments
	if env != "" {
		envs = []secrets.Environment{env}
	}
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, false, err
	}
	// Writers of one name in this process take turns, so that they do not
	// spin on each other's conflicts.
	unlock, err := s.writers.lock(ctx, id.Org+"\x00"+layer.Key()+"\x00"+name)
	if err != nil {
		return nil, false, err
	}
	defer unlock()
	// Reads the lower layers: once, whichever way the attempts go.
	checkValueWrite := sync.OnceValue(func() error { return s.checkValueWrite(ctx, id, layer, name) })
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, false, err
			}
		}
		head, err := s.secretByName(ctx, id.Org, layer, name)
		if secrets.IsCode(err, secrets.CodeNotFound) {
			if err := checkEnvironments(id, org, envs, "setting a %s value"); err != nil {
				return nil, false, err
			}
			if err := checkValueWrite(); err != nil {
				return nil, false, err
			}
			values := map[secrets.Environment]string{}
			for _, e := range envs {
				values[e] = value
			}
			sec, err := s.create(ctx, id, CreateInput{Layer: layer, Name: name, Values: values})
			if errors.Is(err, secrets.ErrExists) {
				continue // created meanwhile: update it instead
			}
			return sec, err == nil, err
		}
		if err != nil {
			return nil, false, wrap(err, "get secret %s", name)
		}
		if err := secrets.CheckModify(id, head); err != nil {
			return nil, false, err
		}
		if err := checkEnvironments(id, org, envs, "setting a %s value"); err != nil {
			return nil, false, err
		}
		if err := checkValueWrite(); err != nil {
			return nil, false, err
		}
		plain, err := s.open(ctx, id.Org, head)
		if err != nil {
			return nil, false, err
		}
		for _, e := range envs {
			plain[e] = value
		}
		next, err := s.replace(ctx, id, head, plain, func(next *secrets.Secret) { next.Change = changeUpdate })
		if errors.Is(err, secrets.ErrStale) || secrets.IsCode(err, secrets.CodeNotFound) {
			continue // changed or deleted meanwhile: read again
		}
		if err != nil {
			return nil, false, err
		}
		s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionSecretUpdate, SecretID: next.ID, Layer: &next.Layer,
			Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}}, Detail: "values: " + envList(envs)})
		return next, false, nil
	}
	return nil, false, busy(ctx)
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

func envList(envs []secrets.Environment) string {
	out := ""
	for i, e := range envs {
		if i > 0 {
			out += ","
		}
		out += string(e)
	}
	return out
}

// changedEnvs names the environments set, in display order.
func changedEnvs(values map[secrets.Environment]string) string {
	return "values: " + envList(envsIn(values))
}

// changedEnvsPtr names the environments set or cleared, in display order.
func changedEnvsPtr(values map[secrets.Environment]*string) string {
	out := ""
	for _, e := range secrets.Environments {
		v, ok := values[e]
		if !ok {
			continue
		}
		if out != "" {
			out += ","
		}
		if v == nil {
			out += string(e) + " cleared"
		} else {
			out += string(e) + " set"
		}
	}
	return out
}
