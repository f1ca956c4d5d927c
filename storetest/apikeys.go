package storetest

import (
	"errors"
	"slices"
	"testing"

	"github.com/ihoprauth/ihoprauth"
)

// testAPIKeys checks that API keys are found by their hash with every
// field, listed oldest first, unique by hash, and deleted.
func testAPIKeys(t *testing.T, newStore newStoreFunc) {
	f := newFixture(t, newStore)
	keys := []ihoprauth.APIKey{
		{Name: "back office", ClientIDs: []string{"web", "mobile app"}, KeyHash: hash("key one"), CreatedAt: t0},
		{Name: "erasure job", ClientIDs: []string{"web"}, KeyHash: hash("key two"), CreatedAt: t0.Add(1)},
	}
	for i := range keys {
		if err := f.store.CreateAPIKey(f.ctx, &keys[i]); err != nil || keys[i].ID == 0 {
			t.Fatalf("CreateAPIKey: got ID %d, error %v", keys[i].ID, err)
		}
	}
	got, err := f.store.APIKeyByHash(f.ctx, hash("key one"))
	if err != nil {
		t.Fatalf("APIKeyByHash: %v", err)
	}
	checkEqual(t, got, keys[0])
	dup := ihoprauth.APIKey{Name: "again", ClientIDs: []string{"web"}, KeyHash: hash("key one"), CreatedAt: t0}
	if err := f.store.CreateAPIKey(f.ctx, &dup); !errors.Is(err, ihoprauth.ErrDuplicate) {
		t.Errorf("CreateAPIKey with a hash in use: got error %v, want ErrDuplicate", err)
	}
	all, err := f.store.APIKeys(f.ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("APIKeys: got %d keys, error %v; want 2", len(all), err)
	}
	for i := range all {
		checkEqual(t, all[i], keys[i])
	}
	keys[0].KeyHash, keys[0].ClientIDs = hash("key one, again"), []string{"mobile app"}
	if err := f.store.UpdateAPIKey(f.ctx, keys[0]); err != nil {
		t.Fatalf("UpdateAPIKey: %v", err)
	}
	if _, err := f.store.APIKeyByHash(f.ctx, hash("key one")); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("APIKeyByHash of the replaced hash: got error %v, want ErrNotFound", err)
	}
	if got, err := f.store.APIKeyByHash(f.ctx, keys[0].KeyHash); err != nil {
		t.Errorf("APIKeyByHash of the new hash: %v", err)
	} else {
		checkEqual(t, got, keys[0])
	}
	if err := f.store.UpdateAPIKey(f.ctx, ihoprauth.APIKey{ID: keys[0].ID + 1000, KeyHash: hash("nothing")}); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("UpdateAPIKey of an unknown key: got error %v, want ErrNotFound", err)
	}
	if err := f.store.DeleteAPIKey(f.ctx, keys[0].ID); err != nil {
		t.Fatalf("DeleteAPIKey: %v", err)
	}
	if _, err := f.store.APIKeyByHash(f.ctx, keys[0].KeyHash); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("APIKeyByHash after DeleteAPIKey: got error %v, want ErrNotFound", err)
	}
	if err := f.store.DeleteAPIKey(f.ctx, keys[0].ID); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Errorf("DeleteAPIKey twice: got error %v, want ErrNotFound", err)
	}
	all, err = f.store.APIKeys(f.ctx)
	if err != nil || !slices.EqualFunc(all, keys[1:], func(a, b ihoprauth.APIKey) bool { return a.ID == b.ID }) {
		t.Errorf("APIKeys after DeleteAPIKey: got %v, error %v; want the second key only", all, err)
	}
}
