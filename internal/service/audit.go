package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// The audit trail: who and when, how long records are kept, the manifests
// that hold resolves' lists of names, and pages bounded by bytes.

// retentionTTL is how long a process trusts an org's audit retention
// before reading it again: audited writes and resolves do not each read
// the org. A change made through this process applies at once; one made
// elsewhere within this long.
const retentionTTL = time.Minute

// maxCachedOrgs bounds the retentions a process remembers.
const maxCachedOrgs = 10000

// knownManifestsCap bounds the manifests a process remembers having
// written.
const knownManifestsCap = 4096

// MaxAuditPageBytes bounds an audit page as the API encodes it: records
// are added while the page stays within it. A page holds at least one
// record, so a record larger than this alone (a resolve of more than
// about 15,000 names) is a page of its own.
const MaxAuditPageBytes = 1 << 20

// auditPageOverhead is the page's JSON around its records:
// {"next_cursor":"<an audit id>","records":[…]} and a newline.
const auditPageOverhead = 128

// maxAuditRead bounds the records one page reads: expired records that
// wait for deletion are read and left out, and a long run of them ends a
// page early (with a cursor) rather than making one request read them all.
const maxAuditRead = 5000

// auditState is what a process remembers about the audit trail.
type auditState struct {
	mu        sync.Mutex
	retention map[string]cachedRetention
	// known are the manifests this process has stored (org, day, hash),
	// oldest first in a ring: an identical resolve then writes only its
	// record.
	known     map[string]bool
	knownRing []string
	knownNext int
}

type cachedRetention struct {
	days int
	at   time.Time
}

func (a *auditState) rememberRetention(org string, days int, at time.Time) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.retention == nil || len(a.retention) >= maxCachedOrgs {
		a.retention = map[string]cachedRetention{}
	}
	a.retention[org] = cachedRetention{days: days, at: at}
}

func (a *auditState) cachedRetention(org string, now time.Time) (int, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.retention[org]
	if !ok || now.Before(c.at) || now.Sub(c.at) >= retentionTTL {
		return 0, false
	}
	return c.days, true
}

func (a *auditState) manifestKnown(k string) bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.known[k]
}

func (a *auditState) rememberManifest(k string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.known == nil {
		a.known = map[string]bool{}
		a.knownRing = make([]string, knownManifestsCap)
	}
	if a.known[k] {
		return
	}
	delete(a.known, a.knownRing[a.knownNext])
	a.knownRing[a.knownNext] = k
	a.knownNext = (a.knownNext + 1) % len(a.knownRing)
	a.known[k] = true
}

// auditRetention returns the days org keeps audit records.
func (s *Service) auditRetention(ctx context.Context, org string) (int, error) {
	now := s.cfg.Now()
	if days, ok := s.audits.cachedRetention(org, now); ok {
		return days, nil
	}
	o, err := s.store.GetOrg(ctx, org)
	switch {
	case secrets.IsCode(err, secrets.CodeNotFound):
		// An org without a stored record has every setting's default.
		o = &secrets.Org{ID: org}
	case err != nil:
		return 0, wrap(err, "get org %s for its audit retention", org)
	}
	s.audits.rememberRetention(org, o.AuditRetention(), now)
	return o.AuditRetention(), nil
}

// stamp fills in who and when, and when the record expires: now plus the
// org's retention.
func (s *Service) stamp(ctx context.Context, id secrets.Identity, r *secrets.AuditRecord) error {
	actx, cancel := auditContext(ctx)
	defer cancel()
	days, err := s.auditRetention(actx, id.Org)
	if err != nil {
		return err
	}
	now := s.now()
	r.ID = secrets.NewAuditID(now)
	r.Org = id.Org
	r.Time = now
	r.ExpiresAt = now.Add(time.Duration(days) * 24 * time.Hour).Truncate(time.Second)
	r.Actor = secrets.AuditActor{Kind: id.Kind, TokenID: id.TokenID, Subject: id.Subject, Name: id.Name}
	r.RequestID = RequestID(ctx)
	return nil
}

// auditContext is the context of an audit write: a caller that goes away
// does not stop it (the change it records has happened), but its deadline
// does, since the caller must be answered in time.
func auditContext(ctx context.Context) (context.Context, context.CancelFunc) {
	actx := context.WithoutCancel(ctx)
	if deadline, ok := ctx.Deadline(); ok {
		return context.WithDeadline(actx, deadline)
	}
	return actx, func() {}
}

// retry calls write up to three times, with jittered backoff between
// tries, within ctx's deadline.
func retry(ctx context.Context, write func(attempt int) error) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 && backoff(ctx, attempt) != nil {
			break
		}
		if err = write(attempt); err == nil {
			return nil
		}
	}
	return err
}

// writeAudit appends a stamped record, trying three times. Every try
// writes the same record id, so a try whose answer was lost and the next
// one store one record.
func (s *Service) writeAudit(ctx context.Context, r *secrets.AuditRecord) error {
	actx, cancel := auditContext(ctx)
	defer cancel()
	return retry(actx, func(attempt int) error {
		err := s.store.AppendAudit(actx, r)
		if attempt > 0 && errors.Is(err, secrets.ErrExists) {
			// An earlier try landed and its answer was lost: the record
			// ids are random, so the one there is this one.
			return nil
		}
		return err
	})
}

// refer stores entries as a manifest (unless this process knows it is
// stored) and makes the stamped record r refer to it instead of holding
// them.
func (s *Service) refer(ctx context.Context, r *secrets.AuditRecord, entries []secrets.AuditEntry) error {
	m := secrets.NewAuditManifest(r.Org, r.ExpiresAt, entries)
	r.Secrets, r.Manifest, r.SecretCount = nil, m.Hash, len(entries)
	k := m.Org + "/" + m.Day + "/" + m.Hash
	if s.audits.manifestKnown(k) {
		return nil
	}
	actx, cancel := auditContext(ctx)
	defer cancel()
	if err := retry(actx, func(int) error { return s.store.PutAuditManifest(actx, m) }); err != nil {
		return err
	}
	s.audits.rememberManifest(k)
	return nil
}

// auditPage reads a page of org's audit trail after cursor: up to limit
// records that have not expired, their manifests' lists put back, within
// MaxAuditPageBytes.
func (s *Service) auditPage(ctx context.Context, org, cursor string, limit int) ([]*secrets.AuditRecord, string, error) {
	now := s.now()
	var out []*secrets.AuditRecord
	size, read := auditPageOverhead, 0
	manifests := map[string]*manifestRead{}
	for {
		page, next, err := s.store.ListAudit(ctx, org, cursor, limit-len(out))
		if err != nil {
			return nil, "", wrap(err, "list audit")
		}
		if len(page) == 0 {
			return out, "", nil
		}
		for i, r := range page {
			read++
			if !r.Expired(now) {
				if err := s.expand(ctx, org, r, manifests); err != nil {
					return nil, "", err
				}
				n := encodedSize(r)
				if len(out) > 0 && size+n+1 > MaxAuditPageBytes {
					return out, out[len(out)-1].ID, nil
				}
				out = append(out, r)
				size += n + 1
			}
			cursor = r.ID
			if i == len(page)-1 && next == "" {
				return out, "", nil
			}
			if len(out) == limit || read >= maxAuditRead {
				return out, cursor, nil
			}
		}
		cursor = next
	}
}

// manifestRead is one manifest as a page read it: its list, or why not.
type manifestRead struct {
	entries []secrets.AuditEntry
	err     error
}

// expand puts the list of r's manifest back in r.Secrets. A manifest that
// is missing or does not hold what its hash names is logged as an
// integrity error and said in r.Detail: the rest of the trail stays
// readable. A store that cannot be reached fails the page.
func (s *Service) expand(ctx context.Context, org string, r *secrets.AuditRecord, manifests map[string]*manifestRead) error {
	if r.Manifest == "" {
		return nil
	}
	if r.Org != org {
		// Storage is untrusted: a record in org's trail that names
		// another org must not read that org's manifests.
		return secrets.Internalf(nil, "audit record %s in the trail of org %s names org %s", r.ID, org, r.Org)
	}
	day := secrets.ManifestDay(r.ExpiresAt)
	k := day + "/" + r.Manifest
	got, ok := manifests[k]
	if !ok {
		got = &manifestRead{}
		m, err := s.store.GetAuditManifest(ctx, org, day, r.Manifest)
		if err == nil {
			got.entries, err = m.Entries()
		}
		if secrets.IsCode(err, secrets.CodeUnavailable) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return wrap(err, "read audit manifest %s", r.Manifest)
		}
		got.err = err
		manifests[k] = got
	}
	if got.err == nil && len(got.entries) != r.SecretCount {
		got.err = fmt.Errorf("it holds %d entries and the record names %d", len(got.entries), r.SecretCount)
	}
	if got.err != nil {
		s.cfg.Logger.ErrorContext(ctx, "integrity error: an audit record's manifest is missing or altered",
			"request_id", RequestID(ctx), "org", r.Org, "audit_id", r.ID, "manifest", r.Manifest, "error", got.err.Error())
		note := fmt.Sprintf("the list of the %d secrets of this record could not be read: its manifest %s is missing or altered", r.SecretCount, r.Manifest)
		if r.Detail != "" {
			note = r.Detail + "; " + note
		}
		r.Detail = note
	} else {
		r.Secrets = got.entries
	}
	r.Manifest, r.SecretCount = "", 0
	return nil
}

// encodedSize is the size of r as the API writes it.
func encodedSize(r *secrets.AuditRecord) int {
	var c countingWriter
	enc := json.NewEncoder(&c)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(r) // an audit record always encodes
	return c.n - 1    // Encode ends with a newline
}

type countingWriter struct{ n int }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += len(p)
	return len(p), nil
}
