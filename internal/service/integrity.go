package service

import (
	"context"

	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/secrets"
)

// Storage is untrusted: a record is bound to where it was found, never to
// what it says about itself. The org is always the caller's (it picks the
// data key), and the layer, name and id come from the lookup that found
// the record; a record whose own fields disagree is refused before any of
// it is used.

// checkRecord refuses sec if its own fields disagree with where it was
// found: logged as an integrity error, answered as internal.
func (s *Service) checkRecord(ctx context.Context, sec *secrets.Secret, at secrets.Place) error {
	field := at.Mismatch(sec)
	if field == "" {
		return nil
	}
	s.cfg.Logger.ErrorContext(ctx, "integrity error: a stored record disagrees with where it was found",
		"request_id", RequestID(ctx), "org", at.Org, "place", at.String(), "secret_id", at.ID, "field", field)
	return at.Check(sec, at.String())
}

// binding is what the ciphertext of sec's value for env is bound to: the
// caller's org, and the layer, name, id and version of a record that
// checkRecord accepted for where it was found.
func binding(org string, sec *secrets.Secret, env secrets.Environment) envelope.Binding {
	return envelope.Binding{SecretID: sec.ID, Org: org, Layer: sec.Layer, Name: sec.Name, Environment: env, Version: sec.Version}
}
