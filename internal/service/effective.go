package service

import (
	"context"
	"slices"
	"strings"

	"github.com/zwrm/secrets/internal/secrets"
)

// EffectiveInput asks what a workload at a layer receives in one
// environment.
type EffectiveInput struct {
	Environment secrets.Environment
	Layer       secrets.Layer
}

// EffectiveEntry is one name a resolve at the layer would return: where its
// value comes from, the value's mask, and the lower layers it overrides.
type EffectiveEntry struct {
	Name    string
	ID      string
	Layer   secrets.Layer
	Version int64
	Owner   secrets.Principal
	Mask    string
	// Overrides are the lower layers of the chain that also hold a value
	// for the name in the environment, nearest first.
	Overrides []EffectiveOverride
}

// EffectiveOverride is a lower layer's value that a higher one hides.
type EffectiveOverride struct {
	Layer   secrets.Layer
	Version int64
	Owner   secrets.Principal
}

// Effective explains a resolve without performing it: for each name that
// a resolve at in.Layer for in.Environment would return, the layer and
// version it would come from, its mask, and what it overrides; sorted by
// name. It reads the chain's head records in one store call and opens no
// value, so it unwraps no data key and is not audited.
//
// Any user of the org may ask, in any environment, since only masks leave.
// Service and IAM tokens ask within their scope, as for a resolve.
//
// It also returns the layer explained: a service token that names none is
// explained at its scope's.
func (s *Service) Effective(ctx context.Context, id secrets.Identity, in EffectiveInput) (secrets.Layer, []EffectiveEntry, error) {
	if _, err := secrets.ParseEnvironment("environment", string(in.Environment)); err != nil {
		return secrets.Layer{}, nil, err
	}
	layer, err := s.effectiveLayer(ctx, id, in)
	if err != nil {
		return secrets.Layer{}, nil, err
	}
	chain := layer.ResolveChain()
	lists, err := s.store.ListSecretsIn(ctx, id.Org, chain, in.Environment)
	if err != nil {
		return secrets.Layer{}, nil, wrap(err, "read secrets for effective")
	}
	// holders lists, per name, the secrets holding a value for the
	// environment, highest layer first: the winner, then what it overrides.
	holders := map[string][]*secrets.Secret{}
	for i := len(lists) - 1; i >= 0; i-- {
		for _, sec := range lists[i] {
			if err := s.checkRecord(ctx, sec, secrets.Place{Org: id.Org, Layer: &chain[i]}); err != nil {
				return secrets.Layer{}, nil, err
			}
			if sec.Has(in.Environment) {
				holders[sec.Name] = append(holders[sec.Name], sec)
			}
		}
	}
	out := make([]EffectiveEntry, 0, len(holders))
	for name, hs := range holders {
		win := hs[0]
		e := EffectiveEntry{Name: name, ID: win.ID, Layer: win.Layer, Version: win.Version, Owner: win.Owner,
			Mask: win.Values[in.Environment].Mask, Overrides: make([]EffectiveOverride, 0, len(hs)-1)}
		for _, lower := range hs[1:] {
			e.Overrides = append(e.Overrides, EffectiveOverride{Layer: lower.Layer, Version: lower.Version, Owner: lower.Owner})
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b EffectiveEntry) int { return strings.Compare(a.Name, b.Name) })
	return layer, out, nil
}

// effectiveLayer checks that id may ask about in and returns the layer to
// explain. Service and IAM tokens are held to their scope exactly as a
// resolve holds them (which also fills in the app and machine they leave
// out); users are not held to the environments they may resolve, since
// no value leaves.
func (s *Service) effectiveLayer(ctx context.Context, id secrets.Identity, in EffectiveInput) (secrets.Layer, error) {
	switch id.Kind {
	case secrets.TokenUser:
		return in.Layer, nil
	case secrets.TokenService, secrets.TokenIAM:
		return s.resolveLayer(ctx, id, ResolveInput(in))
	}
	return secrets.Layer{}, secrets.Errorf(secrets.CodeForbidden, "this token may not read effective secrets")
}
