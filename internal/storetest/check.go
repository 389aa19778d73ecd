package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Assertions: errors by code, and records compared field by field.

// wantErr fails unless err is target (wrapped or not). ErrExists and
// ErrStale share a code, so only errors.Is tells them apart.
func wantErr(t *testing.T, op string, err error, target *secrets.Error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: got error %v, want %v", op, err, target)
	}
}

// checkEach fails unless got holds as many records as want, and checks
// each against its own with check.
func checkEach[T any](t *testing.T, what string, got, want []*T, check func(t *testing.T, what string, got, want *T)) {
	t.Helper()
	if g, w := len(got), len(want); g != w {
		t.Fatalf("len(%s) = %d, want %d", what, g, w)
	}
	for i := range want {
		check(t, fmt.Sprintf("%s[%d]", what, i), got[i], want[i])
	}
}

// wantNone returns a function that fails t unless the list call it is
// given returned no error and an empty list:
// wantNone(t, "ListTokens of an empty org")(st.ListTokens(ctx, org)).
func wantNone(t *testing.T, what string) func(list any, err error) {
	return func(list any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if n := reflect.ValueOf(list).Len(); n != 0 {
			t.Errorf("%s: %d returned, want none", what, n)
		}
	}
}

// wantNotFound fails unless err carries CodeNotFound.
func wantNotFound(t *testing.T, op string, err error) {
	t.Helper()
	if !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("%s: got error %v (code %q), want code %q", op, err, secrets.ErrorCode(err), secrets.CodeNotFound)
	}
}

// check reports, as what, every field in which got differs from want;
// kind names the record when got is nil.
func check[T any](t *testing.T, what, kind string, got, want *T, diff func(d *differ, got, want *T)) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil %s", what, kind)
		return
	}
	var d differ
	diff(&d, got, want)
	for _, s := range d.diffs {
		t.Errorf("%s: %s", what, s)
	}
}

func checkSecret(t *testing.T, what string, got, want *secrets.Secret) {
	t.Helper()
	check(t, what, "secret", got, want, diffSecret)
}

func diffSecret(d *differ, got, want *secrets.Secret) {
	d.eq("Rotation != nil", got.Rotation != nil, want.Rotation != nil)
	d.fields(got, want, "ID", "Org", "Layer", "Name", "Description", "Owner", "CreatedAt", "UpdatedAt", "UpdatedBy",
		"Version", "Change", "RestoredFrom", "Rotation.Every", "Rotation.EverySeconds", "Rotation.Environments",
		"Rotation.Length", "Rotation.Alphabet", "Rotation.NextAt", "Rotation.LastAt")
	d.eq("len(Values)", len(got.Values), len(want.Values))
	for env, w := range want.Values {
		g, ok := got.Values[env]
		if !ok {
			d.add("Values[%s] is missing", env)
			continue
		}
		d.bytes(fmt.Sprintf("Values[%s].Ciphertext", env), g.Ciphertext, w.Ciphertext)
		d.eq(fmt.Sprintf("Values[%s].Mask", env), g.Mask, w.Mask)
	}
}

func checkToken(t *testing.T, what string, got, want *secrets.Token) {
	t.Helper()
	check(t, what, "token", got, want, diffToken)
}

func diffToken(d *differ, got, want *secrets.Token) {
	d.fields(got, want, "ID", "Org", "Kind", "Hash", "Prefix", "Subject", "Name", "Role", "PrincipalARN",
		"Scope.App", "Scope.Machine", "Scope.Environments", "CreatedAt", "CreatedBy", "ExpiresAt", "RevokedAt")
}

func checkOrg(t *testing.T, what string, got, want *secrets.Org) {
	t.Helper()
	check(t, what, "org", got, want, diffOrg)
}

func diffOrg(d *differ, got, want *secrets.Org) {
	d.fields(got, want, "ID", "CreatedAt", "UserResolveEnvironments", "EnvironmentPolicies", "SettingsVersion")
}

func checkDataKey(t *testing.T, what string, got, want *secrets.DataKey) {
	t.Helper()
	check(t, what, "data key", got, want, diffDataKey)
}

func diffDataKey(d *differ, got, want *secrets.DataKey) {
	d.fields(got, want, "Org", "Environment", "Generation", "Wrapped", "CreatedAt")
}

func checkAudit(t *testing.T, what string, got, want *secrets.AuditRecord) {
	t.Helper()
	check(t, what, "audit record", got, want, diffAudit)
}

func diffAudit(d *differ, got, want *secrets.AuditRecord) {
	d.fields(got, want, "ID", "Org", "Time", "Actor", "Action", "RequestID", "SecretID", "Layer", "Environment",
		"Secrets", "TokenID", "Detail", "ExpiresAt", "Manifest", "SecretCount")
}

// differ collects field differences, so that one comparison reports every
// field a store got wrong.
type differ struct{ diffs []string }

func (d *differ) add(format string, args ...any) {
	d.diffs = append(d.diffs, fmt.Sprintf(format, args...))
}

// fields compares the named fields of got and want, pointers to one struct
// type; a dotted name reaches into a nested struct ("Scope.App"), and is
// passed over where a pointer on its way is nil on either side. Times
// compare with Equal, pointers by what they point at, byte slices in hex,
// other slices element by element (nil and empty are equal), maps as
// printed (in key order), the rest with ==.
func (d *differ) fields(got, want any, names ...string) {
names:
	for _, name := range names {
		g, w := reflect.ValueOf(got), reflect.ValueOf(want)
		for _, part := range strings.Split(name, ".") {
			if g.Kind() == reflect.Pointer {
				if g.IsNil() || w.IsNil() {
					continue names
				}
				g, w = g.Elem(), w.Elem()
			}
			g, w = g.FieldByName(part), w.FieldByName(part)
		}
		d.value(name, g, w)
	}
}

func (d *differ) value(field string, g, w reflect.Value) {
	switch {
	case g.Type() == reflect.TypeFor[time.Time]():
		d.time(field, g.Interface().(time.Time), w.Interface().(time.Time))
	case g.Kind() == reflect.Pointer && (g.IsNil() || w.IsNil()):
		if g.IsNil() != w.IsNil() {
			d.add("%s = %v, want %v", field, g.Interface(), w.Interface())
		}
	case g.Kind() == reflect.Pointer:
		d.value(field, g.Elem(), w.Elem())
	case g.Kind() == reflect.Slice && g.Type().Elem().Kind() == reflect.Uint8:
		d.bytes(field, g.Bytes(), w.Bytes())
	case g.Kind() == reflect.Slice:
		equal := g.Len() == w.Len()
		for i := 0; equal && i < g.Len(); i++ {
			equal = g.Index(i).Interface() == w.Index(i).Interface()
		}
		if !equal {
			d.add("%s = %v, want %v", field, g.Interface(), w.Interface())
		}
	case g.Kind() == reflect.Map:
		d.eq(field, fmt.Sprint(g.Interface()), fmt.Sprint(w.Interface()))
	default:
		d.eq(field, g.Interface(), w.Interface())
	}
}

func (d *differ) eq(field string, got, want any) {
	if got != want {
		d.add("%s = %v, want %v", field, got, want)
	}
}

func (d *differ) time(field string, got, want time.Time) {
	if !got.Equal(want) {
		d.add("%s = %v, want %v", field, got, want)
	}
}

func (d *differ) bytes(field string, got, want []byte) {
	if !bytes.Equal(got, want) {
		d.add("%s = %x, want %x", field, got, want)
	}
}

// names returns the names of secrets, in order.
func names(list []*secrets.Secret) []string {
	out := make([]string, len(list))
	for i, s := range list {
		out[i] = s.Name
	}
	return out
}

func versions(list []*secrets.Secret) []int64 {
	out := make([]int64, len(list))
	for i, s := range list {
		out[i] = s.Version
	}
	return out
}

func layerKeys(list []secrets.Layer) []string {
	out := make([]string, len(list))
	for i, l := range list {
		out[i] = l.Key()
	}
	return out
}

func countOf(list []string, s string) int {
	n := 0
	for _, v := range list {
		if v == s {
			n++
		}
	}
	return n
}
