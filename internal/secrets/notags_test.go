package secrets_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestTheDomainCarriesNoTags: the domain's structs have no field tags.
// Each format is someone else's: the API's is internal/wire's, the
// stores' is internal/records', so renaming a domain field changes none
// of them unnoticed.
func TestTheDomainCarriesNoTags(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	structs := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			st, ok := n.(*ast.StructType)
			if !ok {
				return true
			}
			structs++
			for _, field := range st.Fields.List {
				if field.Tag != nil {
					t.Errorf("%s: a domain struct field carries the tag %s", fset.Position(field.Pos()), field.Tag.Value)
				}
			}
			return true
		})
	}
	if structs < 10 {
		t.Fatalf("read %d structs in the domain package: the test looks in the wrong place", structs)
	}
}
