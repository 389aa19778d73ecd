package secrets

import "fmt"

// Place is where a secret record was found: the org, layer, name, id and
// version that its key, or the lookup that found it, named. Storage is
// untrusted, so a record is used only for the place it was found at,
// never for the place it names itself. Empty parts were not named (a list
// names the layer, not the names in it).
type Place struct {
	Org     string
	Layer   *Layer
	Name    string
	ID      string
	Version int64
}

// Mismatch returns the first of s's own fields that disagrees with p:
// "org", "layer", "name", "id" or "version"; "" when none does.
func (p Place) Mismatch(s *Secret) string {
	switch {
	case s.Org != p.Org:
		return "org"
	case p.Layer != nil && s.Layer != *p.Layer:
		return "layer"
	case p.Name != "" && s.Name != p.Name:
		return "name"
	case p.ID != "" && s.ID != p.ID:
		return "id"
	case p.Version != 0 && s.Version != p.Version:
		return "version"
	}
	return ""
}

// Check returns an integrity error (CodeInternal) if s disagrees with p;
// where names the record in the message (a key, never a value).
func (p Place) Check(s *Secret, where string) error {
	if field := p.Mismatch(s); field != "" {
		return Internalf(nil, "integrity error: the record at %s names another %s than where it was found", where, field)
	}
	return nil
}

// String names the place for logs: its layer key and name.
func (p Place) String() string {
	layer := ""
	if p.Layer != nil {
		layer = p.Layer.Key()
	}
	return fmt.Sprintf("%s/%s/%s", p.Org, layer, p.Name)
}
