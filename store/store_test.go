package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/storetest"
)

// openSQLite opens the SQLite file at path and closes it when the test
// ends.
func openSQLite(t *testing.T, path string) *gorm.DB {
	t.Helper()
	db, err := store.OpenSQLite(path)
	if err != nil {
		t.Fatalf("OpenSQLite: %v", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// newStore returns a Store on a fresh SQLite file in t.TempDir().
func newStore(t *testing.T) *store.Store {
	t.Helper()
	return newStoreAt(t, filepath.Join(t.TempDir(), "auth.db"))
}

// newStoreAt returns a Store on the SQLite file at path.
func newStoreAt(t *testing.T, path string) *store.Store {
	t.Helper()
	s, err := store.New(openSQLite(t, path))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) ihoprauth.Store { return newStore(t) })
}

// TestSQLiteConcurrentTransactions runs transactions that read and then
// write from many goroutines at once: with IMMEDIATE transactions and a
// busy timeout none of them may fail with "database is locked".
func TestSQLiteConcurrentTransactions(t *testing.T) {
	const goroutines = 50
	s, ctx := newStore(t), t.Context()
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP}
	if err := s.SaveProject(ctx, &p); err != nil {
		t.Fatalf("SaveProject: %v", err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, goroutines)
	for i := range goroutines {
		wg.Go(func() {
			errs <- s.InTx(ctx, func(tx ihoprauth.Store) error { return signUp(ctx, tx, p.ClientID, i) })
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("InTx: got error %v, want nil", err)
		}
	}
}

// signUp reads the project, then creates user i in it.
func signUp(ctx context.Context, tx ihoprauth.Store, clientID string, i int) error {
	p, err := tx.ProjectByClientID(ctx, clientID)
	if err != nil {
		return err
	}
	email := fmt.Sprintf("user%d@example.com", i)
	u := ihoprauth.User{
		UserID:    fmt.Sprintf("%032x", i),
		ProjectID: p.ID,
		Email:     email,
		EmailKey:  email,
		CreatedAt: time.Now(),
		UpdatedAt: time.Now(),
	}
	return tx.CreateUser(ctx, &u)
}

// TestOpenSQLitePragmas checks that every pooled connection, not just the
// first, has the settings OpenSQLite puts in the DSN.
func TestOpenSQLitePragmas(t *testing.T) {
	sqlDB, err := openSQLite(t, filepath.Join(t.TempDir(), "auth.db")).DB()
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

// TestNewTwice checks that New accepts the tables it made before, as on a
// restart, and keeps their rows.
func TestNewTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	ctx := t.Context()
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeNone}
	for run := range 2 {
		s, err := store.New(openSQLite(t, path))
		if err != nil {
			t.Fatalf("run %d: New: got error %v, want nil", run+1, err)
		}
		if run == 0 {
			if err := s.SaveProject(ctx, &p); err != nil {
				t.Fatalf("SaveProject: %v", err)
			}
		} else if got, err := s.ProjectByClientID(ctx, "web"); err != nil || got.ID != p.ID {
			t.Errorf("after restart: got project %d, error %v, want project %d", got.ID, err, p.ID)
		}
	}
}

func TestOpenSQLiteRejectsDSN(t *testing.T) {
	for _, path := range []string{"", "auth.db?_txlock=deferred"} {
		if _, err := store.OpenSQLite(path); err == nil {
			t.Errorf("OpenSQLite(%q): got nil error, want an error", path)
		}
	}
}

// TestNewAddsColumns checks that New adds a column that came with a later
// version, Challenge.AccountKey, to a table that already has rows, as on
// an upgrade; the old rows read back with an empty AccountKey.
func TestNewAddsColumns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	ctx := t.Context()
	s := newStoreAt(t, path)
	c := ihoprauth.Challenge{Purpose: ihoprauth.PurposeOTP, TokenHash: "token", AccountKey: "account",
		ExpiresAt: time.Now(), CreatedAt: time.Now()}
	if err := s.CreateChallenge(ctx, &c); err != nil {
		t.Fatalf("CreateChallenge: %v", err)
	}
	db := openSQLite(t, path)
	if err := db.Exec("ALTER TABLE ihoprauth_challenges DROP COLUMN account_key").Error; err != nil {
		t.Fatalf("DROP COLUMN: %v", err)
	}
	s, err := store.New(db)
	if err != nil {
		t.Fatalf("New on the old table: got error %v, want nil", err)
	}
	got, err := s.ChallengeByToken(ctx, c.Purpose, c.TokenHash)
	if err != nil || got.ID != c.ID || got.AccountKey != "" {
		t.Errorf("old challenge: got ID %d, AccountKey %q, error %v, want ID %d, AccountKey \"\"",
			got.ID, got.AccountKey, err, c.ID)
	}
}
