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
		{"sk_live_51HxyzabcdRgA1", "sk_live_***RgA1"},
		{"short", "***"},
		{"fifteen-chars-x", "***"},
		{"sixteen_chars_ab", "sixteen_***s_ab"},
		{"abcdefghijklmnop", "***mnop"},
		{"a-b_cdefghijklmnopq", "a-b_***nopq"},
		{"abcdefgh_ijklmnopq", "***nopq"}, // the '_' is the 9th character: outside the first 8
		{"ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ1234", "ghp_***1234"},
		{"ñññññññññññññññé", "***ñññé"},
	} {
		if got := secrets.Mask(tc.value); got != tc.want {
			t.Errorf("Mask(%q) = %q, want %q", tc.value, got, tc.want)
		}
	}
}

func FuzzMaskNeverShowsTheMiddle(f *testing.F) {
	f.Add("sk_live_51HxyzabcdRgA1")
	f.Add("short")
	f.Fuzz(func(t *testing.T, v string) {
		if !utf8.ValidString(v) {
			return
		}
		m := secrets.Mask(v)
		if !strings.Contains(m, "***") {
			t.Fatalf("Mask(%q) = %q has no ***", v, m)
		}
		if shown := utf8.RuneCountInString(m) - 3; shown > 12 || (utf8.RuneCountInString(v) >= 16 && shown > utf8.RuneCountInString(v)/2+4) {
			t.Fatalf("Mask(%q) = %q shows %d characters", v, m, shown)
		}
	})
}

func TestValidateValue(t *testing.T) {
	if err := secrets.ValidateValue("value", ""); err == nil {
		t.Error("accepted an empty value")
	}
	if err := secrets.ValidateValue("value", strings.Repeat("x", 64*1024)); err != nil {
		t.Errorf("rejected 64 KiB: %v", err)
	}
	big := strings.Repeat("s3cr3t", 11000)
	err := secrets.ValidateValue("value", big)
	if err == nil {
		t.Fatal("accepted a value over 64 KiB")
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Fatal("error quotes the value")
	}
	if err := secrets.ValidateValue("value", "\xff\xfe"); err == nil {
		t.Error("accepted invalid UTF-8")
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
