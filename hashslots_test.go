package ihoprauth

import (
	"context"
	"errors"
	"testing"
	"time"
)

// TestHashSlotsServeThoseWhoBelongFirst: when a slot frees up, a waiter
// who belongs to an account gets it ahead of strangers who came earlier;
// strangers, and those who belong, beyond their queue's depth are refused
// at once; a waiter whose context ends leaves the queue without taking a
// slot.
func TestHashSlotsServeThoseWhoBelongFirst(t *testing.T) {
	s := busySlot(t, 2, 4)
	ctx := t.Context()
	order := make(chan string, 4)
	enqueue(t, s, order, "stranger 1", "", 1, 0)
	enqueue(t, s, order, "stranger 2", "", 2, 0)
	if err := s.acquire(ctx, ""); !errors.Is(err, errHashesBusy) {
		t.Errorf("a third stranger beyond the queue: got %v, want errHashesBusy", err)
	}
	gone, cancel := context.WithCancel(ctx)
	cancel()
	if err := s.acquire(gone, "owner"); !errors.Is(err, context.Canceled) {
		t.Errorf("a waiter whose context ended: got %v, want context.Canceled", err)
	}
	enqueue(t, s, order, "owner", "owner", 2, 1)
	enqueue(t, s, order, "owner's other device", "owner", 2, 2)
	if err := s.acquire(ctx, "owner"); !errors.Is(err, errHashesBusy) {
		t.Errorf("a third of the owner's beyond both queues: got %v, want errHashesBusy", err)
	}
	s.release(0)
	wantOrder(t, order, "owner", "owner's other device", "stranger 1", "stranger 2")
	waitFree(t, s, 1)
}

// TestHashSlotsTakeAccountsInTurn: an account that floods its own correct
// logins from its own known device (anyone can sign up and get one) cannot
// crowd another account's owner out of the queue of those who belong. The
// accounts are served in turn; an account's requests past its places wait
// with the strangers; and when the queue is full, the owner takes the
// newest place of the account that holds the most.
func TestHashSlotsTakeAccountsInTurn(t *testing.T) {
	s := busySlot(t, 4, 3)
	ctx := t.Context()
	order := make(chan string, 8)
	enqueue(t, s, order, "flood 1", "flood", 0, 1)
	enqueue(t, s, order, "flood 2", "flood", 0, 2)
	third := make(chan error, 1)
	go func() { third <- s.acquire(ctx, "flood") }()
	waitQueued(t, s, 0, 3)
	enqueue(t, s, order, "flood 4", "flood", 1, 3) // past the account's 3 places
	enqueue(t, s, order, "other", "other", 1, 4)

	// The queue of those who belong is full: the owner takes the place of
	// the flood's third, the newest of the account that holds the most.
	go takeSlot(t, s, order, "owner", "owner")
	select {
	case err := <-third:
		if !errors.Is(err, errHashesBusy) {
			t.Errorf("the flood's third, whose place the owner took: got %v, want errHashesBusy", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the flood's third was never answered")
	}
	waitQueued(t, s, 1, 4)

	s.release(0)
	wantOrder(t, order, "flood 1", "other", "owner", "flood 2", "flood 4")
	waitFree(t, s, 1)
}

// busySlot returns hash slots of one slot, already taken (the one running
// hash), with queues of maxQueue places and perAccount places an account.
func busySlot(t *testing.T, maxQueue, perAccount int) *hashSlots {
	s := newHashSlots(1)
	s.maxQueue, s.perAccount = maxQueue, perAccount
	if err := s.acquire(t.Context(), ""); err != nil {
		t.Fatal(err)
	}
	return s
}

// enqueue has name wait for a slot as account (see takeSlot) and returns
// once the queues hold the given numbers of strangers and of those who
// belong.
func enqueue(t *testing.T, s *hashSlots, order chan<- string, name, account string, strangers, belonging int) {
	t.Helper()
	go takeSlot(t, s, order, name, account)
	waitQueued(t, s, strangers, belonging)
}

// takeSlot waits for a slot as account, reports name on order once it has
// it, and gives it back.
func takeSlot(t *testing.T, s *hashSlots, order chan<- string, name, account string) {
	if err := s.acquire(t.Context(), account); err != nil {
		t.Errorf("%s: %v", name, err)
		return
	}
	order <- name
	s.release(0)
}

// wantOrder checks the order in which the slot went round.
func wantOrder(t *testing.T, order <-chan string, names ...string) {
	t.Helper()
	for _, want := range names {
		select {
		case got := <-order:
			if got != want {
				t.Errorf("got %s next, want %s", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("nobody took the slot; want %s", want)
		}
	}
}

// waitFree waits until s has n free slots: the last waiter gives its slot
// back after it reported.
func waitFree(t *testing.T, s *hashSlots, n int) {
	t.Helper()
	for range 1000 {
		s.mu.Lock()
		free := s.free
		s.mu.Unlock()
		if free == n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Errorf("free slots after all: want %d", n)
}

// waitQueued waits until s has the given numbers of waiting strangers and
// waiting requests of those who belong.
func waitQueued(t *testing.T, s *hashSlots, strangers, belonging int) {
	t.Helper()
	for range 1000 {
		s.mu.Lock()
		n := 0
		for _, q := range s.accounts {
			n += len(q)
		}
		got := len(s.strangers) == strangers && s.belonging == belonging && n == belonging
		s.mu.Unlock()
		if got {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the queues never had %d strangers and %d who belong", strangers, belonging)
}

// TestHashSlotsRefuseWhoWouldBeLate: when a slot frees up, a waiter whose
// deadline is closer than the time a slot has lately been held is refused
// with errHashesBusy rather than hashed after its request ended, and the
// slot goes to the next waiter; before any hash has ended, nobody is.
func TestHashSlotsRefuseWhoWouldBeLate(t *testing.T) {
	s := busySlot(t, 4, 4)
	order := make(chan string, 2)
	late := make(chan error, 1)
	soon, cancel := context.WithTimeout(t.Context(), 30*time.Minute)
	defer cancel()
	go func() { late <- s.acquire(soon, "owner") }()
	waitQueued(t, s, 0, 1)
	enqueue(t, s, order, "stranger", "", 1, 1)

	s.release(time.Hour) // a slot lately takes an hour: the owner would be late
	select {
	case err := <-late:
		if !errors.Is(err, errHashesBusy) {
			t.Errorf("a waiter whose deadline is closer than a hash: got %v, want errHashesBusy", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the late waiter was never answered")
	}
	wantOrder(t, order, "stranger")
	waitFree(t, s, 1)

	fresh := busySlot(t, 4, 4)
	go func() { late <- fresh.acquire(soon, "owner") }()
	waitQueued(t, fresh, 0, 1)
	fresh.release(0) // no hash has ended yet: no average to be late by
	if err := <-late; err != nil {
		t.Errorf("with no hash timed yet: got %v, want the slot", err)
	}
}

// TestHashSlotsQueueAsManyAccountsAsTheTimeoutServes: the queues of those
// who belong hold as many as the slots can serve within the request
// timeout at the recent hash time, when that is more than their depth, so
// that a flood from many accounts holding a place each does not refuse
// the owner at once; past that the owner is refused.
func TestHashSlotsQueueAsManyAccountsAsTheTimeoutServes(t *testing.T) {
	s := busySlot(t, 2, 4)
	s.timeout, s.held, s.fastest = 10*time.Second, 5*time.Second, 2*time.Second // 5 places
	order := make(chan string, 7)
	enqueue(t, s, order, "stranger 1", "", 1, 0)
	enqueue(t, s, order, "stranger 2", "", 2, 0) // the strangers' queue is full
	for i, name := range []string{"a", "b", "c", "d", "owner"} {
		enqueue(t, s, order, name, name, 2, i+1)
	}
	if err := s.acquire(t.Context(), "late"); !errors.Is(err, errHashesBusy) {
		t.Errorf("a sixth account past what 10 s serve at 2 s a hash: got %v, want errHashesBusy", err)
	}
	s.timeout = time.Hour
	if got := s.belongingPlaces(); got != 8 {
		t.Errorf("places for an hour's timeout: got %d, want at most 4 × the depth, 8", got)
	}
	s.release(0)
	wantOrder(t, order, "a", "b", "c", "d", "owner", "stranger 1", "stranger 2")
	waitFree(t, s, 1)

	// Hashes slowed down by a flood do not shrink the queue: it is sized by
	// the fastest.
	fresh := newHashSlots(1)
	fresh.timeout = 10 * time.Second
	fresh.release(10 * time.Millisecond) // 1,000 places, of at most 512
	for range 100 {
		fresh.release(time.Second)
	}
	if got := fresh.belongingPlaces(); got != 512 {
		t.Errorf("places after 100 hashes of a second: got %d, want the 512 of the fastest, 10 ms", got)
	}
}
