package sqlite

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// open opens the SQLite file at path and closes it when the test ends.
func open(t *testing.T, path string) *gorm.DB {
	t.Helper()
	db, err := Open(path)
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

// TestOpenPragmas checks that every pooled connection, not just the
// first, has the settings Open puts in the DSN.
func TestOpenPragmas(t *testing.T) {
	sqlDB, err := open(t, filepath.Join(t.TempDir(), "auth.db")).DB()
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

func TestOpenRejectsDSN(t *testing.T) {
	for _, path := range []string{"", "auth.db?_txlock=deferred"} {
		if _, err := Open(path); err == nil {
			t.Errorf("Open(%q): got nil error, want an error", path)
		}
	}
}

// TestOpenFileMode checks that a new database and its WAL files are
// readable by their owner only.
func TestOpenFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	db, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
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

// TestTranslateBusy checks that a write refused because another connection
// holds the write lock reaches ihoprauth as ErrUnavailable (a 503), and a
// unique violation as gorm.ErrDuplicatedKey.
func TestTranslateBusy(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "auth.db"))
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

// TestOpenBoundsThePool checks that Open's pool is PoolSize connections, so
// that a burst of requests waits for a connection rather than opening one
// each (three open files apiece) and fighting over the write lock.
func TestOpenBoundsThePool(t *testing.T) {
	sqlDB, err := open(t, filepath.Join(t.TempDir(), "auth.db")).DB()
	if err != nil {
		t.Fatal(err)
	}
	if got := sqlDB.Stats().MaxOpenConnections; got != PoolSize() || got < 4 {
		t.Errorf("MaxOpenConnections: got %d, want PoolSize() = %d, at least 4", got, PoolSize())
	}
}
