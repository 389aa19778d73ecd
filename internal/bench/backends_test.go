package bench_test

import (
	"net/http"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/localkms"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

// stack is one backend's store and key wrapper, with the counters the
// benchmark reads.
type stack struct {
	store   secrets.Store
	wrapper *testkit.CountingKeys
	// On DynamoDB only: calls at the store's seam, the DynamoDB client's
	// wire, and the KMS client's.
	ddb  *countingAPI
	wire *countingTransport
	kms  *localkms.Calls
}

// reset zeroes the counters.
func (s *stack) reset() {
	s.wrapper.Unwrapped.Store(0)
	if s.ddb != nil {
		s.ddb.reset()
		s.wire.reset()
		s.kms.Reset()
	}
}

// backend is a way to run the service.
type backend struct {
	name string
	// start starts what the backend needs for the whole benchmark and
	// returns a function that makes a new, empty stack on it.
	start func(b *testing.B) func(b *testing.B) *stack
}

var backends = []backend{
	{"embedded", startEmbedded},
	{"dynamodb", startDynamo},
}

// startEmbedded is `zwrm dev`: bbolt and a local master key, as the test
// kit builds them.
func startEmbedded(*testing.B) func(b *testing.B) *stack {
	return func(b *testing.B) *stack {
		b.Helper()
		k := testkit.New(b, testkit.Options{})
		return &stack{store: k.Store, wrapper: k.Keys}
	}
}

// startDynamo is the AWS runtime: the DynamoDB store on dynalite and KMS
// key wrapping against local-kms, both through the real SDK clients, with
// counting transports underneath. Each stack gets its own table; the
// clients, their connections and the KMS key are shared.
func startDynamo(b *testing.B) func(b *testing.B) *stack {
	srv := dynalite.Start(b)
	kmsSrv := localkms.Start(b)
	keyARN := kmsSrv.NewSymmetricKey(b)
	kmsCalls := localkms.NewCalls()
	kmsClient := kmsSrv.Client(kmsCalls.Use)
	wire := &countingTransport{base: awshttp.NewBuildableClient().GetTransport()}
	client := srv.NewClient(func(o *dynamodb.Options) { o.HTTPClient = &http.Client{Transport: wire} })
	return func(b *testing.B) *stack {
		b.Helper()
		api := &countingAPI{api: client}
		return &stack{
			store:   dynamostore.New(api, srv.NewTable(b)),
			wrapper: testkit.NewCountingKeys(kmskeys.New(kmsClient, keyARN)),
			ddb:     api, wire: wire, kms: kmsCalls,
		}
	}
}
