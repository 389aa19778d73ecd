package secrets

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// NewAuditID returns an id that sorts by time: nanoseconds since the epoch,
// zero-padded, then 8 random bytes against collisions.
func NewAuditID(t time.Time) string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%020d-%s", t.UnixNano(), hex.EncodeToString(b[:]))
}
