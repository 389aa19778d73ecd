package boltstore

import (
	"bytes"
	"context"

	"github.com/zwrm/secrets/internal/secrets"
)

// ListSecretsIn implements secrets.SecretStore, reading every layer in one
// transaction so that a resolve sees one state.
func (s *Store) ListSecretsIn(ctx context.Context, org string, layers []secrets.Layer, env secrets.Environment) ([][]*secrets.Secret, error) {
	out := make([][]*secrets.Secret, len(layers))
	err := s.scanLayers(ctx, org, layers, func(i int, k, v []byte) error {
		sec, err := decodeHead(k, v)
		if err != nil {
			return err
		}
		out[i] = append(out[i], resolveView(sec, env))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// resolveView is what ListSecretsIn returns of sec: a new record with the
// fields a resolve reads and env's value alone, sharing nothing mutable
// with sec.
func resolveView(sec *secrets.Secret, env secrets.Environment) *secrets.Secret {
	out := &secrets.Secret{ID: sec.ID, Org: sec.Org, Layer: sec.Layer, Name: sec.Name, Version: sec.Version, Owner: sec.Owner}
	if v, ok := sec.Values[env]; ok {
		v.Ciphertext = bytes.Clone(v.Ciphertext)
		out.Values = map[secrets.Environment]secrets.SealedValue{env: v}
	}
	return out
}
