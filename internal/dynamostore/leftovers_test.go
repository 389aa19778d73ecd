package dynamostore_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// leftoverCase is a service over a table whose writes can be stopped.
type leftoverCase struct {
	*crashCase
	client *dynamodb.Client
	table  string
}

// newLeftoverCase starts dynalite with a table and bootstraps org acme;
// wrap, if not nil, wraps the client the store reaches the table with.
func newLeftoverCase(t *testing.T, wrap func(*dynamodb.Client) dynamostore.API) *leftoverCase {
	client, table := newTable(t)
	var api dynamostore.API = client
	if wrap != nil {
		api = wrap(client)
	}
	return &leftoverCase{crashCase: newCrashCase(t, api, table, "acme"), client: client, table: table}
}

// stopDeleteAfterHead deletes TARGET (at version 2, so with history) and
// stops the process right after the head's delete (the mark, then the
// head: the third write fails and every one after it).
func (c *leftoverCase) stopDeleteAfterHead() string {
	c.t.Helper()
	c.create("v1")
	if err := c.update("v2", 1); err != nil {
		c.t.Fatal(err)
	}
	c.api.arm(3, false)
	err := c.svc.Delete(c.ctx, c.root, c.id)
	c.api.disarm()
	if err == nil {
		c.t.Fatal("the stopped delete succeeded")
	}
	if _, err := c.svc.Get(c.ctx, c.root, c.id); !secrets.IsCode(err, secrets.CodeNotFound) {
		c.t.Fatalf("after the stopped delete, get = %v, want not found", err)
	}
	return c.id
}

func (c *leftoverCase) deleteAudits(id string) (n int, details []string) {
	c.t.Helper()
	records, _, err := c.svc.Audit(c.ctx, c.root, "", 500)
	if err != nil {
		c.t.Fatal(err)
	}
	for _, r := range records {
		if r.Action == secrets.ActionSecretDelete && r.SecretID == id {
			n++
			details = append(details, r.Detail)
			if len(r.Secrets) != 1 || r.Secrets[0].Name != target {
				c.t.Errorf("the delete's audit names %v, want %s", r.Secrets, target)
			}
		}
	}
	return n, details
}

func TestDeletingAgainFinishesAnInterruptedDelete(t *testing.T) {
	for _, by := range []string{"id", "name"} {
		t.Run("by "+by, func(t *testing.T) {
			c := newLeftoverCase(t, nil)
			id := c.stopDeleteAfterHead()
			if n, _ := c.deleteAudits(id); n != 0 {
				t.Fatalf("the stopped delete is audited %d times before it is finished", n)
			}
			var err error
			if by == "id" {
				err = c.svc.Delete(c.ctx, c.root, id)
			} else {
				err = c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target)
			}
			if err != nil {
				t.Fatalf("deleting again = %v, want success (it finished the delete)", err)
			}
			n, details := c.deleteAudits(id)
			if n != 1 || details[0] != "completed an interrupted delete" {
				t.Errorf("audit of the finished delete: %d records %q, want one %q", n, details, "completed an interrupted delete")
			}
			c.checkNothingLeft(c.client, c.table)
			// A third time there is nothing: not found, and no audit.
			if err := c.svc.Delete(c.ctx, c.root, id); !secrets.IsCode(err, secrets.CodeNotFound) {
				t.Errorf("deleting a third time = %v, want not found", err)
			}
			if n, _ := c.deleteAudits(id); n != 1 {
				t.Errorf("after a third delete, %d delete records, want 1", n)
			}
		})
	}
}

func TestANewSecretOfTheSameNameDoesNotHideLeftovers(t *testing.T) {
	c := newLeftoverCase(t, nil)
	old := c.stopDeleteAfterHead()
	c.create("again")
	if err := c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target); err != nil {
		t.Fatal(err)
	}
	// The name's earlier id is still findable by name.
	if err := c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target); err != nil {
		t.Fatalf("deleting the name again = %v, want success (it finished the earlier id's delete)", err)
	}
	if n, _ := c.deleteAudits(old); n != 1 {
		t.Errorf("the earlier id's delete is audited %d times, want once", n)
	}
	c.checkNothingLeft(c.client, c.table)
}

func TestTheSweepRemovesLeftoversAfterFifteenMinutes(t *testing.T) {
	c := newLeftoverCase(t, nil)
	id := c.stopDeleteAfterHead()
	// A create stopped after its id pointer: a pointer to no head.
	c.api.arm(2, false)
	if _, err := c.svc.Create(c.ctx, c.root, service.CreateInput{Layer: secrets.Global, Name: "NEVER", Values: dev("x")}); err == nil {
		t.Fatal("the stopped create succeeded")
	}
	c.api.disarm()

	c.now = c.now.Add(10 * time.Minute)
	rep, err := c.svc.RotateDue(c.ctx, "test")
	if err != nil {
		t.Fatal(err)
	}
	if rep.Leftovers != 0 {
		t.Errorf("after 10 minutes the sweep removed %d leftovers, want 0 (a write may still be under way)", rep.Leftovers)
	}
	c.now = c.now.Add(6 * time.Minute)
	if rep, err = c.svc.RotateDue(c.ctx, "test"); err != nil {
		t.Fatal(err)
	}
	if rep.Leftovers != 2 {
		t.Errorf("after 16 minutes the sweep removed %d leftovers, want 2", rep.Leftovers)
	}
	c.checkNothingLeft(c.client, c.table)
	// The interrupted delete is audited once, by the sweep; the create that
	// never made a secret is not a delete.
	n, details := c.deleteAudits(id)
	if n != 1 || details[0] != "completed an interrupted delete" {
		t.Errorf("audit of the swept delete: %d records %q", n, details)
	}
	records, _, _ := c.svc.Audit(c.ctx, c.root, "", 500)
	deletes := 0
	for _, r := range records {
		if r.Action == secrets.ActionSecretDelete {
			deletes++
		}
	}
	if deletes != 1 {
		t.Errorf("%d delete records, want 1", deletes)
	}
}

// losingTransport passes requests to dynalite, and for the first request
// whose body holds marker it lets the request land and then loses the
// answer (a connection reset), as a network does.
type losingTransport struct {
	marker []byte
	lost   atomic.Int32
}

func (l *losingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	var body []byte
	if req.Body != nil {
		body, _ = io.ReadAll(req.Body)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err == nil && bytes.Contains(body, l.marker) && l.lost.CompareAndSwap(0, 1) {
		_ = resp.Body.Close()
		return nil, &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}
	}
	return resp, err
}

// TestADeleteWhoseAnswerIsLostIsAudited: the head's delete lands, its
// answer is lost, the SDK retries it, and the retry fails its condition
// (the head is gone). The delete happened: it answers success and is
// audited once.
func TestADeleteWhoseAnswerIsLostIsAudited(t *testing.T) {
	lossy := &losingTransport{marker: []byte(`"ConditionExpression":"attribute_exists(#pk) AND #id = :id`)}
	c := newLeftoverCase(t, func(client *dynamodb.Client) dynamostore.API {
		o := client.Options()
		o.HTTPClient = &http.Client{Transport: lossy}
		o.Retryer = retry.NewStandard(func(o *retry.StandardOptions) { o.MaxBackoff = 10 * time.Millisecond })
		return dynamodb.New(o)
	})
	c.create("v1")
	if err := c.svc.Delete(c.ctx, c.root, c.id); err != nil {
		t.Fatalf("delete whose answer was lost = %v, want success", err)
	}
	if lossy.lost.Load() != 1 {
		t.Fatal("no answer was lost: the test did not exercise the retry")
	}
	if n, _ := c.deleteAudits(c.id); n != 1 {
		t.Errorf("the delete is audited %d times, want once", n)
	}
	if _, err := c.svc.Get(context.Background(), c.root, c.id); !errors.Is(err, secrets.ErrNotFound) && !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("get after the delete = %v, want not found", err)
	}
	c.checkNothingLeft(c.client, c.table)
}

// hookAPI calls before once, just before the first PutItem of a secret
// head, while the create's id pointer is written and still marked.
type hookAPI struct {
	dynamostore.API
	once   sync.Once
	before func()
}

func (h *hookAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if pk, ok := in.Item["PK"].(*types.AttributeValueMemberS); ok && strings.HasPrefix(pk.Value, "S#") {
		h.once.Do(h.before)
	}
	return h.API.PutItem(ctx, in, opts...)
}

// TestADeleteByNameDuringACreateLeavesItWhole: a delete of the name while
// a create of it is under way (its pointer written, its head not yet)
// finds nothing to finish, and the create ends reachable by id and name.
func TestADeleteByNameDuringACreateLeavesItWhole(t *testing.T) {
	hook := &hookAPI{}
	c := newLeftoverCase(t, func(client *dynamodb.Client) dynamostore.API { hook.API = client; return hook })
	var during error
	hook.before = func() { during = c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target) }
	sec, err := c.svc.Create(c.ctx, c.root, service.CreateInput{Layer: secrets.Global, Name: target, Values: dev("v1")})
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if !secrets.IsCode(during, secrets.CodeNotFound) {
		t.Errorf("the delete during the create = %v, want not found", during)
	}
	if _, err := c.svc.Get(c.ctx, c.root, sec.ID); err != nil {
		t.Errorf("get the created secret by id: %v", err)
	}
	if err := c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target); err != nil {
		t.Errorf("delete it by name: %v", err)
	}
	c.checkNothingLeft(c.client, c.table)
}

// TestFinishingADeleteNeedsTheRightsTheDeleteNeeded: a member may not
// finish the interrupted delete of a secret it could not have deleted;
// the refusal changes nothing, and its owner may.
func TestFinishingADeleteNeedsTheRightsTheDeleteNeeded(t *testing.T) {
	c := newLeftoverCase(t, nil)
	id := c.stopDeleteAfterHead()
	token, _, err := c.svc.CreateToken(c.ctx, c.root, service.TokenInput{Kind: secrets.TokenUser, Subject: "mo@acme.test", Name: "Mo", Role: secrets.RoleMember})
	if err != nil {
		t.Fatal(err)
	}
	member, err := c.svc.Authenticate(c.ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	for what, err := range map[string]error{
		"by id":   c.svc.Delete(c.ctx, member, id),
		"by name": c.svc.DeleteByName(c.ctx, member, secrets.Global, target),
	} {
		if !secrets.IsCode(err, secrets.CodeForbidden) {
			t.Errorf("a member finishing the delete %s = %v, want forbidden", what, err)
		}
	}
	if n, _ := c.deleteAudits(id); n != 0 {
		t.Errorf("the refused finish is audited (%d records)", n)
	}
	if versions, err := c.store.ListVersions(c.ctx, c.org, id); err != nil || len(versions) == 0 {
		t.Errorf("the refused finish removed the history (%d versions, %v)", len(versions), err)
	}
	if err := c.svc.Delete(c.ctx, c.root, id); err != nil {
		t.Errorf("its owner finishing the delete = %v, want success", err)
	}
	c.checkNothingLeft(c.client, c.table)
}
