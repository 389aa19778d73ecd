package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// faultAPI injects one fault into the writes (PutItem, UpdateItem,
// DeleteItem) it passes on, once armed: at write number at, either the
// process stops (crash: that write and every later one fail before they
// are sent), or the write lands and its answer is lost (lost: the caller
// sees an error; later writes go on, as in a process that handles it).
type faultAPI struct {
	dynamostore.API
	mu      sync.Mutex
	armed   bool
	writes  int
	at      int
	lost    bool
	crashed bool
}

var errInjected = &smithyhttp.RequestSendError{Err: errors.New("connection reset by peer (injected)")}

func (f *faultAPI) arm(at int, lost bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed, f.writes, f.at, f.lost, f.crashed = true, 0, at, lost, false
}

// disarm stops injecting and returns how many writes were made since arm.
func (f *faultAPI) disarm() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.armed = false
	return f.writes
}

func (f *faultAPI) write(do func() error) error {
	f.mu.Lock()
	if !f.armed {
		f.mu.Unlock()
		return do()
	}
	f.writes++
	n := f.writes
	if !f.lost && n == f.at {
		f.crashed = true
	}
	crashed := f.crashed
	f.mu.Unlock()
	if crashed {
		return errInjected
	}
	err := do()
	if f.lost && n == f.at {
		return errInjected
	}
	return err
}

func (f *faultAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (out *dynamodb.PutItemOutput, err error) {
	err = f.write(func() error { out, err = f.API.PutItem(ctx, in, opts...); return err })
	return out, err
}

func (f *faultAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (out *dynamodb.UpdateItemOutput, err error) {
	err = f.write(func() error { out, err = f.API.UpdateItem(ctx, in, opts...); return err })
	return out, err
}

func (f *faultAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (out *dynamodb.DeleteItemOutput, err error) {
	err = f.write(func() error { out, err = f.API.DeleteItem(ctx, in, opts...); return err })
	return out, err
}

// crashCase is one organization in the shared table, with its own service
// and clock.
type crashCase struct {
	t     *testing.T
	ctx   context.Context
	org   string
	api   *faultAPI
	store *dynamostore.Store
	svc   *service.Service
	root  secrets.Identity
	now   time.Time
	id    string // the secret the operation works on
	token string // the token id the operation works on
}

const target = "TARGET"

func dev(v string) map[secrets.Environment]string {
	return map[secrets.Environment]string{secrets.Development: v}
}

func (c *crashCase) create(value string) {
	c.t.Helper()
	sec, err := c.svc.Create(c.ctx, c.root, service.CreateInput{Layer: secrets.Global, Name: target, Values: dev(value)})
	if err != nil {
		c.t.Fatalf("setup: create: %v", err)
	}
	c.id = sec.ID
}

func (c *crashCase) update(value string, version int64) error {
	_, err := c.svc.Update(c.ctx, c.root, c.id, service.UpdateInput{Version: version, Values: map[secrets.Environment]*string{secrets.Development: &value}})
	return err
}

// createUpdated creates TARGET with first, then updates it to second.
func (c *crashCase) createUpdated(first, second string) {
	c.t.Helper()
	c.create(first)
	if err := c.update(second, 1); err != nil {
		c.t.Fatalf("setup: update: %v", err)
	}
}

// setByName sets TARGET to "new" in development, by name.
func (c *crashCase) setByName() error {
	_, _, err := c.svc.SetValue(c.ctx, c.root, secrets.Global, target, "new", secrets.Development)
	return err
}

// crashOp is a multi-write operation: what it needs first, the operation,
// and the values of TARGET in development a reader may see after it
// stopped anywhere ("" for no secret) and after it was repeated.
type crashOp struct {
	name    string
	setup   func(c *crashCase)
	run     func(c *crashCase) error
	before  string
	after   string
	repeats func(err error) bool // a truthful answer to the repeated call
}

func truthfulConflict(err error) bool { return err == nil || secrets.IsCode(err, secrets.CodeConflict) }
func truthfulNotFound(err error) bool { return err == nil || secrets.IsCode(err, secrets.CodeNotFound) }
func succeeds(err error) bool         { return err == nil }

var crashOps = []crashOp{
	{name: "create", setup: func(*crashCase) {}, run: func(c *crashCase) error {
		sec, err := c.svc.Create(c.ctx, c.root, service.CreateInput{Layer: secrets.Global, Name: target, Values: dev("new")})
		if err == nil {
			c.id = sec.ID
		}
		return err
	}, before: "", after: "new", repeats: truthfulConflict},
	{name: "update", setup: func(c *crashCase) { c.create("old") }, run: func(c *crashCase) error { return c.update("new", 1) },
		before: "old", after: "new", repeats: truthfulConflict},
	{name: "set-by-name", setup: func(c *crashCase) { c.create("old") }, run: (*crashCase).setByName,
		before: "old", after: "new", repeats: succeeds},
	{name: "set-by-name-new", setup: func(*crashCase) {}, run: (*crashCase).setByName,
		before: "", after: "new", repeats: succeeds},
	{name: "restore", setup: func(c *crashCase) { c.createUpdated("new", "old") }, run: func(c *crashCase) error {
		_, err := c.svc.Restore(c.ctx, c.root, c.id, 1)
		return err
	}, before: "old", after: "new", repeats: succeeds},
	{name: "delete", setup: func(c *crashCase) { c.createUpdated("old", "older") }, run: func(c *crashCase) error { return c.svc.Delete(c.ctx, c.root, c.id) },
		before: "older", after: "", repeats: truthfulNotFound},
	{name: "delete-by-name", setup: func(c *crashCase) { c.createUpdated("old", "older") }, run: func(c *crashCase) error { return c.svc.DeleteByName(c.ctx, c.root, secrets.Global, target) },
		before: "older", after: "", repeats: truthfulNotFound},
	{name: "rotation", setup: func(c *crashCase) {
		c.create("old")
		if _, err := c.svc.SetRotation(c.ctx, c.root, c.id, service.RotationInput{Every: "1h", Environments: []string{"development"}, Length: 40}); err != nil {
			c.t.Fatalf("setup: rotation policy: %v", err)
		}
		c.now = c.now.Add(2 * time.Hour)
	}, run: func(c *crashCase) error {
		rep, err := c.svc.RotateDue(c.ctx, "test")
		if err == nil && rep.Failed > 0 {
			err = fmt.Errorf("%d rotations failed", rep.Failed)
		}
		return err
	}, before: "old", after: "*rotated*", repeats: succeeds},
	{name: "token-create", setup: func(*crashCase) {}, run: func(c *crashCase) error {
		_, tok, err := c.svc.CreateToken(c.ctx, c.root, service.TokenInput{Kind: secrets.TokenService, Name: "deploy", Envs: []string{"development"}})
		if err == nil {
			c.token = tok.ID
		}
		return err
	}, repeats: succeeds},
	{name: "token-revoke", setup: func(c *crashCase) {
		_, tok, err := c.svc.CreateToken(c.ctx, c.root, service.TokenInput{Kind: secrets.TokenService, Name: "deploy", Envs: []string{"development"}})
		if err != nil {
			c.t.Fatalf("setup: token: %v", err)
		}
		c.token = tok.ID
	}, run: func(c *crashCase) error { return c.svc.RevokeToken(c.ctx, c.root, c.token) }, repeats: succeeds},
	{name: "audit-append", setup: func(c *crashCase) { c.create("old") }, run: func(c *crashCase) error {
		_, err := c.svc.Resolve(c.ctx, c.root, service.ResolveInput{Environment: secrets.Development, Layer: secrets.Global})
		return err
	}, before: "old", after: "old", repeats: succeeds},
}

// TestCrashMatrix stops each multi-write operation at each of its writes,
// once before the write (a crash) and once after it (the write lands, its
// answer is lost), then checks that readers agree on what they see, that
// repeating the operation ends where an uninterrupted one would, and that
// after the sweep nothing is left of a secret without its head.
func TestCrashMatrix(t *testing.T) {
	client, table := newTable(t)
	n := 0
	newCase := func(t *testing.T) *crashCase {
		n++
		c := newCrashCase(t, client, table, fmt.Sprintf("org%03d", n))
		// The org's data key, so that its creation is no part of the
		// operations under test.
		if _, err := c.svc.Create(c.ctx, c.root, service.CreateInput{Layer: secrets.Global, Name: "WARM", Values: dev("warm")}); err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, op := range crashOps {
		t.Run(op.name, func(t *testing.T) {
			probe := newCase(t)
			op.setup(probe)
			probe.api.arm(0, false)
			if err := op.run(probe); err != nil {
				t.Fatalf("%s without faults: %v", op.name, err)
			}
			writes := probe.api.disarm()
			if writes < 1 {
				t.Fatalf("%s made no write", op.name)
			}
			for at := 1; at <= writes; at++ {
				for _, lost := range []bool{false, true} {
					name := fmt.Sprintf("write %d of %d, crash before it", at, writes)
					if lost {
						name = fmt.Sprintf("write %d of %d, its answer lost", at, writes)
					}
					t.Run(name, func(t *testing.T) {
						c := newCase(t)
						op.setup(c)
						c.api.arm(at, lost)
						_ = op.run(c)
						c.api.disarm()
						c.checkConsistent(op.before, op.after)
						if err := op.run(c); !op.repeats(err) {
							t.Errorf("repeating %s answered %v", op.name, err)
						}
						c.checkConsistent(op.after, op.after)
						if op.name == "delete" || op.name == "delete-by-name" {
							c.checkDeleteAudited(lost || at < writes)
						}
						c.now = c.now.Add(service.LeftoverAge + time.Minute)
						if _, err := c.svc.RotateDue(c.ctx, "test"); err != nil {
							t.Fatalf("sweep: %v", err)
						}
						c.checkNothingLeft(client, table)
					})
				}
			}
		})
	}
}

// checkConsistent checks that list, get by id, get by name, history and
// resolve agree, and that TARGET's development value is one of want.
func (c *crashCase) checkConsistent(want ...string) {
	t := c.t
	t.Helper()
	list, _, err := c.svc.List(c.ctx, c.root, secrets.Global, service.PageRequest{Limit: 1000})
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	res, err := c.svc.Resolve(c.ctx, c.root, service.ResolveInput{Environment: secrets.Development, Layer: secrets.Global})
	if err != nil {
		t.Fatalf("resolve: %v", err)
	}
	var listed []string
	for _, sec := range list {
		listed = append(listed, sec.Name)
		byID, err := c.svc.Get(c.ctx, c.root, sec.ID)
		if err != nil || byID.Version != sec.Version {
			t.Errorf("%s: listed at version %d, by id: %v %v", sec.Name, sec.Version, versionOf(byID), err)
		}
		byName, err := c.store.GetSecretByName(c.ctx, c.org, secrets.Global, sec.Name)
		if err != nil || byName.Version != sec.Version || byName.ID != sec.ID {
			t.Errorf("%s: listed as %s version %d, by name: %v %v", sec.Name, sec.ID, sec.Version, versionOf(byName), err)
		}
		versions, err := c.svc.Versions(c.ctx, c.root, sec.ID)
		if err != nil || len(versions) == 0 || versions[0].Version != sec.Version {
			t.Errorf("%s: history does not start at the head's version %d: %v", sec.Name, sec.Version, err)
		}
		for i := 1; i < len(versions); i++ {
			if versions[i].Version >= versions[i-1].Version {
				t.Errorf("%s: history out of order: %d after %d", sec.Name, versions[i].Version, versions[i-1].Version)
			}
		}
		if _, ok := res.Values[sec.Name]; !ok {
			t.Errorf("%s is listed but not resolved", sec.Name)
		}
	}
	if len(res.Values) != len(list) {
		t.Errorf("resolve returned %d names, list %v", len(res.Values), listed)
	}
	got, ok := res.Values[target]
	if !ok {
		got = ""
	} else if slices.Contains(want, "*rotated*") && len(got) == 40 {
		got = "*rotated*"
	}
	if !slices.Contains(want, got) {
		t.Errorf("%s resolves to %q, want one of %q", target, got, want)
	}
}

func versionOf(s *secrets.Secret) any {
	if s == nil {
		return "none"
	}
	return s.Version
}

// checkDeleteAudited checks that the delete of TARGET is audited once; a
// crash at the audit write itself loses its record (audits follow writes).
func (c *crashCase) checkDeleteAudited(wantOne bool) {
	c.t.Helper()
	records, _, err := c.svc.Audit(c.ctx, c.root, "", 500)
	if err != nil {
		c.t.Fatalf("audit: %v", err)
	}
	deletes := 0
	for _, r := range records {
		if r.Action == secrets.ActionSecretDelete && r.SecretID == c.id {
			deletes++
		}
	}
	if deletes > 1 || (wantOne && deletes != 1) {
		c.t.Errorf("the delete is audited %d times, want once", deletes)
	}
}

// checkNothingLeft reads the org's items behind the store's back (a test
// may Scan) and checks that every id pointer leads to its head, unmarked,
// and every history record belongs to a live secret.
func (c *crashCase) checkNothingLeft(client *dynamodb.Client, table string) {
	t := c.t
	t.Helper()
	heads := map[string]string{}    // head key -> id
	pointers := map[string]string{} // id -> head key
	var history []string
	var marked []string
	in := &dynamodb.ScanInput{TableName: aws.String(table)}
	for {
		out, err := client.Scan(c.ctx, in)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		for _, item := range out.Items {
			pk, sk := attrString(item, "PK"), attrString(item, "SK")
			switch {
			case strings.HasPrefix(pk, "S#"+c.org+"#"):
				heads[pk+"/"+sk] = attrString(item, "id")
			case strings.HasPrefix(pk, "I#"+c.org+"#"):
				id := strings.TrimPrefix(pk, "I#"+c.org+"#")
				pointers[id] = attrString(item, "HeadPK") + "/" + attrString(item, "HeadSK")
				if _, ok := item["Pending"]; ok {
					marked = append(marked, id)
				}
			case strings.HasPrefix(pk, "V#"+c.org+"#"):
				history = append(history, strings.TrimPrefix(pk, "V#"+c.org+"#")+" version "+strings.TrimLeft(sk, "0"))
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	for id, head := range pointers {
		if heads[head] != id {
			t.Errorf("id pointer %s leads to no head of its own (%s)", id, head)
		}
	}
	for _, h := range history {
		id, _, _ := strings.Cut(h, " ")
		if heads[pointers[id]] != id {
			t.Errorf("history %s belongs to no live secret", h)
		}
	}
	if len(marked) > 0 {
		t.Errorf("pointers still marked after the sweep: %v", marked)
	}
}

func attrString(item map[string]types.AttributeValue, name string) string {
	if s, ok := item[name].(*types.AttributeValueMemberS); ok {
		return s.Value
	}
	return ""
}
