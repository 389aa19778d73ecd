package service

import (
	"context"
	"crypto/rand"
	"errors"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// Rotation limits.
const (
	DefaultRotationLength = 32
	MinRotationLength     = 16
	MaxRotationLength     = 4096
	minRotationEvery      = time.Minute
	maxRotationEvery      = 366 * 24 * time.Hour
	// minRotationBits is the least entropy a rotated value may have.
	minRotationBits = 128
	// DefaultAlphabet is letters and digits: safe in URLs, shells and
	// connection strings.
	DefaultAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
)

// RotationInput is a rotation policy to set.
type RotationInput struct {
	Every        string
	Environments []string
	Length       int
	Alphabet     string
}

// ParseEvery reads an interval: a number and a unit, d (days), h, m or s,
// e.g. "30d", "12h", "90m".
func ParseEvery(s string) (time.Duration, error) {
	bad := secrets.Invalid("every", "must be a number and a unit d, h, m or s between 1m and 366d, e.g. \"30d\" or \"12h\"")
	if len(s) < 2 {
		return 0, bad
	}
	digits := s[:len(s)-1]
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || n < 1 || strings.Trim(digits, "0123456789") != "" || digits[0] == '0' {
		return 0, bad
	}
	unit := map[byte]time.Duration{'d': 24 * time.Hour, 'h': time.Hour, 'm': time.Minute, 's': time.Second}[s[len(s)-1]]
	if unit == 0 || n > int64(maxRotationEvery/unit) {
		return 0, bad
	}
	d := time.Duration(n) * unit
	if d < minRotationEvery || d > maxRotationEvery {
		return 0, bad
	}
	return d, nil
}

func validateAlphabet(a string) error {
	if len(a) < 2 || len(a) > 95 {
		return secrets.Invalid("alphabet", "must hold 2 to 95 distinct printable ASCII characters (no spaces)")
	}
	for i := 0; i < len(a); i++ {
		if a[i] < 0x21 || a[i] > 0x7e {
			return secrets.Invalid("alphabet", "must hold printable ASCII characters only (no spaces or control characters)")
		}
		if strings.IndexByte(a[:i], a[i]) >= 0 {
			return secrets.Invalid("alphabet", "holds %q twice; each character must appear once", a[i])
		}
	}
	return nil
}

// policy validates in and returns the policy it describes, due one
// interval from now.
func (s *Service) policy(in RotationInput) (*secrets.Rotation, error) {
	every, err := ParseEvery(in.Every)
	if err != nil {
		return nil, err
	}
	r := &secrets.Rotation{Every: in.Every, EverySeconds: int64(every / time.Second), Length: in.Length, Alphabet: in.Alphabet}
	if r.Length == 0 {
		r.Length = DefaultRotationLength
	}
	if r.Length < MinRotationLength || r.Length > MaxRotationLength {
		return nil, secrets.Invalid("length", "must be from %d to %d characters", MinRotationLength, MaxRotationLength)
	}
	if r.Alphabet == "" {
		r.Alphabet = DefaultAlphabet
	}
	if err := validateAlphabet(r.Alphabet); err != nil {
		return nil, err
	}
	// The mask shows the last 4 characters, and up to 8 leading ones when
	// the alphabet holds '_' or '-': only the rest counts.
	hidden := r.Length - 4
	if strings.ContainsAny(r.Alphabet, "_-") {
		hidden -= 8
	}
	if bits := float64(hidden) * math.Log2(float64(len(r.Alphabet))); bits < minRotationBits {
		return nil, secrets.Invalid("length", "gives %.0f bits of entropy with this alphabet, not counting the characters the mask shows; rotated values need at least %d: make it longer or the alphabet larger", bits, minRotationBits)
	}
	if r.Environments, err = parseEnvironments("environments", in.Environments, `the environments to rotate, e.g. ["production"]`); err != nil {
		return nil, err
	}
	r.NextAt = s.now().Add(every)
	return r, nil
}

// SetRotation gives a secret a rotation policy (replacing any), first due
// one interval from now. It is a change of the secret: a new version.
func (s *Service) SetRotation(ctx context.Context, id secrets.Identity, secretID string, in RotationInput) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	policy, err := s.policy(in)
	if err != nil {
		return nil, err
	}
	next, err := s.changePolicy(ctx, id, secretID, policy)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionRotationSet, SecretID: next.ID, Layer: &next.Layer,
		Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}},
		Detail:  "every " + policy.Every + "; environments " + envList(policy.Environments) + "; length " + strconv.Itoa(policy.Length)})
	return next, nil
}

// ClearRotation removes a secret's rotation policy.
func (s *Service) ClearRotation(ctx context.Context, id secrets.Identity, secretID string) (*secrets.Secret, error) {
	if err := requireUser(id); err != nil {
		return nil, err
	}
	next, err := s.changePolicy(ctx, id, secretID, nil)
	if err != nil {
		return nil, err
	}
	s.audit(ctx, id, &secrets.AuditRecord{Action: secrets.ActionRotationClear, SecretID: next.ID, Layer: &next.Layer,
		Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}}})
	return next, nil
}

func (s *Service) changePolicy(ctx context.Context, id secrets.Identity, secretID string, policy *secrets.Rotation) (*secrets.Secret, error) {
	org, err := s.writeOrg(ctx, id)
	if err != nil {
		return nil, err
	}
	valueWriteChecked := false // it reads the lower layers; a secret's layer and name never change
	for attempt := 0; attempt < maxWriteAttempts; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return nil, err
			}
		}
		head, err := s.getToModify(ctx, id, secretID)
		if err != nil {
			return nil, err
		}
		if policy == nil && head.Rotation == nil {
			return nil, secrets.Errorf(secrets.CodeNotFound, "%s has no rotation policy", head.Name)
		}
		// A policy decides future values of the environments it covers:
		// setting, changing or removing it needs the right to write them.
		var covered []secrets.Environment
		if head.Rotation != nil {
			covered = append(covered, head.Rotation.Environments...)
		}
		doing := "removing a rotation policy that covers %s"
		if policy != nil {
			covered = append(covered, policy.Environments...)
			doing = "setting a rotation policy that covers %s"
		}
		if err := checkEnvironments(id, org, covered, doing); err != nil {
			return nil, err
		}
		if policy != nil && !valueWriteChecked {
			// The sweep will write values: the writer must be allowed to.
			if err := s.checkValueWrite(ctx, id, head.Layer, head.Name); err != nil {
				return nil, err
			}
			valueWriteChecked = true
		}
		plain, err := s.open(ctx, id.Org, head)
		if err != nil {
			return nil, err
		}
		next, err := s.replace(ctx, id, head, plain, func(next *secrets.Secret) {
			next.Change, next.Rotation = changePolicy, policy
		})
		if errors.Is(err, secrets.ErrStale) {
			continue
		}
		return next, err
	}
	return nil, busy(ctx)
}

// RotationReport says what a sweep did.
type RotationReport struct {
	Due     int `json:"due"`
	Rotated int `json:"rotated"`
	Skipped int `json:"skipped"` // rotated or changed meanwhile, by another delivery of the trigger or a person
	Failed  int `json:"failed"`
	// UnlistedOrgs counts orgs whose due secrets could not be listed; the
	// others' were rotated all the same.
	UnlistedOrgs int `json:"unlisted_orgs,omitempty"`
	// Leftovers counts the remains of interrupted deletes and creates the
	// sweep removed; UnsweptOrgs the orgs whose remains could not be swept.
	Leftovers   int `json:"leftovers,omitempty"`
	UnsweptOrgs int `json:"unswept_orgs,omitempty"`
}

// LeftoverAge is how long the remains of an interrupted create or delete
// stay before the sweep removes them: longer than any request runs (a
// Lambda function runs 15 minutes at most), so the sweep never takes a
// write still under way for an interrupted one.
const LeftoverAge = 15 * time.Minute

// sweepBatch bounds the secrets one sweep rotates; the next sweep takes the rest.
const sweepBatch = 200

// RotateDue rotates every secret whose policy is due: new random values
// from crypto/rand for the policy's environments, as a new version whose
// audit record names the schedule. Each rotation is conditional on the
// version it read and re-checks the due time, so a trigger delivered twice
// rotates once.
func (s *Service) RotateDue(ctx context.Context, schedule string) (RotationReport, error) {
	now := s.now()
	var rep RotationReport
	due, unlisted, err := s.dueRotations(ctx, now)
	if err != nil {
		return rep, err
	}
	rep.Due = len(due)
	rep.UnlistedOrgs = unlisted
	for _, candidate := range due {
		switch err := s.rotate(ctx, schedule, candidate, now); {
		case err == nil:
			rep.Rotated++
		case errors.Is(err, errNotDue) || errors.Is(err, secrets.ErrStale) || secrets.IsCode(err, secrets.CodeNotFound):
			rep.Skipped++
		default:
			rep.Failed++
			s.cfg.Logger.ErrorContext(ctx, "rotation failed", "request_id", RequestID(ctx), "org", candidate.Org, "secret_id", candidate.ID, "error", err.Error())
		}
	}
	rep.Leftovers, rep.UnsweptOrgs = s.sweepLeftovers(ctx, schedule, now)
	return rep, nil
}

// sweepLeftovers removes what interrupted creates and deletes left more
// than LeftoverAge ago, in every org, and audits each interrupted delete
// it finishes (its own record was never written). It returns how many it
// removed and in how many orgs it could not.
func (s *Service) sweepLeftovers(ctx context.Context, schedule string, now time.Time) (removed, unswept int) {
	orgs, err := s.store.ListRotationOrgs(ctx, now)
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "sweep: orgs could not be listed", "request_id", RequestID(ctx), "error", err.Error())
		return 0, 1
	}
	for _, org := range orgs {
		left, err := s.store.SweepLeftovers(ctx, org, now.Add(-LeftoverAge), sweepBatch)
		if err != nil {
			unswept++
			s.cfg.Logger.ErrorContext(ctx, "sweep: leftovers of an org could not be removed", "request_id", RequestID(ctx), "org", org, "error", err.Error())
		}
		removed += len(left)
		actor := secrets.Identity{Org: org, Kind: secrets.TokenSystem, Subject: "schedule:" + schedule, Name: "sweep " + schedule}
		s.auditFinished(ctx, actor, left)
	}
	return removed, unswept
}

// dueRotations returns up to sweepBatch due heads, shared round-robin
// among the organizations that have any, each org's earliest first: one
// org's backlog delays another's due rotation by at most one sweep.
//
// An org whose due list cannot be read (a damaged record, a throttled
// query) is logged and counted in unlisted, and the others go on.
func (s *Service) dueRotations(ctx context.Context, now time.Time) (due []*secrets.Secret, unlisted int, err error) {
	orgs, err := s.store.ListRotationOrgs(ctx, now)
	if err != nil {
		return nil, 0, wrap(err, "list orgs with rotation policies")
	}
	var queues [][]*secrets.Secret
	for _, org := range orgs {
		due, err := s.store.ListDueRotations(ctx, org, now, sweepBatch)
		if err != nil {
			unlisted++
			s.cfg.Logger.ErrorContext(ctx, "rotation: due secrets of an org could not be listed", "request_id", RequestID(ctx), "org", org, "error", err.Error())
			continue
		}
		if len(due) > 0 {
			queues = append(queues, due)
		}
	}
	// The org whose earliest secret is most overdue goes first.
	slices.SortStableFunc(queues, func(a, b []*secrets.Secret) int { return a[0].Rotation.NextAt.Compare(b[0].Rotation.NextAt) })
	var out []*secrets.Secret
	for round := 0; len(out) < sweepBatch; round++ {
		took := false
		for _, q := range queues {
			if round < len(q) && len(out) < sweepBatch {
				out = append(out, q[round])
				took = true
			}
		}
		if !took {
			break
		}
	}
	return out, unlisted, nil
}

var errNotDue = errors.New("not due")

func (s *Service) rotate(ctx context.Context, schedule string, candidate *secrets.Secret, now time.Time) error {
	// The due list may lag (a GSI): read the head itself. The sweep acts
	// for the org the index found the head in.
	head, err := s.store.GetSecret(ctx, candidate.Org, candidate.ID)
	if err != nil {
		return err
	}
	if err := s.checkRecord(ctx, head, secrets.Place{Org: candidate.Org, ID: candidate.ID}); err != nil {
		return err
	}
	if head.Rotation == nil || head.Rotation.NextAt.After(now) {
		return errNotDue
	}
	plain, err := s.open(ctx, candidate.Org, head)
	if err != nil {
		return err
	}
	policy := *head.Rotation
	for _, env := range policy.Environments {
		v, err := randomValue(policy.Length, policy.Alphabet)
		if err != nil {
			return err
		}
		plain[env] = v
	}
	at := now
	policy.LastAt = &at
	policy.NextAt = now.Add(time.Duration(policy.EverySeconds) * time.Second)
	actor := secrets.Identity{Org: head.Org, Kind: secrets.TokenSystem, Subject: "schedule:" + schedule, Name: "rotation schedule " + schedule}
	next, err := s.replace(ctx, actor, head, plain, func(next *secrets.Secret) {
		next.Change, next.Rotation = changeRotate, &policy
	})
	if err != nil {
		return err
	}
	s.audit(ctx, actor, &secrets.AuditRecord{Action: secrets.ActionSecretRotate, SecretID: next.ID, Layer: &next.Layer,
		Secrets: []secrets.AuditEntry{{Name: next.Name, Layer: next.Layer.Key(), Version: next.Version}},
		Detail:  "schedule " + schedule + "; environments " + envList(policy.Environments)})
	return nil
}

// randomValue draws length characters uniformly from alphabet.
func randomValue(length int, alphabet string) (string, error) {
	out := make([]byte, length)
	max := big.NewInt(int64(len(alphabet)))
	for i := range out {
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			return "", secrets.Internalf(err, "read random value")
		}
		out[i] = alphabet[n.Int64()]
	}
	return string(out), nil
}
