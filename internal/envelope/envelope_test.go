package envelope_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/secrets"
	"github.com/zwrm/secrets/internal/testkit"
)

// memKeys keeps data key records in memory: the sealer's seam to storage.
type memKeys struct {
	mu   sync.Mutex
	keys map[string]*secrets.DataKey
}

func keyOf(org string, env secrets.Environment, gen int) string {
	return org + "|" + string(env) + "|" + string(rune('0'+gen))
}

func (m *memKeys) CreateDataKey(_ context.Context, k *secrets.DataKey) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.keys == nil {
		m.keys = map[string]*secrets.DataKey{}
	}
	id := keyOf(k.Org, k.Environment, k.Generation)
	if _, ok := m.keys[id]; ok {
		return secrets.ErrExists
	}
	m.keys[id] = k
	return nil
}

func (m *memKeys) GetDataKey(_ context.Context, org string, env secrets.Environment, gen int) (*secrets.DataKey, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if k, ok := m.keys[keyOf(org, env, gen)]; ok {
		return k, nil
	}
	return nil, secrets.ErrNotFound
}

// newWrapper is a local master key whose calls reach a counter.
func newWrapper(t *testing.T) *testkit.CountingKeys {
	t.Helper()
	return testkit.NewCountingKeys(testkit.LocalKey(t, bytes.Repeat([]byte{7}, 32)))
}

var base = envelope.Binding{SecretID: "9b2e3c4d-1111-4222-8333-444455556666", Org: "acme", Layer: secrets.Layer{App: "web"}, Name: "STRIPE_KEY", Environment: secrets.Production, Version: 3}

func TestSealOpenRoundTrip(t *testing.T) {
	s := envelope.New(newWrapper(t), &memKeys{}, envelope.Options{})
	ctx := context.Background()
	for _, plain := range []string{"x", "sk_live_51HxyzabcdRgA1", string(bytes.Repeat([]byte("é"), 30000))} {
		ct, err := s.Seal(ctx, base, []byte(plain))
		if err != nil {
			t.Fatal(err)
		}
		if len(plain) >= 8 && bytes.Contains(ct, []byte(plain)) { // a 1-byte value appears in random bytes by chance
			t.Fatal("ciphertext contains the plaintext")
		}
		got, err := s.Open(ctx, base, ct)
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != plain {
			t.Fatalf("round trip changed the value")
		}
	}
}

func TestCiphertextIsBoundToItsBinding(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := envelope.New(newWrapper(t), keys, envelope.Options{})
	ct, err := s.Seal(ctx, base, []byte("sk_live_51HxyzabcdRgA1"))
	if err != nil {
		t.Fatal(err)
	}
	// Opened once, its value key is kept with the data key: what follows
	// must fail all the same.
	if _, err := s.Open(ctx, base, ct); err != nil {
		t.Fatal(err)
	}
	moved := map[string]envelope.Binding{}
	for name, move := range map[string]func(*envelope.Binding){
		"another org":               func(b *envelope.Binding) { b.Org = "other" },
		"another layer":             func(b *envelope.Binding) { b.Layer = secrets.Global },
		"a machine of the same app": func(b *envelope.Binding) { b.Layer = secrets.Layer{App: "web", Machine: "m1"} },
		"another name":              func(b *envelope.Binding) { b.Name = "STRIPE_KEY2" },
		"another environment":       func(b *envelope.Binding) { b.Environment = secrets.Staging },
		"another version":           func(b *envelope.Binding) { b.Version = 4 },
		"another secret of the same name (a deleted one's successor)": func(b *envelope.Binding) {
			b.SecretID = "5f0c6a1e-0000-4000-8000-000000000001"
		},
	} {
		id := base
		move(&id)
		moved[name] = id
	}
	// Make sure the other org and environment have keys, so that the
	// failure is the binding and not a missing key.
	for _, other := range moved {
		if _, err := s.Seal(ctx, other, []byte("warm")); err != nil {
			t.Fatal(err)
		}
	}
	for name, other := range moved {
		t.Run("a ciphertext moved to "+name+" fails to open", func(t *testing.T) {
			if _, err := s.Open(ctx, other, ct); err == nil {
				t.Fatal("opened a ciphertext under another binding")
			} else if got, want := secrets.ErrorCode(err), secrets.CodeInternal; got != want {
				t.Fatalf("code = %s, want %s", got, want)
			} else if bytes.Contains([]byte(err.Error()), []byte("sk_live")) {
				t.Fatal("error holds plaintext")
			}
		})
	}
	t.Run("an altered byte anywhere fails to open", func(t *testing.T) {
		for i := range ct {
			bad := bytes.Clone(ct)
			bad[i] ^= 0x01
			if _, err := s.Open(ctx, base, bad); err == nil {
				t.Fatalf("opened a ciphertext altered at byte %d", i)
			}
		}
	})
	t.Run("a truncated ciphertext fails to open", func(t *testing.T) {
		if _, err := s.Open(ctx, base, ct[:len(ct)-1]); err == nil {
			t.Fatal("opened a truncated ciphertext")
		}
		if _, err := s.Open(ctx, base, ct[:10]); err == nil {
			t.Fatal("opened a truncated ciphertext")
		}
	})
}

func TestSaltsAndNoncesNeverRepeat(t *testing.T) {
	ctx := context.Background()
	s := envelope.New(newWrapper(t), &memKeys{}, envelope.Options{})
	seen := map[string]bool{}
	for i := 0; i < 5000; i++ {
		ct, err := s.Seal(ctx, base, []byte("same value"))
		if err != nil {
			t.Fatal(err)
		}
		head := string(ct[5 : 5+32+12]) // salt and nonce
		if seen[head] {
			t.Fatalf("salt and nonce repeated after %d seals", i)
		}
		seen[head] = true
	}
}

func TestDataKeyUnwrapsAreBoundedAndCached(t *testing.T) {
	ctx := context.Background()
	w := newWrapper(t)
	keys := &memKeys{}
	clk := testkit.NewClock(time.Unix(1_700_000_000, 0))
	writer := envelope.New(w, keys, envelope.Options{Now: clk.Now})
	const n = 200
	cts := make([][]byte, n)
	ids := make([]envelope.Binding, n)
	for i := range cts {
		ids[i] = base
		ids[i].Name = "S" + string(rune('A'+i%26)) + string(rune('A'+i/26))
		var err error
		if cts[i], err = writer.Seal(ctx, ids[i], []byte("v")); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := w.Generated.Load(), int64(1); got != want {
		t.Fatalf("sealing %d values generated %d data keys, want %d", n, got, want)
	}

	// A fresh process (a cold Lambda) opening all n values.
	w.Unwrapped.Store(0)
	reader := envelope.New(w, keys, envelope.Options{Now: clk.Now, CacheTTL: time.Minute})
	openAll := func() {
		t.Helper()
		for i := range cts {
			if _, err := reader.Open(ctx, ids[i], cts[i]); err != nil {
				t.Fatal(err)
			}
		}
	}
	openAll()
	if got, want := w.Unwrapped.Load(), int64(1); got != want {
		t.Fatalf("cold: opening %d values unwrapped %d keys, want %d", n, got, want)
	}
	openAll()
	if got, want := w.Unwrapped.Load(), int64(1); got != want {
		t.Fatalf("warm: unwraps = %d, want %d (no new unwrap)", got, want)
	}
	clk.Advance(time.Minute + time.Second)
	openAll()
	if got, want := w.Unwrapped.Load(), int64(2); got != want {
		t.Fatalf("after the TTL: unwraps = %d, want %d", got, want)
	}
}

// inParallel calls f(0) to f(n-1), each in a goroutine of its own, and
// waits for them all.
func inParallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(i)
		}()
	}
	wg.Wait()
}

func TestConcurrentColdCallersShareOneUnwrap(t *testing.T) {
	ctx := context.Background()
	w := newWrapper(t)
	keys := &memKeys{}
	ct, err := envelope.New(w, keys, envelope.Options{}).Seal(ctx, base, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	w.Unwrapped.Store(0)
	reader := envelope.New(w, keys, envelope.Options{})
	inParallel(32, func(int) {
		if _, err := reader.Open(ctx, base, ct); err != nil {
			t.Error(err)
		}
	})
	if got, want := w.Unwrapped.Load(), int64(1); got != want {
		t.Fatalf("32 concurrent cold opens unwrapped %d times, want %d", got, want)
	}
}

func TestConcurrentFirstWritersAgreeOnOneDataKey(t *testing.T) {
	ctx := context.Background()
	w := newWrapper(t)
	keys := &memKeys{}
	// Separate sealers stand for separate processes racing to create the key.
	cts := make([][]byte, 8)
	inParallel(len(cts), func(i int) {
		var err error
		cts[i], err = envelope.New(w, keys, envelope.Options{}).Seal(ctx, base, []byte("v"))
		if err != nil {
			t.Error(err)
		}
	})
	reader := envelope.New(w, keys, envelope.Options{})
	for i, ct := range cts {
		if _, err := reader.Open(ctx, base, ct); err != nil {
			t.Fatalf("value %d sealed under a key that lost the race: %v", i, err)
		}
	}
}

func TestCacheSizeIsBounded(t *testing.T) {
	ctx := context.Background()
	w := newWrapper(t)
	keys := &memKeys{}
	s := envelope.New(w, keys, envelope.Options{CacheSize: 2})
	orgs := []string{"a", "b", "c"}
	cts := map[string][]byte{}
	for _, org := range orgs {
		id := base
		id.Org = org
		ct, err := s.Seal(ctx, id, []byte("v"))
		if err != nil {
			t.Fatal(err)
		}
		cts[org] = ct
	}
	// Three keys through a cache of two: the least recently used ("a") was
	// evicted, so opening it unwraps again; "c" is still cached.
	w.Unwrapped.Store(0)
	id := base
	id.Org = "c"
	if _, err := s.Open(ctx, id, cts["c"]); err != nil {
		t.Fatal(err)
	}
	if got := w.Unwrapped.Load(); got != 0 {
		t.Fatalf("recent key unwrapped %d times, want 0", got)
	}
	id.Org = "a"
	if _, err := s.Open(ctx, id, cts["a"]); err != nil {
		t.Fatal(err)
	}
	if got := w.Unwrapped.Load(); got != 1 {
		t.Fatalf("evicted key unwrapped %d times, want 1", got)
	}
}

func TestEncryptionContextNamesOrgAndEnvironment(t *testing.T) {
	ec := envelope.EncryptionContext("acme", secrets.Staging, 1)
	if got, want := ec["org"], "acme"; got != want {
		t.Fatalf("org = %q, want %q", got, want)
	}
	if got, want := ec["environment"], "staging"; got != want {
		t.Fatalf("environment = %q, want %q", got, want)
	}
}

// slowWrapper holds every unwrap until released, so that callers pile up
// on one load.
type slowWrapper struct {
	secrets.KeyWrapper
	release chan struct{}
}

func (s *slowWrapper) Unwrap(ctx context.Context, w []byte, ec secrets.EncryptionContext) ([]byte, error) {
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.KeyWrapper.Unwrap(ctx, w, ec)
}

func TestACallerWhoGoesAwayDoesNotFailTheOthersWaitingOnTheSameKey(t *testing.T) {
	keys := &memKeys{}
	w := newWrapper(t)
	ct, err := envelope.New(w, keys, envelope.Options{}).Seal(context.Background(), base, []byte("v"))
	if err != nil {
		t.Fatal(err)
	}
	slow := &slowWrapper{KeyWrapper: w, release: make(chan struct{})}
	reader := envelope.New(slow, keys, envelope.Options{})
	first, cancel := context.WithCancel(context.Background())
	firstDone := make(chan error, 1)
	go func() {
		_, err := reader.Open(first, base, ct)
		firstDone <- err
	}()
	secondDone := make(chan error, 1)
	go func() {
		time.Sleep(20 * time.Millisecond) // joins the first caller's load
		_, err := reader.Open(context.Background(), base, ct)
		secondDone <- err
	}()
	time.Sleep(40 * time.Millisecond)
	cancel() // the first caller goes away mid-load
	close(slow.release)
	if err := <-secondDone; err != nil {
		t.Fatalf("the caller that stayed got %v", err)
	}
	<-firstDone
}

func TestFingerprintsAreKeyedPerSecretAndEnvironment(t *testing.T) {
	ctx := context.Background()
	keys := &memKeys{}
	s := envelope.New(newWrapper(t), keys, envelope.Options{})
	fp := func(s *envelope.Sealer, org string, env secrets.Environment, id, v string) string {
		t.Helper()
		f, err := s.Fingerprint(ctx, org, env, id, []byte(v))
		if err != nil {
			t.Fatal(err)
		}
		if len(f) != 8 {
			t.Fatalf("fingerprint %q: want 8 hex digits", f)
		}
		return f
	}
	a := fp(s, "acme", secrets.Production, "id-1", "on")
	if got := fp(s, "acme", secrets.Production, "id-1", "on"); got != a {
		t.Errorf("one value, two fingerprints: %s, %s", a, got)
	}
	// A new Sealer over the same stored keys: the fingerprint is kept
	// server-side, not a property of one process.
	if got := fp(envelope.New(newWrapper(t), keys, envelope.Options{}), "acme", secrets.Production, "id-1", "on"); got != a {
		t.Errorf("another process fingerprints the same value %s, want %s", got, a)
	}
	for name, other := range map[string]string{
		"another value":       fp(s, "acme", secrets.Production, "id-1", "off"),
		"another secret":      fp(s, "acme", secrets.Production, "id-2", "on"),
		"another environment": fp(s, "acme", secrets.Development, "id-1", "on"),
		"another org":         fp(s, "globex", secrets.Production, "id-1", "on"),
	} {
		if other == a {
			t.Errorf("%s has the same fingerprint %s", name, a)
		}
	}
	sum := sha256.Sum256([]byte("on"))
	if a == hex.EncodeToString(sum[:4]) {
		t.Error("the fingerprint is a plain SHA-256 of the value")
	}
}
