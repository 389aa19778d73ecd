// Package kmstest serves the AWS KMS wire protocol (JSON 1.1 over HTTP, the
// operations GenerateDataKey and Decrypt) from an httptest server, so tests
// and benchmarks drive the real SDK client, SigV4 signing, retries and error
// deserialization included, without AWS.
//
// Like KMS, it binds each ciphertext blob to its key and to the encryption
// context it was made with: Decrypt refuses a different context, a KeyId that
// names another key, and an altered blob. It is a non-test package so that
// other packages' tests and benchmarks can use it.
package kmstest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/kms"
	"github.com/google/uuid"
)

// The region, account and credentials the server answers for.
const (
	Region          = "us-east-1"
	Account         = "111122223333"
	AccessKeyID     = "AKIDKMSTESTEXAMPLE"
	SecretAccessKey = "kmstest/secret/not/a/real/one"

	// MaxAttempts is how many times a Client tries an operation: the SDK's
	// default, one attempt and two retries.
	MaxAttempts = 3
)

// Operation names, as in the X-Amz-Target header after "TrentService.".
const (
	OpGenerateDataKey = "GenerateDataKey"
	OpDecrypt         = "Decrypt"
)

const (
	targetPrefix = "TrentService."
	contentType  = "application/x-amz-json-1.1"
	blobVersion  = 1
	nonceSize    = 12
	maxBody      = 1 << 20
)

// statusOf is the HTTP status KMS answers an error type with; the rest are 400.
var statusOf = map[string]int{
	"KMSInternalException":        http.StatusInternalServerError,
	"KeyUnavailableException":     http.StatusInternalServerError,
	"DependencyTimeoutException":  http.StatusServiceUnavailable,
	"ServiceUnavailableException": http.StatusServiceUnavailable,
}

type key struct {
	id, arn string
	aead    cipher.AEAD
}

// Server is a fake KMS. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint, for aws.Config.BaseEndpoint.
	URL string

	srv    *httptest.Server
	mu     sync.Mutex
	keys   map[string]*key // by id and by ARN
	calls  map[string]int
	faults map[string][]string // error types the next calls of an op answer with
}

// NewServer starts a fake KMS that tb stops when it ends.
func NewServer(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{keys: map[string]*key{}, calls: map[string]int{}, faults: map[string][]string{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// Client returns a real KMS client for the server: static credentials,
// region us-east-1, the server as its base endpoint, and the SDK's standard
// retryer (MaxAttempts attempts) with a small backoff and no retry quota, so
// that tests of throttling stay fast and independent of one another.
func (s *Server) Client(tb testing.TB) *kms.Client {
	tb.Helper()
	return kms.NewFromConfig(aws.Config{
		Region:       Region,
		Credentials:  credentials.NewStaticCredentialsProvider(AccessKeyID, SecretAccessKey, ""),
		BaseEndpoint: aws.String(s.URL),
		HTTPClient:   s.srv.Client(),
		Retryer: func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = MaxAttempts
				o.MaxBackoff = 5 * time.Millisecond
				o.RateLimiter = ratelimit.None
			})
		},
	})
}

// Close stops the server, so that clients find KMS unreachable. NewServer
// has already arranged for it to stop when the test ends.
func (s *Server) Close() { s.srv.Close() }

// CreateKey makes a symmetric encryption key and returns its id and ARN;
// requests may name it by either.
func (s *Server) CreateKey() (keyID, arn string) {
	material := make([]byte, 32)
	if _, err := rand.Read(material); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	block, err := aes.NewCipher(material)
	if err != nil {
		panic(err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic(err)
	}
	k := &key{id: uuid.NewString(), aead: aead}
	k.arn = fmt.Sprintf("arn:aws:kms:%s:%s:key/%s", Region, Account, k.id)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.keys[k.id], s.keys[k.arn] = k, k
	return k.id, k.arn
}

// Calls returns how many requests for op (e.g. "Decrypt") reached the
// server since it started or was Reset, SDK retries and injected failures
// included.
func (s *Server) Calls(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[op]
}

// Reset zeroes the call counts and drops failures not yet delivered. Keys stay.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.calls)
	clear(s.faults)
}

// FailNext makes the next n requests for op answer with the KMS error
// errType (e.g. "ThrottlingException", "KMSInternalException") and the
// status KMS gives it: 500 for KMSInternalException and
// KeyUnavailableException, 503 for DependencyTimeoutException, else 400.
// Failures queue up behind ones not yet delivered.
func (s *Server) FailNext(op string, n int, errType string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.faults[op] = append(s.faults[op], errType)
	}
}

// apiError is an error response: KMS's __type and message.
type apiError struct {
	status int
	typ    string
	msg    string
}

func errorf(typ, format string, args ...any) *apiError {
	status, ok := statusOf[typ]
	if !ok {
		status = http.StatusBadRequest
	}
	return &apiError{status: status, typ: typ, msg: fmt.Sprintf(format, args...)}
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	op, found := strings.CutPrefix(r.Header.Get("X-Amz-Target"), targetPrefix)
	if r.Method != http.MethodPost || r.URL.Path != "/" || !found {
		writeError(w, errorf("UnknownOperationException", "expected POST / with X-Amz-Target: %s<Operation>", targetPrefix))
		return
	}
	s.mu.Lock()
	s.calls[op]++
	s.mu.Unlock()
	if e := checkRequest(r); e != nil {
		writeError(w, e)
		return
	}
	if fault := s.nextFault(op); fault != "" {
		writeError(w, errorf(fault, "injected by kmstest.FailNext"))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		writeError(w, errorf("SerializationException", "read request body: %v", err))
		return
	}
	var out any
	var e *apiError
	switch op {
	case OpGenerateDataKey:
		out, e = s.generateDataKey(body)
	case OpDecrypt:
		out, e = s.decrypt(body)
	default:
		e = errorf("UnsupportedOperationException", "kmstest does not implement %s; it serves %s and %s", op, OpGenerateDataKey, OpDecrypt)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// nextFault takes the next failure queued for op, if any.
func (s *Server) nextFault(op string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.faults[op]
	if len(q) == 0 {
		return ""
	}
	s.faults[op] = q[1:]
	return q[0]
}

// checkRequest checks what a KMS endpoint checks before the operation: the
// protocol's content type and a SigV4 signature scoped to this region and
// the kms service. The signature itself is not verified.
func checkRequest(r *http.Request) *apiError {
	if got := r.Header.Get("Content-Type"); got != contentType {
		return errorf("SerializationException", "Content-Type is %q; want %q", got, contentType)
	}
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return errorf("MissingAuthenticationTokenException", "Missing Authentication Token")
	}
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 ") {
		return errorf("IncompleteSignatureException", "Authorization header is not AWS4-HMAC-SHA256")
	}
	if scope := "/" + Region + "/kms/aws4_request"; !strings.Contains(auth, "Credential="+AccessKeyID+"/") || !strings.Contains(auth, scope) {
		return errorf("InvalidSignatureException", "credential scope must be %s/<date>%s", AccessKeyID, scope)
	}
	if r.Header.Get("X-Amz-Date") == "" {
		return errorf("IncompleteSignatureException", "missing X-Amz-Date")
	}
	return nil
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody))
	return buf.Bytes(), err
}

func decode(body []byte, v any) *apiError {
	if err := json.Unmarshal(body, v); err != nil {
		return errorf("SerializationException", "decode request: %v", err)
	}
	return nil
}

// lookup finds a key by id or ARN.
func (s *Server) lookup(keyID string) (*key, *apiError) {
	if keyID == "" {
		return nil, errorf("ValidationException", "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if k, ok := s.keys[keyID]; ok {
		return k, nil
	}
	return nil, errorf("NotFoundException", "Key '%s' does not exist", keyID)
}

type generateDataKeyInput struct {
	KeyId             string
	KeySpec           string
	NumberOfBytes     *int
	EncryptionContext map[string]string
}

type generateDataKeyOutput struct {
	CiphertextBlob []byte // encoding/json writes []byte as base64, as KMS does
	KeyId          string
	Plaintext      []byte
}

func (s *Server) generateDataKey(body []byte) (any, *apiError) {
	var in generateDataKeyInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	k, e := s.lookup(in.KeyId)
	if e != nil {
		return nil, e
	}
	var size int
	switch {
	case in.KeySpec != "" && in.NumberOfBytes != nil:
		return nil, errorf("ValidationException", "specify either KeySpec or NumberOfBytes, not both")
	case in.KeySpec == "AES_256":
		size = 32
	case in.KeySpec == "AES_128":
		size = 16
	case in.KeySpec != "":
		return nil, errorf("ValidationException", "KeySpec %q must be AES_256 or AES_128", in.KeySpec)
	case in.NumberOfBytes != nil && *in.NumberOfBytes >= 1 && *in.NumberOfBytes <= 1024:
		size = *in.NumberOfBytes
	default:
		return nil, errorf("ValidationException", "specify KeySpec or NumberOfBytes (1 to 1024)")
	}
	plain := make([]byte, size)
	nonce := make([]byte, nonceSize)
	if _, err := rand.Read(plain); err != nil {
		return nil, errorf("KMSInternalException", "random: %v", err)
	}
	if _, err := rand.Read(nonce); err != nil {
		return nil, errorf("KMSInternalException", "random: %v", err)
	}
	head := blobHead(k.id)
	blob := append(append(slices.Clip(head), nonce...), k.aead.Seal(nil, nonce, plain, aad(head, in.EncryptionContext))...)
	return generateDataKeyOutput{CiphertextBlob: blob, KeyId: k.arn, Plaintext: plain}, nil
}

type decryptInput struct {
	CiphertextBlob    []byte
	KeyId             string
	EncryptionContext map[string]string
}

type decryptOutput struct {
	EncryptionAlgorithm string
	KeyId               string
	Plaintext           []byte
}

func (s *Server) decrypt(body []byte) (any, *apiError) {
	var in decryptInput
	if e := decode(body, &in); e != nil {
		return nil, e
	}
	blobKey, nonce, sealed, ok := parseBlob(in.CiphertextBlob)
	if !ok {
		return nil, errorf("InvalidCiphertextException", "the ciphertext is not a KMS ciphertext blob")
	}
	s.mu.Lock()
	k, found := s.keys[blobKey]
	s.mu.Unlock()
	if !found {
		return nil, errorf("InvalidCiphertextException", "the ciphertext refers to a key that does not exist")
	}
	if in.KeyId != "" {
		asked, e := s.lookup(in.KeyId)
		if e != nil {
			return nil, e
		}
		if asked != k {
			// What KMS answers when the request's KeyId is not the key
			// that made the blob.
			return nil, errorf("IncorrectKeyException", "The key ID in the request does not identify a CMK that can perform this operation.")
		}
	}
	plain, err := k.aead.Open(nil, nonce, sealed, aad(blobHead(k.id), in.EncryptionContext))
	if err != nil {
		// A different encryption context, or an altered blob.
		return nil, errorf("InvalidCiphertextException", "the ciphertext, or the encryption context given with it, is invalid")
	}
	return decryptOutput{EncryptionAlgorithm: "SYMMETRIC_DEFAULT", KeyId: k.arn, Plaintext: plain}, nil
}

// A blob is: version, key id length, key id, nonce, then the data key sealed
// with AES-GCM under the key's material. The head (version and key id) and
// the canonical encryption context are the associated data, so a blob names
// its key, as KMS blobs do, and opens only with the context it was made with.
func blobHead(keyID string) []byte {
	b := []byte{blobVersion}
	b = binary.BigEndian.AppendUint16(b, uint16(len(keyID)))
	return append(b, keyID...)
}

func parseBlob(blob []byte) (keyID string, nonce, sealed []byte, ok bool) {
	if len(blob) < 3 || blob[0] != blobVersion {
		return "", nil, nil, false
	}
	n := int(binary.BigEndian.Uint16(blob[1:3]))
	rest := blob[3:]
	if len(rest) < n+nonceSize+16 {
		return "", nil, nil, false
	}
	return string(rest[:n]), rest[n : n+nonceSize], rest[n+nonceSize:], true
}

// aad is the blob head and the encryption context in canonical form: sorted
// keys, each key and value length-prefixed, so equal contexts (in any order)
// encode equally and different ones differently.
func aad(head []byte, ec map[string]string) []byte {
	b := slices.Clone(head)
	for _, k := range slices.Sorted(maps.Keys(ec)) {
		for _, part := range []string{k, ec[k]} {
			b = binary.BigEndian.AppendUint32(b, uint32(len(part)))
			b = append(b, part...)
		}
	}
	return b
}

func writeError(w http.ResponseWriter, e *apiError) {
	body := map[string]string{"__type": e.typ}
	if e.msg != "" {
		body["message"] = e.msg
	}
	writeJSON(w, e.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"__type":"KMSInternalException","message":"kmstest: encode response"}`)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	_, _ = w.Write(b) // a failed write means the client went away
}
