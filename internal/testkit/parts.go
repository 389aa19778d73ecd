package testkit

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Clock is a clock a test moves by hand; services running concurrently
// may read it.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock is a clock that reads start until moved.
func NewClock(start time.Time) *Clock { return &Clock{t: start} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// CountingKeys is a key wrapper that counts the calls reaching the key
// service.
type CountingKeys struct {
	secrets.KeyWrapper
	Generated, Unwrapped atomic.Int64
}

// NewCountingKeys counts w's calls.
func NewCountingKeys(w secrets.KeyWrapper) *CountingKeys { return &CountingKeys{KeyWrapper: w} }

// GenerateDataKey counts and passes on.
func (c *CountingKeys) GenerateDataKey(ctx context.Context, ec secrets.EncryptionContext) ([]byte, []byte, error) {
	c.Generated.Add(1)
	return c.KeyWrapper.GenerateDataKey(ctx, ec)
}

// Unwrap counts and passes on.
func (c *CountingKeys) Unwrap(ctx context.Context, w []byte, ec secrets.EncryptionContext) ([]byte, error) {
	c.Unwrapped.Add(1)
	return c.KeyWrapper.Unwrap(ctx, w, ec)
}

// SyncBuffer is a log sink that goroutines may write to while a test
// reads it.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String is everything written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Bytes is a copy of everything written so far.
func (s *SyncBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

// Reset forgets what was written.
func (s *SyncBuffer) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b.Reset()
}
