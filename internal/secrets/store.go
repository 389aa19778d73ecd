package secrets

import (
	"context"
	"time"
)

// Store is everything the service keeps: the records of secrets, tokens,
// orgs and data keys, and the audit log. Its methods are shaped by the
// access patterns, and every write changes one record under one condition
// (create if absent, update if the version matches), so that a store without
// transactions (DynamoDB's single-item conditional writes) implements it as
// well as an embedded one. A store only ever sees ciphertext.
type Store interface {
	SecretRecords
	TokenRecords
	OrgRecords
	DataKeyRecords
	AuditLog
}

// SecretRecords keeps the records of secrets: a head record per (org, layer, name) holding
// the current version, reachable by id too, and history records of earlier
// versions keyed by (org, id, version).
type SecretRecords interface {
	// CreateSecret stores s as a new head record. s.Version must be 1
	// (else CodeInvalid). Returns ErrExists (conflict) if a secret of that
	// name exists at that org and layer.
	CreateSecret(ctx context.Context, s *Secret) error

	// UpdateSecret replaces the head record of s.ID with s if the stored
	// version equals expected; s.Version must be expected+1. Returns
	// ErrNotFound if the secret is absent, ErrStale (conflict) if the stored
	// version differs. Org, layer, name, id and owner never change; a
	// record that changes them, or whose version is not expected+1, is
	// refused with CodeInvalid.
	UpdateSecret(ctx context.Context, s *Secret, expected int64) error

	// DeleteSecret removes the secret's head record and then its history.
	// Returns ErrNotFound if absent. expected 0 deletes whatever version is
	// stored; otherwise a differing stored version returns ErrStale. The
	// head's removal is the delete: a store without transactions removes
	// what else the secret has after it, and answers success when the head
	// is found gone on a retry of its own write (a lost reply). What a
	// crash leaves behind belongs to an id no head has, so nothing reads
	// it; FinishDelete and SweepLeftovers remove it.
	DeleteSecret(ctx context.Context, org, id string, expected int64) error

	// FinishDelete removes what an interrupted delete of id left (its id
	// pointer, marked as a delete under way, and its history) when no head
	// holds id, and returns what it removed. History with no pointer left
	// (a writer racing a finished delete put it back) is removed too, as a
	// leftover of no interrupted delete. Returns ErrNotFound if there is
	// nothing it may finish (what a stopped create left is the sweep's),
	// ErrExists if a head holds id. A store whose writes are atomic never
	// leaves a delete half done.
	FinishDelete(ctx context.Context, org, id string) (*Leftover, error)

	// InterruptedDeletes returns the ids whose delete at (layer, name)
	// stopped after their head was removed: the name's last ids. It may
	// miss one a moment old (an index that lags).
	InterruptedDeletes(ctx context.Context, org string, layer Layer, name string) ([]string, error)

	// SweepLeftovers removes, up to limit, the remains of interrupted
	// deletes and creates of org that were left before the time given, and
	// returns them. Remains whose head turns out to be alive (a create or
	// delete that stopped after deciding nothing) are kept and only
	// unmarked; they are not returned. Remains it cannot remove are skipped
	// (and reported in the error) so that they do not hold back the rest.
	SweepLeftovers(ctx context.Context, org string, before time.Time, limit int) ([]Leftover, error)

	// GetSecret returns the head record by id. Returns ErrNotFound if
	// absent or in another org.
	GetSecret(ctx context.Context, org, id string) (*Secret, error)

	// GetSecretByName returns the head record of name at layer. Returns
	// ErrNotFound if absent or in another org.
	GetSecretByName(ctx context.Context, org string, layer Layer, name string) (*Secret, error)

	// ListSecrets returns the head records at one layer, ordered by name.
	ListSecrets(ctx context.Context, org string, layer Layer) ([]*Secret, error)

	// ListSecretsIn returns the head records at each of layers (one slice
	// per layer, in the order given, each ordered by name) as a resolve
	// reads them: each holds its id, org, layer, name, version and owner,
	// and of its values only env's (none if it has no value for env); every
	// other field is zero. It is the read of a resolve (and of the effective
	// view), so implementations read the layers at once where they can and
	// read no more of each record than that.
	ListSecretsIn(ctx context.Context, org string, layers []Layer, env Environment) ([][]*Secret, error)

	// ListSecretsAfter returns one page of each of layers (one slice per
	// layer, in the order given): up to limit head records whose names
	// sort after `after` (byte order; "" starts at the first), ordered by
	// name. It reads those records only, never the rest of a layer, so a
	// list of any size is served a page at a time; a name created or
	// deleted between two pages moves no other name across the boundary.
	// limit must be 1 or more (else CodeInvalid).
	ListSecretsAfter(ctx context.Context, org string, layers []Layer, after string, limit int) ([][]*Secret, error)

	// ListLayers returns the app and machine layers that hold secrets,
	// ordered by CompareLayers. The global layer is not listed. It may be
	// answered from an index that lags writes by a moment (a DynamoDB GSI).
	ListLayers(ctx context.Context, org string) ([]Layer, error)

	// PutVersion stores a history record of s at s.Version. Versions are
	// immutable, so putting the same version again is harmless (the first
	// one stays): writers put
	// the version they replace before replacing it, which keeps history
	// whole even if they stop between the two writes.
	PutVersion(ctx context.Context, s *Secret) error

	// GetVersion returns the history record of version n. Returns
	// ErrNotFound if absent (never kept, or pruned).
	GetVersion(ctx context.Context, org, id string, n int64) (*Secret, error)

	// ListVersions returns the history records of a secret, newest first.
	// It does not include the head record.
	ListVersions(ctx context.Context, org, id string) ([]*Secret, error)

	// PruneVersions deletes history records older than version keepFrom.
	PruneVersions(ctx context.Context, org, id string, keepFrom int64) error

	// ListRotationOrgs returns, each once, every org that may hold a head
	// whose rotation is due at now (more is harmless: an org with nothing
	// due lists nothing below). It may lag writes by a moment.
	ListRotationOrgs(ctx context.Context, now time.Time) ([]string, error)

	// ListDueRotations returns up to limit head records of org whose
	// Rotation.NextAt is at or before now, earliest first. The sweep
	// re-reads each before rotating it, so a store may answer from an
	// index that lags the heads a little (a DynamoDB GSI).
	ListDueRotations(ctx context.Context, org string, now time.Time, limit int) ([]*Secret, error)
}

// Leftover is what an interrupted write left of a secret whose head is gone:
// its id and, where known, the layer and name its head had.
type Leftover struct {
	ID    string
	Layer Layer
	Name  string
	// Deleted is true when the secret existed and its delete was
	// interrupted, false when a create stopped before its head was written.
	Deleted bool
}

// TokenRecords keeps API tokens, by id (derived from the token's hash).
type TokenRecords interface {
	// CreateToken stores t. Returns ErrExists if its id is taken.
	CreateToken(ctx context.Context, t *Token) error
	// GetToken returns the token with id, in any org. Returns ErrNotFound.
	GetToken(ctx context.Context, id string) (*Token, error)
	// ListTokens returns the org's tokens, revoked ones too, oldest first.
	// It may lag writes by a moment (a DynamoDB GSI); GetToken does not.
	ListTokens(ctx context.Context, org string) ([]*Token, error)
	// RevokeToken sets the revocation time of the org's token id, once:
	// revoking again keeps the first time. Returns ErrNotFound.
	RevokeToken(ctx context.Context, org, id string, at time.Time) error
	// ReplaceRevokedToken stores t in place of the token with its id, in
	// its org, if that token is revoked: how a principal whose token id is
	// derived (an iam registration) is registered again. Returns
	// ErrNotFound if there is no such token in t.Org, ErrExists if it is
	// not revoked.
	ReplaceRevokedToken(ctx context.Context, t *Token) error
}

// OrgRecords keeps organizations.
type OrgRecords interface {
	// CreateOrg stores o. Returns ErrExists if it exists.
	CreateOrg(ctx context.Context, o *Org) error
	// GetOrg returns the org. Returns ErrNotFound.
	GetOrg(ctx context.Context, id string) (*Org, error)
	// PutOrgSettings replaces the org's settings (everything but its id
	// and creation time) if the stored SettingsVersion equals expected;
	// o.SettingsVersion must be expected+1 (else CodeInvalid). Returns
	// ErrNotFound if the org is absent, ErrStale (conflict) if its
	// settings changed since expected.
	PutOrgSettings(ctx context.Context, o *Org, expected int64) error
}

// DataKeyRecords keeps wrapped data keys, one per (org, environment, generation).
type DataKeyRecords interface {
	// CreateDataKey stores k if no key exists at its org, environment and
	// generation. Returns ErrExists otherwise: the caller then reads the
	// winner's key, so concurrent writers agree on one key.
	CreateDataKey(ctx context.Context, k *DataKey) error
	// GetDataKey returns a key. Returns ErrNotFound.
	GetDataKey(ctx context.Context, org string, env Environment, generation int) (*DataKey, error)
}

// AuditLog keeps audit records, and the manifests that hold the lists of
// secret versions resolves name.
type AuditLog interface {
	// AppendAudit stores r. r.ID sorts by time (see NewAuditID). A record
	// with an ExpiresAt is deleted some time after it (DynamoDB's TTL, the
	// local server's sweep).
	AppendAudit(ctx context.Context, r *AuditRecord) error
	// ListAudit returns up to limit (1 or more, else CodeInvalid) records
	// of the org, newest first,
	// starting after the record with id cursor ("" for the newest), and the
	// cursor of the next page ("" when there is none). Records past their
	// ExpiresAt but not yet deleted are listed too: readers leave them
	// out (AuditRecord.Expired).
	ListAudit(ctx context.Context, org, cursor string, limit int) ([]*AuditRecord, string, error)
	// PutAuditManifest stores m under its org, day and hash unless a
	// manifest is stored there already: the hash names the content, so
	// the stored one stays and putting it again is harmless. It is
	// deleted some time after its ExpiresAt.
	PutAuditManifest(ctx context.Context, m *AuditManifest) error
	// GetAuditManifest returns the manifest of org stored under day and
	// hash, as stored: the caller checks its content against the hash
	// (AuditManifest.Entries). Returns ErrNotFound.
	GetAuditManifest(ctx context.Context, org, day, hash string) (*AuditManifest, error)
}

// EncryptionContext is the non-secret context a data key is bound to when it
// is wrapped; the same context must be given to unwrap it. With KMS it
// becomes the encryption context that IAM conditions can name.
type EncryptionContext map[string]string

// KeyWrapper makes and unwraps data keys under a master key (a local key
// file, or AWS KMS).
type KeyWrapper interface {
	// GenerateDataKey returns a new 32-byte key and its wrapped form bound
	// to ec. Returns CodeUnavailable when the key service cannot be reached.
	GenerateDataKey(ctx context.Context, ec EncryptionContext) (plaintext, wrapped []byte, err error)
	// Unwrap returns the key inside wrapped. A wrong context, a wrong
	// master key or a tampered blob returns CodeInternal.
	Unwrap(ctx context.Context, wrapped []byte, ec EncryptionContext) ([]byte, error)
}
