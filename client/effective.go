package client

import (
	"context"

	"github.com/zwrm/secrets/internal/secrets"
)

// Effective explains what a workload at layer receives in env, without a
// value: for each name, where its value comes from and what it overrides
// (GET /v1/effective, following every page). Any user may ask in any
// environment; a service token only within its scope, which supplies the
// layer it omits.
func (c *Client) Effective(ctx context.Context, env secrets.Environment, layer secrets.Layer) (*Effective, error) {
	var first *Effective
	all, err := allPages(ctx, "effective", func(ctx context.Context, p Page) ([]EffectiveSecret, string, error) {
		page, err := c.EffectivePage(ctx, env, layer, p)
		if err != nil {
			return nil, "", err
		}
		if first == nil {
			first = page
		}
		return page.Secrets, page.NextCursor, nil
	})
	if err != nil {
		return nil, err
	}
	out := *first
	out.Secrets, out.NextCursor = all, ""
	if out.Secrets == nil {
		out.Secrets = []EffectiveSecret{}
	}
	return &out, nil
}
