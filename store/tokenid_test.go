package store_test

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

// TestTokensAreKeyedByTheirHash checks how CreateToken chooses a token's
// primary key and that TokenUser finds every token whichever way its key
// was chosen: from the access hash; by the database, when another token
// took the key that the hash gives (inside a transaction, which on
// PostgreSQL a failed INSERT would abort); by the database, when the hash
// gives none; and for a row whose key is not its hash's (as every row
// from before keys were derived).
func TestTokensAreKeyedByTheirHash(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		s, p := storeWithUser(t, db)
		u := userOne(t, s, p)
		n := 0
		token := func(access string) ihoprauth.Token {
			n++
			return ihoprauth.Token{AccessHash: access, RefreshHash: hash("refresh", n), FamilyID: "family", ProjectID: p.ID, UserID: u.ID,
				ExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour)}
		}
		// found checks that TokenUser finds want, and whether its first
		// read, by the key that the hash gives, does.
		found := func(t *testing.T, want ihoprauth.Token, byKey bool) {
			t.Helper()
			got, gotUser, err := s.TokenUser(ctx, want.AccessHash)
			if err != nil || got.ID != want.ID || got.RefreshHash != "" || gotUser.ID != u.ID {
				t.Errorf("TokenUser(%.16s...): got token %d, user %d, %v; want token %d, user %d", want.AccessHash, got.ID, gotUser.ID, err, want.ID, u.ID)
			}
			userID, err := store.TokenUserByKey(ctx, s, want.AccessHash)
			switch {
			case byKey && (err != nil || userID != u.ID):
				t.Errorf("the read by key of %.16s...: got user %d, %v; want user %d", want.AccessHash, userID, err, u.ID)
			case !byKey && !errors.Is(err, ihoprauth.ErrNotFound):
				t.Errorf("the read by key of %.16s...: got user %d, %v; want ErrNotFound", want.AccessHash, userID, err)
			}
		}

		first := token(hash("access", 1))
		if err := s.CreateToken(ctx, &first); err != nil {
			t.Fatal(err)
		}
		if want := keyOf(first.AccessHash); first.ID != want {
			t.Errorf("ID: got %d, want %d, 2^41 plus the access hash's first 41 bits", first.ID, want)
		}
		found(t, first, true)

		// A hash with the first one's first 16 digits gives the same key.
		twin := token(first.AccessHash[:16] + hash("twin", 1)[16:])
		err := s.InTx(ctx, func(tx ihoprauth.Store) error {
			if err := tx.CreateToken(ctx, &twin); err != nil {
				return err
			}
			_, _, err := tx.TokenUser(ctx, twin.AccessHash)
			return err
		})
		if err != nil {
			t.Fatalf("a token whose key is taken, in a transaction: %v", err)
		}
		if twin.ID == first.ID || twin.ID == 0 {
			t.Errorf("ID of a token whose key is taken: got %d, want the database's own", twin.ID)
		}
		found(t, twin, false)
		found(t, first, true)

		plain := token("not a hex hash")
		if err := s.CreateToken(ctx, &plain); err != nil || plain.ID == 0 {
			t.Fatalf("a hash that gives no key: got ID %d, %v", plain.ID, err)
		}
		found(t, plain, false)

		before := token(hash("access", 2))
		if err := s.CreateToken(ctx, &before); err != nil {
			t.Fatal(err)
		}
		if err := db.Exec("UPDATE ihoprauth_tokens SET id = ? WHERE id = ?", before.ID%1_000_000+1_000, before.ID).Error; err != nil {
			t.Fatal(err)
		}
		before.ID = before.ID%1_000_000 + 1_000
		found(t, before, false)

		// A duplicate access hash (whose key is taken too) and a duplicate
		// refresh hash (whose key is free), alone and in a transaction: on
		// PostgreSQL the failed INSERT aborts it, and trying again with
		// another key would fail as "transaction aborted", not as a
		// duplicate.
		sameAccess := token(first.AccessHash)
		sameRefresh := token(hash("access", 3))
		sameRefresh.RefreshHash = plain.RefreshHash
		for _, dup := range []ihoprauth.Token{sameAccess, sameRefresh} {
			if err := s.CreateToken(ctx, &dup); !errors.Is(err, ihoprauth.ErrDuplicate) {
				t.Errorf("CreateToken with a hash in use: got %v, want ErrDuplicate", err)
			}
			err := s.InTx(ctx, func(tx ihoprauth.Store) error { return tx.CreateToken(ctx, &dup) })
			if !errors.Is(err, ihoprauth.ErrDuplicate) {
				t.Errorf("CreateToken with a hash in use, in a transaction: got %v, want ErrDuplicate", err)
			}
		}

		if _, _, err := s.TokenUser(ctx, hash("access", 4)); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("TokenUser of an unknown hash: got %v, want ErrNotFound", err)
		}
		var count int64
		if err := db.Table("ihoprauth_tokens").Count(&count).Error; err != nil || count != 4 {
			t.Errorf("got %d tokens, %v; want 4: nothing half written", count, err)
		}
	})
}

// keyOf is the primary key that a token whose access hash is h should
// get: 2^41 plus the first 41 bits of the hash.
func keyOf(h string) int64 {
	b, err := hex.DecodeString(h[:16])
	if err != nil {
		panic(err)
	}
	return 1<<41 + int64(binary.BigEndian.Uint64(b)>>23)
}

// hash is the hex SHA-256 of label and n.
func hash(label string, n int) string {
	sum := sha256.Sum256([]byte(label + strconv.Itoa(n)))
	return hex.EncodeToString(sum[:])
}
