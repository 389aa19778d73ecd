package secrets

import (
	"bytes"
	"cmp"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
)

// NewAuditID returns an id that sorts by time: nanoseconds since the epoch,
// zero-padded, then 8 random bytes against collisions.
func NewAuditID(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%020d-%s", t.UnixNano(), hex.EncodeToString(b[:]))
}

// AuditManifest is a list of secret versions (a resolve's names, layers and
// versions) stored once and referred to by every audit record that names
// that list: a resolve's record then stays small however many names it
// hands out, and identical resolves write the list once.
//
// A manifest is stored per organization, per day on which the records
// referring to it expire (Day), and per content hash (Hash): it expires a
// day after that day ends, so it outlives every record that refers to it,
// and a list resolved every day for years is kept once per day of expiry,
// not forever.
type AuditManifest struct {
	Org string
	// Day is the UTC day (YYYYMMDD) on which the records that refer to
	// the manifest expire (ManifestDay of their ExpiresAt).
	Day string
	// Hash is the hex SHA-256 of Content.
	Hash string
	// Content is the list, canonically encoded (see NewAuditManifest).
	Content []byte
	// ExpiresAt is when the manifest may be deleted.
	ExpiresAt time.Time
}

// ManifestDay is the Day of the manifest a record expiring at expires
// refers to.
func ManifestDay(expires time.Time) string { return expires.UTC().Format("20060102") }

// manifestExpiry is when the manifest of the records expiring on day may
// go: a day after that day ends, so that a reader who listed a record a
// moment before it expired still finds its manifest.
func manifestExpiry(recordExpires time.Time) time.Time {
	y, m, d := recordExpires.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Add(48 * time.Hour)
}

// NewAuditManifest returns the manifest of entries for records of org that
// expire at recordExpires. The content is canonical: the entries sorted by
// name, layer and version, each a JSON array [name, layer, version], in one
// compact JSON array. The same list always has the same hash.
func NewAuditManifest(org string, recordExpires time.Time, entries []AuditEntry) *AuditManifest {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b AuditEntry) int {
		return cmp.Or(cmp.Compare(a.Name, b.Name), cmp.Compare(a.Layer, b.Layer), cmp.Compare(a.Version, b.Version))
	})
	var buf bytes.Buffer
	buf.WriteByte('[')
	for i, e := range sorted {
		if i > 0 {
			buf.WriteByte(',')
		}
		buf.WriteByte('[')
		writeJSONString(&buf, e.Name)
		buf.WriteByte(',')
		writeJSONString(&buf, e.Layer)
		buf.WriteByte(',')
		buf.WriteString(strconv.FormatInt(e.Version, 10))
		buf.WriteByte(']')
	}
	buf.WriteByte(']')
	sum := sha256.Sum256(buf.Bytes())
	return &AuditManifest{
		Org:       org,
		Day:       ManifestDay(recordExpires),
		Hash:      hex.EncodeToString(sum[:]),
		Content:   buf.Bytes(),
		ExpiresAt: manifestExpiry(recordExpires),
	}
}

func writeJSONString(buf *bytes.Buffer, s string) {
	b, _ := json.Marshal(s) // a string always encodes
	buf.Write(b)
}

// Entries returns the manifest's list after checking its content against
// its hash: storage is untrusted, and a manifest whose content is not the
// one its hash names is refused (CodeInternal) rather than shown.
func (m *AuditManifest) Entries() ([]AuditEntry, error) {
	sum := sha256.Sum256(m.Content)
	if hex.EncodeToString(sum[:]) != m.Hash {
		return nil, Internalf(nil, "integrity error: the audit manifest %s of org %s does not hold the content its hash names", m.Hash, m.Org)
	}
	var raw [][]json.RawMessage
	if err := json.Unmarshal(m.Content, &raw); err != nil {
		return nil, Internalf(err, "decode audit manifest %s", m.Hash)
	}
	out := make([]AuditEntry, len(raw))
	for i, r := range raw {
		if len(r) != 3 {
			return nil, Internalf(nil, "decode audit manifest %s: entry %d has %d fields, not 3", m.Hash, i, len(r))
		}
		for j, dst := range []any{&out[i].Name, &out[i].Layer, &out[i].Version} {
			if err := json.Unmarshal(r[j], dst); err != nil {
				return nil, Internalf(err, "decode audit manifest %s: entry %d", m.Hash, i)
			}
		}
	}
	return out, nil
}

// ValidateAuditRetentionDays checks an organization's audit retention:
// 1 to 3650 days.
func ValidateAuditRetentionDays(field string, days int) error {
	if days < MinAuditRetentionDays || days > MaxAuditRetentionDays {
		return Invalid(field, "must be from %d to %d days, not %d", MinAuditRetentionDays, MaxAuditRetentionDays, days)
	}
	return nil
}
