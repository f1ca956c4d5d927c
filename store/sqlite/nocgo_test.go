//go:build !cgo

package sqlite_test

import (
	"errors"
	"path/filepath"
	"testing"

	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

// TestOpenWithoutCgo checks that a build without cgo refuses at once with
// an error that names the package to use, rather than with the stub
// driver's message at the first query.
func TestOpenWithoutCgo(t *testing.T) {
	db, err := sqlite.Open(filepath.Join(t.TempDir(), "auth.db"))
	if !errors.Is(err, sqlite.ErrNoCgo) || db != nil {
		t.Errorf("Open: got %v, %v, want nil, ErrNoCgo", db, err)
	}
}
