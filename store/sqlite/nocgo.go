//go:build !cgo

package sqlite

import gormsqlite "gorm.io/driver/sqlite"

// cgo reports whether the build has cgo, which mattn/go-sqlite3 needs.
// Without it, mattn/go-sqlite3 is a stub that lacks its error types, and
// Open refuses at once.
const cgo = false

// driverName is never registered without cgo: Open refuses first.
const driverName = "ihoprauth-sqlite3"

// dialector is gorm's SQLite dialector, which Open never reaches in a
// build without cgo.
type dialector struct {
	*gormsqlite.Dialector
}
