package lambdaapp_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/httpapi"
	"github.com/zwrm/secrets/internal/lambdaapp"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

// auditOutage answers every audit PutItem itself, as a DynamoDB that is
// failing (500 InternalServerError, which the SDK retries with backoff)
// or hanging (no answer until the caller gives up); everything else goes
// to dynalite.
type auditOutage struct{ hang bool }

func (o auditOutage) RoundTrip(req *http.Request) (*http.Response, error) {
	body, _ := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body))
	if req.Header.Get("X-Amz-Target") == "DynamoDB_20120810.PutItem" && bytes.Contains(body, []byte(`"PK":{"S":"A#`)) {
		if o.hang {
			<-req.Context().Done()
			return nil, req.Context().Err()
		}
		return &http.Response{StatusCode: 500, Header: http.Header{"Content-Type": {"application/x-amz-json-1.0"}},
			Body:    io.NopCloser(strings.NewReader(`{"__type":"com.amazonaws.dynamodb.v20120810#InternalServerError","message":"internal server error"}`)),
			Request: req}, nil
	}
	return http.DefaultTransport.RoundTrip(req)
}

// TestResolveAnswersUnavailableBeforeTheFunctionTimesOut: with every audit
// write failing or hanging, a resolve answers 503 unavailable, with no
// values, before the function's deadline, every time: the SDK's retries
// (its standard retryer, as deployed) and the service's stop in time.
func TestResolveAnswersUnavailableBeforeTheFunctionTimesOut(t *testing.T) {
	srv := dynalite.Start(t)
	table := srv.NewTable(t)
	w := testkit.LocalKey(t, make([]byte, 32))
	quiet := slog.New(slog.DiscardHandler)
	healthy := lambdaapp.New(httpapi.FnResolveDirect, dynamostore.New(srv.Client(t), table), w, nil, lambdaapp.Config{}, quiet)
	ctx := t.Context()
	root, err := healthy.Service.Bootstrap(ctx, "acme", "ann@acme.test", "Ann")
	if err != nil {
		t.Fatal(err)
	}
	admin, err := healthy.Service.Authenticate(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := healthy.Service.SetValue(ctx, admin, secrets.Global, "DB_PASSWORD", "hunter2-hunter2", secrets.Production); err != nil {
		t.Fatal(err)
	}
	token, _, err := healthy.Service.CreateToken(ctx, admin, service.TokenInput{Kind: secrets.TokenService, Name: "web", Envs: []string{"production"}})
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(map[string]string{"token": token, "environment": "production"})

	const timeout = 1500 * time.Millisecond // the function's timeout
	const trials = 4
	for _, hang := range []bool{false, true} {
		client := dynamodb.New(dynamodb.Options{
			Region:       "us-east-1",
			BaseEndpoint: aws.String(srv.URL),
			Credentials:  credentials.NewStaticCredentialsProvider("AKIDDYNALITE", "dynalite-secret", ""),
			HTTPClient:   &http.Client{Transport: auditOutage{hang: hang}},
			Retryer:      retry.NewStandard(), // as deployed: 3 attempts, backoff up to 20 s
		})
		var wg sync.WaitGroup
		for i := range trials {
			wg.Go(func() {
				// A fresh container each time: nothing cached.
				app := lambdaapp.New(httpapi.FnResolveDirect, dynamostore.New(client, table), w, nil, lambdaapp.Config{}, quiet)
				fnCtx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				start := time.Now()
				res, err := app.ResolveDirect(fnCtx, payload)
				took := time.Since(start)
				if err != nil {
					t.Errorf("hang=%v trial %d: %v", hang, i, err)
					return
				}
				if res.Error == nil || res.Error.Code != secrets.CodeUnavailable || len(res.Secrets) != 0 {
					t.Errorf("hang=%v trial %d: %+v, want unavailable and no values", hang, i, res)
				}
				if took >= timeout {
					t.Errorf("hang=%v trial %d answered after %v, past the function's timeout %v", hang, i, took, timeout)
				}
			})
		}
		wg.Wait()
	}
}
