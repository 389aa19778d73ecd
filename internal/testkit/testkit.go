// Package testkit builds the service stack for tests, the way `zwrm dev`
// runs it: an embedded store (bbolt) in a temporary directory, a local
// master key, the envelope sealer and the service, with a clock a test can
// move, a log sink it can read and counts of the key wrapper's calls. It
// also makes the identities a test acts as: an org's superadmin, users of
// each role, service and IAM tokens.
//
// A test that needs the stack calls New and uses what it holds; a test
// that needs a second process over the same data calls NewService.
package testkit

import (
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/boltstore"
	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// Options shape a kit; the zero value is a service on the real clock with
// a random master key.
type Options struct {
	// Config is the service's configuration. Its Logger defaults to one
	// writing JSON to the kit's Logs, its Now to the kit's Clock.
	Config service.Config
	// Clock, when set, is the time the service reads; nil is the real
	// clock (and the kit's Clock is nil).
	Clock *Clock
	// Keys wraps data keys (a KMS key, say); nil is a local master key.
	Keys secrets.KeyWrapper
	// Master is the local master key (32 bytes) when Keys is nil; nil is
	// a random one.
	Master []byte
	// Store are the embedded store's options.
	Store boltstore.Options
}

// Kit is one deployment under test.
type Kit struct {
	Store   *boltstore.Store
	Path    string           // the database file
	Keys    *CountingKeys    // Options.Keys or the local master key, its calls counted
	Service *service.Service // over Store and Keys, configured by Options.Config
	Clock   *Clock           // nil on the real clock
	Logs    *SyncBuffer      // what the kit's services log, as JSON lines

	config service.Config
}

// New builds the stack; the store is closed when the test ends.
func New(tb testing.TB, opts Options) *Kit {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "db")
	store, err := boltstore.Open(path, opts.Store)
	if err != nil {
		tb.Fatalf("open store: %v", err)
	}
	tb.Cleanup(func() { store.Close() })
	keys := opts.Keys
	if keys == nil {
		keys = LocalKey(tb, opts.Master)
	}
	k := &Kit{Store: store, Path: path, Keys: NewCountingKeys(keys), Clock: opts.Clock, Logs: &SyncBuffer{}}
	k.config = k.defaults(opts.Config)
	k.Service = service.New(store, k.Keys, k.config)
	return k
}

// LocalKey is a local master key wrapper over master, or over 32 random
// bytes when master is nil.
func LocalKey(tb testing.TB, master []byte) secrets.KeyWrapper {
	tb.Helper()
	if master == nil {
		master = make([]byte, 32)
		rand.Read(master)
	}
	w, err := localkey.New(master)
	if err != nil {
		tb.Fatalf("local key: %v", err)
	}
	return w
}

// Logger writes JSON lines to the kit's Logs.
func (k *Kit) Logger() *slog.Logger { return slog.New(slog.NewJSONHandler(k.Logs, nil)) }

// Quiet is a logger that keeps nothing.
func Quiet() *slog.Logger { return slog.New(slog.NewJSONHandler(io.Discard, nil)) }

func (k *Kit) defaults(cfg service.Config) service.Config {
	if cfg.Logger == nil {
		cfg.Logger = k.Logger()
	}
	if cfg.Now == nil && k.Clock != nil {
		cfg.Now = k.Clock.Now
	}
	return cfg
}

// NewService is another process over the same store and master key: a
// fresh sealer, so a cold data key cache. cfg's Logger and Now default as
// in Options.
func (k *Kit) NewService(cfg service.Config) *service.Service {
	return k.ServiceOver(k.Store, cfg)
}

// ServiceOver is a process over st (the kit's store wrapped to count or
// fail calls) and the kit's master key.
func (k *Kit) ServiceOver(st secrets.Store, cfg service.Config) *service.Service {
	return service.New(st, k.Keys, k.defaults(cfg))
}

// Account is a token and the identity it authenticates as.
type Account struct {
	Token    string
	Identity secrets.Identity
}

// Bootstrap creates org with its first superadmin, root@ORG named Root.
func (k *Kit) Bootstrap(tb testing.TB, org string) Account {
	tb.Helper()
	return k.BootstrapAs(tb, org, "root@"+org, "Root")
}

// BootstrapAs creates org with its first superadmin, subject named name.
func (k *Kit) BootstrapAs(tb testing.TB, org, subject, name string) Account {
	tb.Helper()
	token, err := k.Service.Bootstrap(context.Background(), org, subject, name)
	if err != nil {
		tb.Fatalf("bootstrap %s: %v", org, err)
	}
	return k.account(tb, token)
}

// Superadmin bootstraps org and returns its superadmin's identity.
func (k *Kit) Superadmin(tb testing.TB, org string) secrets.Identity {
	tb.Helper()
	return k.Bootstrap(tb, org).Identity
}

// User is a user token of role for subject, created by an admin.
func (k *Kit) User(tb testing.TB, by secrets.Identity, role secrets.Role, subject, name string) Account {
	tb.Helper()
	return k.Token(tb, by, service.TokenInput{Kind: secrets.TokenUser, Role: role, Subject: subject, Name: name})
}

// Member is a member's user token, created by an admin.
func (k *Kit) Member(tb testing.TB, by secrets.Identity, subject, name string) Account {
	tb.Helper()
	return k.User(tb, by, secrets.RoleMember, subject, name)
}

// Admin is an admin's user token, created by an admin.
func (k *Kit) Admin(tb testing.TB, by secrets.Identity, subject, name string) Account {
	tb.Helper()
	return k.User(tb, by, secrets.RoleAdmin, subject, name)
}

// ServiceToken is a service token for app (and machine, if any) that may
// resolve envs, created by an admin.
func (k *Kit) ServiceToken(tb testing.TB, by secrets.Identity, name, app, machine string, envs ...string) Account {
	tb.Helper()
	return k.Token(tb, by, service.TokenInput{Kind: secrets.TokenService, Name: name, App: app, Machine: machine, Envs: envs})
}

// IAMToken registers principalARN for app, resolving envs. An IAM token
// has no bearer form: the Account's Token is empty and its Identity is
// what the principal authenticates as in org.
func (k *Kit) IAMToken(tb testing.TB, by secrets.Identity, name, principalARN, app string, envs ...string) Account {
	tb.Helper()
	ctx := context.Background()
	_, _, err := k.Service.CreateToken(ctx, by, service.TokenInput{Kind: secrets.TokenIAM, Name: name, PrincipalARN: principalARN, App: app, Envs: envs})
	if err != nil {
		tb.Fatalf("create IAM token %s: %v", name, err)
	}
	id, err := k.Service.AuthenticateIAM(ctx, by.Org, principalARN)
	if err != nil {
		tb.Fatalf("authenticate %s: %v", principalARN, err)
	}
	return Account{Identity: id}
}

// Token creates the token in, by an admin, and authenticates it.
func (k *Kit) Token(tb testing.TB, by secrets.Identity, in service.TokenInput) Account {
	tb.Helper()
	token, _, err := k.Service.CreateToken(context.Background(), by, in)
	if err != nil {
		tb.Fatalf("create %s token %q: %v", in.Kind, in.Name, err)
	}
	return k.account(tb, token)
}

func (k *Kit) account(tb testing.TB, token string) Account {
	tb.Helper()
	id, err := k.Service.Authenticate(context.Background(), token)
	if err != nil {
		tb.Fatalf("authenticate: %v", err)
	}
	return Account{Token: token, Identity: id}
}

// ResolveEverywhere lets id's org's users resolve every environment, so a
// test can read production values back.
func (k *Kit) ResolveEverywhere(tb testing.TB, id secrets.Identity) {
	tb.Helper()
	if _, err := k.Service.SetUserResolveEnvironments(context.Background(), id, []string{"development", "staging", "production"}); err != nil {
		tb.Fatalf("SetUserResolveEnvironments: %v", err)
	}
}

// Start is a fixed time far from any real one, where a test's clock
// starts by default.
var Start = time.Date(2030, 1, 1, 12, 0, 0, 0, time.UTC)
