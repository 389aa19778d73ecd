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

// found is where a record was found: the caller's org and what the lookup
// named. Empty parts were not named by the lookup (a list names the layer,
// not the names in it); the store decodes those from the record's key.
type found struct {
	org     string
	layer   *secrets.Layer
	name    string
	id      string
	version int64
}

// checkRecord refuses sec if its own fields disagree with where it was
// found: logged as an integrity error, answered as internal.
func (s *Service) checkRecord(ctx context.Context, sec *secrets.Secret, at found) error {
	var field string
	switch {
	case sec.Org != at.org:
		field = "org"
	case at.layer != nil && sec.Layer != *at.layer:
		field = "layer"
	case at.name != "" && sec.Name != at.name:
		field = "name"
	case at.id != "" && sec.ID != at.id:
		field = "id"
	case at.version != 0 && sec.Version != at.version:
		field = "version"
	default:
		return nil
	}
	layer := ""
	if at.layer != nil {
		layer = at.layer.Key()
	}
	s.cfg.Logger.ErrorContext(ctx, "integrity error: a stored record disagrees with where it was found",
		"request_id", RequestID(ctx), "org", at.org, "layer", layer, "name", at.name, "secret_id", at.id, "field", field)
	return secrets.Internalf(nil, "integrity error: the record of %s at %s in org %s names another %s", at.name, layer, at.org, field)
}

// binding is what the ciphertext of sec's value for env is bound to: the
// caller's org, and the layer, name, id and version of a record that
// checkRecord accepted for where it was found.
func binding(org string, sec *secrets.Secret, env secrets.Environment) envelope.Identity {
	return envelope.Identity{SecretID: sec.ID, Org: org, Layer: sec.Layer, Name: sec.Name, Environment: env, Version: sec.Version}
}
