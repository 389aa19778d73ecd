package service

import (
	"context"

	"github.com/zwrm/secrets/internal/secrets"
)

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
