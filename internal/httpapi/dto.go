package httpapi

import (
	"net/http"
	"time"

	"github.com/zwrm/secrets/internal/secrets"
)

// layerSecret is a secret as the org, app and machine secrets API shows it.
type layerSecret struct {
	Name      string    `json:"name"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// environments says which environments hold a value.
type environments struct {
	Development bool `json:"development"`
	Staging     bool `json:"staging"`
	Production  bool `json:"production"`
}

// secretRow is a secret as the grid shows it: never a value.
type secretRow struct {
	ID           string            `json:"id"`
	Name         string            `json:"name"`
	Description  string            `json:"description"`
	App          *string           `json:"app"`
	Machine      *string           `json:"machine"`
	Environments environments      `json:"environments"`
	Owner        secrets.Principal `json:"owner"`
	CreatedAt    time.Time         `json:"created_at"`
	UpdatedAt    time.Time         `json:"updated_at"`
	UpdatedBy    secrets.Principal `json:"updated_by"`
	Version      int64             `json:"version"`
}

// secretDetail is a row with the masks, the rotation policy, whether the
// caller may modify it and which environments' values it may change
// (ownership and the org's environment policies together).
type secretDetail struct {
	secretRow
	Masked               map[secrets.Environment]*string `json:"masked"`
	Rotation             *rotationView                   `json:"rotation"`
	CanModify            bool                            `json:"can_modify"`
	WritableEnvironments []secrets.Environment           `json:"writable_environments"`
}

// rotationView is a rotation policy.
type rotationView struct {
	Every        string                `json:"every"`
	Environments []secrets.Environment `json:"environments"`
	Length       int                   `json:"length"`
	Alphabet     string                `json:"alphabet"`
	NextAt       time.Time             `json:"next_at"`
	LastAt       *time.Time            `json:"last_at"`
}

func rotationOf(r *secrets.Rotation) *rotationView {
	if r == nil {
		return nil
	}
	return &rotationView{Every: r.Every, Environments: r.Environments, Length: r.Length, Alphabet: r.Alphabet, NextAt: r.NextAt, LastAt: r.LastAt}
}

// versionRow is one version of a secret, with masks only.
type versionRow struct {
	Version      int64                           `json:"version"`
	Change       string                          `json:"change"`
	RestoredFrom int64                           `json:"restored_from,omitempty"`
	Description  string                          `json:"description"`
	Environments environments                    `json:"environments"`
	Masked       map[secrets.Environment]*string `json:"masked"`
	UpdatedAt    time.Time                       `json:"updated_at"`
	UpdatedBy    secrets.Principal               `json:"updated_by"`
	Current      bool                            `json:"current"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func envsOf(s *secrets.Secret) environments {
	return environments{Development: s.Has(secrets.Development), Staging: s.Has(secrets.Staging), Production: s.Has(secrets.Production)}
}

func masksOf(s *secrets.Secret) map[secrets.Environment]*string {
	m := make(map[secrets.Environment]*string, 3)
	for _, env := range secrets.Environments {
		m[env] = nil
		if v, ok := s.Values[env]; ok {
			mask := v.Mask
			m[env] = &mask
		}
	}
	return m
}

func rowOf(s *secrets.Secret) secretRow {
	return secretRow{ID: s.ID, Name: s.Name, Description: s.Description, App: optional(s.Layer.App), Machine: optional(s.Layer.Machine),
		Environments: envsOf(s), Owner: s.Owner, CreatedAt: s.CreatedAt, UpdatedAt: s.UpdatedAt, UpdatedBy: s.UpdatedBy, Version: s.Version}
}

// writeDetail answers sec as its detail for id.
func (a *api) writeDetail(w http.ResponseWriter, r *http.Request, status int, s *secrets.Secret, id secrets.Identity) error {
	writable, err := a.svc.WritableEnvironments(r.Context(), id, s)
	if err != nil {
		return err
	}
	writeJSON(w, status, secretDetail{secretRow: rowOf(s), Masked: masksOf(s), Rotation: rotationOf(s.Rotation),
		CanModify: secrets.CanModify(id, s), WritableEnvironments: writable})
	return nil
}

// tokenView is a token's record, never the token or its hash.
type tokenView struct {
	ID           string                `json:"id"`
	Kind         secrets.TokenKind     `json:"kind"`
	Name         string                `json:"name"`
	Subject      string                `json:"subject,omitempty"`
	Role         secrets.Role          `json:"role,omitempty"`
	RolePriority int                   `json:"role_priority,omitempty"`
	App          string                `json:"app,omitempty"`
	Machine      string                `json:"machine,omitempty"`
	Environments []secrets.Environment `json:"environments,omitempty"`
	PrincipalARN string                `json:"principal_arn,omitempty"`
	Prefix       string                `json:"prefix"`
	CreatedAt    time.Time             `json:"created_at"`
	CreatedBy    secrets.Principal     `json:"created_by"`
	ExpiresAt    *time.Time            `json:"expires_at"`
	RevokedAt    *time.Time            `json:"revoked_at"`
	Token        string                `json:"token,omitempty"` // on creation only
}

func tokenViewOf(t *secrets.Token) tokenView {
	v := tokenView{ID: t.ID, Kind: t.Kind, Name: t.Name, Prefix: t.Prefix, CreatedAt: t.CreatedAt, CreatedBy: t.CreatedBy,
		ExpiresAt: t.ExpiresAt, RevokedAt: t.RevokedAt}
	if t.Kind == secrets.TokenUser {
		v.Subject, v.Role, v.RolePriority = t.Subject, t.Role, t.Role.Priority()
	} else {
		v.App, v.Machine, v.Environments, v.PrincipalARN = t.Scope.App, t.Scope.Machine, t.Scope.Environments, t.PrincipalARN
	}
	return v
}
