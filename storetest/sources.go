package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testSources(t *testing.T, newStore newStoreFunc) {
	t.Run("remember and read", func(t *testing.T) {
		f := newFixture(t, newStore)
		account, source := hash("account"), hash("source")
		if _, err := f.store.SourceLastSeen(f.ctx, account, source); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Fatalf("SourceLastSeen before any login: got error %v, want ErrNotFound", err)
		}
		for _, step := range []struct {
			name     string
			at, want time.Time
		}{
			{"first login", t0, t0},
			{"a later login moves it forward", t0.Add(time.Hour), t0.Add(time.Hour)},
			{"an earlier time never moves it back", t0.Add(time.Minute), t0.Add(time.Hour)},
		} {
			if err := f.store.RememberSource(f.ctx, account, source, step.at); err != nil {
				t.Fatalf("%s: RememberSource: %v", step.name, err)
			}
			got, err := f.store.SourceLastSeen(f.ctx, account, source)
			if err != nil || !got.Equal(step.want) {
				t.Errorf("%s: SourceLastSeen: got %v, error %v, want %v", step.name, got, err, step.want)
			}
		}
		for _, other := range []struct{ account, source string }{
			{hash("other account"), source}, {account, hash("other source")},
		} {
			if _, err := f.store.SourceLastSeen(f.ctx, other.account, other.source); !errors.Is(err, ihoprauth.ErrNotFound) {
				t.Errorf("SourceLastSeen of another pair: got error %v, want ErrNotFound", err)
			}
		}
	})
	t.Run("concurrent", func(t *testing.T) {
		f := newFixture(t, newStore)
		account, source := hash("account"), hash("source")
		race(t, func() (bool, error) { return false, f.store.RememberSource(f.ctx, account, source, t0) })
		if got, err := f.store.SourceLastSeen(f.ctx, account, source); err != nil || !got.Equal(t0) {
			t.Errorf("after concurrent RememberSource: got %v, error %v, want %v", got, err, t0)
		}
	})
}
