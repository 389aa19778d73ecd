package bench_test

import (
	"crypto/rand"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/kmskeys"
	"github.com/zwrm/secrets/internal/kmstest"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
)

// stack is one backend's store and key wrapper, with the counters the
// benchmark reads.
type stack struct {
	store   secrets.Store
	wrapper *countingWrapper
	// On DynamoDB only: calls at the store's seam, the SDK client's wire,
	// and the fake KMS.
	ddb  *countingAPI
	wire *countingTransport
	kms  *kmstest.Server
}

// reset zeroes the counters.
func (s *stack) reset() {
	s.wrapper.unwraps.Store(0)
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

// startEmbedded is `zwrm dev`: bbolt and a local master key.
func startEmbedded(*testing.B) func(b *testing.B) *stack {
	return func(b *testing.B) *stack {
		b.Helper()
		store, err := boltstore.Open(filepath.Join(b.TempDir(), "db"), boltstore.Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { store.Close() })
		master := make([]byte, 32)
		rand.Read(master)
		w, err := localkey.New(master)
		if err != nil {
			b.Fatal(err)
		}
		return &stack{store: store, wrapper: &countingWrapper{KeyWrapper: w}}
	}
}

// startDynamo is the AWS runtime: the DynamoDB store on dynalite and KMS
// key wrapping against kmstest, both through the real SDK clients. Each
// stack gets its own table; the client, its connections and the KMS key
// are shared.
func startDynamo(b *testing.B) func(b *testing.B) *stack {
	srv := dynalite.Start(b)
	kmsSrv := kmstest.NewServer(b)
	keyID, _ := kmsSrv.CreateKey()
	kmsClient := kmsSrv.Client(b)
	wire := &countingTransport{base: awshttp.NewBuildableClient().GetTransport()}
	// As dynalite.Server.Client, with the counting transport underneath.
	client := dynamodb.New(dynamodb.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDDYNALITE", "dynalite-secret", ""),
		HTTPClient:   &http.Client{Transport: wire},
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 5
			o.MaxBackoff = 50 * time.Millisecond
			o.RateLimiter = ratelimit.None
		}),
	})
	return func(b *testing.B) *stack {
		b.Helper()
		api := &countingAPI{api: client}
		return &stack{
			store:   dynamostore.New(api, srv.NewTable(b)),
			wrapper: &countingWrapper{KeyWrapper: kmskeys.New(kmsClient, keyID)},
			ddb:     api, wire: wire, kms: kmsSrv,
		}
	}
}
