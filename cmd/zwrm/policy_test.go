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

// TestAuditRetentionFromTheCLI: `zwrm org settings` shows how long audit
// records are kept, and a superadmin changes it.
func TestAuditRetentionFromTheCLI(t *testing.T) {
	c := newCLI(t, startServer(t))
	member := c.as(strings.TrimSpace(c.ok("tokens", "create", "--name", "Bob", "--subject", "bob@dev.local", "--role", "member")))

	if out := c.ok("org", "settings"); !strings.Contains(out, "audit records kept") || !strings.Contains(out, "400 days") {
		t.Errorf("org settings does not show the default retention:\n%s", out)
	}
	member.fails(exitAuth, "superadmin", "org", "settings", "--audit-retention-days", "30")
	if out := c.ok("org", "settings", "--audit-retention-days", "30"); !strings.Contains(out, "30 days") {
		t.Errorf("after the change org settings says:\n%s", out)
	}
	if out := c.ok("audit", "--limit", "1"); !strings.Contains(out, "audit_retention_days: 400→30") {
		t.Errorf("the audit trail does not show the change:\n%s", out)
	}
	for _, days := range []string{"0", "3651", "-5"} {
		c.fails(exitUsage, "1 to 3650", "org", "settings", "--audit-retention-days", days)
	}
}
