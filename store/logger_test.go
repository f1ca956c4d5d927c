package store_test

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

// TestLogHidesValues checks that a failed statement, a prepared read too,
// is logged to the Store's slog.Logger without the values bound to it, and
// that a refused duplicate or a read that finds nothing is not logged at
// all.
func TestLogHidesValues(t *testing.T) {
	db := testdb.Open(t, testdb.SQLite)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	s, err := store.New(t.Context(), db, store.Config{Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx := t.Context()
	u := ihoprauth.User{UserID: "0123456789abcdef0123456789abcdef", ProjectID: 1,
		Email: "secret@example.com", EmailKey: "secret@example.com", PasswordHash: "$argon2id$secret"}
	if err := s.CreateUser(ctx, &u); err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	buf.Reset()

	dup := u
	if err := s.CreateUser(ctx, &dup); !errors.Is(err, ihoprauth.ErrDuplicate) {
		t.Fatalf("duplicate CreateUser: got error %v, want ErrDuplicate", err)
	}
	if buf.Len() != 0 {
		t.Errorf("log after a duplicate: got %q, want nothing", buf.String())
	}

	if _, err := s.UserByID(ctx, u.ID+1); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Fatalf("UserByID of nobody: got error %v, want ErrNotFound", err)
	}
	if buf.Len() != 0 {
		t.Errorf("log after a read that found nothing: got %q, want nothing", buf.String())
	}

	if err := db.Exec("DROP TABLE ihoprauth_users").Error; err != nil {
		t.Fatalf("DROP TABLE: %v", err)
	}
	if err := s.CreateUser(ctx, &u); err == nil {
		t.Fatal("CreateUser without a table: got nil error, want an error")
	}
	logged := buf.String()
	if !strings.Contains(logged, "INSERT INTO") {
		t.Errorf("log after a failed insert: got %q, want the statement", logged)
	}
	for _, secret := range []string{u.Email, u.PasswordHash, u.UserID} {
		if strings.Contains(logged, secret) {
			t.Errorf("log after a failed insert: got %q, want no %q", logged, secret)
		}
	}

	buf.Reset()
	const hash = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	if _, _, err := s.TokenUser(ctx, hash); err == nil || errors.Is(err, ihoprauth.ErrNotFound) {
		t.Fatalf("TokenUser without the users table: got error %v, want a failure", err)
	}
	if logged := buf.String(); !strings.Contains(logged, "SELECT") || strings.Contains(logged, hash) {
		t.Errorf("log after a failed prepared read: got %q, want the statement without the hash", logged)
	}
}
