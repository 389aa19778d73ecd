package secrets_test

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/zwrm/secrets/internal/secrets"
)

var nameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
var idRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

func TestValidateName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"MY_SECRET_123", true},
		{"_", true},
		{"a", true},
		{"DATADOG_API_KEY", true},
		{strings.Repeat("A", 128), true},
		{strings.Repeat("A", 129), false},
		{"", false},
		{"1ABC", false},
		{"MY-SECRET", false},
		{"MY SECRET", false},
		{"MY.SECRET", false},
		{"ÄPFEL", false},
		{"A\x00", false},
	} {
		err := secrets.ValidateName(tc.name)
		if got := err == nil; got != tc.ok {
			t.Errorf("ValidateName(%q) ok = %v, want %v (err %v)", tc.name, got, tc.ok, err)
		}
		if err != nil {
			if got, want := secrets.ErrorCode(err), secrets.CodeInvalid; got != want {
				t.Errorf("code = %s, want %s", got, want)
			}
			var e *secrets.Error
			if e, _ = err.(*secrets.Error); e == nil || e.Field != "name" || !strings.Contains(e.Message, "letter or underscore") {
				t.Errorf("ValidateName(%q) = %v, want a name error that states the rule", tc.name, err)
			}
		}
	}
}

func FuzzValidateName(f *testing.F) {
	for _, s := range []string{"MY_SECRET_123", "", "1A", "a-b", "_x9", strings.Repeat("Z", 128), strings.Repeat("Z", 129), "é", "A\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		err := secrets.ValidateName(name)
		want := nameRE.MatchString(name) && len(name) <= 128
		if got := err == nil; got != want {
			t.Fatalf("ValidateName(%q) ok = %v, regexp says %v", name, got, want)
		}
	})
}

func FuzzValidateID(f *testing.F) {
	for _, s := range []string{"web", "", "-web", "web-1", "Web", strings.Repeat("a", 63), strings.Repeat("a", 64), "a_b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		err := secrets.ValidateID("app", id)
		if got, want := err == nil, idRE.MatchString(id); got != want {
			t.Fatalf("ValidateID(%q) ok = %v, regexp says %v", id, got, want)
		}
	})
}

func TestNewLayer(t *testing.T) {
	for _, tc := range []struct {
		app, machine, kind, key string
		field                   string
	}{
		{"", "", "global", "g", ""},
		{"web", "", "app", "a/web", ""},
		{"web", "m-1", "machine", "m/web/m-1", ""},
		{"", "m-1", "", "", "app"},
		{"Web", "", "", "", "app"},
		{"web", "M_1", "", "", "machine"},
	} {
		l, err := secrets.NewLayer(tc.app, tc.machine)
		if tc.field != "" {
			e, ok := err.(*secrets.Error)
			if !ok || e.Field != tc.field {
				t.Errorf("NewLayer(%q, %q) = %v, want an error on %s", tc.app, tc.machine, err, tc.field)
			}
			continue
		}
		if err != nil {
			t.Fatalf("NewLayer(%q, %q): %v", tc.app, tc.machine, err)
		}
		if got := l.Kind(); got != tc.kind {
			t.Errorf("kind = %s, want %s", got, tc.kind)
		}
		if got := l.Key(); got != tc.key {
			t.Errorf("key = %s, want %s", got, tc.key)
		}
	}
}

func TestResolveChainIsLowestPriorityFirst(t *testing.T) {
	chain := secrets.Layer{App: "web", Machine: "m1"}.ResolveChain()
	if got, want := len(chain), 3; got != want {
		t.Fatalf("len = %d, want %d", got, want)
	}
	if chain[0] != secrets.Global || chain[1] != (secrets.Layer{App: "web"}) || chain[2] != (secrets.Layer{App: "web", Machine: "m1"}) {
		t.Fatalf("chain = %v", chain)
	}
	if got, want := len(secrets.Global.ResolveChain()), 1; got != want {
		t.Fatalf("global chain len = %d, want %d", got, want)
	}
}

func TestMask(t *testing.T) {
	for _, tc := range []struct{ value, want string }{
		{"sk_live_51H8xyzQWERTYRgA1", "sk_live_***RgA1"},
		{"sk_live_51HxyzabcdRgA1", "***RgA1"}, // the prefix would leave 10 hidden
		{"Winter-2024-pass", "***pass"},
		{"abcdefg_hijk1234", "***1234"},
		{"abcdefghij12", "***"},
		{"short", "***"},
		{"fifteen-chars-x", "***"},
		{"abcdefghijklmnop", "***mnop"},
		{"a-b_cdefghijklmnopq", "***nopq"},
		{"abcdefgh_ijklmnopq", "***nopq"}, // the '_' is the 9th character: outside the first 8
		{"ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ1234", "ghp_***1234"},
		{"sk_live_0123456789abcdef", "sk_live_***cdef"}, // 12 hidden, exactly half
		{"sk_live_0123456789abcde", "***bcde"},          // 11 hidden
		{"ñññññññññññññññé", "***ñññé"},
		{"", "***"},
	} {
		if got := secrets.Mask(tc.value); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

func TestTightenMask(t *testing.T) {
	for _, tc := range []struct{ stored, want string }{
		{"Winter-***pass", "***pass"},
		{"abcdefg_***1234", "***1234"},
		{"sk_live_***RgA1", "***RgA1"},
		{"***mnop", "***mnop"},
		{"***", "***"},
		{"garbage", "***"},
		{"***toolong", "***"},
	} {
		if got := secrets.TightenMask(tc.stored); got != tc.want {
			t.Errorf("TightenMask(%q) = %q, want %q", tc.stored, got, tc.want)
		}
	}
	legacy := secrets.SealedValue{Mask: "Winter-***pass"}
	if got := legacy.Tightened(); got.Mask != "***pass" || got.MaskRule != secrets.MaskRule {
		t.Errorf("a legacy value tightened = %+v", got)
	}
	current := secrets.SealedValue{Mask: "sk_live_***RgA1", MaskRule: secrets.MaskRule}
	if got := current.Tightened(); got.Mask != "sk_live_***RgA1" {
		t.Errorf("a current mask was changed to %q", got.Mask)
	}
}

func FuzzMaskNeverShowsTheMiddle(f *testing.F) {
	f.Add("sk_live_51HxyzabcdRgA1")
	f.Add("short")
	f.Add("Winter-2024-pass")
	f.Add("sk_live_0123456789abcdef")
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		m := secrets.Mask(v)
		if !strings.Contains(m, "***") {
			t.Fatalf("Mask(%q) = %q has no ***", v, m)
		}
		if m == "***" {
			return
		}
		n := utf8.RuneCountInString(v)
		hidden := n - (utf8.RuneCountInString(m) - 3)
		if hidden < 12 || 2*hidden < n {
			t.Fatalf("Mask(%q) = %q hides only %d of %d characters", v, m, hidden, n)
		}
		if !strings.HasSuffix(v, m[strings.Index(m, "***")+3:]) {
			t.Fatalf("Mask(%q) = %q: its tail is not the value's", v, m)
		}
	})
}

func TestValidateValue(t *testing.T) {
	if err := secrets.ValidateValue("value", secrets.Production, ""); err == nil {
		t.Error("accepted an empty value")
	}
	if err := secrets.ValidateValue("value", secrets.Production, strings.Repeat("x", 64*1024)); err != nil {
		t.Errorf("rejected 64 KiB: %v", err)
	}
	big := strings.Repeat("s3cr3t", 11000)
	err := secrets.ValidateValue("value", secrets.Production, big)
	if err == nil {
		t.Fatal("accepted a value over 64 KiB")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatal("error quotes the value")
	}
	if err := secrets.ValidateValue("value", secrets.Production, "\xff\xfe"); err == nil {
		t.Error("accepted invalid UTF-8")
	}
	err = secrets.ValidateValue("values.staging", secrets.Staging, "before\x00after")
	if err == nil {
		t.Fatal("accepted a NUL byte")
	}
	if msg := err.Error(); !strings.Contains(msg, "staging") || !strings.Contains(msg, "NUL") || strings.Contains(msg, "before") {
		t.Errorf("NUL refusal = %q: want the environment and the rule, never the value", msg)
	}
	if !secrets.IsCode(err, secrets.CodeInvalid) {
		t.Errorf("NUL refusal code = %s, want invalid", secrets.ErrorCode(err))
	}
	if err := secrets.ValidateValue("value", "", "a\x00b"); err == nil || !strings.Contains(err.Error(), "every environment") {
		t.Errorf("NUL in a value for all environments: %v", err)
	}
	if err := secrets.ValidateValue("value", secrets.Development, "line one\nline\ttwo\r\n"); err != nil {
		t.Errorf("rejected newlines and tabs: %v", err)
	}
}

func TestCheckWriteEnvironment(t *testing.T) {
	org := &secrets.Org{ID: "acme"}
	member := secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleMember, Subject: "m@x"}
	admin := secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleAdmin, Subject: "a@x"}
	super := secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleSuperadmin, Subject: "s@x"}
	service := secrets.Identity{Kind: secrets.TokenService, Role: secrets.RoleSuperadmin}
	for _, tc := range []struct {
		name string
		id   secrets.Identity
		env  secrets.Environment
		want bool
	}{
		{"a member sets development by default", member, secrets.Development, true},
		{"a member sets staging by default", member, secrets.Staging, true},
		{"a member may not set production by default", member, secrets.Production, false},
		{"an admin sets production by default", admin, secrets.Production, true},
		{"a service token writes nothing", service, secrets.Development, false},
	} {
		if got := secrets.CanWriteEnvironment(tc.id, org, tc.env); got != tc.want {
			t.Errorf("%s: CanWriteEnvironment = %v, want %v", tc.name, got, tc.want)
		}
	}
	err := secrets.CheckWriteEnvironment(member, org, secrets.Production, "setting a %s value")
	if err == nil || !secrets.IsCode(err, secrets.CodeForbidden) ||
		!strings.HasPrefix(err.Error(), "setting a production value needs role admin (priority 100) in this organization") {
		t.Errorf("refusal = %v", err)
	}
	strict := &secrets.Org{ID: "acme", EnvironmentPolicies: map[secrets.Environment]secrets.EnvironmentPolicy{
		secrets.Production: {MinWritePriority: 1000}, secrets.Staging: {MinWritePriority: 50},
	}}
	if secrets.CanWriteEnvironment(admin, strict, secrets.Production) || !secrets.CanWriteEnvironment(super, strict, secrets.Production) {
		t.Error("a production policy of 1000 must admit superadmins only")
	}
	err = secrets.CheckWriteEnvironment(member, strict, secrets.Staging, "clearing a %s value")
	if err == nil || !strings.HasPrefix(err.Error(), "clearing a staging value needs role admin (priority 100)") {
		t.Errorf("refusal under a priority 50 policy = %v", err)
	}
	if got := strict.WritePolicy(secrets.Development).MinWritePriority; got != 10 {
		t.Errorf("an unset environment's policy = %d, want the default 10", got)
	}
}

func TestCheckOverride(t *testing.T) {
	lower := &secrets.Secret{Name: "STRIPE_API_KEY", Layer: secrets.Global, Owner: secrets.Principal{Subject: "root@x", Name: "Dev Superadmin"}}
	member := secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleMember, Subject: "m@x"}
	err := secrets.CheckOverride(member, lower)
	if err == nil || err.Error() != "STRIPE_API_KEY at global is owned by Dev Superadmin; only its owner or an admin may override it" {
		t.Errorf("refusal = %v", err)
	}
	if err := secrets.CheckOverride(secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleMember, Subject: "root@x"}, lower); err != nil {
		t.Errorf("the owner may override: %v", err)
	}
	if err := secrets.CheckOverride(secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleAdmin, Subject: "a@x"}, lower); err != nil {
		t.Errorf("an admin may override: %v", err)
	}
}

func TestReservedNames(t *testing.T) {
	for _, tc := range []struct {
		name string
		want bool
	}{
		{"PATH", true}, {"path", true}, {"Node_Options", true}, {"LD_PRELOAD", true}, {"ld_library_path", true},
		{"DYLD_INSERT_LIBRARIES", true}, {"BASH_ENV", true}, {"IFS", true}, {"GIT_SSH_COMMAND", true}, {"_JAVA_OPTIONS", true},
		{"DOTNET_STARTUP_HOOKS", true}, {"git_config_count", true}, {"GIT_CONFIG_KEY_0", true}, {"COR_PROFILER_PATH", true},
		{"CORECLR_PROFILER", true}, {"zwrm_token", true}, {"ZWRM_ENDPOINT", true}, {"HOME", true}, {"GLIBC_TUNABLES", true},
		{"PATHS", false}, {"MY_PATH", false}, {"LD", false}, {"NODE_ENV", false}, {"STRIPE_API_KEY", false}, {"ENVIRONMENT", false},
		{"HTTPS_PROXY", false}, {"SSL_CERT_FILE", false}, {"HOMEPAGE_URL", false}, {"CORS_ORIGINS", false},
	} {
		if got := secrets.IsReservedName(tc.name); got != tc.want {
			t.Errorf("IsReservedName(%q) = %v, want %v", tc.name, got, tc.want)
		}
	}
	member := secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleMember}
	err := secrets.CheckReservedName(member, "node_options")
	if err == nil || !secrets.IsCode(err, secrets.CodeForbidden) || !strings.Contains(err.Error(), "reserved") || !strings.Contains(err.Error(), "admin") {
		t.Errorf("a member creating node_options: %v", err)
	}
	if err := secrets.CheckReservedName(secrets.Identity{Kind: secrets.TokenUser, Role: secrets.RoleAdmin}, "PATH"); err != nil {
		t.Errorf("an admin creating PATH: %v", err)
	}
}

func TestParseLayerKey(t *testing.T) {
	for _, l := range []secrets.Layer{secrets.Global, {App: "web"}, {App: "web", Machine: "web-1"}} {
		got, err := secrets.ParseLayerKey(l.Key())
		if err != nil || got != l {
			t.Errorf("ParseLayerKey(%q) = %v, %v", l.Key(), got, err)
		}
	}
	for _, k := range []string{"", "x", "a/", "m/web", "m/web/", "a/Web", "a/web/x", "g/x"} {
		if _, err := secrets.ParseLayerKey(k); err == nil {
			t.Errorf("ParseLayerKey(%q) accepted a malformed key", k)
		}
	}
}

func TestValidateDescription(t *testing.T) {
	if err := secrets.ValidateDescription(strings.Repeat("é", 1000)); err != nil {
		t.Errorf("rejected 1,000 characters: %v", err)
	}
	if err := secrets.ValidateDescription(strings.Repeat("é", 1001)); err == nil {
		t.Error("accepted 1,001 characters")
	}
}

func TestCanModify(t *testing.T) {
	s := &secrets.Secret{Owner: secrets.Principal{Subject: "ann@x", Name: "Ann"}}
	for _, tc := range []struct {
		name string
		id   secrets.Identity
		want bool
	}{
		{"the owner, a member", secrets.Identity{Kind: secrets.TokenUser, Subject: "ann@x", Role: secrets.RoleMember}, true},
		{"another member", secrets.Identity{Kind: secrets.TokenUser, Subject: "bob@x", Role: secrets.RoleMember}, false},
		{"an admin", secrets.Identity{Kind: secrets.TokenUser, Subject: "cat@x", Role: secrets.RoleAdmin}, true},
		{"a superadmin", secrets.Identity{Kind: secrets.TokenUser, Subject: "dan@x", Role: secrets.RoleSuperadmin}, true},
		{"a service token with the owner's subject", secrets.Identity{Kind: secrets.TokenService, Subject: "ann@x"}, false},
	} {
		if got := secrets.CanModify(tc.id, s); got != tc.want {
			t.Errorf("%s: CanModify = %v, want %v", tc.name, got, tc.want)
		}
	}
	err := secrets.CheckModify(secrets.Identity{Kind: secrets.TokenUser, Subject: "bob@x", Role: secrets.RoleMember}, s)
	if err == nil || err.Error() != "Only Ann can modify this secret" {
		t.Fatalf("err = %v, want the owner message", err)
	}
}

func TestRolePriorities(t *testing.T) {
	for role, want := range map[secrets.Role]int{secrets.RoleMember: 10, secrets.RoleAdmin: 100, secrets.RoleSuperadmin: 1000, "root": 0} {
		if got := role.Priority(); got != want {
			t.Errorf("%s priority = %d, want %d", role, got, want)
		}
	}
}
