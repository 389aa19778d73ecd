package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
)

// fakeAPI stands in for DynamoDB at the store's seam, for answers dynalite
// never gives: throttling, server errors, and failed conditions that carry
// the old item. Each operation answers with its function, or fails the
// test if it has none.
type fakeAPI struct {
	t          *testing.T
	getItem    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error)
	putItem    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error)
	updateItem func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error)
	deleteItem func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error)
	query      func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error)

	mu    sync.Mutex // ListSecretsIn queries concurrently
	calls []string
}

func (f *fakeAPI) record(op string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, op)
}

// answer records a call of op and answers it with fn; a call the test
// gave no answer for fails it.
func answer[In, Out any](f *fakeAPI, op string, fn func(*In) (*Out, error), in *In) (*Out, error) {
	f.record(op)
	if fn == nil {
		f.t.Helper()
		f.t.Errorf("unexpected %s call", op)
		return nil, errors.New("unexpected " + op)
	}
	return fn(in)
}

func (f *fakeAPI) GetItem(_ context.Context, in *dynamodb.GetItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	return answer(f, "GetItem", f.getItem, in)
}

func (f *fakeAPI) PutItem(_ context.Context, in *dynamodb.PutItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	return answer(f, "PutItem", f.putItem, in)
}

func (f *fakeAPI) UpdateItem(_ context.Context, in *dynamodb.UpdateItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	return answer(f, "UpdateItem", f.updateItem, in)
}

func (f *fakeAPI) DeleteItem(_ context.Context, in *dynamodb.DeleteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	return answer(f, "DeleteItem", f.deleteItem, in)
}

func (f *fakeAPI) Query(_ context.Context, in *dynamodb.QueryInput, _ ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	return answer(f, "Query", f.query, in)
}

// failAll answers every operation with err.
func failAll(t *testing.T, err error) *fakeAPI {
	return &fakeAPI{
		t:          t,
		getItem:    func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) { return nil, err },
		putItem:    func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) { return nil, err },
		updateItem: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) { return nil, err },
		deleteItem: func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) { return nil, err },
		query:      func(*dynamodb.QueryInput) (*dynamodb.QueryOutput, error) { return nil, err },
	}
}

func TestErrorsFromDynamoDBMapToDomainCodes(t *testing.T) {
	for _, c := range []struct {
		name string
		err  error
		want secrets.Code
	}{
		{"provisioned throughput exceeded is unavailable", &types.ProvisionedThroughputExceededException{Message: aws.String("slow down")}, secrets.CodeUnavailable},
		{"a request limit exceeded is unavailable", &types.RequestLimitExceeded{Message: aws.String("slow down")}, secrets.CodeUnavailable},
		{"throttling is unavailable", &types.ThrottlingException{Message: aws.String("slow down")}, secrets.CodeUnavailable},
		{"throttling as a generic API error is unavailable", &smithy.GenericAPIError{Code: "ThrottlingException", Message: "rate exceeded"}, secrets.CodeUnavailable},
		{"an internal server error is unavailable", &types.InternalServerError{Message: aws.String("oops")}, secrets.CodeUnavailable},
		{"an unreachable endpoint is unavailable", &smithyhttp.RequestSendError{Err: errors.New("connection refused")}, secrets.CodeUnavailable},
		{"the SDK's retry quota running out is unavailable", fmt.Errorf("failed to get rate limit token: %w", ratelimit.QuotaExceededError{Available: 0, Requested: 5}), secrets.CodeUnavailable},
		{"a missing table is internal", &types.ResourceNotFoundException{Message: aws.String("no such table")}, secrets.CodeInternal},
		{"a validation error is internal", &smithy.GenericAPIError{Code: "ValidationException", Message: "bad expression"}, secrets.CodeInternal},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			st := dynamostore.New(failAll(t, c.err), "secrets")
			sec := &secrets.Secret{ID: "s1", Org: "acme", Layer: secrets.Layer{App: "billing"}, Name: "DB_URL", Version: 1}
			_, getErr := st.GetOrg(ctx, "acme")
			_, listErr := st.ListSecretsIn(ctx, "acme", sec.Layer.ResolveChain(), secrets.Production)
			for op, err := range map[string]error{
				"GetOrg":         getErr,
				"ListSecretsIn":  listErr,
				"CreateSecret":   st.CreateSecret(ctx, sec),
				"RevokeToken":    st.RevokeToken(ctx, "acme", "t1", time.Now()),
				"AppendAudit":    st.AppendAudit(ctx, &secrets.AuditRecord{ID: "a1", Org: "acme"}),
				"PutOrgSettings": st.PutOrgSettings(ctx, &secrets.Org{ID: "acme", SettingsVersion: 1}, 0),
			} {
				if got := secrets.ErrorCode(err); got != c.want {
					t.Errorf("%s: code %q, want %q (error %v)", op, got, c.want, err)
				}
				if !errors.Is(err, c.err) {
					t.Errorf("%s: error %v does not wrap the SDK's %v", op, err, c.err)
				}
			}
			if msg := fmt.Sprint(getErr); !strings.Contains(msg, "get org acme") {
				t.Errorf("GetOrg: error %q does not say what it was doing", msg)
			}
		})
	}
}

func TestCancelledRequestKeepsItsContextError(t *testing.T) {
	err := &smithyhttp.RequestSendError{Err: context.Canceled}
	_, got := dynamostore.New(failAll(t, err), "secrets").GetOrg(t.Context(), "acme")
	if !errors.Is(got, context.Canceled) {
		t.Errorf("GetOrg: got %v, want a context.Canceled", got)
	}
	if secrets.IsCode(got, secrets.CodeUnavailable) {
		t.Errorf("GetOrg: a cancelled request is reported unavailable: %v", got)
	}
}

// Items as the store keeps them, for the fake to answer with.
func pointerTo(headPK, headSK string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "I#acme#s1"}, "SK": &types.AttributeValueMemberS{Value: "I"},
		"HeadPK": &types.AttributeValueMemberS{Value: headPK}, "HeadSK": &types.AttributeValueMemberS{Value: headSK},
	}
}

func headItem(id string, version int64) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		"PK": &types.AttributeValueMemberS{Value: "S#acme#a/billing"}, "SK": &types.AttributeValueMemberS{Value: "N#DB_URL"},
		"id":      &types.AttributeValueMemberS{Value: id},
		"version": &types.AttributeValueMemberN{Value: fmt.Sprint(version)},
	}
}

func conditionFailed(old map[string]types.AttributeValue) error {
	return &types.ConditionalCheckFailedException{Message: aws.String("The conditional request failed"), Item: old}
}

func TestFailedConditionsMapToDomainErrors(t *testing.T) {
	layer := secrets.Layer{App: "billing"}
	v2 := &secrets.Secret{ID: "s1", Org: "acme", Layer: layer, Name: "DB_URL", Version: 2,
		Owner: secrets.Principal{Subject: "ada@example.com", Name: "Ada"}}
	for _, c := range []struct {
		name string
		// old is the head as the failed condition returns it (ALL_OLD);
		// reread is what a GetItem of the head finds, when old is nil.
		old, reread map[string]types.AttributeValue
		want        error
		wantCode    secrets.Code
		wantCalls   string
	}{
		{name: "a head at another version is stale", old: headItem("s1", 3), want: secrets.ErrStale,
			wantCalls: "GetItem PutItem"},
		{name: "a head of another id is not found", old: headItem("other", 1), wantCode: secrets.CodeNotFound,
			wantCalls: "GetItem PutItem"},
		{name: "a head at the expected version refuses a new owner", old: headItem("s1", 1), wantCode: secrets.CodeInvalid,
			wantCalls: "GetItem PutItem"},
		{name: "without the old item, a reread tells stale", reread: headItem("s1", 5), want: secrets.ErrStale,
			wantCalls: "GetItem PutItem GetItem"},
		{name: "without the old item, a reread finding nothing is not found", wantCode: secrets.CodeNotFound,
			wantCalls: "GetItem PutItem GetItem"},
	} {
		t.Run(c.name, func(t *testing.T) {
			fake := &fakeAPI{t: t}
			fake.getItem = func(in *dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				if !aws.ToBool(in.ConsistentRead) {
					t.Errorf("GetItem of %v is not strongly consistent", in.Key)
				}
				if pk := in.Key["PK"].(*types.AttributeValueMemberS).Value; strings.HasPrefix(pk, "I#") {
					return &dynamodb.GetItemOutput{Item: pointerTo("S#acme#a/billing", "N#DB_URL")}, nil
				}
				return &dynamodb.GetItemOutput{Item: c.reread}, nil
			}
			fake.putItem = func(in *dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				if got, want := in.ReturnValuesOnConditionCheckFailure, types.ReturnValuesOnConditionCheckFailureAllOld; got != want {
					t.Errorf("PutItem asks for %q on a failed condition, want %q", got, want)
				}
				return nil, conditionFailed(c.old)
			}
			err := dynamostore.New(fake, "secrets").UpdateSecret(t.Context(), v2, 1)
			switch {
			case c.want != nil && !errors.Is(err, c.want):
				t.Errorf("UpdateSecret: got %v, want %v", err, c.want)
			case c.want == nil && !secrets.IsCode(err, c.wantCode):
				t.Errorf("UpdateSecret: got %v (code %q), want code %q", err, secrets.ErrorCode(err), c.wantCode)
			}
			if got := strings.Join(fake.calls, " "); got != c.wantCalls {
				t.Errorf("calls = %s, want %s", got, c.wantCalls)
			}
		})
	}

	t.Run("a failed create is a duplicate", func(t *testing.T) {
		fake := &fakeAPI{t: t,
			putItem: func(*dynamodb.PutItemInput) (*dynamodb.PutItemOutput, error) {
				return nil, conditionFailed(headItem("other", 1))
			},
		}
		st := dynamostore.New(fake, "secrets")
		for op, err := range map[string]error{
			"CreateOrg":     st.CreateOrg(t.Context(), &secrets.Org{ID: "acme"}),
			"CreateToken":   st.CreateToken(t.Context(), &secrets.Token{ID: "t1", Org: "acme"}),
			"CreateDataKey": st.CreateDataKey(t.Context(), &secrets.DataKey{Org: "acme", Environment: secrets.Production, Generation: 1}),
			"AppendAudit":   st.AppendAudit(t.Context(), &secrets.AuditRecord{ID: "a1", Org: "acme"}),
		} {
			if !errors.Is(err, secrets.ErrExists) {
				t.Errorf("%s: got %v, want %v", op, err, secrets.ErrExists)
			}
		}
		if err := st.PutVersion(t.Context(), v2); err != nil {
			t.Errorf("PutVersion of a kept version: got %v, want no error", err)
		}
	})

	t.Run("a failed conditional update of an absent record is not found", func(t *testing.T) {
		fake := &fakeAPI{t: t, updateItem: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
			return nil, conditionFailed(nil)
		}, getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
			return &dynamodb.GetItemOutput{}, nil // the org settings' read after the failure: absent
		}}
		st := dynamostore.New(fake, "secrets")
		for op, err := range map[string]error{
			"RevokeToken":    st.RevokeToken(t.Context(), "acme", "t1", time.Now()),
			"PutOrgSettings": st.PutOrgSettings(t.Context(), &secrets.Org{ID: "acme", SettingsVersion: 1}, 0),
		} {
			if !secrets.IsCode(err, secrets.CodeNotFound) {
				t.Errorf("%s: got %v, want not found", op, err)
			}
		}
	})

	t.Run("a delete at another version is stale", func(t *testing.T) {
		fake := &fakeAPI{t: t,
			getItem: func(*dynamodb.GetItemInput) (*dynamodb.GetItemOutput, error) {
				return &dynamodb.GetItemOutput{Item: pointerTo("S#acme#a/billing", "N#DB_URL")}, nil
			},
			updateItem: func(*dynamodb.UpdateItemInput) (*dynamodb.UpdateItemOutput, error) {
				return &dynamodb.UpdateItemOutput{}, nil // the pointer's mark, then its unmark
			},
			deleteItem: func(*dynamodb.DeleteItemInput) (*dynamodb.DeleteItemOutput, error) {
				return nil, conditionFailed(headItem("s1", 4))
			},
		}
		err := dynamostore.New(fake, "secrets").DeleteSecret(t.Context(), "acme", "s1", 3)
		if !errors.Is(err, secrets.ErrStale) {
			t.Errorf("DeleteSecret: got %v, want %v", err, secrets.ErrStale)
		}
		// Nothing is deleted: the mark put on the pointer is taken off.
		if got, want := strings.Join(fake.calls, " "), "GetItem UpdateItem DeleteItem UpdateItem"; got != want {
			t.Errorf("calls = %s, want %s", got, want)
		}
	})
}

// TestThrottlingIsRetriedThenUnavailable goes through the real SDK client
// to an HTTP server that throttles every request, as DynamoDB does on the
// wire: the SDK retries, and the store reports unavailable, never success.
func TestThrottlingIsRetriedThenUnavailable(t *testing.T) {
	for _, c := range []struct {
		name   string
		status int
		errTyp string
	}{
		{"provisioned throughput exceeded", http.StatusBadRequest, "ProvisionedThroughputExceededException"},
		{"throttling", http.StatusBadRequest, "ThrottlingException"},
		{"internal server error", http.StatusInternalServerError, "InternalServerError"},
	} {
		t.Run(c.name+" is retried, then unavailable", func(t *testing.T) {
			var requests atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.WriteHeader(c.status)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.dynamodb.v20120810#%s","message":"try again later"}`, c.errTyp)
			}))
			defer srv.Close()
			const attempts = 3
			client := dynamodb.New(dynamodb.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKID", "secret", ""),
				Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
					o.MaxAttempts = attempts
					o.MaxBackoff = time.Millisecond
					o.RateLimiter = ratelimit.None
				}),
			})
			_, err := dynamostore.New(client, "secrets").GetToken(t.Context(), "t1")
			if got, want := secrets.ErrorCode(err), secrets.CodeUnavailable; got != want {
				t.Errorf("GetToken: code %q, want %q (error %v)", got, want, err)
			}
			if got, want := requests.Load(), int32(attempts); got != want {
				t.Errorf("requests = %d, want %d (the SDK's attempts)", got, want)
			}
		})
	}
}
