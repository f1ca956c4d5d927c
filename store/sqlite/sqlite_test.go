//go:build cgo

package sqlite_test

import (
	"testing"

	"github.com/ihoprauth/ihoprauth/internal/sqlitetest"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

func TestOpen(t *testing.T) {
	sqlitetest.Run(t, sqlite.Open, sqlite.PoolSize())
}
