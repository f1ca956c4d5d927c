//go:build !cgo

package testdb

import "github.com/ihoprauth/ihoprauth/store/puresqlite"

// openBuildSQLite opens the "sqlite" backend: without cgo, where
// mattn/go-sqlite3 cannot work, the pure-Go driver.
var openBuildSQLite = puresqlite.Open
