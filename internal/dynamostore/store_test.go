package dynamostore_test

import (
	"context"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/zwrm/secrets/internal/dynalite"
	"github.com/zwrm/secrets/internal/dynamostore"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/storetest"
)

// TestStore runs the store conformance suite against dynalite, with a
// fresh table for every subtest.
func TestStore(t *testing.T) {
	srv := dynalite.Start(t)
	client := srv.Client(t)
	storetest.Run(t, func(t *testing.T) secrets.Store {
		return dynamostore.New(client, srv.NewTable(t))
	})
}

func TestStoreIsUntrusted(t *testing.T) {
	srv := dynalite.Start(t)
	client := srv.Client(t)
	storetest.RunTamper(t, func(t *testing.T) (secrets.Store, storetest.Tamper) {
		table := srv.NewTable(t)
		return dynamostore.New(client, table), tamperer{client, table}
	})
}

// tamperer writes to the table behind the store's back, with a plain
// GetItem and PutItem, as anyone with write access to the table could.
type tamperer struct {
	api   *dynamodb.Client
	table string
}

func headKeyAV(p storetest.Place) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{
		dynamostore.AttrPK: &types.AttributeValueMemberS{Value: "S#" + p.Org + "#" + p.Layer.Key()},
		dynamostore.AttrSK: &types.AttributeValueMemberS{Value: "N#" + p.Name},
	}
}

func (tp tamperer) CopyHead(t *testing.T, from, to storetest.Place, rewrite bool) {
	t.Helper()
	out, err := tp.api.GetItem(t.Context(), &dynamodb.GetItemInput{TableName: aws.String(tp.table), Key: headKeyAV(from), ConsistentRead: aws.Bool(true)})
	if err != nil || len(out.Item) == 0 {
		t.Fatalf("GetItem of the head at %v: %v (%d attributes)", from, err, len(out.Item))
	}
	item := maps.Clone(out.Item)
	maps.Copy(item, headKeyAV(to))
	if rewrite {
		layer := map[string]types.AttributeValue{}
		if to.Layer.App != "" {
			layer["app"] = &types.AttributeValueMemberS{Value: to.Layer.App}
		}
		if to.Layer.Machine != "" {
			layer["machine"] = &types.AttributeValueMemberS{Value: to.Layer.Machine}
		}
		item["org"] = &types.AttributeValueMemberS{Value: to.Org}
		item["name"] = &types.AttributeValueMemberS{Value: to.Name}
		item["layer"] = &types.AttributeValueMemberM{Value: layer}
	}
	if _, err := tp.api.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(tp.table), Item: item}); err != nil {
		t.Fatalf("PutItem of the copy at %v: %v", to, err)
	}
}

// TestStoreWithOldItemOnConditionFailure runs the suite again with the
// item as it was attached to every failed condition, as DynamoDB does for
// ReturnValuesOnConditionCheckFailure ALL_OLD and dynalite does not: the
// store's other path for telling a stale version from an absent record.
func TestStoreWithOldItemOnConditionFailure(t *testing.T) {
	srv := dynalite.Start(t)
	client := srv.Client(t)
	storetest.Run(t, func(t *testing.T) secrets.Store {
		table := srv.NewTable(t)
		return dynamostore.New(&allOldAPI{API: client, t: t, table: table}, table)
	})
}

// allOldAPI attaches the old item to failed conditions of writes that ask
// for it, reading it from the table right after the failure.
type allOldAPI struct {
	dynamostore.API
	t     *testing.T
	table string
}

func (a *allOldAPI) attach(ctx context.Context, err error, want types.ReturnValuesOnConditionCheckFailure, k map[string]types.AttributeValue) error {
	var ccf *types.ConditionalCheckFailedException
	if want != types.ReturnValuesOnConditionCheckFailureAllOld || !errors.As(err, &ccf) {
		return err
	}
	out, getErr := a.API.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(a.table), Key: k, ConsistentRead: aws.Bool(true)})
	if getErr != nil {
		a.t.Errorf("allOldAPI: GetItem: %v", getErr)
		return err
	}
	return &types.ConditionalCheckFailedException{Message: ccf.Message, Item: out.Item}
}

func keyOf(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{dynamostore.AttrPK: item[dynamostore.AttrPK], dynamostore.AttrSK: item[dynamostore.AttrSK]}
}

func (a *allOldAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	out, err := a.API.PutItem(ctx, in, opts...)
	return out, a.attach(ctx, err, in.ReturnValuesOnConditionCheckFailure, keyOf(in.Item))
}

func (a *allOldAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	out, err := a.API.UpdateItem(ctx, in, opts...)
	return out, a.attach(ctx, err, in.ReturnValuesOnConditionCheckFailure, in.Key)
}

func (a *allOldAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	out, err := a.API.DeleteItem(ctx, in, opts...)
	return out, a.attach(ctx, err, in.ReturnValuesOnConditionCheckFailure, in.Key)
}

// countingAPI counts the calls of each operation. Its Query waits (up to a
// bound) until rendezvous queries are in flight at once, so that a test
// can tell concurrent queries from sequential ones without timing them.
type countingAPI struct {
	dynamostore.API
	rendezvous int

	mu        sync.Mutex
	calls     map[string]int
	inFlight  int
	maxFlight int
	arrived   chan struct{}
}

func newCountingAPI(api dynamostore.API, rendezvous int) *countingAPI {
	return &countingAPI{API: api, rendezvous: rendezvous, calls: map[string]int{}, arrived: make(chan struct{})}
}

func (c *countingAPI) count(op string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls[op]++
}

func (c *countingAPI) snapshot() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return maps.Clone(c.calls)
}

func (c *countingAPI) GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	c.count("GetItem")
	return c.API.GetItem(ctx, in, opts...)
}

func (c *countingAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	c.count("PutItem")
	return c.API.PutItem(ctx, in, opts...)
}

func (c *countingAPI) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	c.count("UpdateItem")
	return c.API.UpdateItem(ctx, in, opts...)
}

func (c *countingAPI) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	c.count("DeleteItem")
	return c.API.DeleteItem(ctx, in, opts...)
}

func (c *countingAPI) Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	c.mu.Lock()
	c.calls["Query"]++
	c.inFlight++
	c.maxFlight = max(c.maxFlight, c.inFlight)
	if c.inFlight == c.rendezvous {
		close(c.arrived)
	}
	c.mu.Unlock()
	select {
	case <-c.arrived:
	case <-time.After(5 * time.Second): // sequential queries: give up waiting
	}
	defer func() {
		c.mu.Lock()
		c.inFlight--
		c.mu.Unlock()
	}()
	return c.API.Query(ctx, in, opts...)
}

func TestResolveReadIsThreeConcurrentQueries(t *testing.T) {
	client, table := newTable(t)
	ctx := t.Context()

	org := "acme"
	global, app, machine := secrets.Global, secrets.Layer{App: "billing"}, secrets.Layer{App: "billing", Machine: "web-1"}
	seed := dynamostore.New(client, table)
	for i, l := range []secrets.Layer{global, global, app, machine, machine} {
		s := &secrets.Secret{ID: fmt.Sprintf("id-%d", i), Org: org, Layer: l, Name: fmt.Sprintf("S%d", i), Version: 1, Change: "create"}
		if err := seed.CreateSecret(ctx, s); err != nil {
			t.Fatalf("CreateSecret: %v", err)
		}
	}

	counting := newCountingAPI(client, 3)
	st := dynamostore.New(counting, table)
	got, err := st.ListSecretsIn(ctx, org, machine.ResolveChain(), secrets.Production)
	if err != nil {
		t.Fatalf("ListSecretsIn: %v", err)
	}
	if g, w := []int{len(got[0]), len(got[1]), len(got[2])}, []int{2, 1, 2}; !slices.Equal(g, w) {
		t.Errorf("secrets per layer = %v, want %v", g, w)
	}
	if got, want := counting.snapshot(), map[string]int{"Query": 3}; !maps.Equal(got, want) {
		t.Errorf("calls = %v, want %v", got, want)
	}
	if got, want := counting.maxFlight, 3; got != want {
		t.Errorf("at most %d queries were in flight at once, want %d: the layers are read one after another", got, want)
	}
}

// TestNoScanNoTransactionsNoBatchWrites reads the package's code (not its
// tests or comments): no identifier may name Scan, a transaction or a
// batch write, nor PartiQL, which could hide either.
func TestNoScanNoTransactionsNoBatchWrites(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	forbidden := func(name string) bool {
		switch {
		case name == "ScanIndexForward": // a Query's direction
			return false
		case strings.HasPrefix(name, "Scan"),
			strings.Contains(name, "Transact"),
			strings.HasPrefix(name, "BatchWrite"),
			strings.Contains(name, "ExecuteStatement"),
			strings.Contains(name, "ExecuteTransaction"):
			return true
		}
		return false
	}
	fset := token.NewFileSet()
	checked := 0
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatalf("parse %s: %v", file, err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.Ident:
				if forbidden(n.Name) {
					t.Errorf("%s: %s: the store must not use %s", fset.Position(n.Pos()), n.Name, n.Name)
				}
			case *ast.BasicLit:
				if n.Kind == token.STRING && forbidden(strings.Trim(n.Value, "\"`")) {
					t.Errorf("%s: %s: the store must not use %s", fset.Position(n.Pos()), n.Value, n.Value)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatalf("no Go files checked")
	}
}

// replayAPI sends every successful PutItem a second time and answers with
// the second answer, as when the SDK retries a write whose first answer
// was lost (a timeout, a 500) although the write landed.
type replayAPI struct{ dynamostore.API }

func (r replayAPI) PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	if _, err := r.API.PutItem(ctx, in, opts...); err != nil {
		return nil, err
	}
	return r.API.PutItem(ctx, in, opts...)
}

func TestWritesThatLandedSucceedWhenRetried(t *testing.T) {
	client, table := newTable(t)
	ctx := t.Context()
	st := dynamostore.New(replayAPI{client}, table)
	now := time.Now().UTC().Truncate(time.Microsecond)

	owner := secrets.Principal{Subject: "ada@example.com", Name: "Ada"}
	v1 := &secrets.Secret{ID: "s1", Org: "acme", Layer: secrets.Layer{App: "billing"}, Name: "DB_URL", Description: "first",
		Owner: owner, UpdatedBy: owner, CreatedAt: now, UpdatedAt: now, Version: 1, Change: "create"}
	v2 := *v1
	v2.Description, v2.Version, v2.Change = "second", 2, "update"
	for op, err := range map[string]error{
		"CreateOrg":     st.CreateOrg(ctx, &secrets.Org{ID: "acme", CreatedAt: now}),
		"CreateToken":   st.CreateToken(ctx, &secrets.Token{ID: "t1", Org: "acme", Name: "deploy", CreatedAt: now}),
		"CreateDataKey": st.CreateDataKey(ctx, &secrets.DataKey{Org: "acme", Environment: secrets.Production, Generation: 1, Wrapped: []byte{1, 2, 3}, CreatedAt: now}),
		"AppendAudit":   st.AppendAudit(ctx, &secrets.AuditRecord{ID: secrets.NewAuditID(now), Org: "acme", Time: now, Action: secrets.ActionResolve}),
	} {
		if err != nil {
			t.Errorf("%s, its write repeated: %v", op, err)
		}
	}
	// In order: each step builds on the one before.
	if err := st.CreateSecret(ctx, v1); err != nil {
		t.Fatalf("CreateSecret, its writes repeated: %v", err)
	}
	if err := st.PutVersion(ctx, v1); err != nil {
		t.Fatalf("PutVersion, its write repeated: %v", err)
	}
	if err := st.UpdateSecret(ctx, &v2, 1); err != nil {
		t.Fatalf("UpdateSecret, its write repeated: %v", err)
	}
	got, err := st.GetSecret(ctx, "acme", "s1")
	if err != nil {
		t.Fatalf("GetSecret: %v", err)
	}
	if got.Version != 2 || got.Description != "second" {
		t.Errorf("head = version %d %q, want version 2 %q", got.Version, got.Description, "second")
	}

	// A different record at a taken key is still a conflict.
	other := *v1
	other.ID = "s2"
	if err := st.CreateSecret(ctx, &other); !errors.Is(err, secrets.ErrExists) {
		t.Errorf("CreateSecret of a taken name: got %v, want %v", err, secrets.ErrExists)
	}
	stale := v2
	stale.Description = "another writer's"
	if err := st.UpdateSecret(ctx, &stale, 1); !errors.Is(err, secrets.ErrStale) {
		t.Errorf("UpdateSecret from a stale version: got %v, want %v", err, secrets.ErrStale)
	}
}

// TestConcurrentWritersWithoutAVersionAllLand: 32 writers of one name,
// spread over four services as over four Lambda containers, all succeed
// with distinct, contiguous versions: the losers of each conditional
// write back off and try again.
func TestConcurrentWritersWithoutAVersionAllLand(t *testing.T) {
	st := dynamostore.New(newTable(t))
	var services []*service.Service
	for range 4 {
		services = append(services, newService(t, st, nil))
	}
	ctx := t.Context()
	token, err := services[0].Bootstrap(ctx, "acme", "root@acme.test", "Root")
	if err != nil {
		t.Fatal(err)
	}
	root, err := services[0].Authenticate(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	const n = 32
	versions := make([]int64, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			sec, isNew, err := services[i%len(services)].SetValue(ctx, root, secrets.Global, "RACED", fmt.Sprintf("value-%02d", i), secrets.Development)
			if err != nil {
				t.Errorf("writer %d: %v", i, err)
				return
			}
			versions[i], created[i] = sec.Version, isNew
		})
	}
	wg.Wait()
	if got := countTrue(created); got != 1 {
		t.Errorf("%d writers created the secret, want 1", got)
	}
	slices.Sort(versions)
	for i, v := range versions {
		if v != int64(i+1) {
			t.Fatalf("versions = %v, want 1 to %d, each once", versions, n)
		}
	}
}

func countTrue(bs []bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

// TestOrgSettingsWriteRetriedAfterALostReply: the SDK retries an
// UpdateItem whose answer was lost; when the first try landed, the retry
// fails its version condition, and the store must see its own write in
// the table and answer success, not a conflict. A different change at the
// same version is still a conflict.
func TestOrgSettingsWriteRetriedAfterALostReply(t *testing.T) {
	st := dynamostore.New(newTable(t))
	ctx := t.Context()
	if err := st.CreateOrg(ctx, &secrets.Org{ID: "acme", CreatedAt: time.Now().UTC()}); err != nil {
		t.Fatal(err)
	}
	change := &secrets.Org{ID: "acme", SettingsVersion: 1,
		EnvironmentPolicies: map[secrets.Environment]secrets.EnvironmentPolicy{secrets.Production: {MinWritePriority: 1000}}}
	if err := st.PutOrgSettings(ctx, change, 0); err != nil {
		t.Fatalf("first try: %v", err)
	}
	if err := st.PutOrgSettings(ctx, change, 0); err != nil {
		t.Errorf("the retry of a write that landed = %v, want success", err)
	}
	other := &secrets.Org{ID: "acme", SettingsVersion: 1, UserResolveEnvironments: []secrets.Environment{secrets.Production}}
	if err := st.PutOrgSettings(ctx, other, 0); !errors.Is(err, secrets.ErrStale) {
		t.Errorf("another change at the same version = %v, want stale", err)
	}
}
