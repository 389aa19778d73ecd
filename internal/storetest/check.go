package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
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

// wantNotFound fails unless err carries CodeNotFound.
func wantNotFound(t *testing.T, op string, err error) {
	t.Helper()
	if !secrets.IsCode(err, secrets.CodeNotFound) {
		t.Errorf("%s: got error %v (code %q), want code %q", op, err, secrets.ErrorCode(err), secrets.CodeNotFound)
	}
}

func checkSecret(t *testing.T, what string, got, want *secrets.Secret) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil secret", what)
		return
	}
	for _, d := range diffSecret(got, want) {
		t.Errorf("%s: %s", what, d)
	}
}

func diffSecret(got, want *secrets.Secret) []string {
	var d differ
	d.eq("ID", got.ID, want.ID)
	d.eq("Org", got.Org, want.Org)
	d.eq("Layer", got.Layer, want.Layer)
	d.eq("Name", got.Name, want.Name)
	d.eq("Description", got.Description, want.Description)
	d.eq("Owner", got.Owner, want.Owner)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.time("UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	d.eq("UpdatedBy", got.UpdatedBy, want.UpdatedBy)
	d.eq("Version", got.Version, want.Version)
	d.eq("Change", got.Change, want.Change)
	d.eq("RestoredFrom", got.RestoredFrom, want.RestoredFrom)
	d.eq("Rotation != nil", got.Rotation != nil, want.Rotation != nil)
	if got.Rotation != nil && want.Rotation != nil {
		g, w := got.Rotation, want.Rotation
		d.eq("Rotation.Every", g.Every, w.Every)
		d.eq("Rotation.EverySeconds", g.EverySeconds, w.EverySeconds)
		sliceEq(&d, "Rotation.Environments", g.Environments, w.Environments)
		d.eq("Rotation.Length", g.Length, w.Length)
		d.eq("Rotation.Alphabet", g.Alphabet, w.Alphabet)
		d.time("Rotation.NextAt", g.NextAt, w.NextAt)
		d.timePtr("Rotation.LastAt", g.LastAt, w.LastAt)
	}
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
	return d.diffs
}

func checkToken(t *testing.T, what string, got, want *secrets.Token) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil token", what)
		return
	}
	var d differ
	d.eq("ID", got.ID, want.ID)
	d.eq("Org", got.Org, want.Org)
	d.eq("Kind", got.Kind, want.Kind)
	d.bytes("Hash", got.Hash, want.Hash)
	d.eq("Prefix", got.Prefix, want.Prefix)
	d.eq("Subject", got.Subject, want.Subject)
	d.eq("Name", got.Name, want.Name)
	d.eq("Role", got.Role, want.Role)
	d.eq("PrincipalARN", got.PrincipalARN, want.PrincipalARN)
	d.eq("Scope.App", got.Scope.App, want.Scope.App)
	d.eq("Scope.Machine", got.Scope.Machine, want.Scope.Machine)
	sliceEq(&d, "Scope.Environments", got.Scope.Environments, want.Scope.Environments)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	d.eq("CreatedBy", got.CreatedBy, want.CreatedBy)
	d.timePtr("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.timePtr("RevokedAt", got.RevokedAt, want.RevokedAt)
	for _, s := range d.diffs {
		t.Errorf("%s: %s", what, s)
	}
}

func checkOrg(t *testing.T, what string, got, want *secrets.Org) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil org", what)
		return
	}
	var d differ
	d.eq("ID", got.ID, want.ID)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	sliceEq(&d, "UserResolveEnvironments", got.UserResolveEnvironments, want.UserResolveEnvironments)
	d.eq("EnvironmentPolicies", fmt.Sprint(got.EnvironmentPolicies), fmt.Sprint(want.EnvironmentPolicies))
	d.eq("SettingsVersion", got.SettingsVersion, want.SettingsVersion)
	for _, s := range d.diffs {
		t.Errorf("%s: %s", what, s)
	}
}

func checkDataKey(t *testing.T, what string, got, want *secrets.DataKey) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil data key", what)
		return
	}
	var d differ
	d.eq("Org", got.Org, want.Org)
	d.eq("Environment", got.Environment, want.Environment)
	d.eq("Generation", got.Generation, want.Generation)
	d.bytes("Wrapped", got.Wrapped, want.Wrapped)
	d.time("CreatedAt", got.CreatedAt, want.CreatedAt)
	for _, s := range d.diffs {
		t.Errorf("%s: %s", what, s)
	}
}

func checkAudit(t *testing.T, what string, got, want *secrets.AuditRecord) {
	t.Helper()
	if got == nil {
		t.Errorf("%s: got nil audit record", what)
		return
	}
	var d differ
	d.eq("ID", got.ID, want.ID)
	d.eq("Org", got.Org, want.Org)
	d.time("Time", got.Time, want.Time)
	d.eq("Actor", got.Actor, want.Actor)
	d.eq("Action", got.Action, want.Action)
	d.eq("RequestID", got.RequestID, want.RequestID)
	d.eq("SecretID", got.SecretID, want.SecretID)
	switch {
	case (got.Layer == nil) != (want.Layer == nil):
		d.add("Layer = %v, want %v", got.Layer, want.Layer)
	case got.Layer != nil:
		d.eq("Layer", *got.Layer, *want.Layer)
	}
	d.eq("Environment", got.Environment, want.Environment)
	sliceEq(&d, "Secrets", got.Secrets, want.Secrets)
	d.eq("TokenID", got.TokenID, want.TokenID)
	d.eq("Detail", got.Detail, want.Detail)
	d.time("ExpiresAt", got.ExpiresAt, want.ExpiresAt)
	d.eq("Manifest", got.Manifest, want.Manifest)
	d.eq("SecretCount", got.SecretCount, want.SecretCount)
	for _, s := range d.diffs {
		t.Errorf("%s: %s", what, s)
	}
}

// differ collects field differences, so that one comparison reports every
// field a store got wrong.
type differ struct{ diffs []string }

func (d *differ) add(format string, args ...any) {
	d.diffs = append(d.diffs, fmt.Sprintf(format, args...))
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

func (d *differ) timePtr(field string, got, want *time.Time) {
	switch {
	case got == nil && want == nil:
	case got == nil || want == nil:
		d.add("%s = %v, want %v", field, got, want)
	default:
		d.time(field, *got, *want)
	}
}

func (d *differ) bytes(field string, got, want []byte) {
	if !bytes.Equal(got, want) {
		d.add("%s = %x, want %x", field, got, want)
	}
}

// sliceEq is differ.slice: methods cannot take type parameters. Nil and
// empty are equal, as they are after a JSON round trip with omitempty.
func sliceEq[T comparable](d *differ, field string, got, want []T) {
	if !slices.Equal(got, want) {
		d.add("%s = %v, want %v", field, got, want)
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
