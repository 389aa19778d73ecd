package bench_test

import (
	"context"
	"io"
	"net/http"
	"sync/atomic"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynamostore"
)

// ddbCounts are the DynamoDB calls the store made, by operation.
type ddbCounts struct {
	getItem, putItem, updateItem, deleteItem, query int64
}

func (c ddbCounts) total() int64 {
	return c.getItem + c.putItem + c.updateItem + c.deleteItem + c.query
}

// countingAPI counts the store's calls at its seam, dynamostore.API: one
// count per call, whatever the SDK retries underneath (the transport
// counts those). It also asks for, and adds up, the capacity units each
// read and write consumed, as DynamoDB would charge them (dynalite
// computes them from the items' sizes as DynamoDB does): reads in read
// units, writes in write units, kept in thousandths.
type countingAPI struct {
	api                                             dynamostore.API
	getItem, putItem, updateItem, deleteItem, query atomic.Int64
	readMilliUnits, writeMilliUnits                 atomic.Int64
}

// consumed adds c to n, in thousandths of a unit.
func consumed(n *atomic.Int64, c *types.ConsumedCapacity) {
	if c != nil && c.CapacityUnits != nil {
		n.Add(int64(*c.CapacityUnits*1000 + 0.5))
	}
}

var _ dynamostore.API = (*countingAPI)(nil)

func (c *countingAPI) counts() ddbCounts {
	return ddbCounts{c.getItem.Load(), c.putItem.Load(), c.updateItem.Load(), c.deleteItem.Load(), c.query.Load()}
}

func (c *countingAPI) reset() {
	for _, n := range []*atomic.Int64{&c.getItem, &c.putItem, &c.updateItem, &c.deleteItem, &c.query, &c.readMilliUnits, &c.writeMilliUnits} {
		n.Store(0)
	}
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.getItem.Add(1)
	q := *in
	q.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.api.GetItem(ctx, &q, opts...)
	if err == nil {
		consumed(&c.readMilliUnits, out.ConsumedCapacity)
	}
	return out, err
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.putItem.Add(1)
	q := *in
	q.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.api.PutItem(ctx, &q, opts...)
	if err == nil {
		consumed(&c.writeMilliUnits, out.ConsumedCapacity)
	}
	return out, err
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.updateItem.Add(1)
	return c.api.UpdateItem(ctx, in, opts...)
}

func (c *countingAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.deleteItem.Add(1)
	return c.api.DeleteItem(ctx, in, opts...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.query.Add(1)
	q := *in
	q.ReturnConsumedCapacity = types.ReturnConsumedCapacityTotal
	out, err := c.api.Query(ctx, &q, opts...)
	if err == nil {
		consumed(&c.readMilliUnits, out.ConsumedCapacity)
	}
	return out, err
}

// countingTransport counts what crosses the wire under the SDK client:
// HTTP requests (retries included), request body bytes sent, and response
// body bytes read (the JSON DynamoDB answers with; the SDK asks for it
// uncompressed).
type countingTransport struct {
	base                 http.RoundTripper
	requests, sent, read atomic.Int64
}

func (t *countingTransport) reset() {
	t.requests.Store(0)
	t.sent.Store(0)
	t.read.Store(0)
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.requests.Add(1)
	if req.ContentLength > 0 {
		t.sent.Add(req.ContentLength)
	}
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	resp.Body = &countingBody{ReadCloser: resp.Body, n: &t.read}
	return resp, nil
}

type countingBody struct {
	io.ReadCloser
	n *atomic.Int64
}

func (b *countingBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	b.n.Add(int64(n))
	return n, err
}
