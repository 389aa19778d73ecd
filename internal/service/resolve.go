package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/zwrm/secrets/internal/secrets"
)

// ResolveInput asks for the values of one environment at a layer.
type ResolveInput struct {
	Environment secrets.Environment
	Layer       secrets.Layer
	// Names, when not empty, selects the names to resolve: only those are
	// returned (a name with no value is simply absent) and audited.
	Names []string
	// IfNoneMatch is a fingerprint the caller holds. When it equals the
	// current one the resolve unwraps no key, opens no value, writes no
	// audit record and answers NotModified.
	IfNoneMatch string
}

// MaxResolveNames bounds the names one resolve may select.
const MaxResolveNames = 500

// Resolved is what a resolve hands a workload: for each name, the value of
// the highest layer that has one for the environment.
type Resolved struct {
	Environment secrets.Environment
	Values      map[string]string
	// Sources names, for each name, the layer and version the value came from.
	Sources map[string]secrets.AuditEntry
	// Fingerprint identifies what this resolve returns (see fingerprint);
	// it holds no value.
	Fingerprint string
	// NotModified is true when the input's IfNoneMatch equals Fingerprint:
	// Values and Sources are then empty.
	NotModified bool
}

// Resolve returns every secret visible at in.Layer for in.Environment: the
// machine value, else the app value, else the global value. It reads the
// three layers in one store call and unwraps at most one data key (none
// while cached).
func (s *Service) Resolve(ctx context.Context, id secrets.Identity, in ResolveInput) (*Resolved, error) {
	if _, err := secrets.ParseEnvironment("environment", string(in.Environment)); err != nil {
		return nil, err
	}
	names, err := resolveNames(in.Names)
	if err != nil {
		return nil, err
	}
	layer, err := s.resolveLayer(ctx, id, in)
	if err != nil {
		return nil, err
	}
	chain := layer.ResolveChain()
	lists, err := s.store.ListSecretsIn(ctx, id.Org, chain, in.Environment)
	if err != nil {
		return nil, wrap(err, "read secrets for resolve")
	}
	// Later layers override earlier ones; only values are compared, so a
	// layer without a value for this environment overrides nothing.
	winners := map[string]*secrets.Secret{}
	for i, list := range lists {
		for _, sec := range list {
			if err := s.checkRecord(ctx, sec, secrets.Place{Org: id.Org, Layer: &chain[i]}); err != nil {
				return nil, err
			}
			if sec.Has(in.Environment) && (names == nil || names[sec.Name]) {
				winners[sec.Name] = sec
			}
		}
	}
	entries := make([]secrets.AuditEntry, 0, len(winners))
	for name, sec := range winners {
		entries = append(entries, secrets.AuditEntry{Name: name, Layer: sec.Layer.Key(), Version: sec.Version})
	}
	slices.SortFunc(entries, func(a, b secrets.AuditEntry) int { return strings.Compare(a.Name, b.Name) })
	out := &Resolved{Environment: in.Environment, Fingerprint: fingerprint(in.Environment, layer, names, entries, winners)}
	if in.IfNoneMatch != "" && in.IfNoneMatch == out.Fingerprint {
		// Nothing changed for the caller: no key is unwrapped and no value
		// leaves, so this is no read of values to audit; it is counted.
		s.notModified.Add(1)
		s.cfg.Logger.InfoContext(ctx, "resolve not modified", "request_id", RequestID(ctx), "org", id.Org, "layer", layer.String(), "environment", string(in.Environment), "names", len(entries))
		out.NotModified = true
		return out, nil
	}
	out.Values = make(map[string]string, len(winners))
	out.Sources = make(map[string]secrets.AuditEntry, len(winners))
	for _, e := range entries {
		sec := winners[e.Name]
		plain, err := s.sealer.Open(ctx, binding(id.Org, sec, in.Environment), sec.Values[in.Environment].Ciphertext)
		if err != nil {
			return nil, err
		}
		out.Values[e.Name] = string(plain)
		out.Sources[e.Name] = e
	}
	if err := s.auditResolve(ctx, id, layer, in.Environment, entries); err != nil {
		return nil, err
	}
	return out, nil
}

// ResolvesNotModified counts the resolves answered NotModified since the
// service started: the cheap change checks of watching workloads.
func (s *Service) ResolvesNotModified() int64 { return s.notModified.Load() }

// resolveNames checks a names selection and returns it as a set, or nil
// for "every name".
func resolveNames(list []string) (map[string]bool, error) {
	if len(list) == 0 {
		return nil, nil
	}
	if len(list) > MaxResolveNames {
		return nil, secrets.Invalid("names", "selects %d names; a resolve may select at most %d", len(list), MaxResolveNames)
	}
	set := make(map[string]bool, len(list))
	for _, n := range list {
		if err := secrets.ValidateName(n); err != nil {
			var e *secrets.Error
			if errors.As(err, &e) {
				return nil, secrets.Invalid("names", "%s", e.Message)
			}
			return nil, err
		}
		set[n] = true
	}
	return set, nil
}

// fingerprint identifies what a resolve returns: a SHA-256, in hex, of the
// environment, the layer, the names selection and the sorted (name, layer,
// secret id, version) list. Versions change with every write, so a changed
// value changes it; the id tells a secret deleted and created again (at
// version 1 again) from the one before, and, being random and not shown
// to workloads, keeps a service token from computing a fingerprint it was
// not given. It holds no value, so it may be logged and cached.
func fingerprint(env secrets.Environment, layer secrets.Layer, names map[string]bool, entries []secrets.AuditEntry, winners map[string]*secrets.Secret) string {
	h := sha256.New()
	fmt.Fprintf(h, "zwrm-resolve-v2\x00%s\x00%s\x00", env, layer.Key())
	if names == nil {
		fmt.Fprint(h, "*\x00")
	} else {
		sel := make([]string, 0, len(names))
		for n := range names {
			sel = append(sel, n)
		}
		slices.Sort(sel)
		fmt.Fprintf(h, "%d\x00%s\x00", len(sel), strings.Join(sel, "\x00"))
	}
	for _, e := range entries {
		fmt.Fprintf(h, "%s\x00%s\x00%s\x00%d\x00", e.Name, e.Layer, winners[e.Name].ID, e.Version)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// auditResolve records a resolve before its values leave: a resolve whose
// audit cannot be written is refused, since nothing has changed and the
// caller can retry, while values handed out unrecorded cannot be recalled.
// The names, layers and versions go in a manifest stored once (see
// secrets.AuditManifest), so the record is one small item however many
// names it covers.
func (s *Service) auditResolve(ctx context.Context, id secrets.Identity, layer secrets.Layer, env secrets.Environment, entries []secrets.AuditEntry) error {
	r := &secrets.AuditRecord{Action: secrets.ActionResolve, Layer: &layer, Environment: env}
	err := s.stamp(ctx, id, r)
	if err == nil && len(entries) > 0 {
		err = s.refer(ctx, r, entries)
	}
	if err == nil {
		err = s.writeAudit(ctx, r)
	}
	if err != nil {
		s.cfg.Logger.ErrorContext(ctx, "resolve refused: audit append failed", "request_id", RequestID(ctx), "org", id.Org, "error", err.Error())
		return &secrets.Error{Code: secrets.CodeUnavailable, Message: "the audit trail could not be written, so no values were returned; retry shortly", Err: err}
	}
	return nil
}

// resolveLayer checks that id may resolve in and returns the layer to
// resolve at. Service tokens resolve within their scope, which also
// supplies the app and machine a request leaves out; user tokens resolve
// the environments the org allows them (development by default).
func (s *Service) resolveLayer(ctx context.Context, id secrets.Identity, in ResolveInput) (secrets.Layer, error) {
	switch id.Kind {
	case secrets.TokenService, secrets.TokenIAM:
		sc := id.Scope
		if !slices.Contains(sc.Environments, in.Environment) {
			return secrets.Layer{}, secrets.Errorf(secrets.CodeForbidden, "this %s token may not resolve %s; it may resolve %s", id.Kind, in.Environment, envList(sc.Environments))
		}
		layer := in.Layer
		if layer.App == "" && sc.App != "" {
			layer.App = sc.App
		}
		if layer.Machine == "" && sc.Machine != "" && layer.App == sc.App {
			layer.Machine = sc.Machine
		}
		if layer.App != sc.App || (sc.Machine != "" && layer.Machine != sc.Machine) {
			return secrets.Layer{}, secrets.Errorf(secrets.CodeForbidden, "this %s token may not resolve at the %s layer; it is scoped to %s", id.Kind, layer, secrets.Layer{App: sc.App, Machine: sc.Machine})
		}
		return layer, nil
	case secrets.TokenUser:
		org, err := s.store.GetOrg(ctx, id.Org)
		if err != nil {
			return secrets.Layer{}, wrap(err, "get org %s", id.Org)
		}
		allowed := userResolveEnvironments(org)
		if !slices.Contains(allowed, in.Environment) {
			return secrets.Layer{}, secrets.Errorf(secrets.CodeForbidden, "user tokens may resolve %s only in this organization; use a service token to resolve %s", envList(allowed), in.Environment)
		}
		return in.Layer, nil
	}
	return secrets.Layer{}, secrets.Errorf(secrets.CodeForbidden, "this token may not resolve")
}

func userResolveEnvironments(org *secrets.Org) []secrets.Environment {
	if len(org.UserResolveEnvironments) == 0 {
		return []secrets.Environment{secrets.Development}
	}
	return org.UserResolveEnvironments
}
