// Package secrets is the domain of the zwrm secrets service: its types, its
// rules (names, masks, who may modify what), the interfaces its adapters
// implement (Store, KeyWrapper) and its error codes. It imports no AWS, HTTP
// or storage code; everything else imports it.
package secrets

import (
	"strings"
	"time"
)

// Environment is one of the three independent values a secret can hold.
type Environment string

const (
	Development Environment = "development"
	Staging     Environment = "staging"
	Production  Environment = "production"
)

// Environments lists every environment in their display order.
var Environments = []Environment{Development, Staging, Production}

// Layer is where a secret lives in the global → app → machine hierarchy.
// The zero Layer is the global (organization-wide) layer; App alone is an
// app's layer; App and Machine together are a machine's layer.
type Layer struct {
	App     string
	Machine string
}

// Global is the organization-wide layer.
var Global = Layer{}

// Kind names the layer: "global", "app" or "machine".
func (l Layer) Kind() string {
	switch {
	case l.Machine != "":
		return "machine"
	case l.App != "":
		return "app"
	}
	return "global"
}

// Key is a canonical, unambiguous string for the layer ("g", "a/APP",
// "m/APP/MACHINE"); ids cannot hold '/', so keys never collide.
func (l Layer) Key() string {
	switch l.Kind() {
	case "machine":
		return "m/" + l.App + "/" + l.Machine
	case "app":
		return "a/" + l.App
	}
	return "g"
}

func (l Layer) String() string {
	switch l.Kind() {
	case "machine":
		return "machine " + l.App + "/" + l.Machine
	case "app":
		return "app " + l.App
	}
	return "global"
}

// CompareLayers orders layers by app, each app before its machines, and
// the global layer first.
func CompareLayers(a, b Layer) int {
	if a.App != b.App {
		return strings.Compare(a.App, b.App)
	}
	return strings.Compare(a.Machine, b.Machine)
}

// ResolveChain lists the layers a resolve at l reads, lowest priority first:
// global, then the app, then the machine.
func (l Layer) ResolveChain() []Layer {
	chain := []Layer{Global}
	if l.App != "" {
		chain = append(chain, Layer{App: l.App})
	}
	if l.Machine != "" {
		chain = append(chain, l)
	}
	return chain
}

// Principal names a person or workload: a stable subject and a display name.
type Principal struct {
	Subject string
	Name    string
}

// SealedValue is one environment's value as it is stored: ciphertext bound to
// the secret's identity, plus the mask shown in place of the value.
type SealedValue struct {
	Ciphertext []byte
	Mask       string
	// MaskRule is the rule Mask was made under (see MaskRule); 0 for
	// masks stored before rules were numbered.
	MaskRule int
	// Fingerprint tells this value from the environment's other versions
	// without revealing it: a short keyed digest made when it was written
	// (see envelope.Sealer.Fingerprint); empty for values written before
	// fingerprints were kept.
	Fingerprint string
}

// Secret is one secret at one layer of one organization, as stored: a head
// record (the current version) or a history record (an earlier one).
type Secret struct {
	ID          string
	Org         string
	Layer       Layer
	Name        string
	Description string
	Values      map[Environment]SealedValue
	Owner       Principal
	CreatedAt   time.Time
	UpdatedAt   time.Time
	UpdatedBy   Principal
	Version     int64
	// Change says what made this version: create, update, restore or rotate.
	Change string
	// RestoredFrom is the version a restore copied, when Change is restore.
	RestoredFrom int64
	// Rotation is the secret's rotation policy, if it has one.
	Rotation *Rotation
}

// Rotation is a policy that replaces a secret's values with new random ones
// on a schedule.
type Rotation struct {
	// Every is the interval as written ("30d", "12h"); EverySeconds is it
	// parsed.
	Every        string
	EverySeconds int64
	Environments []Environment
	Length       int
	Alphabet     string
	// NextAt is when the values are next due; the sweep rotates secrets
	// whose NextAt has passed.
	NextAt time.Time
	// LastAt is when the values were last rotated, if ever.
	LastAt *time.Time
}

// TightenMasks makes every mask of s one the current rule allows (see
// SealedValue.Tightened): stores call it on each record they read.
func (s *Secret) TightenMasks() {
	for env, v := range s.Values {
		s.Values[env] = v.Tightened()
	}
}

// Has reports whether the secret holds a value for env.
func (s *Secret) Has(env Environment) bool {
	_, ok := s.Values[env]
	return ok
}

// Role is a user's role; its priority decides what it may do.
type Role string

const (
	RoleMember     Role = "member"
	RoleAdmin      Role = "admin"
	RoleSuperadmin Role = "superadmin"
)

// Priority is the role's rank: member 10, admin 100, superadmin 1000;
// 0 for anything else.
func (r Role) Priority() int {
	switch r {
	case RoleMember:
		return 10
	case RoleAdmin:
		return 100
	case RoleSuperadmin:
		return 1000
	}
	return 0
}

// ModifyAnyPriority is the role priority that may modify secrets it does not own.
const ModifyAnyPriority = 100

// TokenKind says who holds a token.
type TokenKind string

const (
	TokenUser    TokenKind = "user"    // a person, with a role
	TokenService TokenKind = "service" // a workload, which may only resolve
	TokenIAM     TokenKind = "iam"     // an AWS IAM principal, which may only resolve
	TokenSystem  TokenKind = "system"  // the service itself (the rotation schedule); never a stored token
)

// Token is an API token as stored: never the token itself, only its hash.
// ID is derived from the hash (see TokenID), so a token is found by one
// lookup of its ID.
type Token struct {
	ID      string
	Org     string
	Kind    TokenKind
	Hash    []byte // SHA-256 of the token
	Prefix  string // the token's first characters, to recognise it
	Subject string
	Name    string
	Role    Role
	Scope   Scope
	// PrincipalARN is the IAM principal an iam token stands for. Its id is
	// derived from the org and the ARN (see IAMTokenID), so a caller signed
	// in as that principal is found with one lookup.
	PrincipalARN string
	CreatedAt    time.Time
	CreatedBy    Principal
	ExpiresAt    *time.Time
	RevokedAt    *time.Time
}

// Scope bounds what a service token may resolve: an app (or none: global
// only), a machine of that app (or none), and the environments named.
type Scope struct {
	App          string
	Machine      string
	Environments []Environment
}

// Identity is who is calling, as established from a token.
type Identity struct {
	Org     string
	TokenID string
	Kind    TokenKind
	Subject string
	Name    string
	Role    Role
	Scope   Scope
}

// Principal returns the identity's subject and name.
func (id Identity) Principal() Principal { return Principal{Subject: id.Subject, Name: id.Name} }

// Org is a tenant. Everything else is scoped to one.
type Org struct {
	ID        string
	CreatedAt time.Time
	// UserResolveEnvironments are the environments user tokens may resolve;
	// empty means development only.
	UserResolveEnvironments []Environment
	// EnvironmentPolicies says, per environment, who may change its
	// values; an environment absent here has its default policy (see
	// DefaultEnvironmentPolicy).
	EnvironmentPolicies map[Environment]EnvironmentPolicy
	// AuditRetentionDays is how long audit records are kept; 0 means
	// DefaultAuditRetentionDays. A record's expiry is fixed when it is
	// written, so a change applies to records written after it.
	AuditRetentionDays int
	// SettingsVersion counts changes of the settings: each change is
	// conditional on the one it read, so concurrent changes never lose
	// each other.
	SettingsVersion int64
}

// EnvironmentPolicy is what an organization requires of whoever sets,
// clears, restores or rotates a value of one environment, or deletes a
// secret holding one.
type EnvironmentPolicy struct {
	// MinWritePriority is the least role priority that may write.
	MinWritePriority int
}

// DefaultEnvironmentPolicy is the policy of an environment an organization
// has not set: members write development and staging, admins production.
func DefaultEnvironmentPolicy(env Environment) EnvironmentPolicy {
	if env == Production {
		return EnvironmentPolicy{MinWritePriority: RoleAdmin.Priority()}
	}
	return EnvironmentPolicy{MinWritePriority: RoleMember.Priority()}
}

// WritePolicy returns the organization's policy for env.
func (o *Org) WritePolicy(env Environment) EnvironmentPolicy {
	if p, ok := o.EnvironmentPolicies[env]; ok {
		return p
	}
	return DefaultEnvironmentPolicy(env)
}

// WritePolicies returns the policy of every environment.
func (o *Org) WritePolicies() map[Environment]EnvironmentPolicy {
	out := make(map[Environment]EnvironmentPolicy, len(Environments))
	for _, env := range Environments {
		out[env] = o.WritePolicy(env)
	}
	return out
}

// Audit retention: how many days an organization keeps audit records.
const (
	DefaultAuditRetentionDays = 400
	MinAuditRetentionDays     = 1
	MaxAuditRetentionDays     = 3650
)

// AuditRetention returns the days the organization keeps audit records.
func (o *Org) AuditRetention() int {
	if o.AuditRetentionDays == 0 {
		return DefaultAuditRetentionDays
	}
	return o.AuditRetentionDays
}

// DataKey is an organization's data key for one environment, wrapped by the
// KeyWrapper. Values are sealed under keys derived from it.
type DataKey struct {
	Org         string
	Environment Environment
	Generation  int
	Wrapped     []byte
	CreatedAt   time.Time
}

// AuditRecord says who did what, when, to which secrets and versions. It
// never holds a value.
type AuditRecord struct {
	ID          string // sorts by time
	Org         string
	Time        time.Time
	Actor       AuditActor
	Action      string
	RequestID   string
	SecretID    string
	Layer       *Layer
	Environment Environment
	Secrets     []AuditEntry
	TokenID     string
	Detail      string
	// ExpiresAt is when the record may be deleted: its time plus the
	// org's retention when it was written (zero on records written before
	// retention existed). Stores delete expired records in their own time,
	// so readers leave them out.
	ExpiresAt time.Time
	// Manifest is the content hash of the AuditManifest that holds the
	// record's Secrets, stored once for every record that names the same
	// list, and SecretCount their number. Readers put the list back in
	// Secrets (see AuditManifest).
	Manifest    string
	SecretCount int
}

// Expired reports whether r's retention has passed at now.
func (r *AuditRecord) Expired(now time.Time) bool {
	return !r.ExpiresAt.IsZero() && !now.Before(r.ExpiresAt)
}

// AuditActor is the identity behind an audited action.
type AuditActor struct {
	Kind    TokenKind
	TokenID string
	Subject string
	Name    string
}

// AuditEntry names one secret version an action touched.
type AuditEntry struct {
	Name    string
	Layer   string
	Version int64
}

// Audit actions.
const (
	ActionSecretCreate  = "secret.create"
	ActionSecretUpdate  = "secret.update"
	ActionSecretDelete  = "secret.delete"
	ActionSecretRestore = "secret.restore"
	ActionTokenCreate   = "token.create"
	ActionTokenRevoke   = "token.revoke"
	ActionResolve       = "resolve"
	ActionOrgUpdate     = "org.update"
	ActionSecretRotate  = "secret.rotate"
	ActionRotationSet   = "rotation.set"
	ActionRotationClear = "rotation.clear"
	// ActionIntegrity records a stored record that disagreed with where it
	// was found: it was refused, and someone with write access to the
	// store should be asked why.
	ActionIntegrity = "integrity.error"
)
