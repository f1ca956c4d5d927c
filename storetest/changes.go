package storetest

import (
	"testing"
	"time"
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
	for _, user := range []int64{7, 8, 7} {
		if err := f.store.AppendChange(f.ctx, user); err != nil {
			t.Fatalf("AppendChange: %v", err)
		}
	}
	changes, now, err := f.store.Changes(f.ctx, before.Add(-time.Second))
	if err != nil {
		t.Fatalf("Changes: %v", err)
	}
	if len(changes) != 3 {
		t.Fatalf("Changes since before the appends: got %d, want 3", len(changes))
	}
	for i, c := range changes {
		if want := []int64{7, 8, 7}[i]; c.UserID != want || c.At.Before(before.Add(-time.Second)) || c.At.After(now) ||
			c.At.Location() != time.UTC || (i > 0 && c.ID <= changes[i-1].ID) {
			t.Errorf("change %d: got %+v, want user %d, stamped between %v and %v in UTC, IDs increasing", i, c, want, before, now)
		}
	}
	later, _, err := f.store.Changes(f.ctx, now.Add(time.Second))
	if err != nil || len(later) != 0 {
		t.Errorf("Changes since after them: got %v (%v), want none", later, err)
	}
}
