package puresqlite_test

import (
	"testing"

	"github.com/ihoprauth/ihoprauth/internal/sqlitetest"
	"github.com/ihoprauth/ihoprauth/store/puresqlite"
)

func TestOpen(t *testing.T) {
	sqlitetest.Run(t, puresqlite.Open, puresqlite.PoolSize())
}
