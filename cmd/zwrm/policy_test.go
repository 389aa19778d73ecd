package main

import (
	"strings"
	"testing"
)

// TestWritePoliciesFromTheCLI: a superadmin reads and changes the
// environment write policies with `zwrm org settings`, and a member's
// production write is refused with the rule, changing nothing.
func TestWritePoliciesFromTheCLI(t *testing.T) {
	c := newCLI(t, startServer(t))
	member := c.as(strings.TrimSpace(c.ok("tokens", "create", "--name", "Bob", "--subject", "bob@dev.local", "--role", "member")))

	out := c.ok("org", "settings")
	for _, want := range []string{"production values written by", "admin and above (priority 100)", "member and above (priority 10)"} {
		if !strings.Contains(out, want) {
			t.Errorf("org settings does not say %q:\n%s", want, out)
		}
	}
	member.fails(exitAuth, "setting a production value needs role admin (priority 100)",
		"org", "secrets", "set", "STRIPE_API_KEY=sk_live_from_a_member_0123456789", "--env", "production")
	member.ok("org", "secrets", "set", "DEV_ONLY=d", "--env", "development")
	if out := c.ok("org", "secrets", "list"); strings.Contains(out, "STRIPE_API_KEY") {
		t.Errorf("a refused set left a secret:\n%s", out)
	}

	member.fails(exitAuth, "superadmin", "org", "settings", "--write-priority", "production=10")
	out = c.ok("org", "settings", "--write-priority", "production=10", "--write-priority", "staging=1000")
	if !strings.Contains(out, "superadmin and above (priority 1000)") {
		t.Errorf("after the change org settings says:\n%s", out)
	}
	member.ok("org", "secrets", "set", "STRIPE_API_KEY=sk_live_from_a_member_0123456789", "--env", "production")
	member.fails(exitAuth, "setting a staging value needs role superadmin (priority 1000)", "org", "secrets", "set", "STG=s", "--env", "staging")

	c.fails(exitUsage, "ENV=PRIORITY", "org", "settings", "--write-priority", "production")
	c.fails(exitUsage, "development, staging or production", "org", "settings", "--write-priority", "qa=10")
	c.fails(exitUsage, "min_write_priority", "org", "settings", "--write-priority", "production=0")
}
