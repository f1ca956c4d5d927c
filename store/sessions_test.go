package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth/internal/testdb"
)

// TestSessionStore checks the scs store on every backend: a committed
// session is found until it expires, a second commit replaces it, and
// delete removes it.
func TestSessionStore(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		ss := newStore(t, testdb.Open(t, backend)).SessionStore()
		ctx := t.Context()
		find := func(token string) ([]byte, bool) {
			t.Helper()
			b, found, err := ss.FindCtx(ctx, token)
			if err != nil {
				t.Fatalf("FindCtx: got error %v, want nil", err)
			}
			return b, found
		}
		if _, found := find("nope"); found {
			t.Error("unknown token: got found, want not found")
		}
		if err := ss.CommitCtx(ctx, "tok", []byte("one"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := ss.Commit("tok", []byte("two"), time.Now().Add(time.Hour)); err != nil {
			t.Fatal(err)
		}
		if b, found := find("tok"); !found || !bytes.Equal(b, []byte("two")) {
			t.Errorf("after two commits: got %q, %v, want \"two\", true", b, found)
		}
		if err := ss.CommitCtx(ctx, "old", []byte("x"), time.Now().Add(-time.Second)); err != nil {
			t.Fatal(err)
		}
		if _, found := find("old"); found {
			t.Error("expired session: got found, want not found")
		}
		if err := ss.Delete("tok"); err != nil {
			t.Fatal(err)
		}
		if _, found := find("tok"); found {
			t.Error("deleted session: got found, want not found")
		}
		if err := ss.DeleteCtx(ctx, "never there"); err != nil {
			t.Errorf("deleting an unknown session: got %v, want nil", err)
		}
	})
}
