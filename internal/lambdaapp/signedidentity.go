package lambdaapp

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"strconv"
	"sync"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// IdentityMAC signs the identity the authorizer hands the functions, and
// checks it in the functions. On AWS it is a KMS HMAC key
// (kmskeys.MAC): only the authorizer's role may sign (kms:GenerateMac), the
// API functions' roles may only check (kms:VerifyMac), so whoever can invoke
// a function directly still cannot write an identity it accepts.
type IdentityMAC interface {
	// Sign returns msg's MAC. CodeUnavailable when the key service cannot
	// answer now; CodeInternal otherwise.
	Sign(ctx context.Context, msg []byte) ([]byte, error)
	// Verify returns nil when mac is msg's MAC and CodeUnauthorized when
	// it is not. CodeUnavailable when the key service cannot answer now
	// (throttled, down, key disabled); CodeInternal otherwise.
	Verify(ctx context.Context, msg, mac []byte) error
}

// Keys of the signature the authorizer adds to its context.
const (
	ctxExpires = "expires" // Unix seconds, decimal
	ctxMAC     = "mac"     // base64 (standard, padded) of the MAC of identityMessage
)

// identityVersion opens every signed message: a new encoding gets a new
// tag, so a MAC over one encoding never checks under another.
const identityVersion = "zwrm-identity-v1"

// identitySkew is added to a signed identity's lifetime beyond the
// authorizer cache TTL: API Gateway may hand out a cached answer at the
// last moment of its TTL, and the function that checks it runs a little
// later on another clock.
const identitySkew = 30 * time.Second

// identityCacheSize bounds the checked signatures a container remembers;
// the least recently used go first.
const identityCacheSize = 1024

// signedFields are the context keys the MAC covers, in the order it covers
// them: every key Identify reads, and the expiry.
var signedFields = []string{ctxOrg, ctxTokenID, ctxKind, ctxSubject, ctxName, ctxRole, ctxScopeApp, ctxScopeMachine, ctxScopeEnvs, ctxExpires}

// identityMessage is the canonical encoding of the signed fields of an
// authorizer context: the version tag, then each field's value in
// signedFields' order, each preceded by its length (4 bytes, big-endian), so
// that no two contexts encode alike ("ab"+"c" is not "a"+"bc"). A field that
// is absent or not a string encodes as empty, which is what the reader
// (Identify) takes it for too.
func identityMessage(c map[string]any) []byte {
	size := 4 + len(identityVersion)
	for _, k := range signedFields {
		s, _ := c[k].(string)
		size += 4 + len(s)
	}
	msg := make([]byte, 0, size)
	put := func(s string) {
		msg = binary.BigEndian.AppendUint32(msg, uint32(len(s)))
		msg = append(msg, s...)
	}
	put(identityVersion)
	for _, k := range signedFields {
		s, _ := c[k].(string)
		put(s)
	}
	return msg
}

// identitySigner is the authorizer's side.
type identitySigner struct {
	mac IdentityMAC
	ttl time.Duration // the authorizer cache TTL the stack configures
	now func() time.Time
}

// sign adds the expiry and the MAC to the context c in place. The identity
// is good for as long as API Gateway may hand out this answer from its
// cache, plus identitySkew.
func (s identitySigner) sign(ctx context.Context, c map[string]any) error {
	if s.mac == nil {
		return secrets.Internalf(nil, "no identity key configured: the authorizer cannot sign identities")
	}
	c[ctxExpires] = strconv.FormatInt(s.now().Add(s.ttl+identitySkew).Unix(), 10)
	mac, err := s.mac.Sign(ctx, identityMessage(c))
	if err != nil {
		return err
	}
	c[ctxMAC] = base64.StdEncoding.EncodeToString(mac)
	return nil
}

// errNotSigned is every answer to a context the authorizer did not sign:
// absent, altered, or signed under another key. Which it was is not told.
var errNotSigned = secrets.Errorf(secrets.CodeUnauthorized, "the authorizer context is not signed by this deployment's authorizer")

// identityVerifier is the API functions' side: it checks a context's MAC
// with the key service, and remembers the MACs it checked for no longer
// than the authorizer cache TTL and never past their expiry, so that warm
// requests of the same caller make no call.
type identityVerifier struct {
	mac IdentityMAC
	ttl time.Duration
	now func() time.Time

	mu      sync.Mutex
	order   *list.List // of *verified, most recently used first
	entries map[[sha256.Size]byte]*list.Element
}

type verified struct {
	key   [sha256.Size]byte
	until time.Time
}

func newIdentityVerifier(mac IdentityMAC, ttl time.Duration, now func() time.Time) *identityVerifier {
	return &identityVerifier{mac: mac, ttl: ttl, now: now, order: list.New(), entries: map[[sha256.Size]byte]*list.Element{}}
}

// verify checks the signature of the context c: nil if the authorizer made
// it and it has not expired, CodeUnauthorized if not; CodeUnavailable
// (503) when the key service cannot tell now.
func (v *identityVerifier) verify(ctx context.Context, c map[string]any) error {
	if v.mac == nil {
		return secrets.Internalf(nil, "no identity key configured: this function cannot check the authorizer's identities")
	}
	macText, _ := c[ctxMAC].(string)
	expText, _ := c[ctxExpires].(string)
	if macText == "" || expText == "" {
		return errNotSigned
	}
	exp, err := strconv.ParseInt(expText, 10, 64)
	if err != nil || exp <= 0 {
		return errNotSigned
	}
	expires := time.Unix(exp, 0)
	now := v.now()
	if !now.Before(expires) {
		return secrets.Errorf(secrets.CodeUnauthorized, "the authorizer context has expired")
	}
	mac, err := base64.StdEncoding.Strict().DecodeString(macText)
	if err != nil || len(mac) == 0 {
		return errNotSigned
	}
	msg := identityMessage(c)
	key := cacheKey(msg, mac)
	if v.cached(key, now) {
		return nil
	}
	if err := v.mac.Verify(ctx, msg, mac); err != nil {
		if secrets.IsCode(err, secrets.CodeUnauthorized) {
			return errNotSigned
		}
		return err
	}
	v.remember(key, earlier(expires, now.Add(v.ttl)), now)
	return nil
}

// cacheKey is a hash of the message and the MAC, each length-prefixed.
func cacheKey(msg, mac []byte) [sha256.Size]byte {
	h := sha256.New()
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(msg)))
	h.Write(n[:])
	h.Write(msg)
	h.Write(mac)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

func (v *identityVerifier) cached(key [sha256.Size]byte, now time.Time) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	e, ok := v.entries[key]
	if !ok {
		return false
	}
	if !now.Before(e.Value.(*verified).until) {
		v.order.Remove(e)
		delete(v.entries, key)
		return false
	}
	v.order.MoveToFront(e)
	return true
}

func (v *identityVerifier) remember(key [sha256.Size]byte, until, now time.Time) {
	if !now.Before(until) {
		return // a TTL of 0: API Gateway caches nothing, nor do we
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if e, ok := v.entries[key]; ok {
		e.Value.(*verified).until = until
		v.order.MoveToFront(e)
		return
	}
	v.entries[key] = v.order.PushFront(&verified{key: key, until: until})
	for v.order.Len() > identityCacheSize {
		last := v.order.Back()
		v.order.Remove(last)
		delete(v.entries, last.Value.(*verified).key)
	}
}

// earlier of two times.
func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
