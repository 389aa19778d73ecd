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

// ValidateValue allows 1 byte to 64 KiB of UTF-8. The message never quotes
// the value.
func ValidateValue(field, v string) error {
	switch {
	case v == "":
		return Invalid(field, "must not be empty (1 byte to 64 KiB); to remove a value, clear it with null")
	case len(v) > MaxValueBytes:
		return Invalid(field, "is %d bytes; the limit is %d bytes (64 KiB)", len(v), MaxValueBytes)
	case !utf8.ValidString(v):
		return Invalid(field, "must be valid UTF-8 text")
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

// Mask hides a value for display. A value of 16 characters or more shows its
// leading characters up to and including the last '_' or '-' among its first
// 8 characters (if any), then "***", then its last 4 characters; a shorter
// value shows "***" only. "sk_live_51HxyzabcdRgA1" → "sk_live_***RgA1".
func Mask(value string) string {
	r := []rune(value)
	if len(r) < 16 {
		return "***"
	}
	prefix := 0
	for i := 0; i < 8; i++ {
		if r[i] == '_' || r[i] == '-' {
			prefix = i + 1
		}
	}
	return string(r[:prefix]) + "***" + string(r[len(r)-4:])
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
