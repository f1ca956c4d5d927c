package storetest

import (
	"bytes"
	"fmt"
	"sync"
	"testing"
)

func testSecret(t *testing.T, newStore newStoreFunc) {
	t.Run("first writer wins", func(t *testing.T) {
		f := newFixture(t, newStore)
		calls := []struct {
			name, fresh, want string
		}{
			{"signing", "first", "first"},
			{"signing", "second", "first"},
			{"other", "third", "third"},
			{"other", "fourth", "third"},
			{"signing", "fifth", "first"},
		}
		for i, c := range calls {
			got, err := f.store.Secret(f.ctx, c.name, []byte(c.fresh))
			if err != nil || string(got) != c.want {
				t.Errorf("call %d, Secret(%q, %q): got %q, error %v, want %q", i+1, c.name, c.fresh, got, err, c.want)
			}
		}
	})
	t.Run("concurrent callers agree", func(t *testing.T) {
		f := newFixture(t, newStore)
		var (
			mu  sync.Mutex
			got [][]byte
			i   int
		)
		race(t, func() (bool, error) {
			mu.Lock()
			i++
			fresh := fmt.Appendf(nil, "value %d", i)
			mu.Unlock()
			v, err := f.store.Secret(f.ctx, "raced", fresh)
			mu.Lock()
			got = append(got, v)
			mu.Unlock()
			return false, err
		})
		want, err := f.store.Secret(f.ctx, "raced", []byte("late"))
		if err != nil {
			t.Fatalf("Secret: got error %v, want nil", err)
		}
		for _, v := range got {
			if !bytes.Equal(v, want) {
				t.Errorf("concurrent Secret: got %q, want %q", v, want)
			}
		}
	})
}
