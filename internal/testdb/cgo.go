//go:build cgo

package testdb

import "github.com/ihoprauth/ihoprauth/store/sqlite"

// openBuildSQLite opens the "sqlite" backend: with cgo, the default driver,
// mattn/go-sqlite3.
var openBuildSQLite = sqlite.Open
