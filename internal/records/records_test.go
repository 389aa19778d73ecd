package records_test

import (
	"reflect"
	"testing"

	"github.com/zwrm/secrets/internal/records"
	"github.com/zwrm/secrets/internal/storegolden"
)

// kinds are the types the stores encode (records.Record).
var kinds = []any{records.Org{}, records.Secret{}, records.Token{}, records.DataKey{}, records.Audit{}}

// TestRecordsHoldNoDomainType: a stored record is built of these types
// alone, never of one of the domain's, so a change of the domain changes
// no stored byte by itself. Each store's encoder takes records.Record
// only.
func TestRecordsHoldNoDomainType(t *testing.T) {
	storegolden.CheckRecordTypes(t, kinds...)
}

// TestEveryFieldNamesItselfInBothEncodings: each field has a json and a
// dynamodbav name, so that neither store falls back to the Go field's
// name, which a rename would change.
func TestEveryFieldNamesItselfInBothEncodings(t *testing.T) {
	pkg := reflect.TypeFor[records.Org]().PkgPath()
	seen := map[reflect.Type]bool{}
	var walk func(typ reflect.Type)
	walk = func(typ reflect.Type) {
		switch typ.Kind() {
		case reflect.Pointer, reflect.Slice, reflect.Map:
			walk(typ.Elem())
			return
		case reflect.Struct:
			if seen[typ] || typ.PkgPath() != pkg {
				return
			}
		default:
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			for _, enc := range []string{"json", "dynamodbav"} {
				if _, ok := f.Tag.Lookup(enc); !ok {
					t.Errorf("%s.%s has no %s name", typ.Name(), f.Name, enc)
				}
			}
			walk(f.Type)
		}
	}
	for _, k := range kinds {
		walk(reflect.TypeOf(k))
	}
	if len(seen) < 10 {
		t.Fatalf("walked %d record types: the test looks in the wrong place", len(seen))
	}
}
