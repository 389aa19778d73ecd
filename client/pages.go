package client

import (
	"context"
	"fmt"
	"net/url"
	"strconv"

	"github.com/zwrm/secrets/internal/secrets"
)

// Page asks for one page of a list. The zero Page is the first page at the
// server's default size (500).
type Page struct {
	// Limit is the most entries the page holds, 1 to 1000; 0 is the
	// server's default. The server may answer fewer (it keeps an answer
	// under 1 MiB) and still have more.
	Limit int
	// Cursor is the NextCursor of the previous page, or "" for the first.
	Cursor string
}

func (p Page) query(q url.Values) url.Values {
	if q == nil {
		q = url.Values{}
	}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.Cursor != "" {
		q.Set("cursor", p.Cursor)
	}
	return q
}

// maxPages bounds how many pages an all-pages call follows: far more than
// any organization holds (a million secrets at the default size), and a
// stop for a server that never says the last page.
const maxPages = 2000

// allPages calls fetch with each cursor, from the first page, until a page
// says it is the last, and returns every entry in order.
func allPages[T any](ctx context.Context, what string, fetch func(ctx context.Context, p Page) ([]T, string, error)) ([]T, error) {
	var all []T
	p := Page{}
	for range maxPages {
		items, next, err := fetch(ctx, p)
		if err != nil {
			return nil, err
		}
		all = append(all, items...)
		if next == "" {
			return all, nil
		}
		if next == p.Cursor {
			return nil, fmt.Errorf("%s: the server answered the same page cursor twice", what)
		}
		p.Cursor = next
	}
	return nil, fmt.Errorf("%s: more than %d pages", what, maxPages)
}

// ListSecretsPage returns one page of the secrets at layer, in name order
// (GET /v1/secrets?app=&machine=&limit=&cursor=).
func (c *Client) ListSecretsPage(ctx context.Context, layer secrets.Layer, p Page) (*SecretPage, error) {
	var out SecretPage
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/secrets", query: p.query(layerQuery(layer))}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListLayerSecretsPage returns one page of the secrets at layer in the
// org, app and machine secrets API, in name order.
func (c *Client) ListLayerSecretsPage(ctx context.Context, layer secrets.Layer, p Page) (*LayerSecretPage, error) {
	var out LayerSecretPage
	if _, err := c.do(ctx, request{method: "GET", path: layerPath(layer), query: p.query(nil)}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// EffectivePage returns one page of what a workload at layer receives in
// env (GET /v1/effective). A page may hold fewer secrets than its limit,
// even none, and still have a next one.
func (c *Client) EffectivePage(ctx context.Context, env secrets.Environment, layer secrets.Layer, p Page) (*Effective, error) {
	q := layerQuery(layer)
	q.Set("environment", string(env))
	var out Effective
	if _, err := c.do(ctx, request{method: "GET", path: "/v1/effective", query: p.query(q)}, &out); err != nil {
		return nil, err
	}
	if out.Secrets == nil {
		out.Secrets = []EffectiveSecret{}
	}
	return &out, nil
}
