package storetest

import (
	"crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/zwrm/secrets/internal/secrets"
)

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

func mustCreateSecret(t *testing.T, st secrets.Store, s *secrets.Secret) {
	t.Helper()
	if err := st.CreateSecret(t.Context(), s); err != nil {
		t.Fatalf("CreateSecret(%s at %s): %v", s.Name, s.Layer, err)
	}
}

func mustGetSecret(t *testing.T, st secrets.Store, org, id string) *secrets.Secret {
	t.Helper()
	got, err := st.GetSecret(t.Context(), org, id)
	return must(t, "GetSecret("+id+")", got, err)
}

func newOrg() *secrets.Org {
	return &secrets.Org{ID: newOrgID(), CreatedAt: now(), UserResolveEnvironments: []secrets.Environment{secrets.Development, secrets.Staging}}
}

// mustCreateOrg stores a new org and returns its id: the rotation sweep
// lists orgs.
func mustCreateOrg(t *testing.T, st secrets.Store) string {
	t.Helper()
	o := newOrg()
	mustStoreOrg(t, st, o)
	return o.ID
}

func mustStoreOrg(t *testing.T, st secrets.Store, o *secrets.Org) {
	t.Helper()
	if err := st.CreateOrg(t.Context(), o); err != nil {
		t.Fatalf("CreateOrg(%s): %v", o.ID, err)
	}
}

// must returns v, failing t, saying what, unless err is nil.
func must[T any](t *testing.T, what string, v T, err error) T {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	return v
}

func mustGetSecretByName(t *testing.T, st secrets.Store, org string, layer secrets.Layer, name string) *secrets.Secret {
	t.Helper()
	got, err := st.GetSecretByName(t.Context(), org, layer, name)
	return must(t, fmt.Sprintf("GetSecretByName(%s at %s)", name, layer), got, err)
}

func mustGetOrg(t *testing.T, st secrets.Store, id string) *secrets.Org {
	t.Helper()
	got, err := st.GetOrg(t.Context(), id)
	return must(t, "GetOrg("+id+")", got, err)
}

func mustGetToken(t *testing.T, st secrets.Store, id string) *secrets.Token {
	t.Helper()
	got, err := st.GetToken(t.Context(), id)
	return must(t, "GetToken("+id+")", got, err)
}

func mustGetDataKey(t *testing.T, st secrets.Store, org string, env secrets.Environment, generation int) *secrets.DataKey {
	t.Helper()
	got, err := st.GetDataKey(t.Context(), org, env, generation)
	return must(t, fmt.Sprintf("GetDataKey(%s, %s, %d)", org, env, generation), got, err)
}
