// Package storetest is the behaviour every secrets.Store shares, written once
// from the contract in the secrets package's doc comments. Each store's
// tests call Run with a constructor of fresh, empty stores.
package storetest

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

// Run exercises every method of secrets.Store. Each subtest gets a fresh
// store from newStore, which should register its own cleanup with t.
//
// Records carry times truncated to the microsecond: a store must return
// them equal (time.Time.Equal) at least to that precision.
func Run(t *testing.T, newStore func(t *testing.T) secrets.Store) {
	tests := []struct {
		name string
		run  func(t *testing.T, st secrets.Store)
	}{
		// Secrets.
		{"a created secret reads back equal by id and by name", testCreateGet},
		{"a mask stored under the first rule reads back tightened", testLegacyMaskTightened},
		{"creating a duplicate name at the same layer is a conflict", testCreateDuplicate},
		{"the same name at another layer or in another org is another secret", testSameNameElsewhere},
		{"an absent secret is not found", testSecretAbsent},
		{"a secret of another org is not found", testSecretOtherOrg},
		{"an update at the expected version replaces the head", testUpdate},
		{"an update at a stale version is a conflict and changes nothing", testUpdateStale},
		{"updating an absent secret is not found", testUpdateAbsent},
		{"deleting a secret removes its head and its history", testDelete},
		{"deleting at the stored version deletes and at a stale one is a conflict", testDeleteExpected},
		{"deleting an absent secret is not found", testDeleteAbsent},
		{"deleting a deleted secret again clears history a racing writer left, and is not found", testDeleteClearsLeftoverHistory},
		{"a deleted secret's name can be taken by a new secret", testDeleteThenRecreate},
		{"finishing a delete removes history a racing writer left, and refuses a live or unknown id", testFinishDelete},
		{"secrets are listed by name, one layer of one org at a time", testListSecrets},
		{"listing several layers returns one slice per layer in the order given, each record with one environment's value", testListSecretsIn},
		{"listing several layers again sees every change to a head, and none a caller made", testListSecretsInSeesChanges},
		{"pages of a layer cover every name once, in order, after a given name", testListSecretsAfter},
		{"a page of several layers reads each after the same name, up to the limit", testListSecretsAfterLayers},
		{"a page after a name sees what changed after it and nothing before it", testListSecretsAfterChanges},
		{"layers holding secrets are listed by app, each app before its machines, without the global layer", testListLayers},
		{"a layer is no longer listed once its last secret is deleted", testListLayersAfterDelete},

		// Rotation.
		{"a rotation policy reads back equal", testRotationRoundTrip},
		{"due rotations are listed per org, earliest first, up to the limit", testListDueRotations},
		{"every org with a due rotation is listed", testListRotationOrgs},
		{"a head leaves the due list when its policy moves on, is cleared or deleted", testDueRotationsFollowHeads},

		// History.
		{"putting a version twice is harmless", testPutVersionTwice},
		{"versions are listed newest first without the head", testListVersions},
		{"a version never kept is not found", testVersionAbsent},
		{"pruning deletes only versions older than keepFrom", testPruneVersions},

		// Tokens.
		{"a created token reads back equal", testTokenCreateGet},
		{"a token id is taken once, in any org", testTokenDuplicate},
		{"tokens are listed per org, oldest first, revoked ones too", testListTokens},
		{"revoking a token keeps the first revocation time", testRevokeToken},
		{"revoking an absent token or another org's is not found", testRevokeTokenNotFound},
		{"a revoked token, and only a revoked one, can be replaced in its org", testReplaceRevokedToken},

		// Orgs.
		{"a created org reads back equal", testOrgCreateGet},
		{"creating an existing org is a conflict", testOrgDuplicate},
		{"putting org settings replaces everything but the id and creation time", testPutOrgSettings},
		{"an absent org is not found", testOrgAbsent},

		// Data keys.
		{"a created data key reads back equal", testDataKeyCreateGet},
		{"a second data key at the same org, environment and generation is a conflict", testDataKeyDuplicate},
		{"a data key is not found at another environment, generation or org", testDataKeyNotFound},

		// Audit.
		{"audit records are listed newest first", testAuditNewestFirst},
		{"audit pages cover every record exactly once", testAuditPages},
		{"an org sees only its own audit records", testAuditOtherOrg},
		{"concurrent audit appends each land once, and a taken id fails only its own", testConcurrentAudit},
		{"a manifest reads back as put, and putting it again keeps it", testManifestRoundTrip},
		{"a manifest is found only under its org, day and hash", testManifestNotFound},
		{"a manifest larger than a DynamoDB item reads back whole", testLargeManifest},

		// Concurrency.
		{"concurrent updates of one secret each land in exactly one version", testConcurrentUpdates},
		{"concurrent creates of one name let exactly one win", testConcurrentCreates},
		{"concurrent data key creates agree on one key", testConcurrentDataKeys},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.run(t, newStore(t))
		})
	}
}

// Builders. Every record is filled in, so that a field a store drops shows.

func newOrgID() string { return "org-" + uuid.NewString()[:8] }

// now is the current time as stores must keep it: to the microsecond.
func now() time.Time { return time.Now().UTC().Truncate(time.Microsecond) }

func randomBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random bytes: %v", err)
	}
	return b
}

func newSecret(t *testing.T, org string, layer secrets.Layer, name string) *secrets.Secret {
	t.Helper()
	created := now().Add(-time.Hour)
	owner := secrets.Principal{Subject: "ada@example.com", Name: "Ada Lovelace"}
	return &secrets.Secret{
		ID:          uuid.NewString(),
		Org:         org,
		Layer:       layer,
		Name:        name,
		Description: "the " + name + " of " + layer.String(),
		Values: map[secrets.Environment]secrets.SealedValue{
			secrets.Development: {Ciphertext: randomBytes(t, 40), Mask: "***", MaskRule: secrets.MaskRule},
			secrets.Production:  {Ciphertext: randomBytes(t, 56), Mask: "sk_live_***RgA1", MaskRule: secrets.MaskRule},
		},
		Owner:     owner,
		CreatedAt: created,
		UpdatedAt: created,
		UpdatedBy: owner,
		Version:   1,
		Change:    "create",
	}
}

// nextVersion returns the version after s: a new value, a new updater.
func nextVersion(t *testing.T, s *secrets.Secret, description string) *secrets.Secret {
	t.Helper()
	next := *s
	next.Values = map[secrets.Environment]secrets.SealedValue{
		secrets.Development: {Ciphertext: randomBytes(t, 40), Mask: "***", MaskRule: secrets.MaskRule},
		secrets.Staging:     {Ciphertext: randomBytes(t, 48), Mask: "***", MaskRule: secrets.MaskRule},
	}
	next.Description = description
	next.UpdatedAt = s.UpdatedAt.Add(time.Minute)
	next.UpdatedBy = secrets.Principal{Subject: "grace@example.com", Name: "Grace Hopper"}
	next.Version = s.Version + 1
	next.Change = "update"
	return &next
}

// createWithHistory creates s and updates it to version n as a writer does,
// putting each version before replacing it. It returns every version,
// oldest first; the last is the head.
func createWithHistory(t *testing.T, st secrets.Store, s *secrets.Secret, n int64) []*secrets.Secret {
	t.Helper()
	ctx := t.Context()
	mustCreateSecret(t, st, s)
	all := []*secrets.Secret{s}
	for head := s; head.Version < n; {
		next := nextVersion(t, head, fmt.Sprintf("version %d", head.Version+1))
		if err := st.PutVersion(ctx, head); err != nil {
			t.Fatalf("PutVersion(%d): %v", head.Version, err)
		}
		if err := st.UpdateSecret(ctx, next, head.Version); err != nil {
			t.Fatalf("UpdateSecret(version %d): %v", next.Version, err)
		}
		all = append(all, next)
		head = next
	}
	return all
}

func newToken(t *testing.T, org string, created time.Time) *secrets.Token {
	t.Helper()
	hash := secrets.HashToken("zw_" + uuid.NewString())
	expires := created.Add(90 * 24 * time.Hour)
	return &secrets.Token{
		ID:           secrets.TokenID(hash),
		Org:          org,
		Kind:         secrets.TokenService,
		Hash:         hash,
		Prefix:       "zw_" + uuid.NewString()[:4],
		Subject:      "deploy@example.com",
		Name:         "deploy bot",
		Role:         secrets.RoleMember,
		Scope:        secrets.Scope{App: "billing", Machine: "web-1", Environments: []secrets.Environment{secrets.Staging, secrets.Production}},
		PrincipalARN: "arn:aws:iam::123456789012:role/deploy",
		CreatedAt:    created,
		CreatedBy:    secrets.Principal{Subject: "ada@example.com", Name: "Ada Lovelace"},
		ExpiresAt:    &expires,
	}
}

func newDataKey(t *testing.T, org string, env secrets.Environment, generation int) *secrets.DataKey {
	t.Helper()
	return &secrets.DataKey{
		Org:         org,
		Environment: env,
		Generation:  generation,
		Wrapped:     randomBytes(t, 184),
		CreatedAt:   now(),
	}
}

func newAudit(org string, at time.Time, i int) *secrets.AuditRecord {
	layer := secrets.Layer{App: "billing"}
	return &secrets.AuditRecord{
		ID:   secrets.NewAuditID(at),
		Org:  org,
		Time: at,
		Actor: secrets.AuditActor{
			Kind: secrets.TokenUser, TokenID: "0123456789abcdef0123456789abcdef",
			Subject: "ada@example.com", Name: "Ada Lovelace",
		},
		Action:      secrets.ActionSecretUpdate,
		RequestID:   uuid.NewString(),
		SecretID:    uuid.NewString(),
		Layer:       &layer,
		Environment: secrets.Production,
		Secrets:     []secrets.AuditEntry{{Name: fmt.Sprintf("SECRET_%d", i), Layer: layer.Key(), Version: int64(i + 1)}},
		Detail:      fmt.Sprintf("record %d", i),
		ExpiresAt:   at.Add(400 * 24 * time.Hour).Truncate(time.Second),
	}
}

// newResolveAudit is a resolve's record, referring to a manifest.
func newResolveAudit(org string, at time.Time, manifest string, count int) *secrets.AuditRecord {
	r := newAudit(org, at, 0)
	r.Action, r.SecretID, r.Secrets, r.Detail = secrets.ActionResolve, "", nil, ""
	r.Manifest, r.SecretCount = manifest, count
	return r
}

// manifestEntries are n entries with names of about nameLen characters.
func manifestEntries(n, nameLen int) []secrets.AuditEntry {
	out := make([]secrets.AuditEntry, n)
	for i := range out {
		name := fmt.Sprintf("SECRET_%06d_", i)
		name += strings.Repeat("X", max(0, nameLen-len(name)))
		out[i] = secrets.AuditEntry{Name: name, Layer: "m/billing/web-1", Version: int64(i%7 + 1)}
	}
	return out
}

// Assertions.

func mustCreateSecret(t *testing.T, st secrets.Store, s *secrets.Secret) {
	t.Helper()
	if err := st.CreateSecret(t.Context(), s); err != nil {
		t.Fatalf("CreateSecret(%s at %s): %v", s.Name, s.Layer, err)
	}
}

func mustGetSecret(t *testing.T, st secrets.Store, org, id string) *secrets.Secret {
	t.Helper()
	got, err := st.GetSecret(t.Context(), org, id)
	if err != nil {
		t.Fatalf("GetSecret(%s): %v", id, err)
	}
	return got
}

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

// Secrets.

func testCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	for _, layer := range []secrets.Layer{secrets.Global, {App: "billing"}, {App: "billing", Machine: "web-1"}} {
		want := newSecret(t, newOrgID(), layer, "STRIPE_KEY")
		mustCreateSecret(t, st, want)

		checkSecret(t, "GetSecret at "+layer.String(), mustGetSecret(t, st, want.Org, want.ID), want)
		got, err := st.GetSecretByName(ctx, want.Org, layer, want.Name)
		if err != nil {
			t.Fatalf("GetSecretByName: %v", err)
		}
		checkSecret(t, "GetSecretByName at "+layer.String(), got, want)
	}
}

func testLegacyMaskTightened(t *testing.T, st secrets.Store) {
	s := newSecret(t, newOrgID(), secrets.Global, "LEGACY")
	s.Values[secrets.Production] = secrets.SealedValue{Ciphertext: randomBytes(t, 40), Mask: "Winter-***pass"}
	s.Values[secrets.Development] = secrets.SealedValue{Ciphertext: randomBytes(t, 40), Mask: "***"}
	mustCreateSecret(t, st, s)
	for what, got := range map[string]*secrets.Secret{"by id": mustGetSecret(t, st, s.Org, s.ID)} {
		if m := got.Values[secrets.Production]; m.Mask != "***pass" || m.MaskRule != secrets.MaskRule {
			t.Errorf("production mask read %s = %q (rule %d), want %q (rule %d)", what, m.Mask, m.MaskRule, "***pass", secrets.MaskRule)
		}
		if m := got.Values[secrets.Development]; m.Mask != "***" {
			t.Errorf("development mask read %s = %q, want ***", what, m.Mask)
		}
	}
	list, err := st.ListSecrets(t.Context(), s.Org, secrets.Global)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListSecrets = %d records, %v", len(list), err)
	}
	if m := list[0].Values[secrets.Production].Mask; m != "***pass" {
		t.Errorf("production mask listed = %q, want ***pass", m)
	}
}

func testCreateDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, first)

	dup := newSecret(t, first.Org, first.Layer, first.Name)
	wantErr(t, "CreateSecret of a duplicate name", st.CreateSecret(ctx, dup), secrets.ErrExists)

	checkSecret(t, "the first secret after the duplicate", mustGetSecret(t, st, first.Org, first.ID), first)
	_, err := st.GetSecret(ctx, dup.Org, dup.ID)
	wantNotFound(t, "GetSecret of the refused duplicate", err)
}

func testSameNameElsewhere(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	all := []*secrets.Secret{
		newSecret(t, org, secrets.Global, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "billing"}, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "shop"}, "API_KEY"),
		newSecret(t, org, secrets.Layer{App: "billing", Machine: "web-1"}, "API_KEY"),
		newSecret(t, otherOrg, secrets.Global, "API_KEY"),
		newSecret(t, otherOrg, secrets.Layer{App: "billing"}, "API_KEY"),
	}
	for _, s := range all {
		mustCreateSecret(t, st, s)
	}
	for _, want := range all {
		got, err := st.GetSecretByName(ctx, want.Org, want.Layer, want.Name)
		if err != nil {
			t.Fatalf("GetSecretByName(%s, %s): %v", want.Org, want.Layer, err)
		}
		checkSecret(t, fmt.Sprintf("GetSecretByName in %s at %s", want.Org, want.Layer), got, want)
	}
}

func testSecretAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	_, err := st.GetSecret(ctx, org, uuid.NewString())
	wantNotFound(t, "GetSecret of an absent id", err)
	_, err = st.GetSecretByName(ctx, org, secrets.Global, "NOPE")
	wantNotFound(t, "GetSecretByName of an absent name", err)

	s := newSecret(t, org, secrets.Layer{App: "billing"}, "PRESENT")
	mustCreateSecret(t, st, s)
	_, err = st.GetSecretByName(ctx, org, secrets.Layer{App: "billing", Machine: "web-1"}, s.Name)
	wantNotFound(t, "GetSecretByName at a layer below the secret's", err)
	_, err = st.GetSecretByName(ctx, org, secrets.Global, s.Name)
	wantNotFound(t, "GetSecretByName at a layer above the secret's", err)
}

func testSecretOtherOrg(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, s)
	other := newOrgID()

	_, err := st.GetSecret(ctx, other, s.ID)
	wantNotFound(t, "GetSecret of another org's id", err)
	_, err = st.GetSecretByName(ctx, other, s.Layer, s.Name)
	wantNotFound(t, "GetSecretByName in another org", err)

	moved := nextVersion(t, s, "moved")
	moved.Org = other
	wantNotFound(t, "UpdateSecret of another org's id", st.UpdateSecret(ctx, moved, s.Version))
	wantNotFound(t, "DeleteSecret of another org's id", st.DeleteSecret(ctx, other, s.ID, 0))

	checkSecret(t, "the secret after another org's writes", mustGetSecret(t, st, s.Org, s.ID), s)
}

func testUpdate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing", Machine: "web-1"}, "DB_URL")
	mustCreateSecret(t, st, s)

	v2 := nextVersion(t, s, "second")
	if err := st.UpdateSecret(ctx, v2, 1); err != nil {
		t.Fatalf("UpdateSecret(v2, 1): %v", err)
	}
	checkSecret(t, "GetSecret after one update", mustGetSecret(t, st, s.Org, s.ID), v2)

	v3 := nextVersion(t, v2, "third")
	v3.Change, v3.RestoredFrom = "restore", 1
	if err := st.UpdateSecret(ctx, v3, 2); err != nil {
		t.Fatalf("UpdateSecret(v3, 2): %v", err)
	}
	checkSecret(t, "GetSecret after two updates", mustGetSecret(t, st, s.Org, s.ID), v3)
	got, err := st.GetSecretByName(ctx, s.Org, s.Layer, s.Name)
	if err != nil {
		t.Fatalf("GetSecretByName: %v", err)
	}
	checkSecret(t, "GetSecretByName after two updates", got, v3)
}

func testUpdateStale(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 3)
	head := all[2]

	// A writer that read version 2 is too late, and so is one that claims
	// a version not yet written.
	late := nextVersion(t, all[1], "late")
	wantErr(t, "UpdateSecret expecting version 2 of 3", st.UpdateSecret(ctx, late, 2), secrets.ErrStale)
	early := nextVersion(t, head, "early")
	early.Version = 5
	wantErr(t, "UpdateSecret expecting version 4 of 3", st.UpdateSecret(ctx, early, 4), secrets.ErrStale)

	checkSecret(t, "the head after stale updates", mustGetSecret(t, st, s.Org, s.ID), head)
}

func testUpdateAbsent(t *testing.T, st secrets.Store) {
	s := newSecret(t, newOrgID(), secrets.Global, "NEVER_CREATED")
	wantNotFound(t, "UpdateSecret of an absent secret", st.UpdateSecret(t.Context(), nextVersion(t, s, "x"), 1))
}

func testDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	s := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_URL")
	createWithHistory(t, st, s, 3)
	neighbour := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_USER")
	neighbourAll := createWithHistory(t, st, neighbour, 2)

	if err := st.DeleteSecret(ctx, org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret(expected 0): %v", err)
	}

	_, err := st.GetSecret(ctx, org, s.ID)
	wantNotFound(t, "GetSecret after delete", err)
	_, err = st.GetSecretByName(ctx, org, s.Layer, s.Name)
	wantNotFound(t, "GetSecretByName after delete", err)
	for n := int64(1); n <= 3; n++ {
		_, err = st.GetVersion(ctx, org, s.ID, n)
		wantNotFound(t, fmt.Sprintf("GetVersion(%d) after delete", n), err)
	}
	history, err := st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions after delete: %v", err)
	}
	if got, want := len(history), 0; got != want {
		t.Errorf("len(ListVersions) after delete = %d, want %d", got, want)
	}
	list, err := st.ListSecrets(ctx, org, s.Layer)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := names(list), []string{neighbour.Name}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets after delete = %v, want %v", got, want)
	}

	// The neighbour keeps its head and its history.
	checkSecret(t, "the neighbour's head", mustGetSecret(t, st, org, neighbour.ID), neighbourAll[1])
	v1, err := st.GetVersion(ctx, org, neighbour.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion of the neighbour: %v", err)
	}
	checkSecret(t, "the neighbour's version 1", v1, neighbourAll[0])

	wantNotFound(t, "DeleteSecret again", st.DeleteSecret(ctx, org, s.ID, 0))
}

func testDeleteExpected(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 2)

	wantErr(t, "DeleteSecret expecting version 1 of 2", st.DeleteSecret(ctx, s.Org, s.ID, 1), secrets.ErrStale)
	wantErr(t, "DeleteSecret expecting version 3 of 2", st.DeleteSecret(ctx, s.Org, s.ID, 3), secrets.ErrStale)
	checkSecret(t, "the head after stale deletes", mustGetSecret(t, st, s.Org, s.ID), all[1])
	v1, err := st.GetVersion(ctx, s.Org, s.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion(1) after stale deletes: %v", err)
	}
	checkSecret(t, "version 1 after stale deletes", v1, all[0])

	if err := st.DeleteSecret(ctx, s.Org, s.ID, 2); err != nil {
		t.Fatalf("DeleteSecret expecting the stored version: %v", err)
	}
	_, err = st.GetSecret(ctx, s.Org, s.ID)
	wantNotFound(t, "GetSecret after delete", err)
}

func testDeleteAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	wantNotFound(t, "DeleteSecret of an absent id", st.DeleteSecret(ctx, org, uuid.NewString(), 0))
	wantNotFound(t, "DeleteSecret of an absent id expecting a version", st.DeleteSecret(ctx, org, uuid.NewString(), 3))
}

func testDeleteClearsLeftoverHistory(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "RACED")
	mustCreateSecret(t, st, s)
	if err := st.DeleteSecret(ctx, s.Org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	// A writer that read the head before the delete keeps it in history
	// after the delete, then finds its update has nothing to update.
	if err := st.PutVersion(ctx, s); err != nil {
		t.Fatalf("PutVersion: %v", err)
	}
	wantNotFound(t, "DeleteSecret of the deleted id", st.DeleteSecret(ctx, s.Org, s.ID, 0))
	versions, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if len(versions) != 0 {
		t.Fatalf("history of the deleted id after deleting again = %d records, want none", len(versions))
	}
}

func testFinishDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "RACED")
	mustCreateSecret(t, st, s)
	if _, err := st.FinishDelete(ctx, s.Org, s.ID); !errors.Is(err, secrets.ErrExists) {
		t.Errorf("FinishDelete of a live secret = %v, want %v", err, secrets.ErrExists)
	}
	mustGetSecret(t, st, s.Org, s.ID) // and it is still there
	if err := st.DeleteSecret(ctx, s.Org, s.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	if _, err := st.FinishDelete(ctx, s.Org, s.ID); !errors.Is(err, secrets.ErrNotFound) {
		t.Errorf("FinishDelete of a delete that finished = %v, want %v", err, secrets.ErrNotFound)
	}
	// A writer that read the head before the delete keeps it in history.
	if err := st.PutVersion(ctx, s); err != nil {
		t.Fatalf("PutVersion: %v", err)
	}
	left, err := st.FinishDelete(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("FinishDelete of a racing writer's history: %v", err)
	}
	if left.ID != s.ID || left.Name != s.Name || left.Layer != s.Layer || left.Deleted {
		t.Errorf("FinishDelete = %+v, want id %s, %s at %s, and no interrupted delete (the delete was done)", *left, s.ID, s.Name, s.Layer)
	}
	if versions, err := st.ListVersions(ctx, s.Org, s.ID); err != nil || len(versions) != 0 {
		t.Errorf("history after FinishDelete = %d records (%v), want none", len(versions), err)
	}
	if ids, err := st.InterruptedDeletes(ctx, s.Org, s.Layer, s.Name); err != nil || len(ids) != 0 {
		t.Errorf("InterruptedDeletes with nothing left = %v, %v; want none", ids, err)
	}
	if removed, err := st.SweepLeftovers(ctx, s.Org, time.Now().Add(time.Hour), 10); err != nil || len(removed) != 0 {
		t.Errorf("SweepLeftovers with nothing left = %v, %v; want nothing", removed, err)
	}
}

func testDeleteThenRecreate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	old := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	createWithHistory(t, st, old, 2)
	if err := st.DeleteSecret(ctx, old.Org, old.ID, 2); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}

	again := newSecret(t, old.Org, old.Layer, old.Name)
	if err := st.CreateSecret(ctx, again); err != nil {
		t.Fatalf("CreateSecret of the deleted name: %v", err)
	}
	checkSecret(t, "GetSecret of the new id", mustGetSecret(t, st, again.Org, again.ID), again)
	got, err := st.GetSecretByName(ctx, again.Org, again.Layer, again.Name)
	if err != nil {
		t.Fatalf("GetSecretByName: %v", err)
	}
	checkSecret(t, "GetSecretByName of the name", got, again)

	// An id index must not lead the old id to the new head.
	_, err = st.GetSecret(ctx, old.Org, old.ID)
	wantNotFound(t, "GetSecret of the deleted id", err)
	viaOld := nextVersion(t, again, "via the old id")
	viaOld.ID = old.ID
	wantNotFound(t, "UpdateSecret of the deleted id", st.UpdateSecret(ctx, viaOld, 1))
	history, err := st.ListVersions(ctx, again.Org, again.ID)
	if err != nil {
		t.Fatalf("ListVersions of the new id: %v", err)
	}
	if got, want := len(history), 0; got != want {
		t.Errorf("len(ListVersions) of the new id = %d, want %d: the old secret's history leaked", got, want)
	}
}

func testListSecrets(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	app := secrets.Layer{App: "billing"}
	// Created out of order; names that sort differently by length, case
	// and prefix.
	for _, name := range []string{"ZETA", "API_KEY", "API", "B", "API_KEY_2", "_PRIVATE", "a_lower"} {
		mustCreateSecret(t, st, newSecret(t, org, app, name))
	}
	mustCreateSecret(t, st, newSecret(t, org, secrets.Global, "GLOBAL_ONLY"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing", Machine: "web-1"}, "MACHINE_ONLY"))
	mustCreateSecret(t, st, newSecret(t, org, secrets.Layer{App: "billing-2"}, "OTHER_APP"))
	mustCreateSecret(t, st, newSecret(t, otherOrg, app, "OTHER_ORG"))

	list, err := st.ListSecrets(ctx, org, app)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := names(list), []string{"API", "API_KEY", "API_KEY_2", "B", "ZETA", "_PRIVATE", "a_lower"}; !slices.Equal(got, want) {
		t.Errorf("ListSecrets = %v, want %v", got, want)
	}
	for _, s := range list {
		if s.Org != org || s.Layer != app {
			t.Errorf("ListSecrets returned %s in %s at %s", s.Name, s.Org, s.Layer)
		}
	}

	for layer, want := range map[secrets.Layer][]string{
		secrets.Global:                     {"GLOBAL_ONLY"},
		{App: "billing", Machine: "web-1"}: {"MACHINE_ONLY"},
		{App: "billing", Machine: "web-2"}: {},
		{App: "nothing"}:                   {},
	} {
		list, err := st.ListSecrets(ctx, org, layer)
		if err != nil {
			t.Fatalf("ListSecrets(%s): %v", layer, err)
		}
		if got := names(list); !slices.Equal(got, want) {
			t.Errorf("ListSecrets(%s) = %v, want %v", layer, got, want)
		}
	}
	list, err = st.ListSecrets(ctx, newOrgID(), app)
	if err != nil {
		t.Fatalf("ListSecrets of an empty org: %v", err)
	}
	if got, want := len(list), 0; got != want {
		t.Errorf("len(ListSecrets) of an empty org = %d, want %d", got, want)
	}
}

func testListSecretsIn(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	machine := secrets.Layer{App: "billing", Machine: "web-1"}
	created := map[string]*secrets.Secret{}
	for _, c := range []struct {
		layer secrets.Layer
		name  string
	}{
		{secrets.Global, "B"}, {secrets.Global, "A"},
		{app, "C"}, {app, "A"},
		{machine, "A"},
	} {
		s := newSecret(t, org, c.layer, c.name)
		mustCreateSecret(t, st, s)
		created[c.layer.Key()+"/"+c.name] = s
	}
	mustCreateSecret(t, st, newSecret(t, newOrgID(), app, "OTHER_ORG"))

	layers := []secrets.Layer{machine, secrets.Global, {App: "empty"}, app}
	// Staging is an environment newSecret leaves without a value.
	for _, env := range []secrets.Environment{secrets.Production, secrets.Development, secrets.Staging} {
		got, err := st.ListSecretsIn(ctx, org, layers, env)
		if err != nil {
			t.Fatalf("ListSecretsIn(%s): %v", env, err)
		}
		want := [][]string{{"A"}, {"A", "B"}, {}, {"A", "C"}}
		if g, w := len(got), len(want); g != w {
			t.Fatalf("len(ListSecretsIn(%s)) = %d, want %d", env, g, w)
		}
		for i, layer := range layers {
			if g, w := names(got[i]), want[i]; !slices.Equal(g, w) {
				t.Errorf("ListSecretsIn(%s)[%d] (%s) = %v, want %v", env, i, layer, g, w)
			}
			for _, s := range got[i] {
				if w := created[layer.Key()+"/"+s.Name]; w != nil {
					checkResolveView(t, fmt.Sprintf("ListSecretsIn(%s)[%d] %s", env, i, s.Name), s, w, env)
				}
			}
		}
	}

	none, err := st.ListSecretsIn(ctx, org, nil, secrets.Production)
	if err != nil {
		t.Fatalf("ListSecretsIn(no layers): %v", err)
	}
	if g, w := len(none), 0; g != w {
		t.Errorf("len(ListSecretsIn(no layers)) = %d, want %d", g, w)
	}
}

// checkResolveView checks that got is want as ListSecretsIn returns it for
// env: the fields a resolve reads, env's value alone, and nothing else.
func checkResolveView(t *testing.T, what string, got, want *secrets.Secret, env secrets.Environment) {
	t.Helper()
	view := &secrets.Secret{ID: want.ID, Org: want.Org, Layer: want.Layer, Name: want.Name, Version: want.Version, Owner: want.Owner}
	if v, ok := want.Values[env]; ok {
		view.Values = map[secrets.Environment]secrets.SealedValue{env: v}
	}
	checkSecret(t, what, got, view)
}

func testListSecretsInSeesChanges(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	a, b := newSecret(t, org, app, "A"), newSecret(t, org, app, "B")
	mustCreateSecret(t, st, a)
	mustCreateSecret(t, st, b)
	read := func(what string) []*secrets.Secret {
		t.Helper()
		got, err := st.ListSecretsIn(ctx, org, []secrets.Layer{app}, secrets.Production)
		if err != nil {
			t.Fatalf("ListSecretsIn %s: %v", what, err)
		}
		return got[0]
	}
	first := read("first")
	if g, w := names(first), []string{"A", "B"}; !slices.Equal(g, w) {
		t.Fatalf("ListSecretsIn = %v, want %v", g, w)
	}
	// What a caller does to what it got stays with the caller.
	first[0].Values[secrets.Production].Ciphertext[0] ^= 0xff
	first[0].Values[secrets.Staging] = secrets.SealedValue{Ciphertext: []byte("x")}
	first[0].Version = 99
	checkResolveView(t, "A after a caller changed its copy", read("after a caller changed its copy")[0], a, secrets.Production)

	next := nextVersion(t, a, "changed")
	next.Values[secrets.Production] = secrets.SealedValue{Ciphertext: randomBytes(t, 56), Mask: "***", MaskRule: secrets.MaskRule}
	if err := st.UpdateSecret(ctx, next, a.Version); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	checkResolveView(t, "A after an update", read("after an update")[0], next, secrets.Production)

	if err := st.DeleteSecret(ctx, org, b.ID, 0); err != nil {
		t.Fatalf("DeleteSecret: %v", err)
	}
	again := newSecret(t, org, app, "B")
	mustCreateSecret(t, st, again)
	got := read("after a delete and a create")
	if g, w := names(got), []string{"A", "B"}; !slices.Equal(g, w) {
		t.Fatalf("ListSecretsIn after a delete and a create = %v, want %v", g, w)
	}
	checkResolveView(t, "B after a delete and a create", got[1], again, secrets.Production)
}

func testListLayers(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	for _, c := range []struct {
		layer secrets.Layer
		names []string
	}{
		{secrets.Global, []string{"G"}},
		{secrets.Layer{App: "shop", Machine: "web-1"}, []string{"A", "B"}},
		{secrets.Layer{App: "billing"}, []string{"A", "B", "C"}},
		{secrets.Layer{App: "billing", Machine: "web-2"}, []string{"A"}},
		{secrets.Layer{App: "billing-2"}, []string{"A"}},
		{secrets.Layer{App: "billing", Machine: "web-1"}, []string{"A"}},
		{secrets.Layer{App: "shop"}, []string{"A"}},
	} {
		for _, name := range c.names {
			mustCreateSecret(t, st, newSecret(t, org, c.layer, name))
		}
	}
	mustCreateSecret(t, st, newSecret(t, newOrgID(), secrets.Layer{App: "other-org"}, "A"))

	layers, err := st.ListLayers(ctx, org)
	if err != nil {
		t.Fatalf("ListLayers: %v", err)
	}
	want := []secrets.Layer{
		{App: "billing"},
		{App: "billing", Machine: "web-1"},
		{App: "billing", Machine: "web-2"},
		{App: "billing-2"},
		{App: "shop"},
		{App: "shop", Machine: "web-1"},
	}
	if got := layers; !slices.Equal(got, want) {
		t.Errorf("ListLayers = %v, want %v", layerKeys(got), layerKeys(want))
	}

	none, err := st.ListLayers(ctx, newOrgID())
	if err != nil {
		t.Fatalf("ListLayers of an empty org: %v", err)
	}
	if got, want := len(none), 0; got != want {
		t.Errorf("len(ListLayers) of an empty org = %d, want %d", got, want)
	}
}

func testListLayersAfterDelete(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	app := secrets.Layer{App: "billing"}
	machine := secrets.Layer{App: "billing", Machine: "web-1"}
	a1, a2 := newSecret(t, org, app, "A"), newSecret(t, org, app, "B")
	m1 := newSecret(t, org, machine, "A")
	for _, s := range []*secrets.Secret{a1, a2, m1} {
		mustCreateSecret(t, st, s)
	}

	listLayers := func(step string, want ...secrets.Layer) {
		t.Helper()
		got, err := st.ListLayers(ctx, org)
		if err != nil {
			t.Fatalf("ListLayers %s: %v", step, err)
		}
		if !slices.Equal(got, want) {
			t.Errorf("ListLayers %s = %v, want %v", step, layerKeys(got), layerKeys(want))
		}
	}
	listLayers("before deletes", app, machine)
	for _, d := range []struct {
		s    *secrets.Secret
		want []secrets.Layer
	}{
		{a1, []secrets.Layer{app, machine}},
		{m1, []secrets.Layer{app}},
		{a2, nil},
	} {
		if err := st.DeleteSecret(ctx, org, d.s.ID, 0); err != nil {
			t.Fatalf("DeleteSecret(%s at %s): %v", d.s.Name, d.s.Layer, err)
		}
		listLayers(fmt.Sprintf("after deleting %s at %s", d.s.Name, d.s.Layer), d.want...)
	}

	// A layer comes back with a secret.
	mustCreateSecret(t, st, newSecret(t, org, machine, "AGAIN"))
	listLayers("after creating again", machine)
}

// History.

func testPutVersionTwice(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	mustCreateSecret(t, st, s)
	for i := range 2 {
		if err := st.PutVersion(ctx, s); err != nil {
			t.Fatalf("PutVersion #%d: %v", i+1, err)
		}
	}
	got, err := st.GetVersion(ctx, s.Org, s.ID, 1)
	if err != nil {
		t.Fatalf("GetVersion(1): %v", err)
	}
	checkSecret(t, "GetVersion(1)", got, s)
	history, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{1}; !slices.Equal(got, want) {
		t.Errorf("ListVersions = %v, want %v", got, want)
	}
	checkSecret(t, "the head after PutVersion", mustGetSecret(t, st, s.Org, s.ID), s)
}

func testListVersions(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	// Twelve versions, so that a store sorting numbers as text ("10" < "9")
	// shows.
	s := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_URL")
	all := createWithHistory(t, st, s, 12)
	other := newSecret(t, org, secrets.Layer{App: "billing"}, "DB_USER")
	createWithHistory(t, st, other, 3)

	history, err := st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}; !slices.Equal(got, want) {
		t.Fatalf("ListVersions = %v, want %v", got, want)
	}
	for _, h := range history {
		checkSecret(t, fmt.Sprintf("ListVersions version %d", h.Version), h, all[h.Version-1])
	}
	for _, n := range []int64{1, 5, 11} {
		got, err := st.GetVersion(ctx, org, s.ID, n)
		if err != nil {
			t.Fatalf("GetVersion(%d): %v", n, err)
		}
		checkSecret(t, fmt.Sprintf("GetVersion(%d)", n), got, all[n-1])
	}

	none, err := st.ListVersions(ctx, newOrgID(), s.ID)
	if err != nil {
		t.Fatalf("ListVersions in another org: %v", err)
	}
	if got, want := len(none), 0; got != want {
		t.Errorf("len(ListVersions) in another org = %d, want %d", got, want)
	}
}

func testVersionAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Global, "DB_URL")
	createWithHistory(t, st, s, 3)

	// Version 3 is the head, which is not history.
	for _, n := range []int64{3, 4} {
		_, err := st.GetVersion(ctx, s.Org, s.ID, n)
		wantNotFound(t, fmt.Sprintf("GetVersion(%d) of 3", n), err)
	}
	_, err := st.GetVersion(ctx, newOrgID(), s.ID, 1)
	wantNotFound(t, "GetVersion in another org", err)
	_, err = st.GetVersion(ctx, s.Org, uuid.NewString(), 1)
	wantNotFound(t, "GetVersion of an absent secret", err)
}

func testPruneVersions(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	s := newSecret(t, org, secrets.Global, "DB_URL")
	all := createWithHistory(t, st, s, 8)
	other := newSecret(t, org, secrets.Global, "DB_USER")
	createWithHistory(t, st, other, 4)

	if err := st.PruneVersions(ctx, org, s.ID, 5); err != nil {
		t.Fatalf("PruneVersions(5): %v", err)
	}
	history, err := st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{7, 6, 5}; !slices.Equal(got, want) {
		t.Errorf("ListVersions after PruneVersions(5) = %v, want %v", got, want)
	}
	_, err = st.GetVersion(ctx, org, s.ID, 4)
	wantNotFound(t, "GetVersion(4) after PruneVersions(5)", err)
	v5, err := st.GetVersion(ctx, org, s.ID, 5)
	if err != nil {
		t.Fatalf("GetVersion(5) after PruneVersions(5): %v", err)
	}
	checkSecret(t, "GetVersion(5) after PruneVersions(5)", v5, all[4])
	checkSecret(t, "the head after pruning", mustGetSecret(t, st, org, s.ID), all[7])

	otherHistory, err := st.ListVersions(ctx, org, other.ID)
	if err != nil {
		t.Fatalf("ListVersions of another secret: %v", err)
	}
	if got, want := versions(otherHistory), []int64{3, 2, 1}; !slices.Equal(got, want) {
		t.Errorf("ListVersions of another secret = %v, want %v", got, want)
	}

	// Pruning from a version at or below the oldest kept deletes nothing;
	// pruning an absent secret is no error.
	if err := st.PruneVersions(ctx, org, s.ID, 5); err != nil {
		t.Fatalf("PruneVersions(5) again: %v", err)
	}
	if err := st.PruneVersions(ctx, org, s.ID, 1); err != nil {
		t.Fatalf("PruneVersions(1): %v", err)
	}
	history, err = st.ListVersions(ctx, org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	if got, want := versions(history), []int64{7, 6, 5}; !slices.Equal(got, want) {
		t.Errorf("ListVersions after pruning again = %v, want %v", got, want)
	}
	if err := st.PruneVersions(ctx, org, uuid.NewString(), 5); err != nil {
		t.Errorf("PruneVersions of an absent secret: %v", err)
	}
}

// Tokens.

func testTokenCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	service := newToken(t, org, now())
	user := newToken(t, org, now())
	user.Kind, user.Role, user.Scope, user.ExpiresAt = secrets.TokenUser, secrets.RoleAdmin, secrets.Scope{}, nil
	for _, want := range []*secrets.Token{service, user} {
		if err := st.CreateToken(ctx, want); err != nil {
			t.Fatalf("CreateToken(%s): %v", want.Kind, err)
		}
		got, err := st.GetToken(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetToken(%s): %v", want.Kind, err)
		}
		checkToken(t, "GetToken of a "+string(want.Kind)+" token", got, want)
	}
	_, err := st.GetToken(ctx, secrets.TokenID(secrets.HashToken("never issued")))
	wantNotFound(t, "GetToken of an absent id", err)
}

func testTokenDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newToken(t, newOrgID(), now())
	if err := st.CreateToken(ctx, first); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	for _, org := range []string{first.Org, newOrgID()} {
		dup := newToken(t, org, now())
		dup.ID = first.ID
		wantErr(t, "CreateToken of a taken id in "+org, st.CreateToken(ctx, dup), secrets.ErrExists)
	}
	got, err := st.GetToken(ctx, first.ID)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	checkToken(t, "the first token after duplicates", got, first)
}

func testListTokens(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	base := now().Add(-time.Hour)
	var want []*secrets.Token
	for i := range 5 {
		want = append(want, newToken(t, org, base.Add(time.Duration(i)*time.Minute)))
	}
	// Created out of order, so that insertion order is not creation time.
	for _, i := range []int{3, 0, 4, 1, 2} {
		if err := st.CreateToken(ctx, want[i]); err != nil {
			t.Fatalf("CreateToken(%d): %v", i, err)
		}
	}
	if err := st.CreateToken(ctx, newToken(t, otherOrg, base)); err != nil {
		t.Fatalf("CreateToken in another org: %v", err)
	}
	revokedAt := now()
	if err := st.RevokeToken(ctx, org, want[1].ID, revokedAt); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	want[1].RevokedAt = &revokedAt

	got, err := st.ListTokens(ctx, org)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if g, w := len(got), len(want); g != w {
		t.Fatalf("len(ListTokens) = %d, want %d", g, w)
	}
	for i := range want {
		checkToken(t, fmt.Sprintf("ListTokens[%d]", i), got[i], want[i])
	}

	none, err := st.ListTokens(ctx, newOrgID())
	if err != nil {
		t.Fatalf("ListTokens of an empty org: %v", err)
	}
	if g, w := len(none), 0; g != w {
		t.Errorf("len(ListTokens) of an empty org = %d, want %d", g, w)
	}
}

func testRevokeToken(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	tok := newToken(t, newOrgID(), now().Add(-time.Hour))
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	first := now()
	if err := st.RevokeToken(ctx, tok.Org, tok.ID, first); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := st.RevokeToken(ctx, tok.Org, tok.ID, first.Add(time.Hour)); err != nil {
		t.Fatalf("RevokeToken again: %v", err)
	}
	got, err := st.GetToken(ctx, tok.ID)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	want := *tok
	want.RevokedAt = &first
	checkToken(t, "GetToken after two revocations", got, &want)
}

func testRevokeTokenNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	tok := newToken(t, newOrgID(), now())
	if err := st.CreateToken(ctx, tok); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	wantNotFound(t, "RevokeToken of another org's token", st.RevokeToken(ctx, newOrgID(), tok.ID, now()))
	wantNotFound(t, "RevokeToken of an absent token", st.RevokeToken(ctx, tok.Org, secrets.TokenID(secrets.HashToken("never issued")), now()))

	got, err := st.GetToken(ctx, tok.ID)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	checkToken(t, "the token after another org's revocation", got, tok)
}

// Orgs.

func newOrg() *secrets.Org {
	return &secrets.Org{ID: newOrgID(), CreatedAt: now(), UserResolveEnvironments: []secrets.Environment{secrets.Development, secrets.Staging}}
}

func testOrgCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	for _, want := range []*secrets.Org{newOrg(), {ID: newOrgID(), CreatedAt: now()}} {
		if err := st.CreateOrg(ctx, want); err != nil {
			t.Fatalf("CreateOrg: %v", err)
		}
		got, err := st.GetOrg(ctx, want.ID)
		if err != nil {
			t.Fatalf("GetOrg: %v", err)
		}
		checkOrg(t, "GetOrg", got, want)
	}
}

func testOrgDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newOrg()
	if err := st.CreateOrg(ctx, first); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	dup := &secrets.Org{ID: first.ID, CreatedAt: now().Add(time.Hour)}
	wantErr(t, "CreateOrg of an existing id", st.CreateOrg(ctx, dup), secrets.ErrExists)
	got, err := st.GetOrg(ctx, first.ID)
	if err != nil {
		t.Fatalf("GetOrg: %v", err)
	}
	checkOrg(t, "the org after a duplicate create", got, first)
}

func testPutOrgSettings(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	o := newOrg()
	if err := st.CreateOrg(ctx, o); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	settings := &secrets.Org{
		ID:                      o.ID,
		CreatedAt:               o.CreatedAt.Add(24 * time.Hour), // not a setting: ignored
		UserResolveEnvironments: []secrets.Environment{secrets.Development, secrets.Staging, secrets.Production},
		EnvironmentPolicies: map[secrets.Environment]secrets.EnvironmentPolicy{
			secrets.Production: {MinWritePriority: 1000}, secrets.Staging: {MinWritePriority: 100},
		},
		SettingsVersion: 1,
	}
	if err := st.PutOrgSettings(ctx, settings, 0); err != nil {
		t.Fatalf("PutOrgSettings: %v", err)
	}
	got, err := st.GetOrg(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrg: %v", err)
	}
	want := *settings
	want.CreatedAt = o.CreatedAt
	checkOrg(t, "GetOrg after PutOrgSettings", got, &want)

	// A writer that read the settings before that change loses, and
	// changes nothing.
	stale := &secrets.Org{ID: o.ID, SettingsVersion: 1}
	wantErr(t, "PutOrgSettings at a stale version", st.PutOrgSettings(ctx, stale, 0), secrets.ErrStale)
	got, err = st.GetOrg(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrg: %v", err)
	}
	checkOrg(t, "GetOrg after a stale PutOrgSettings", got, &want)
	if err := st.PutOrgSettings(ctx, &secrets.Org{ID: o.ID, SettingsVersion: 3}, 1); !secrets.IsCode(err, secrets.CodeInvalid) {
		t.Errorf("PutOrgSettings skipping a version: %v, want invalid", err)
	}

	// Back to the default: empty replaces, too.
	if err := st.PutOrgSettings(ctx, &secrets.Org{ID: o.ID, SettingsVersion: 2}, 1); err != nil {
		t.Fatalf("PutOrgSettings(empty): %v", err)
	}
	got, err = st.GetOrg(ctx, o.ID)
	if err != nil {
		t.Fatalf("GetOrg: %v", err)
	}
	checkOrg(t, "GetOrg after PutOrgSettings(empty)", got, &secrets.Org{ID: o.ID, CreatedAt: o.CreatedAt, SettingsVersion: 2})
}

func testOrgAbsent(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	_, err := st.GetOrg(ctx, newOrgID())
	wantNotFound(t, "GetOrg of an absent org", err)
	absent := newOrg()
	absent.SettingsVersion = 1
	wantNotFound(t, "PutOrgSettings of an absent org", st.PutOrgSettings(ctx, absent, 0))
}

// Data keys.

func testDataKeyCreateGet(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	var keys []*secrets.DataKey
	for _, env := range secrets.Environments {
		for gen := 1; gen <= 2; gen++ {
			k := newDataKey(t, org, env, gen)
			if err := st.CreateDataKey(ctx, k); err != nil {
				t.Fatalf("CreateDataKey(%s, %d): %v", env, gen, err)
			}
			keys = append(keys, k)
		}
	}
	for _, want := range keys {
		got, err := st.GetDataKey(ctx, org, want.Environment, want.Generation)
		if err != nil {
			t.Fatalf("GetDataKey(%s, %d): %v", want.Environment, want.Generation, err)
		}
		checkDataKey(t, fmt.Sprintf("GetDataKey(%s, %d)", want.Environment, want.Generation), got, want)
	}
}

func testDataKeyDuplicate(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	first := newDataKey(t, newOrgID(), secrets.Production, 1)
	if err := st.CreateDataKey(ctx, first); err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}
	second := newDataKey(t, first.Org, first.Environment, first.Generation)
	wantErr(t, "CreateDataKey at a taken place", st.CreateDataKey(ctx, second), secrets.ErrExists)
	got, err := st.GetDataKey(ctx, first.Org, first.Environment, first.Generation)
	if err != nil {
		t.Fatalf("GetDataKey: %v", err)
	}
	checkDataKey(t, "the first key after a duplicate", got, first)
}

func testDataKeyNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	k := newDataKey(t, newOrgID(), secrets.Staging, 2)
	if err := st.CreateDataKey(ctx, k); err != nil {
		t.Fatalf("CreateDataKey: %v", err)
	}
	for _, c := range []struct {
		what string
		org  string
		env  secrets.Environment
		gen  int
	}{
		{"another environment", k.Org, secrets.Production, 2},
		{"an earlier generation", k.Org, secrets.Staging, 1},
		{"a later generation", k.Org, secrets.Staging, 3},
		{"another org", newOrgID(), secrets.Staging, 2},
	} {
		_, err := st.GetDataKey(ctx, c.org, c.env, c.gen)
		wantNotFound(t, "GetDataKey at "+c.what, err)
	}
}

// Audit.

// appendAudit appends n records of org at increasing times, in shuffled
// order, and returns them newest first.
func appendAudit(t *testing.T, st secrets.Store, org string, n int) []*secrets.AuditRecord {
	t.Helper()
	base := now().Add(-time.Hour)
	records := make([]*secrets.AuditRecord, n)
	for i := range records {
		records[i] = newAudit(org, base.Add(time.Duration(i)*time.Second), i)
		if i%3 == 1 {
			m := secrets.NewAuditManifest(org, records[i].ExpiresAt, manifestEntries(i, 10))
			records[i] = newResolveAudit(org, base.Add(time.Duration(i)*time.Second), m.Hash, i)
		}
	}
	for _, i := range mathrand.Perm(n) {
		if err := st.AppendAudit(t.Context(), records[i]); err != nil {
			t.Fatalf("AppendAudit(%d): %v", i, err)
		}
	}
	slices.Reverse(records)
	return records
}

func testAuditNewestFirst(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	want := appendAudit(t, st, org, 12)

	got, cursor, err := st.ListAudit(ctx, org, "", len(want))
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if g, w := len(got), len(want); g != w {
		t.Fatalf("len(ListAudit) = %d, want %d", g, w)
	}
	for i := range want {
		checkAudit(t, fmt.Sprintf("ListAudit[%d]", i), got[i], want[i])
	}
	if got, want := cursor, ""; got != want {
		t.Errorf("ListAudit of everything: cursor = %q, want %q", got, want)
	}
}

func testAuditPages(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	want := appendAudit(t, st, org, 20)

	// Limits that divide the records evenly, leave a remainder, take one
	// at a time, and exceed them.
	for _, limit := range []int{1, 3, 5, 7, 20, 50} {
		var ids []string
		cursor := ""
		for page := 1; ; page++ {
			if page > len(want)+1 {
				t.Fatalf("limit %d: more than %d pages", limit, len(want)+1)
			}
			got, next, err := st.ListAudit(ctx, org, cursor, limit)
			if err != nil {
				t.Fatalf("limit %d, page %d: ListAudit: %v", limit, page, err)
			}
			if len(got) == 0 || len(got) > limit {
				t.Fatalf("limit %d, page %d: got %d records, want 1 to %d", limit, page, len(got), limit)
			}
			for _, r := range got {
				ids = append(ids, r.ID)
			}
			if next == "" {
				break
			}
			if got, want := len(got), limit; got != want {
				t.Errorf("limit %d, page %d: got %d records and a next cursor; a short page must be the last", limit, page, got)
			}
			cursor = next
		}
		wantIDs := make([]string, len(want))
		for i, r := range want {
			wantIDs[i] = r.ID
		}
		if !slices.Equal(ids, wantIDs) {
			t.Errorf("limit %d: pages gave ids\n%v\nwant\n%v", limit, ids, wantIDs)
		}
	}
}

func testAuditOtherOrg(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org, otherOrg := newOrgID(), newOrgID()
	want := appendAudit(t, st, org, 3)
	appendAudit(t, st, otherOrg, 4)

	got, cursor, err := st.ListAudit(ctx, org, "", 10)
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if g, w := len(got), len(want); g != w {
		t.Fatalf("len(ListAudit) = %d, want %d", g, w)
	}
	for i := range want {
		checkAudit(t, fmt.Sprintf("ListAudit[%d]", i), got[i], want[i])
	}
	if got, want := cursor, ""; got != want {
		t.Errorf("cursor = %q, want %q", got, want)
	}

	none, cursor, err := st.ListAudit(ctx, newOrgID(), "", 10)
	if err != nil {
		t.Fatalf("ListAudit of an org without records: %v", err)
	}
	if got, want := len(none), 0; got != want {
		t.Errorf("len(ListAudit) of an org without records = %d, want %d", got, want)
	}
	if got, want := cursor, ""; got != want {
		t.Errorf("cursor of an org without records = %q, want %q", got, want)
	}
}

// Concurrency.

func testConcurrentUpdates(t *testing.T, st secrets.Store) {
	const (
		writers  = 16
		maxTries = 200
	)
	ctx := t.Context()
	s := newSecret(t, newOrgID(), secrets.Layer{App: "billing"}, "DB_URL")
	mustCreateSecret(t, st, s)

	var (
		mu        sync.Mutex
		wrote     = map[int64]string{} // version → the writer's marker
		conflicts int
		wg        sync.WaitGroup
	)
	for w := range writers {
		marker := fmt.Sprintf("writer %d", w)
		wg.Go(func() {
			for range maxTries {
				head, err := st.GetSecret(ctx, s.Org, s.ID)
				if err != nil {
					t.Errorf("%s: GetSecret: %v", marker, err)
					return
				}
				if err := st.PutVersion(ctx, head); err != nil {
					t.Errorf("%s: PutVersion(%d): %v", marker, head.Version, err)
					return
				}
				next := *head
				next.Description = marker
				next.Version = head.Version + 1
				next.UpdatedAt = head.UpdatedAt.Add(time.Second)
				next.Change = "update"
				err = st.UpdateSecret(ctx, &next, head.Version)
				if errors.Is(err, secrets.ErrStale) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					t.Errorf("%s: UpdateSecret(%d): %v", marker, next.Version, err)
					return
				}
				mu.Lock()
				defer mu.Unlock()
				if other, ok := wrote[next.Version]; ok {
					t.Errorf("version %d was written by %s and by %s", next.Version, other, marker)
				}
				wrote[next.Version] = marker
				return
			}
			t.Errorf("%s: still stale after %d tries", marker, maxTries)
		})
	}
	wg.Wait()
	t.Logf("%d writers, %d stale conflicts retried", writers, conflicts)
	if t.Failed() {
		return
	}

	head := mustGetSecret(t, st, s.Org, s.ID)
	if got, want := head.Version, int64(1+writers); got != want {
		t.Fatalf("head version = %d, want %d", got, want)
	}
	history, err := st.ListVersions(ctx, s.Org, s.ID)
	if err != nil {
		t.Fatalf("ListVersions: %v", err)
	}
	wantVersions := make([]int64, writers)
	for i := range wantVersions {
		wantVersions[i] = int64(writers - i)
	}
	if got := versions(history); !slices.Equal(got, wantVersions) {
		t.Fatalf("ListVersions = %v, want %v", got, wantVersions)
	}
	checkSecret(t, "version 1", history[len(history)-1], s)

	// Every version after the first is one writer's, and every writer's
	// marker is in exactly one version: no update was lost or doubled.
	seen := map[string]int{}
	for _, v := range slices.Concat(history[:len(history)-1], []*secrets.Secret{head}) {
		if got, want := v.Description, wrote[v.Version]; got != want {
			t.Errorf("version %d holds %q, but %q wrote it", v.Version, got, want)
		}
		seen[v.Description]++
	}
	for w := range writers {
		marker := fmt.Sprintf("writer %d", w)
		if got, want := seen[marker], 1; got != want {
			t.Errorf("%s's update is in %d versions, want %d", marker, got, want)
		}
	}
}

func testConcurrentCreates(t *testing.T, st secrets.Store) {
	const creators = 8
	ctx := t.Context()
	org := newOrgID()
	layer := secrets.Layer{App: "billing", Machine: "web-1"}
	candidates := make([]*secrets.Secret, creators)
	errs := make([]error, creators)
	for i := range candidates {
		candidates[i] = newSecret(t, org, layer, "DB_URL")
	}
	var wg sync.WaitGroup
	for i := range candidates {
		wg.Go(func() { errs[i] = st.CreateSecret(ctx, candidates[i]) })
	}
	wg.Wait()

	var winner *secrets.Secret
	for i, err := range errs {
		switch {
		case err == nil && winner == nil:
			winner = candidates[i]
		case err == nil:
			t.Errorf("creator %d succeeded too, after creator with id %s", i, winner.ID)
		case !errors.Is(err, secrets.ErrExists):
			t.Errorf("creator %d: got error %v, want %v", i, err, secrets.ErrExists)
		}
	}
	if winner == nil {
		t.Fatalf("no creator succeeded")
	}
	got, err := st.GetSecretByName(ctx, org, layer, "DB_URL")
	if err != nil {
		t.Fatalf("GetSecretByName: %v", err)
	}
	checkSecret(t, "the winner", got, winner)
	for _, c := range candidates {
		if c == winner {
			continue
		}
		_, err := st.GetSecret(ctx, org, c.ID)
		wantNotFound(t, "GetSecret of a losing creator's id", err)
	}
	list, err := st.ListSecrets(ctx, org, layer)
	if err != nil {
		t.Fatalf("ListSecrets: %v", err)
	}
	if got, want := len(list), 1; got != want {
		t.Errorf("len(ListSecrets) = %d, want %d", got, want)
	}
}

func testConcurrentDataKeys(t *testing.T, st secrets.Store) {
	const writers = 8
	ctx := t.Context()
	org := newOrgID()
	keys := make([]*secrets.DataKey, writers)
	errs := make([]error, writers)
	for i := range keys {
		keys[i] = newDataKey(t, org, secrets.Production, 1)
	}
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { errs[i] = st.CreateDataKey(ctx, keys[i]) })
	}
	wg.Wait()

	var winner *secrets.DataKey
	for i, err := range errs {
		switch {
		case err == nil && winner == nil:
			winner = keys[i]
		case err == nil:
			t.Errorf("writer %d created a key too", i)
		case !errors.Is(err, secrets.ErrExists):
			t.Errorf("writer %d: got error %v, want %v", i, err, secrets.ErrExists)
		}
	}
	if winner == nil {
		t.Fatalf("no writer created the key")
	}
	// Every loser reads the winner's key.
	got, err := st.GetDataKey(ctx, org, secrets.Production, 1)
	if err != nil {
		t.Fatalf("GetDataKey: %v", err)
	}
	checkDataKey(t, "the key every writer reads", got, winner)
}

func testConcurrentAudit(t *testing.T, st secrets.Store) {
	const distinct, sharing = 40, 8
	ctx := t.Context()
	org := newOrgID()
	base := now().Add(-time.Hour)
	var records []*secrets.AuditRecord
	for i := range distinct {
		records = append(records, newAudit(org, base.Add(time.Duration(i)*time.Millisecond), i))
	}
	// Records that differ but take one id: one lands, the rest are refused.
	shared := secrets.NewAuditID(base.Add(time.Minute))
	for i := range sharing {
		r := newAudit(org, base.Add(time.Minute), distinct+i)
		r.ID = shared
		records = append(records, r)
	}
	errs := make([]error, len(records))
	var wg sync.WaitGroup
	for i := range records {
		wg.Go(func() { errs[i] = st.AppendAudit(ctx, records[i]) })
	}
	wg.Wait()

	want := map[string]*secrets.AuditRecord{}
	for i, err := range errs[:distinct] {
		if err != nil {
			t.Errorf("AppendAudit(%d): %v", i, err)
		}
		want[records[i].ID] = records[i]
	}
	for i, err := range errs[distinct:] {
		r := records[distinct+i]
		switch {
		case err == nil && want[shared] == nil:
			want[shared] = r
		case err == nil:
			t.Errorf("AppendAudit(%d) of a taken id landed too", distinct+i)
		case !errors.Is(err, secrets.ErrExists):
			t.Errorf("AppendAudit(%d) of a taken id: got error %v, want %v", distinct+i, err, secrets.ErrExists)
		}
	}
	if want[shared] == nil {
		t.Errorf("no record with the shared id landed")
	}

	got, _, err := st.ListAudit(ctx, org, "", 2*len(records))
	if err != nil {
		t.Fatalf("ListAudit: %v", err)
	}
	if g, w := len(got), len(want); g != w {
		t.Errorf("len(ListAudit) = %d, want %d", g, w)
	}
	for _, r := range got {
		w, ok := want[r.ID]
		if !ok {
			t.Errorf("ListAudit holds %s, which was not appended", r.ID)
			continue
		}
		checkAudit(t, "ListAudit "+r.ID, r, w)
	}
}

// withRotation gives s a rotation policy due at next.
func withRotation(s *secrets.Secret, next time.Time) *secrets.Secret {
	last := next.Add(-24 * time.Hour)
	s.Rotation = &secrets.Rotation{Every: "1d", EverySeconds: 86400, Environments: []secrets.Environment{secrets.Production},
		Length: 40, Alphabet: "abcdefghijklmnopqrstuvwxyz0123456789", NextAt: next, LastAt: &last}
	return s
}

func testRotationRoundTrip(t *testing.T, st secrets.Store) {
	org := newOrgID()
	s := withRotation(newSecret(t, org, secrets.Global, "ROTATED"), now().Add(time.Hour))
	mustCreateSecret(t, st, s)
	checkSecret(t, "GetSecret", mustGetSecret(t, st, org, s.ID), s)
	next := nextVersion(t, s, "rotated once")
	next.Rotation = nil
	if err := st.UpdateSecret(t.Context(), next, s.Version); err != nil {
		t.Fatalf("UpdateSecret: %v", err)
	}
	checkSecret(t, "GetSecret after clearing the policy", mustGetSecret(t, st, org, s.ID), next)
}

func dueIDs(t *testing.T, st secrets.Store, org string, at time.Time, limit int) []string {
	t.Helper()
	due, err := st.ListDueRotations(t.Context(), org, at, limit)
	if err != nil {
		t.Fatalf("ListDueRotations: %v", err)
	}
	ids := make([]string, 0, len(due))
	for _, s := range due {
		if s.Rotation == nil || s.Rotation.NextAt.After(at) {
			t.Errorf("ListDueRotations returned %s, which is not due at %s", s.ID, at)
		}
		if s.Org != org {
			t.Errorf("ListDueRotations(%s) returned %s of org %s", org, s.ID, s.Org)
		}
		ids = append(ids, s.ID)
	}
	return ids
}

// mustCreateOrg stores a new org: the rotation sweep lists orgs.
func mustCreateOrg(t *testing.T, st secrets.Store) string {
	t.Helper()
	o := newOrg()
	if err := st.CreateOrg(t.Context(), o); err != nil {
		t.Fatalf("CreateOrg: %v", err)
	}
	return o.ID
}

func testListDueRotations(t *testing.T, st secrets.Store) {
	base := now()
	orgA, orgB := mustCreateOrg(t, st), mustCreateOrg(t, st)
	early := withRotation(newSecret(t, orgA, secrets.Layer{App: "web"}, "EARLY"), base.Add(-3*time.Hour))
	middle := withRotation(newSecret(t, orgA, secrets.Global, "MIDDLE"), base.Add(-2*time.Hour))
	late := withRotation(newSecret(t, orgA, secrets.Layer{App: "web", Machine: "m1"}, "LATE"), base.Add(-time.Hour))
	future := withRotation(newSecret(t, orgA, secrets.Global, "FUTURE"), base.Add(time.Hour))
	other := withRotation(newSecret(t, orgB, secrets.Global, "OTHER"), base.Add(-4*time.Hour))
	plain := newSecret(t, orgA, secrets.Global, "NO_POLICY")
	for _, s := range []*secrets.Secret{late, future, plain, other, early, middle} {
		mustCreateSecret(t, st, s)
	}
	if got, want := dueIDs(t, st, orgA, base, 10), []string{early.ID, middle.ID, late.ID}; !slices.Equal(got, want) {
		t.Errorf("due = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgA, base, 2), []string{early.ID, middle.ID}; !slices.Equal(got, want) {
		t.Errorf("due with limit 2 = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgB, base, 10), []string{other.ID}; !slices.Equal(got, want) {
		t.Errorf("due in the other org = %v, want %v", got, want)
	}
	if got, want := dueIDs(t, st, orgA, future.Rotation.NextAt, 10), []string{early.ID, middle.ID, late.ID, future.ID}; !slices.Equal(got, want) {
		t.Errorf("due at the future policy's time = %v, want %v (NextAt itself is due)", got, want)
	}
	if got := dueIDs(t, st, orgA, base.Add(-4*time.Hour), 10); len(got) != 0 {
		t.Errorf("due before any policy = %v, want none", got)
	}
	if got := dueIDs(t, st, newOrgID(), base, 10); len(got) != 0 {
		t.Errorf("due in an org without secrets = %v, want none", got)
	}
}

func testListRotationOrgs(t *testing.T, st secrets.Store) {
	base := now()
	orgA, orgB := mustCreateOrg(t, st), mustCreateOrg(t, st)
	for i, org := range []string{orgA, orgA, orgB} {
		mustCreateSecret(t, st, withRotation(newSecret(t, org, secrets.Global, fmt.Sprintf("DUE_%d", i)), base.Add(-time.Hour)))
	}
	orgs, err := st.ListRotationOrgs(t.Context(), base)
	if err != nil {
		t.Fatalf("ListRotationOrgs: %v", err)
	}
	for _, org := range []string{orgA, orgB} {
		if n := countOf(orgs, org); n != 1 {
			t.Errorf("ListRotationOrgs = %v: %s listed %d times, want once", orgs, org, n)
		}
	}
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

func testDueRotationsFollowHeads(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	base := now()
	org := mustCreateOrg(t, st)
	a := withRotation(newSecret(t, org, secrets.Global, "A"), base.Add(-time.Hour))
	b := withRotation(newSecret(t, org, secrets.Global, "B"), base.Add(-time.Hour))
	c := withRotation(newSecret(t, org, secrets.Global, "C"), base.Add(-time.Hour))
	for _, s := range []*secrets.Secret{a, b, c} {
		mustCreateSecret(t, st, s)
	}
	// a is rotated: its policy moves a day on.
	a2 := nextVersion(t, a, "rotated")
	a2.Rotation = withRotation(newSecret(t, org, secrets.Global, "X"), base.Add(24*time.Hour)).Rotation
	if err := st.UpdateSecret(ctx, a2, a.Version); err != nil {
		t.Fatalf("UpdateSecret(a): %v", err)
	}
	// b's policy is cleared.
	b2 := nextVersion(t, b, "no more rotation")
	b2.Rotation = nil
	if err := st.UpdateSecret(ctx, b2, b.Version); err != nil {
		t.Fatalf("UpdateSecret(b): %v", err)
	}
	// c is deleted.
	if err := st.DeleteSecret(ctx, org, c.ID, 0); err != nil {
		t.Fatalf("DeleteSecret(c): %v", err)
	}
	if got := dueIDs(t, st, org, base, 10); len(got) != 0 {
		t.Errorf("due = %v, want none", got)
	}
	if got, want := dueIDs(t, st, org, base.Add(25*time.Hour), 10), []string{a.ID}; !slices.Equal(got, want) {
		t.Errorf("due a day later = %v, want %v", got, want)
	}
}

func testReplaceRevokedToken(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	old := newToken(t, org, now().Add(-time.Hour))
	if err := st.CreateToken(ctx, old); err != nil {
		t.Fatalf("CreateToken: %v", err)
	}
	again := newToken(t, org, now())
	again.ID, again.Hash, again.Name = old.ID, old.Hash, "registered again"

	wantErr(t, "ReplaceRevokedToken of an active token", st.ReplaceRevokedToken(ctx, again), secrets.ErrExists)
	other := *again
	other.Org = newOrgID()
	wantNotFound(t, "ReplaceRevokedToken in another org", st.ReplaceRevokedToken(ctx, &other))
	absent := newToken(t, org, now())
	wantNotFound(t, "ReplaceRevokedToken of an absent token", st.ReplaceRevokedToken(ctx, absent))

	if err := st.RevokeToken(ctx, org, old.ID, now()); err != nil {
		t.Fatalf("RevokeToken: %v", err)
	}
	if err := st.ReplaceRevokedToken(ctx, again); err != nil {
		t.Fatalf("ReplaceRevokedToken of a revoked token: %v", err)
	}
	got, err := st.GetToken(ctx, old.ID)
	if err != nil {
		t.Fatalf("GetToken: %v", err)
	}
	checkToken(t, "GetToken after the replacement", got, again)
	list, err := st.ListTokens(ctx, org)
	if err != nil {
		t.Fatalf("ListTokens: %v", err)
	}
	if len(list) != 1 {
		t.Fatalf("ListTokens = %d tokens, want 1 (the replacement)", len(list))
	}
	checkToken(t, "ListTokens after the replacement", list[0], again)
}

func testManifestRoundTrip(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	expires := now().Add(400 * 24 * time.Hour)
	want := manifestEntries(50, 20)
	m := secrets.NewAuditManifest(org, expires, want)
	for i := range 2 {
		if err := st.PutAuditManifest(ctx, m); err != nil {
			t.Fatalf("PutAuditManifest (%d): %v", i+1, err)
		}
	}
	got, err := st.GetAuditManifest(ctx, org, m.Day, m.Hash)
	if err != nil {
		t.Fatalf("GetAuditManifest: %v", err)
	}
	if got.Org != org || got.Day != m.Day || got.Hash != m.Hash || !bytes.Equal(got.Content, m.Content) {
		t.Fatalf("GetAuditManifest = %s/%s/%s %q, want %s/%s/%s %q", got.Org, got.Day, got.Hash, got.Content, org, m.Day, m.Hash, m.Content)
	}
	entries, err := got.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	if !slices.Equal(entries, want) {
		t.Errorf("Entries = %v, want %v", entries, want)
	}
	record := newResolveAudit(org, now(), m.Hash, len(want))
	if err := st.AppendAudit(ctx, record); err != nil {
		t.Fatal(err)
	}
	list, _, err := st.ListAudit(ctx, org, "", 10)
	if err != nil || len(list) != 1 {
		t.Fatalf("ListAudit = %d records, %v; want 1", len(list), err)
	}
	checkAudit(t, "the resolve's record", list[0], record)
}

func testManifestNotFound(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	m := secrets.NewAuditManifest(org, now(), manifestEntries(3, 10))
	if err := st.PutAuditManifest(ctx, m); err != nil {
		t.Fatal(err)
	}
	other := secrets.NewAuditManifest(org, now(), manifestEntries(4, 10))
	for _, c := range []struct{ what, org, day, hash string }{
		{"another org", newOrgID(), m.Day, m.Hash},
		{"another day", org, secrets.ManifestDay(now().Add(48 * time.Hour)), m.Hash},
		{"another hash", org, m.Day, other.Hash},
		{"a part of the hash", org, m.Day, m.Hash[:10]},
		{"an empty hash", org, m.Day, ""},
	} {
		_, err := st.GetAuditManifest(ctx, c.org, c.day, c.hash)
		wantNotFound(t, "GetAuditManifest at "+c.what, err)
	}
}

func testLargeManifest(t *testing.T, st secrets.Store) {
	ctx := t.Context()
	org := newOrgID()
	want := manifestEntries(12000, 80) // about 1.2 MB: several DynamoDB items
	m := secrets.NewAuditManifest(org, now(), want)
	if len(m.Content) < 1<<20 {
		t.Fatalf("the manifest holds %d bytes; the test wants more than 1 MiB", len(m.Content))
	}
	if err := st.PutAuditManifest(ctx, m); err != nil {
		t.Fatalf("PutAuditManifest: %v", err)
	}
	got, err := st.GetAuditManifest(ctx, org, m.Day, m.Hash)
	if err != nil {
		t.Fatalf("GetAuditManifest: %v", err)
	}
	entries, err := got.Entries()
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	if !slices.Equal(entries, want) {
		t.Errorf("Entries: %d entries, want %d equal to those put", len(entries), len(want))
	}
}
