package storetest

import (
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

func testChanges(t *testing.T, newStore newStoreFunc) {
	f := newFixture(t, newStore)
	_, before, err := f.store.Changes(f.ctx, time.Now().Add(time.Hour))
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if d := time.Since(before); d < -time.Minute || d > time.Minute {
		t.Errorf("the database's clock: got %v, want within a minute of this machine's %v", before, time.Now())
	}
	appended := []ihoprauth.Change{{UserID: 7}, {UserID: 8}, {ProjectID: 3}, {UserID: 7}}
	for _, c := range appended {
		if err := f.store.AppendChange(f.ctx, c); err != nil {
			t.Fatalf("AppendChange: %v", err)
		}
	}
	changes, now, err := f.store.Changes(f.ctx, before.Add(-time.Second))
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if len(changes) != len(appended) {
		t.Fatalf("Changes since before the appends: got %d, want %d", len(changes), len(appended))
	}
	for i, c := range changes {
		want := appended[i]
		if c.UserID != want.UserID || c.ProjectID != want.ProjectID || c.At.Before(before.Add(-time.Second)) || c.At.After(now) ||
			c.At.Location() != time.UTC || (i > 0 && c.ID <= changes[i-1].ID) {
			t.Errorf("change %d: got %+v, want user %d, project %d, stamped between %v and %v in UTC, IDs increasing",
				i, c, want.UserID, want.ProjectID, before, now)
		}
	}
	later, _, err := f.store.Changes(f.ctx, now.Add(time.Second))
	if err != nil || len(later) != 0 {
		t.Errorf("Changes since after them: got %v (%v), want none", later, err)
	}
}
