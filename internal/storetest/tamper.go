package storetest

import (
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/zwrm/secrets/internal/localkey"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
)

// Place names a head record's key: an org, a layer and a name.
type Place struct {
	Org   string
	Layer secrets.Layer
	Name  string
}

// Tamper writes to a store's storage behind its back, as whoever holds
// write access to the table or the file (and no key) could.
type Tamper interface {
	// CopyHead copies the head record stored at from to the key of to,
	// byte for byte. With rewrite, the copy's own org, layer and name are
	// changed to to's as well, so that it agrees with its new key.
	CopyHead(t *testing.T, from, to Place, rewrite bool)
}

// RunTamper shows that storage is untrusted: a head record copied to
// another org, layer or name, as it is or with its body rewritten to
// match, never opens there. A store refuses a record whose body disagrees
// with its key; a rewritten one reaches the service, which binds values to
// where they were found and so cannot open it. Each subtest gets a fresh
// store and its Tamper from newStore.
func RunTamper(t *testing.T, newStore func(t *testing.T) (secrets.Store, Tamper)) {
	const value = "sk_live_acme-production-value-0123456789"
	moves := []struct {
		name string
		to   func(acme, evil string) Place
	}{
		{"to another org", func(_, evil string) Place { return Place{evil, secrets.Global, "STRIPE_KEY"} }},
		{"to another layer", func(acme, _ string) Place { return Place{acme, secrets.Layer{App: "web"}, "STRIPE_KEY"} }},
		{"to another name", func(acme, _ string) Place { return Place{acme, secrets.Global, "OTHER_KEY"} }},
	}
	for _, m := range moves {
		for _, rewrite := range []bool{false, true} {
			what := "a record copied " + m.name + " does not open"
			if rewrite {
				what = "a record copied " + m.name + " with its body rewritten to match does not open"
			}
			t.Run(what, func(t *testing.T) {
				st, tamper := newStore(t)
				ctx := t.Context()
				master := randomBytes(t, 32)
				w, err := localkey.New(master)
				if err != nil {
					t.Fatalf("localkey.New: %v", err)
				}
				svc := service.New(st, w, service.Config{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
				acme, evil := mustCreateOrg(t, st), mustCreateOrg(t, st)
				root := func(org string) secrets.Identity {
					return secrets.Identity{Org: org, Kind: secrets.TokenUser, Role: secrets.RoleSuperadmin, Subject: "root@" + org, Name: "Root of " + org}
				}
				if _, _, err := svc.SetValue(ctx, root(acme), secrets.Global, "STRIPE_KEY", value, ""); err != nil {
					t.Fatalf("SetValue in acme: %v", err)
				}
				// evil has data keys of its own, so a copy meets a key
				// that exists and fails only by its binding.
				if _, _, err := svc.SetValue(ctx, root(evil), secrets.Global, "EVIL_OWN", "evil's own value", ""); err != nil {
					t.Fatalf("SetValue in evil: %v", err)
				}
				to := m.to(acme, evil)
				tamper.CopyHead(t, Place{acme, secrets.Global, "STRIPE_KEY"}, to, rewrite)

				stored, err := st.GetSecretByName(ctx, to.Org, to.Layer, to.Name)
				if !rewrite && !secrets.IsCode(err, secrets.CodeInternal) {
					t.Errorf("GetSecretByName of the copy = %v, want an integrity error (internal): its body names another place", err)
				}
				if rewrite && err != nil {
					t.Fatalf("GetSecretByName of the rewritten copy: %v (the store cannot know; the service must refuse it)", err)
				}
				if rewrite && (stored.Org != to.Org || stored.Layer != to.Layer || stored.Name != to.Name) {
					t.Fatalf("the rewritten copy reads back at %s/%s/%s", stored.Org, stored.Layer, stored.Name)
				}
				for _, env := range []secrets.Environment{secrets.Development} {
					res, err := svc.Resolve(ctx, root(to.Org), service.ResolveInput{Environment: env, Layer: to.Layer})
					if !secrets.IsCode(err, secrets.CodeInternal) {
						t.Errorf("resolve %s at %s of %s: err = %v, want internal", env, to.Layer, to.Org, err)
					}
					if res != nil {
						for name, v := range res.Values {
							if strings.Contains(v, value) {
								t.Errorf("resolve at the copy's place returned acme's value under %s", name)
							}
						}
					}
					if err != nil && strings.Contains(err.Error(), value) {
						t.Errorf("the error quotes the value: %v", err)
					}
				}
				// The original still opens where it belongs.
				res, err := svc.Resolve(ctx, root(acme), service.ResolveInput{Environment: secrets.Development, Layer: secrets.Global})
				if to.Org == acme && to.Layer == secrets.Global {
					// The copy sits in acme's global layer too: the resolve
					// that reads it must refuse.
					if !secrets.IsCode(err, secrets.CodeInternal) {
						t.Errorf("resolve of acme's global layer holding the copy: err = %v, want internal", err)
					}
					return
				}
				if err != nil {
					t.Fatalf("resolve in acme: %v", err)
				}
				if got := res.Values["STRIPE_KEY"]; got != value {
					t.Errorf("acme's own value no longer resolves")
				}
			})
		}
	}
}
