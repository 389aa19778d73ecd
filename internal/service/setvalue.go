package service

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/zwrm/secrets/internal/secrets"
)

// SetValue creates or updates the secret name at layer with value for env
// (all three environments when env is ""): the org, app and machine secrets
// API. It carries no expected version: concurrent calls all succeed, each
// as its own version.
func (s *Service) SetValue(ctx context.Context, id secrets.Identity, layer secrets.Layer, name, value string, env secrets.Environment) (sec *secrets.Secret, created bool, err error) {
	return s.SetValueWith(ctx, id, layer, name, value, env, SetOptions{})
}

// SetOptions change what SetValueWith refuses.
type SetOptions struct {
	// OnlyIfSame refuses a write to every environment (env "") of a
	// secret whose environments already hold different values, so one
	// value does not silently replace, say, production's own: the caller
	// then names an environment, or asks again without it.
	OnlyIfSame bool
}

// SetValueWith is SetValue with options. It returns CodeInvalid on the
// field "only_if_same" when that option refuses the write.
func (s *Service) SetValueWith(ctx context.Context, id secrets.Identity, layer secrets.Layer, name, value string, env secrets.Environment, opts SetOptions) (sec *secrets.Secret, created bool, err error) {
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
		if opts.OnlyIfSame && env == "" && !allSame(plain) {
			return nil, false, secrets.Invalid("only_if_same", "%s holds different values in %s: name one environment, or replace them all", name, joinEnvs(setEnvs(plain), ", "))
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

// allSame reports whether every environment holds the same value.
func allSame(plain map[secrets.Environment]string) bool {
	first, seen := "", false
	for _, v := range plain {
		if seen && v != first {
			return false
		}
		first, seen = v, true
	}
	return true
}

func joinEnvs(envs []secrets.Environment, sep string) string {
	out := make([]string, len(envs))
	for i, e := range envs {
		out[i] = string(e)
	}
	return strings.Join(out, sep)
}

// setEnvs lists the environments that hold a value, in display order.
func setEnvs(plain map[secrets.Environment]string) []secrets.Environment {
	var out []secrets.Environment
	for _, env := range secrets.Environments {
		if _, ok := plain[env]; ok {
			out = append(out, env)
		}
	}
	return out
}
