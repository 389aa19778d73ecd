package client

import (
	"context"

	"github.com/zwrm/secrets/internal/secrets"
)

// Effective is the answer of GET /v1/effective: what a resolve at a layer
// would return for an environment, with masks in place of values. App and
// Machine are the layer asked for ("" when left out).
type Effective struct {
	Environment secrets.Environment `json:"environment"`
	App         string              `json:"app"`
	Machine     string              `json:"machine"`
	Secrets     []EffectiveSecret   `json:"secrets"`
	// NextCursor is the cursor of the page after this one ("" on the last,
	// and after Effective, which reads them all).
	NextCursor string `json:"next_cursor,omitempty"`
}

// EffectiveSecret is one name a workload at the layer receives: the layer
// of the chain its value comes from ("global", "app" or "machine"), that
// secret's id, version, owner and mask, and the lower layers it overrides,
// nearest first.
type EffectiveSecret struct {
	Name      string              `json:"name"`
	ID        string              `json:"id"`
	Layer     string              `json:"layer"`
	Version   int64               `json:"version"`
	Mask      string              `json:"mask"`
	Owner     secrets.Principal   `json:"owner"`
	Overrides []EffectiveOverride `json:"overrides"`
}

// EffectiveOverride is a lower layer's value that the winner hides.
type EffectiveOverride struct {
	Layer   string            `json:"layer"`
	Version int64             `json:"version"`
	Owner   secrets.Principal `json:"owner"`
}

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
