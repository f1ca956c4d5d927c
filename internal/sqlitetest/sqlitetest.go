// Package sqlitetest checks that a function opening SQLite for package
// store, such as sqlite.Open (cgo) or puresqlite.Open (pure Go), sets the
// database up as ihoprauth needs it, whatever the driver underneath:
//
//	func TestOpen(t *testing.T) {
//		sqlitetest.Run(t, sqlite.Open, sqlite.PoolSize())
//	}
//
// It imports neither driver, so each package's tests link only their own.
// The package is for tests only.
package sqlitetest

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/sqlitefile"
)

// openFunc opens the SQLite file at a path, as sqlite.Open does.
type openFunc = func(path string) (*gorm.DB, error)

// Run checks, one subtest each, that open applies its settings to every
// pooled connection, begins transactions IMMEDIATE, refuses a DSN, creates files for their owner only,
// classifies busy and duplicate errors, bounds its pool to poolSize and
// round-trips times in UTC to the microsecond.
func Run(t *testing.T, open openFunc, poolSize int) {
	tests := []struct {
		name string
		run  func(*testing.T, openFunc)
	}{
		{"Pragmas", testPragmas},
		{"RejectsDSN", testRejectsDSN},
		{"FileMode", testFileMode},
		{"ImmediateTransactions", testImmediateTransactions},
		{"TranslateBusy", testTranslateBusy},
		{"Times", testTimes},
		{"BoundsThePool", func(t *testing.T, open openFunc) { testBoundsThePool(t, open, poolSize) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.run(t, open) })
	}
}

// mustOpen opens the SQLite file at path and closes it when the test ends.
func mustOpen(t *testing.T, open openFunc, path string) *gorm.DB {
	t.Helper()
	db, err := open(path)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// testPragmas checks that every pooled connection, not just the first,
// has the settings open puts in the DSN.
func testPragmas(t *testing.T, open openFunc) {
	sqlDB, err := mustOpen(t, open, filepath.Join(t.TempDir(), "auth.db")).DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	tests := []struct {
		pragma, want string
	}{
		{"journal_mode", "wal"},
		{"busy_timeout", "10000"},
		{"foreign_keys", "1"},
		{"synchronous", "1"},
		{"mmap_size", strconv.Itoa(sqlitefile.MmapSize)},
	}
	for i := range 3 {
		conn, err := sqlDB.Conn(t.Context())
		if err != nil {
			t.Fatalf("Conn: %v", err)
		}
		defer conn.Close()
		for _, tt := range tests {
			var got string
			if err := conn.QueryRowContext(t.Context(), "PRAGMA "+tt.pragma).Scan(&got); err != nil {
				t.Fatalf("PRAGMA %s: %v", tt.pragma, err)
			}
			if got != tt.want {
				t.Errorf("connection %d, PRAGMA %s: got %s, want %s", i+1, tt.pragma, got, tt.want)
			}
		}
	}
}

// testRejectsDSN checks that open takes a file name only, so that no
// DSN parameter can undo its settings.
func testRejectsDSN(t *testing.T, open openFunc) {
	for _, path := range []string{"", "auth.db?_txlock=deferred"} {
		if _, err := open(path); err == nil {
			t.Errorf("open(%q): got nil error, want an error", path)
		}
	}
}

// testFileMode checks that a new database and its WAL files are readable
// by their owner only.
func testFileMode(t *testing.T, open openFunc) {
	path := filepath.Join(t.TempDir(), "auth.db")
	db := mustOpen(t, open, path)
	if err := db.Exec("CREATE TABLE t (x INTEGER)").Error; err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Fatal(err)
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: got mode %o, want 600", filepath.Base(name), mode)
		}
	}
}

// testTranslateBusy checks that a write refused because another connection
// holds the write lock reaches ihoprauth as ErrUnavailable (a 503), and a
// unique violation as gorm.ErrDuplicatedKey.
func testTranslateBusy(t *testing.T, open openFunc) {
	db := mustOpen(t, open, filepath.Join(t.TempDir(), "auth.db"))
	sqlDB, _ := db.DB()
	ctx := t.Context()
	holder, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	defer holder.ExecContext(ctx, "ROLLBACK")
	waiter, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer waiter.Close()
	if _, err := waiter.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	_, err = waiter.ExecContext(ctx, "BEGIN IMMEDIATE")
	if err == nil {
		t.Fatal("BEGIN IMMEDIATE beside another writer: got nil error, want SQLITE_BUSY")
	}
	translator := db.Dialector.(gorm.ErrorTranslator)
	if got := translator.Translate(err); !errors.Is(got, ihoprauth.ErrUnavailable) {
		t.Errorf("Translate(%v): got %v, want an error wrapping ErrUnavailable", err, got)
	}

	if _, err := holder.ExecContext(ctx, "CREATE TABLE u (k TEXT UNIQUE)"); err != nil {
		t.Fatal(err)
	}
	if _, err := holder.ExecContext(ctx, "INSERT INTO u VALUES ('a')"); err != nil {
		t.Fatal(err)
	}
	_, err = holder.ExecContext(ctx, "INSERT INTO u VALUES ('a')")
	if got := translator.Translate(err); !errors.Is(got, gorm.ErrDuplicatedKey) {
		t.Errorf("Translate(%v): got %v, want gorm.ErrDuplicatedKey", err, got)
	}
}

// testBoundsThePool checks that open's pool is poolSize connections, so
// that a burst of requests waits for a connection rather than opening one
// each (three open files apiece) and fighting over the write lock.
func testBoundsThePool(t *testing.T, open openFunc, poolSize int) {
	sqlDB, err := mustOpen(t, open, filepath.Join(t.TempDir(), "auth.db")).DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != poolSize || got < 4 {
		t.Errorf("MaxOpenConnections: got %d, want PoolSize() = %d, at least 4", got, poolSize)
	}
}

// testImmediateTransactions checks that a transaction begun through
// database/sql, as GORM begins them, takes the write lock at BEGIN: a
// deferred one would let a transaction that reads and then writes fail
// with SQLITE_BUSY whatever the busy timeout.
func testImmediateTransactions(t *testing.T, open openFunc) {
	sqlDB, err := mustOpen(t, open, filepath.Join(t.TempDir(), "auth.db")).DB()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other, err := sqlDB.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, "PRAGMA busy_timeout = 0"); err != nil {
		t.Fatal(err)
	}
	if _, err := other.ExecContext(ctx, "BEGIN IMMEDIATE"); err == nil {
		other.ExecContext(ctx, "ROLLBACK")
		t.Fatal("BEGIN IMMEDIATE beside an open transaction that wrote nothing: got nil error, want SQLITE_BUSY (the transaction should hold the write lock)")
	}
}

// testTimes checks that a time goes in and comes back in UTC to the
// nanosecond that it had (the store truncates to the microsecond), and is
// kept as the text mattn/go-sqlite3 writes, so that comparisons in SQL
// order times right and either driver reads the other's file.
func testTimes(t *testing.T, open openFunc) {
	type timeRow struct {
		ID int64
		At time.Time
	}
	db := mustOpen(t, open, filepath.Join(t.TempDir(), "auth.db"))
	if err := db.AutoMigrate(&timeRow{}); err != nil {
		t.Fatal(err)
	}
	want := time.Date(2026, 3, 29, 1, 30, 5, 123456000, time.UTC)
	if err := db.Create(&timeRow{ID: 1, At: want}).Error; err != nil {
		t.Fatal(err)
	}
	var got timeRow
	if err := db.Take(&got, 1).Error; err != nil {
		t.Fatal(err)
	}
	if !got.At.Equal(want) || got.At.Location() != time.UTC {
		t.Errorf("At: got %v (%v), want %v in UTC", got.At, got.At.Location(), want)
	}
	var text string
	if err := db.Raw("SELECT CAST(at AS TEXT) FROM time_rows WHERE id = 1").Scan(&text).Error; err != nil {
		t.Fatal(err)
	}
	if wantText := "2026-03-29 01:30:05.123456+00:00"; text != wantText {
		t.Errorf("stored text: got %q, want %q", text, wantText)
	}
	var later int
	if err := db.Raw("SELECT COUNT(*) FROM time_rows WHERE at > ?", want.Add(-time.Microsecond)).Scan(&later).Error; err != nil {
		t.Fatal(err)
	}
	if later != 1 {
		t.Errorf("rows later than a microsecond before: got %d, want 1", later)
	}
}
