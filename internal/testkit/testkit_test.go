package testkit_test

import (
	"context"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/service"
	"github.com/zwrm/secrets/internal/testkit"
)

func TestTheKitMakesTheIdentitiesATestActsAs(t *testing.T) {
	k := testkit.New(t, testkit.Options{})
	root := k.Bootstrap(t, "acme")
	if got, want := root.Identity.Role, secrets.RoleSuperadmin; got != want || root.Identity.Subject != "root@acme" {
		t.Fatalf("bootstrap: %+v, want root@acme, %s", root.Identity, want)
	}
	for _, tc := range []struct {
		name string
		got  testkit.Account
		role secrets.Role
		kind secrets.TokenKind
	}{
		{"a member", k.Member(t, root.Identity, "mia@acme.test", "Mia"), secrets.RoleMember, secrets.TokenUser},
		{"an admin", k.Admin(t, root.Identity, "ada@acme.test", "Ada"), secrets.RoleAdmin, secrets.TokenUser},
		{"a service token", k.ServiceToken(t, root.Identity, "web-prod", "web", "", "production"), "", secrets.TokenService},
		{"an IAM registration", k.IAMToken(t, root.Identity, "web role", "arn:aws:iam::123456789012:role/web", "web", "production"), "", secrets.TokenIAM},
	} {
		t.Run(tc.name+" authenticates as made", func(t *testing.T) {
			if id := tc.got.Identity; id.Org != "acme" || id.Role != tc.role || id.Kind != tc.kind {
				t.Errorf("identity = %+v, want org acme, role %q, kind %s", id, tc.role, tc.kind)
			}
		})
	}
}

func TestAnotherServiceIsAColdProcessOnTheKitsClock(t *testing.T) {
	clk := testkit.NewClock(testkit.Start)
	k := testkit.New(t, testkit.Options{Clock: clk})
	ctx := context.Background()
	root := k.Superadmin(t, "acme")
	k.ResolveEverywhere(t, root)
	if _, _, err := k.Service.SetValue(ctx, root, secrets.Global, "API_KEY", "a-value-of-some-length", secrets.Production); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	k.Keys.Unwrapped.Store(0)
	res, err := k.NewService(service.Config{}).Resolve(ctx, root, service.ResolveInput{Environment: secrets.Production})
	if err != nil || res.Values["API_KEY"] != "a-value-of-some-length" {
		t.Fatalf("resolve = %+v, %v", res, err)
	}
	if got, want := k.Keys.Unwrapped.Load(), int64(1); got != want {
		t.Errorf("a new service unwrapped %d keys, want %d (a cold cache)", got, want)
	}
	records, _, err := k.Service.Audit(ctx, root, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := records[0].Time, testkit.Start.Add(time.Hour); !got.Equal(want) {
		t.Errorf("the new service's record is at %s, want the kit's clock, %s", got, want)
	}
}
