package ihoprauth

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"testing"
)

// TestEveryStoreCallIsObserved checks that instrumentedStore declares each
// Store method itself: one it only inherits from the embedded Store would
// work, but unobserved.
func TestEveryStoreCallIsObserved(t *testing.T) {
	file, err := parser.ParseFile(token.NewFileSet(), "instrumentedstore_methods.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	declared := map[string]bool{}
	for _, d := range file.Decls {
		if f, ok := d.(*ast.FuncDecl); ok && f.Recv != nil {
			declared[f.Name.Name] = true
		}
	}
	store := reflect.TypeFor[Store]()
	for i := range store.NumMethod() {
		if name := store.Method(i).Name; !declared[name] {
			t.Errorf("instrumentedStore does not observe %s", name)
		}
	}
}
