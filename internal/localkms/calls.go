package localkms

import (
	"io"
	"net/http"
	"slices"
	"strings"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/uuid"
)

// Operation names, as in the X-Amz-Target header after "TrentService.".
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpDecrypt         = "Decrypt"
	OpGenerateMac     = "GenerateMac"
	OpVerifyMac       = "VerifyMac"
)

const (
	targetPrefix = "TrentService."
	contentType  = "application/x-amz-json-1.1"
)

// statusOf is the HTTP status KMS answers an error type with; the rest are 400.
var statusOf = map[string]int{
	"KMSInternalException":        http.StatusInternalServerError,
	"KeyUnavailableException":     http.StatusInternalServerError,
	"DependencyTimeoutException":  http.StatusServiceUnavailable,
	"ServiceUnavailableException": http.StatusServiceUnavailable,
}

// Calls sits under a KMS client, as its HTTP transport (Use), and counts the
// requests the SDK sends, by operation: each attempt, so the SDK's retries
// count too. Asked to (FailNext), it answers the next requests of an
// operation with a KMS error itself, as KMS answers a throttled or failed
// call, so that the SDK's retries and error decoding run as they would
// against AWS. Its methods are safe for concurrent use.
type Calls struct {
	next   http.RoundTripper
	mu     sync.Mutex
	counts map[string]int
	faults map[string][]string // error types the next requests of an op answer with
}

// NewCalls returns a Calls that passes requests on over the SDK's default
// transport.
func NewCalls() *Calls {
	return &Calls{next: awshttp.NewBuildableClient().GetTransport(), counts: map[string]int{}, faults: map[string][]string{}}
}

// Use makes c the transport of a client's options: srv.Client(calls.Use).
func (c *Calls) Use(o *kms.Options) { o.HTTPClient = &http.Client{Transport: c} }

// Count returns how many requests for the operations ops (e.g. OpDecrypt)
// went through c since it was made or Reset, retries and injected failures
// included; with no ops, requests for every operation.
func (c *Calls) Count(ops ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for op, k := range c.counts {
		if len(ops) == 0 || slices.Contains(ops, op) {
			n += k
		}
	}
	return n
}

// Reset zeroes the counts and drops failures not yet delivered.
func (c *Calls) Reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	clear(c.counts)
	clear(c.faults)
}

// FailNext makes the next n requests for op answer with the KMS error
// errType (e.g. "ThrottlingException") and the status KMS gives it: 500 for
// KMSInternalException and KeyUnavailableException, 503 for
// DependencyTimeoutException and ServiceUnavailableException, else 400.
// Failures queue up behind ones not yet delivered.
func (c *Calls) FailNext(op string, n int, errType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for range n {
		c.faults[op] = append(c.faults[op], errType)
	}
}

// RoundTrip counts req and sends it on, or answers it with the next
// failure queued for its operation.
func (c *Calls) RoundTrip(req *http.Request) (*http.Response, error) {
	op := strings.TrimPrefix(req.Header.Get("X-Amz-Target"), targetPrefix)
	c.mu.Lock()
	c.counts[op]++
	var fault string
	if q := c.faults[op]; len(q) > 0 {
		fault, c.faults[op] = q[0], q[1:]
	}
	c.mu.Unlock()
	if fault == "" {
		return c.next.RoundTrip(req)
	}
	if req.Body != nil {
		req.Body.Close() // a RoundTripper closes the body, even one it does not send
	}
	return errorResponse(req, fault), nil
}

// errorResponse is KMS's answer with the error errType.
func errorResponse(req *http.Request, errType string) *http.Response {
	status, ok := statusOf[errType]
	if !ok {
		status = http.StatusBadRequest
	}
	body := `{"__type":"` + errType + `","message":"injected by localkms.Calls.FailNext"}`
	return &http.Response{
		StatusCode: status,
		Status:     http.StatusText(status),
		Header: http.Header{
			"Content-Type":     {contentType},
			"X-Amzn-Requestid": {uuid.NewString()},
		},
		Body:          io.NopCloser(strings.NewReader(body)),
		ContentLength: int64(len(body)),
		Request:       req,
	}
}
