// Package storegolden holds the records the stores' golden tests write:
// every kind of record a store keeps, with every field set in one of them
// and left empty in another, so that a golden file of what a store holds
// pins its format field by field. Write stores them through the
// secrets.Store interface; Check reads them back and wants exactly what
// was written.
package storegolden

import (
	"bytes"
	"context"
	"encoding/json"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Set is one of each kind of record, as a store is given them.
type Set struct {
	// Orgs are created as they are; Settings then replace the settings of
	// theirs (expected: SettingsVersion-1).
	Orgs, Settings []*secrets.Org
	Heads          []*secrets.Secret // created, then updated up to Version
	Versions       []*secrets.Secret // history, beside the heads
	Tokens         []*secrets.Token
	Revoked        Revocation
	DataKeys       []*secrets.DataKey
	Audit          []*secrets.AuditRecord // oldest first
	Manifests      []*secrets.AuditManifest
}

// Revocation is a RevokeToken call.
type Revocation struct {
	Org, ID string
	At      time.Time
}

// T0 is the time the records are written at, with nanoseconds, so that a
// store that cut them would show.
var T0 = time.Date(2026, 11, 30, 7, 0, 0, 123456789, time.UTC)

// Records returns the set the golden tests write.
func Records() *Set {
	ada := secrets.Principal{Subject: "ada@example.com", Name: "Ada"}
	bob := secrets.Principal{Subject: "bob@example.com", Name: "Bob"}
	lastAt, tokenExpiry := T0.Add(-time.Hour), T0.Add(90*24*time.Hour)
	recordExpiry := time.Date(2027, 12, 31, 7, 0, 0, 0, time.UTC) // whole seconds: a TTL keeps no more
	entries := []secrets.AuditEntry{{Name: "API_KEY", Layer: "g", Version: 1}, {Name: "DB_URL", Layer: "a/billing", Version: 3}}
	manifest := secrets.NewAuditManifest("acme", recordExpiry, entries)
	app := secrets.Layer{App: "billing"}
	dbURL := func(version int64, change string) *secrets.Secret {
		return &secrets.Secret{
			ID: "s-app", Org: "acme", Layer: app, Name: "DB_URL", Description: "the orders database",
			Values: map[secrets.Environment]secrets.SealedValue{
				secrets.Development: {Ciphertext: []byte("dev-ciphertext"), Mask: "***", MaskRule: secrets.MaskRule},
				secrets.Production:  {Ciphertext: []byte{0, 1, 2, 254, 255}, Mask: "pg-***word", MaskRule: secrets.MaskRule, Fingerprint: "3fa2b1c9"},
			},
			Owner: ada, CreatedAt: T0.Add(-48 * time.Hour), UpdatedAt: T0, UpdatedBy: bob, Version: version, Change: change,
		}
	}
	head := dbURL(3, "restore")
	head.RestoredFrom = 1
	head.Rotation = &secrets.Rotation{Every: "30d", EverySeconds: 30 * 24 * 3600, Environments: []secrets.Environment{secrets.Production},
		Length: 32, Alphabet: "abcdef0123456789", NextAt: T0.Add(time.Hour), LastAt: &lastAt}
	v1 := dbURL(1, "create")
	// A value masked before masks were numbered: no mask_rule stored.
	v1.Values = map[secrets.Environment]secrets.SealedValue{secrets.Development: {Ciphertext: []byte("old"), Mask: "pg-***word"}}
	v2 := dbURL(2, "update")
	v2.Rotation = &secrets.Rotation{Every: "12h", EverySeconds: 12 * 3600, Length: 20, NextAt: T0.Add(12 * time.Hour)}
	return &Set{
		Orgs: []*secrets.Org{{ID: "acme", CreatedAt: T0}, {ID: "beta", CreatedAt: T0}},
		Settings: []*secrets.Org{{ID: "beta", CreatedAt: T0, SettingsVersion: 1, AuditRetentionDays: 30,
			UserResolveEnvironments: []secrets.Environment{secrets.Development, secrets.Staging},
			EnvironmentPolicies:     map[secrets.Environment]secrets.EnvironmentPolicy{secrets.Production: {MinWritePriority: 1000}, secrets.Staging: {MinWritePriority: 10}}}},
		Heads: []*secrets.Secret{
			{ID: "s-global", Org: "acme", Layer: secrets.Global, Name: "API_KEY", Owner: ada, UpdatedBy: ada, CreatedAt: T0, UpdatedAt: T0, Version: 1, Change: "create",
				Values: map[secrets.Environment]secrets.SealedValue{secrets.Staging: {Ciphertext: []byte("staging"), Mask: "sk_live_***RgA1", MaskRule: secrets.MaskRule}}},
			{ID: "s-machine", Org: "acme", Layer: secrets.Layer{App: "billing", Machine: "web-1"}, Name: "EMPTY", Owner: bob, UpdatedBy: bob, CreatedAt: T0, UpdatedAt: T0, Version: 1, Change: "create"},
			head,
		},
		Versions: []*secrets.Secret{v1, v2},
		Tokens: []*secrets.Token{
			{ID: "t-user", Org: "acme", Kind: secrets.TokenUser, Hash: []byte("user-hash"), Prefix: "zw_u_ab", Subject: ada.Subject, Name: ada.Name,
				Role: secrets.RoleAdmin, CreatedAt: T0, CreatedBy: ada},
			{ID: "t-service", Org: "acme", Kind: secrets.TokenService, Hash: []byte("service-hash"), Prefix: "zw_s_cd", Name: "deploy",
				Scope:     secrets.Scope{App: "billing", Machine: "web-1", Environments: []secrets.Environment{secrets.Staging, secrets.Production}},
				CreatedAt: T0.Add(time.Second), CreatedBy: ada, ExpiresAt: &tokenExpiry},
			{ID: "t-iam", Org: "acme", Kind: secrets.TokenIAM, Name: "worker", Scope: secrets.Scope{App: "billing"},
				PrincipalARN: "arn:aws:iam::123456789012:role/worker", CreatedAt: T0.Add(2 * time.Second), CreatedBy: bob},
		},
		Revoked:  Revocation{Org: "acme", ID: "t-user", At: T0.Add(2 * time.Hour)},
		DataKeys: []*secrets.DataKey{{Org: "acme", Environment: secrets.Production, Generation: 2, Wrapped: []byte("wrapped-key"), CreatedAt: T0}},
		Audit: []*secrets.AuditRecord{
			{ID: "00000000001795000000-0000000000000001", Org: "acme", Time: T0, Action: secrets.ActionSecretCreate,
				Actor:     secrets.AuditActor{Kind: secrets.TokenUser, TokenID: "t-user", Subject: ada.Subject, Name: ada.Name},
				RequestID: "req-1", SecretID: "s-app", Layer: &app, Environment: secrets.Production,
				Secrets: []secrets.AuditEntry{{Name: "DB_URL", Layer: "a/billing", Version: 1}}, TokenID: "t-other", Detail: "created"},
			{ID: "00000000001795000001-0000000000000002", Org: "acme", Time: T0.Add(time.Minute), Action: secrets.ActionResolve,
				Actor: secrets.AuditActor{Kind: secrets.TokenService, Name: "deploy"}, Environment: secrets.Production,
				ExpiresAt: recordExpiry, Manifest: manifest.Hash, SecretCount: len(entries)},
		},
		Manifests: []*secrets.AuditManifest{manifest},
	}
}

// Write stores set in st, in an order the stores accept.
func Write(ctx context.Context, t *testing.T, st secrets.Store, set *Set) {
	t.Helper()
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for _, o := range set.Orgs {
		must("CreateOrg "+o.ID, st.CreateOrg(ctx, o))
	}
	for _, o := range set.Settings {
		must("PutOrgSettings "+o.ID, st.PutOrgSettings(ctx, o, o.SettingsVersion-1))
	}
	for _, v := range set.Versions {
		must("PutVersion", st.PutVersion(ctx, v))
	}
	for _, h := range set.Heads {
		first := *h
		first.Version = 1
		must("CreateSecret "+h.Name, st.CreateSecret(ctx, &first))
		for v := int64(2); v <= h.Version; v++ {
			next := *h
			next.Version = v
			must("UpdateSecret "+h.Name, st.UpdateSecret(ctx, &next, v-1))
		}
	}
	for _, tok := range set.Tokens {
		must("CreateToken "+tok.ID, st.CreateToken(ctx, tok))
	}
	must("RevokeToken", st.RevokeToken(ctx, set.Revoked.Org, set.Revoked.ID, set.Revoked.At))
	for _, k := range set.DataKeys {
		must("CreateDataKey", st.CreateDataKey(ctx, k))
	}
	for _, m := range set.Manifests {
		must("PutAuditManifest", st.PutAuditManifest(ctx, m))
	}
	for _, r := range set.Audit {
		must("AppendAudit "+r.ID, st.AppendAudit(ctx, r))
	}
}

// Check reads every record of set back from st and wants what was written
// (masks tightened, as stores tighten them on every read).
func Check(ctx context.Context, t *testing.T, st secrets.Store, set *Set) {
	t.Helper()
	for _, want := range append(set.Orgs[:1:1], set.Settings...) {
		got, err := st.GetOrg(ctx, want.ID)
		same(t, "org "+want.ID, got, err, want)
	}
	for _, want := range set.Heads {
		got, err := st.GetSecretByName(ctx, want.Org, want.Layer, want.Name)
		same(t, "head "+want.Name+" by name", got, err, tightened(want))
		got, err = st.GetSecret(ctx, want.Org, want.ID)
		same(t, "head "+want.Name+" by id", got, err, tightened(want))
	}
	for _, want := range set.Versions {
		got, err := st.GetVersion(ctx, want.Org, want.ID, want.Version)
		same(t, "version", got, err, tightened(want))
	}
	due, err := st.ListDueRotations(ctx, "acme", T0.Add(24*time.Hour), 10)
	same(t, "due rotations", due, err, []*secrets.Secret{tightened(set.Heads[2])})
	var tokens []*secrets.Token
	for _, tok := range set.Tokens {
		want := *tok
		if tok.ID == set.Revoked.ID {
			want.RevokedAt = &set.Revoked.At
		}
		got, err := st.GetToken(ctx, tok.ID)
		same(t, "token "+tok.ID, got, err, &want)
		tokens = append(tokens, &want)
	}
	listed, err := st.ListTokens(ctx, "acme")
	same(t, "tokens", listed, err, tokens)
	for _, want := range set.DataKeys {
		got, err := st.GetDataKey(ctx, want.Org, want.Environment, want.Generation)
		same(t, "data key", got, err, want)
	}
	for _, m := range set.Manifests {
		got, err := st.GetAuditManifest(ctx, m.Org, m.Day, m.Hash)
		want := *m
		if err == nil && got.ExpiresAt.IsZero() {
			want.ExpiresAt = time.Time{} // kept in the store's expiry index only
		}
		same(t, "audit manifest", got, err, &want)
	}
	var newestFirst []*secrets.AuditRecord
	for i := len(set.Audit) - 1; i >= 0; i-- {
		newestFirst = append(newestFirst, set.Audit[i])
	}
	records, _, err := st.ListAudit(ctx, "acme", "", 100)
	same(t, "audit records", records, err, newestFirst)
}

func tightened(s *secrets.Secret) *secrets.Secret {
	out := *s
	if s.Values != nil {
		out.Values = map[secrets.Environment]secrets.SealedValue{}
		for env, v := range s.Values {
			out.Values[env] = v
		}
	}
	out.TightenMasks()
	return &out
}

func same(t *testing.T, what string, got any, err error, want any) {
	t.Helper()
	if err != nil {
		t.Errorf("read %s: %v", what, err)
		return
	}
	if !reflect.DeepEqual(got, want) {
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		t.Errorf("%s read back as\n%s\nwant\n%s", what, g, w)
	}
}

// CheckRecordTypes fails t if a field of any of records (or of a type they
// hold) has a type of the domain package: a store's record types take
// their stored form from their own tags alone.
func CheckRecordTypes(t *testing.T, records ...any) {
	t.Helper()
	domain := reflect.TypeFor[secrets.Secret]().PkgPath()
	seen := map[reflect.Type]bool{}
	var walk func(path string, typ reflect.Type)
	walk = func(path string, typ reflect.Type) {
		if seen[typ] {
			return
		}
		seen[typ] = true
		if typ.PkgPath() == domain {
			t.Errorf("%s is a %s: a stored record must not hold a domain type", path, typ)
			return
		}
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Array:
			walk(path+"[]", typ.Elem())
		case reflect.Map:
			walk(path+"[key]", typ.Key())
			walk(path+"[]", typ.Elem())
		case reflect.Struct:
			for f := range typ.Fields() {
				walk(path+"."+f.Name, f.Type)
			}
		}
	}
	for _, r := range records {
		typ := reflect.TypeOf(r)
		walk(typ.Name(), typ)
	}
}

// CheckEncodingIn fails t if a Go file of the package in dir, other than
// its tests and the file named codec, calls a function of one of the
// encoding packages named (by import path): records are encoded in one
// place, from the store's own types.
func CheckEncodingIn(t *testing.T, dir, codec string, encodings ...string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Go files in %s: %v", dir, err)
	}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") || filepath.Base(file) == codec {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range f.Imports {
			if path, _ := strconv.Unquote(imp.Path.Value); slices.Contains(encodings, path) {
				t.Errorf("%s imports %s: only %s encodes records", fset.Position(imp.Pos()), path, codec)
			}
		}
	}
}

// Compare fails t if got differs from the golden file at path, naming the
// first line that differs; with update, it first writes got there.
func Compare(t *testing.T, path string, got []byte, update bool) {
	t.Helper()
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(got, want) {
		return
	}
	gotLines, wantLines := strings.Split(string(got), "\n"), strings.Split(string(want), "\n")
	for i := range max(len(gotLines), len(wantLines)) {
		if g, w := lineAt(gotLines, i), lineAt(wantLines, i); g != w {
			t.Errorf("%s:%d differs: the stored format changed (if on purpose, existing data needs a migration)\n got %s\nwant %s", path, i+1, g, w)
			return
		}
	}
}

func lineAt(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(nothing)"
}
