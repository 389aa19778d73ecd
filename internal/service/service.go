// Package service holds the use cases of the secrets service: who may do
// what, how values are sealed into records, how history and audit are kept.
// The HTTP API calls it; it calls a secrets.Store and an envelope.Sealer.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/zwrm/secrets/internal/envelope"
	"github.com/zwrm/secrets/internal/secrets"
)

// Config tunes the service.
type Config struct {
	// MaxVersions is how many versions of a secret are kept, the current
	// one included. Default 20.
	MaxVersions int
	// Now is the clock; time.Now by default.
	Now func() time.Time
	// Logger receives operational messages; never values.
	Logger *slog.Logger
	// KeyCacheTTL and KeyCacheSize tune the cache of unwrapped data keys
	// (see envelope.Options; defaults 5 minutes and 1,000 keys).
	KeyCacheTTL  time.Duration
	KeyCacheSize int
}

// Service is the secrets service.
type Service struct {
	store  secrets.Store
	sealer *envelope.Sealer
	cfg    Config
	// writers queues writers that name no expected version, per secret.
	writers keyedLocks
	// audits remembers org retentions and stored manifests.
	audits auditState
	// notModified counts resolves answered NotModified.
	notModified atomic.Int64
}

// New returns a Service over store, sealing values under data keys that
// keys wraps (a local key, or AWS KMS) and store keeps.
func New(store secrets.Store, keys secrets.KeyWrapper, cfg Config) *Service {
	if cfg.MaxVersions <= 0 {
		cfg.MaxVersions = 20
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	sealer := envelope.New(keys, store, envelope.Options{CacheTTL: cfg.KeyCacheTTL, CacheSize: cfg.KeyCacheSize, Now: cfg.Now})
	return &Service{store: store, sealer: sealer, cfg: cfg}
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

// requestIDKey carries the request id into audit records.
type requestIDKey struct{}

// WithRequestID returns ctx carrying a request id for audit records.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestID returns the request id in ctx, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// audit appends a record. The change it records has already happened, so a
// failure here is logged loudly rather than reported as a failed change
// (a client would retry a change that was made). The head and history
// records carry who changed what and when, so the trail can be rebuilt.
func (s *Service) audit(ctx context.Context, id secrets.Identity, r *secrets.AuditRecord) {
	s.auditKeeping(ctx, id, r, 0)
}

// auditGrace is how far past the caller's deadline the record of a change
// already made may still be written: within the margin a Lambda function
// keeps to answer (at least 500 ms for the stack's functions), so that a
// change that ends near the deadline is not left unrecorded.
const auditGrace = 250 * time.Millisecond

// auditKeeping records r, a change already made (the failure is logged:
// the change stands), kept at least minDays whatever the org's retention.
func (s *Service) auditKeeping(ctx context.Context, id secrets.Identity, r *secrets.AuditRecord, minDays int) {
	if deadline, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(context.WithoutCancel(ctx), deadline.Add(auditGrace))
		defer cancel()
	}
	err := s.stamp(ctx, id, r)
	if err == nil {
		if keep := r.Time.Add(time.Duration(minDays) * 24 * time.Hour).Truncate(time.Second); r.ExpiresAt.Before(keep) {
			r.ExpiresAt = keep
		}
		err = s.writeAudit(ctx, r)
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "audit append failed", "request_id", r.RequestID, "action", r.Action, "org", r.Org, "error", err.Error())
	}
}

// appendAudit fills in who, when and until when, and appends r.
func (s *Service) appendAudit(ctx context.Context, id secrets.Identity, r *secrets.AuditRecord) error {
	if err := s.stamp(ctx, id, r); err != nil {
		return err
	}
	return s.writeAudit(ctx, r)
}

func requireUser(id secrets.Identity) error {
	if id.Kind != secrets.TokenUser {
		return secrets.Errorf(secrets.CodeForbidden, "%s tokens may only resolve secrets", id.Kind)
	}
	return nil
}

func requireAdmin(id secrets.Identity) error {
	if err := requireUser(id); err != nil {
		return err
	}
	if id.Role.Priority() < secrets.ModifyAnyPriority {
		return secrets.Errorf(secrets.CodeForbidden, "this needs the admin or superadmin role; you are %s", id.Role)
	}
	return nil
}

// notFound is the answer for a secret that is absent or in another org.
func notFound(what string) error {
	return secrets.Errorf(secrets.CodeNotFound, "%s not found", what)
}

func wrap(err error, format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, err)...)
}

func itoa(n int64) string { return fmt.Sprint(n) }
