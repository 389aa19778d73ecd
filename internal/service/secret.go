package service

import (
	"context"
	"errors"

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
	if err := s.checkWrite(ctx, id, envsIn(in.Values), "setting a %s value"); err != nil {
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
		fp, err := s.sealer.Fingerprint(ctx, sec.Org, env, sec.ID, []byte(v))
		if err != nil {
			return wrap(err, "fingerprint %s", env)
		}
		sec.Values[env] = secrets.SealedValue{Ciphertext: ct, Mask: secrets.Mask(v), MaskRule: secrets.MaskRule, Fingerprint: fp}
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

// getToModify returns the head of secretID if id may modify it.
func (s *Service) getToModify(ctx context.Context, id secrets.Identity, secretID string) (*secrets.Secret, error) {
	head, err := s.get(ctx, id, secretID)
	if err != nil {
		return nil, err
	}
	if err := secrets.CheckModify(id, head); err != nil {
		return nil, err
	}
	return head, nil
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
	head, err := s.getToModify(ctx, id, secretID)
	if err != nil {
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
