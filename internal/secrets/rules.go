package secrets

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Limits of the domain.
const (
	MaxNameLen        = 128
	MaxDescriptionLen = 1000      // characters
	MaxValueBytes     = 64 * 1024 // bytes of UTF-8
	MaxIDLen          = 63        // app and machine ids
	MaxDisplayNameLen = 200
	MaxSubjectLen     = 320
)

// NameRule is the naming rule, worded for people.
const NameRule = "must start with a letter or underscore and contain only letters, digits and underscores (1 to 128 characters), e.g. MY_SECRET_123"

// IDRule is the rule for app and machine ids, worded for people.
const IDRule = "must be 1 to 63 lowercase letters, digits or hyphens, starting with a letter or digit"

// ValidateName checks a secret name against ^[A-Za-z_][A-Za-z0-9_]*$, 1 to 128
// characters.
func ValidateName(name string) error {
	if name == "" {
		return Invalid("name", "is required; it %s", NameRule)
	}
	if len(name) > MaxNameLen {
		return Invalid("name", "is %d characters long; it %s", len(name), NameRule)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		letter := c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '_'
		if !letter && (i == 0 || c < '0' || c > '9') {
			return Invalid("name", "%s %s", quoteName(name), NameRule)
		}
	}
	return nil
}

// quoteName shows a rejected name, id or environment. These fields are not
// secret, so a short one is echoed to say what was wrong; a long one (more
// likely a value pasted into the wrong field) is not.
func quoteName(name string) string {
	if len(name) > 40 || !utf8.ValidString(name) {
		return "the name"
	}
	return fmt.Sprintf("%q", name)
}

// ValidateID checks an app or machine id against ^[a-z0-9][a-z0-9-]{0,62}$.
func ValidateID(field, id string) error {
	if id == "" {
		return Invalid(field, "is required; it %s", IDRule)
	}
	if len(id) > MaxIDLen {
		return Invalid(field, "is %d characters long; it %s", len(id), IDRule)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || (c == '-' && i > 0)
		if !ok {
			return Invalid(field, "%s %s", quoteName(id), IDRule)
		}
	}
	return nil
}

// NewLayer validates app and machine and returns their layer. Both empty is
// the global layer; a machine needs its app.
func NewLayer(app, machine string) (Layer, error) {
	if app == "" && machine == "" {
		return Global, nil
	}
	if app == "" {
		return Layer{}, Invalid("app", "is required when machine is given: a machine belongs to an app")
	}
	if err := ValidateID("app", app); err != nil {
		return Layer{}, err
	}
	if machine != "" {
		if err := ValidateID("machine", machine); err != nil {
			return Layer{}, err
		}
	}
	return Layer{App: app, Machine: machine}, nil
}

// ParseEnvironment accepts development, staging or production.
func ParseEnvironment(field, s string) (Environment, error) {
	switch e := Environment(s); e {
	case Development, Staging, Production:
		return e, nil
	}
	if s == "" {
		return "", Invalid(field, "is required: one of development, staging, production")
	}
	return "", Invalid(field, "%s is not an environment: use development, staging or production", quoteName(s))
}

// ValidateDescription allows up to 1,000 characters of UTF-8.
func ValidateDescription(d string) error {
	if !utf8.ValidString(d) {
		return Invalid("description", "must be valid UTF-8")
	}
	if n := utf8.RuneCountInString(d); n > MaxDescriptionLen {
		return Invalid("description", "is %d characters long; the limit is %d", n, MaxDescriptionLen)
	}
	return nil
}

// ValidateValue allows 1 byte to 64 KiB of UTF-8 without a NUL byte (a
// process's environment cannot carry one). field names the value, env its
// environment ("" for all three). The message never quotes the value.
func ValidateValue(field string, env Environment, v string) error {
	which := "the " + string(env) + " value"
	if env == "" {
		which = "the value (for every environment)"
	}
	switch {
	case v == "":
		return Invalid(field, "%s must not be empty (1 byte to 64 KiB); to remove a value, clear it with null", which)
	case len(v) > MaxValueBytes:
		return Invalid(field, "%s is %d bytes; the limit is %d bytes (64 KiB)", which, len(v), MaxValueBytes)
	case !utf8.ValidString(v):
		return Invalid(field, "%s must be valid UTF-8 text", which)
	case strings.IndexByte(v, 0) >= 0:
		return Invalid(field, "%s holds a NUL byte; values must not, since a program's environment cannot carry one", which)
	}
	return nil
}

// ValidateDisplayName checks a person's or workload's display name.
func ValidateDisplayName(field, n string) error {
	if strings.TrimSpace(n) == "" {
		return Invalid(field, "is required")
	}
	if !utf8.ValidString(n) || utf8.RuneCountInString(n) > MaxDisplayNameLen {
		return Invalid(field, "must be valid UTF-8 of at most %d characters", MaxDisplayNameLen)
	}
	return nil
}

// ValidateSubject checks a user's stable subject (an email or another id).
func ValidateSubject(s string) error {
	if strings.TrimSpace(s) == "" {
		return Invalid("subject", "is required: a stable id for the person, such as an email address")
	}
	if len(s) > MaxSubjectLen || !utf8.ValidString(s) {
		return Invalid("subject", "must be valid UTF-8 of at most %d bytes", MaxSubjectLen)
	}
	return nil
}

// ValidateOrgID checks an organization id; it follows the app id rule.
func ValidateOrgID(org string) error { return ValidateID("org", org) }

// MaskRule is the version of the rule Mask applies. Masks stored under an
// earlier rule are tightened when read (see SealedValue.Tightened).
const MaskRule = 2

// maskHiddenMin is the least number of characters a mask keeps hidden.
const maskHiddenMin = 12

// Mask hides a value for display. It shows the value's prefix (its
// characters up to and including the last '_' or '-' among its first 8, as
// in "sk_live_") and its last 4 characters only when at least 12
// characters, and at least half of the value, stay hidden; otherwise
// "***" and the last 4 when that still hides 12 characters and half;
// otherwise "***". "sk_live_51H8xyzQWERTYRgA1" → "sk_live_***RgA1",
// "Winter-2024-pass" → "***pass", "abcdefghij12" → "***".
func Mask(value string) string {
	r := []rune(value)
	n := len(r)
	hides := func(shown int) bool {
		hidden := n - shown
		return hidden >= maskHiddenMin && 2*hidden >= n
	}
	prefix := 0
	for i := 0; i < min(8, n); i++ {
		if r[i] == '_' || r[i] == '-' {
			prefix = i + 1
		}
	}
	switch {
	case prefix > 0 && hides(prefix+4):
		return string(r[:prefix]) + "***" + string(r[n-4:])
	case hides(4):
		return "***" + string(r[n-4:])
	}
	return "***"
}

// TightenMask returns what a mask stored under an earlier rule may show
// under the current one, without the value: the first rule showed a prefix
// and the last 4 characters of any value of 16 characters or more, and
// "***" and the last 4 hide at least 12 characters and half of every such
// value, so the prefix goes and the rest stays.
func TightenMask(mask string) string {
	i := strings.Index(mask, "***")
	if i < 0 {
		return "***"
	}
	tail := mask[i+3:]
	if utf8.RuneCountInString(tail) != 4 {
		return "***"
	}
	return "***" + tail
}

// Tightened returns v with its mask made under the current rule: a mask
// stored under an earlier rule is tightened, so that no stored mask shows
// more than Mask would.
func (v SealedValue) Tightened() SealedValue {
	if v.MaskRule < MaskRule {
		v.Mask, v.MaskRule = TightenMask(v.Mask), MaskRule
	}
	return v
}

// CanModify reports whether id may update, delete or restore s: its owner,
// or a user whose role priority is at least 100.
func CanModify(id Identity, s *Secret) bool {
	if id.Kind != TokenUser {
		return false
	}
	return id.Role.Priority() >= ModifyAnyPriority || id.Subject == s.Owner.Subject
}

// CheckModify returns the 403 that CanModify implies.
func CheckModify(id Identity, s *Secret) error {
	if id.Kind != TokenUser {
		return Errorf(CodeForbidden, "service tokens may only resolve secrets")
	}
	if !CanModify(id, s) {
		return Errorf(CodeForbidden, "Only %s can modify this secret", s.Owner.Name)
	}
	return nil
}

// RoleFor returns the lowest role whose priority is at least p: the role a
// message names when p is needed.
func RoleFor(p int) Role {
	for _, r := range []Role{RoleMember, RoleAdmin, RoleSuperadmin} {
		if r.Priority() >= p {
			return r
		}
	}
	return RoleSuperadmin
}

// MaxWritePriority bounds EnvironmentPolicy.MinWritePriority: above it,
// nobody could write.
const MaxWritePriority = 1000

// ValidateWritePriority checks a policy's minimum write priority: 1 to 1000.
func ValidateWritePriority(field string, p int) error {
	if p < 1 || p > MaxWritePriority {
		return Invalid(field, "must be from 1 to %d (member 10, admin 100, superadmin 1000), not %d", MaxWritePriority, p)
	}
	return nil
}

// CanWriteEnvironment reports whether id's role may write values of env
// under org's policy. Only user tokens write.
func CanWriteEnvironment(id Identity, org *Org, env Environment) bool {
	return id.Kind == TokenUser && id.Role.Priority() >= org.WritePolicy(env).MinWritePriority
}

// CheckWriteEnvironment returns the 403 for a write of env that org's
// policy forbids id. doing says what the caller is doing to env, with %s
// for the environment: "setting a %s value".
func CheckWriteEnvironment(id Identity, org *Org, env Environment, doing string) error {
	if CanWriteEnvironment(id, org, env) {
		return nil
	}
	need := org.WritePolicy(env).MinWritePriority
	role := RoleFor(need)
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf(doing+" needs role %s (priority %d) in this organization; you are %s (priority %d)",
		env, role, max(need, role.Priority()), id.Role, id.Role.Priority())}
}

// CheckOverride returns the 403 for creating a secret that would override
// lower, which id may not modify: an override changes what every workload
// of its layer receives in place of lower's values.
func CheckOverride(id Identity, lower *Secret) error {
	if CanModify(id, lower) {
		return nil
	}
	return Errorf(CodeForbidden, "%s at %s is owned by %s; only its owner or an admin may override it", lower.Name, lower.Layer, lower.Owner.Name)
}

// CheckReservedName returns the 403 for creating a secret under a reserved
// name, or setting a value of one, without the admin role.
func CheckReservedName(id Identity, name string) error {
	if !IsReservedName(name) || id.Role.Priority() >= ModifyAnyPriority {
		return nil
	}
	return &Error{Code: CodeForbidden, Message: fmt.Sprintf("creating a secret named %s, or setting its values, needs role admin (priority %d): %s is a reserved name, since %s",
		name, ModifyAnyPriority, name, ReservedRule)}
}

// ParseLayerKey is the inverse of Layer.Key.
func ParseLayerKey(k string) (Layer, error) {
	parts := strings.Split(k, "/")
	var l Layer
	switch {
	case len(parts) == 1 && parts[0] == "g":
		return Global, nil
	case len(parts) == 2 && parts[0] == "a":
		l = Layer{App: parts[1]}
	case len(parts) == 3 && parts[0] == "m":
		l = Layer{App: parts[1], Machine: parts[2]}
	default:
		return Layer{}, fmt.Errorf("malformed layer key %q", k)
	}
	if err := ValidateID("app", l.App); err != nil {
		return Layer{}, fmt.Errorf("malformed layer key %q: %w", k, err)
	}
	if len(parts) == 3 {
		if err := ValidateID("machine", l.Machine); err != nil {
			return Layer{}, fmt.Errorf("malformed layer key %q: %w", k, err)
		}
	}
	return l, nil
}

// TokenID derives a token's id from its SHA-256 hash: the first 16 bytes in
// hex. A presented token is then found with one lookup by id, and its full
// hash compared.
func TokenID(hash []byte) string { return hex.EncodeToString(hash[:16]) }

// IAMTokenID is the id of the iam token an org registered for an IAM
// principal. The org is part of it: each org registers principals in its
// own namespace, and a caller names the org it resolves from, so one org
// registering another's role gains nothing and learns nothing.
func IAMTokenID(org, principalARN string) string {
	return TokenID(HashToken("iam:" + org + ":" + principalARN))
}

// HashToken returns the SHA-256 of a token. Tokens carry 256 random bits, so
// a fast hash is enough: there is nothing to guess.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}
