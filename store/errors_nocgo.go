//go:build !cgo

package store

// isSQLiteDuplicate is false without cgo: mattn/go-sqlite3 then cannot open
// a database at all, so the store runs on PostgreSQL or MySQL only.
func isSQLiteDuplicate(error) bool { return false }
