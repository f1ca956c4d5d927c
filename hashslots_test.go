package ihoprauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestHashSlotsServeThoseWhoBelongFirst: when a slot frees up, a waiter
// marked first gets it ahead of strangers who came earlier; strangers, and
// first comers, beyond their queue's depth are refused at once; a waiter
// whose context ends leaves the queue without taking a slot.
func TestHashSlotsServeThoseWhoBelongFirst(t *testing.T) {
	s := newHashSlots(1)
	s.maxQueue = 2
	ctx := t.Context()
	if err := s.acquire(ctx, false); err != nil { // the one running hash
		t.Fatal(err)
	}
	order := make(chan string, 4)
	wait := func(name string, first bool) {
		if err := s.acquire(ctx, first); err != nil {
			t.Errorf("%s: %v", name, err)
			return
		}
		order <- name
		s.release()
	}
	go wait("stranger 1", false)
	waitQueued(t, s, 1, 0)
	go wait("stranger 2", false)
	waitQueued(t, s, 2, 0)
	if err := s.acquire(ctx, false); !errors.Is(err, errHashesBusy) {
		t.Errorf("a third stranger beyond the queue: got %v, want errHashesBusy", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.acquire(gone, true); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended: got %v, want context.Canceled", err)
	}
	go wait("owner", true)
	waitQueued(t, s, 2, 1)
	go wait("owner's other device", true)
	waitQueued(t, s, 2, 2)
	if err := s.acquire(ctx, true); !errors.Is(err, errHashesBusy) {
		t.Errorf("a third first comer beyond its queue: got %v, want errHashesBusy", err)
	}
	s.release()
	for _, want := range []string{"owner", "owner's other device", "stranger 1", "stranger 2"} {
		if got := <-order; got != want {
			t.Errorf("got %s next, want %s", got, want)
		}
	}
	for range 1000 { // the last one gives its slot back after it reported
		s.mu.Lock()
		free := s.free
		s.mu.Unlock()
		if free == 1 {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Error("free slots after all: want 1")
}

// waitQueued waits until s has the given numbers of waiting strangers and
// waiting first comers.
func waitQueued(t *testing.T, s *hashSlots, strangers, first int) {
	t.Helper()
	for range 1000 {
		s.mu.Lock()
		got := len(s.waiting[1]) == strangers && len(s.waiting[0]) == first
		s.mu.Unlock()
		if got {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the queue never had %d strangers and %d first", strangers, first)
}
