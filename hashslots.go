package ihoprauth

import (
	"context"
	"net/http"
	"slices"
	"sync"
)

// hashSlots lets at most n password hashes run at once (argon2id holds
// its memory for the whole hash) and decides who goes next when one ends:
// a request that has shown it belongs first (a source known to the account,
// a verified reset code, a logged-in user), then everyone else in order of
// arrival. So a flood of password guesses against made-up accounts, which
// no per-account limit sees, delays only other strangers: the owner's
// known device or address waits for the hashes already running, not for
// the queue (docs/design.md, D24). Strangers queue up to maxQueue deep,
// 64 per slot and at least 128 (about 4 s of waiting behind one slot at the
// default cost, well within RequestTimeout; a storm of 100 logins is
// queued, not refused); past that they get 503 with Retry-After at once
// instead of waiting out the request timeout. Those who belong queue as
// deep, apart. So the queues also bound the memory of requests waiting
// for a hash, whatever the number of requests: a waiter holds its
// goroutine and its decoded request, whose body MaxBodyBytes caps.
type hashSlots struct {
	mu       sync.Mutex
	free     int
	waiting  [2][]chan struct{} // first those who belong, then the others
	maxQueue int
}

// errHashesBusy answers a stranger when the hash queue is full.
var errHashesBusy = &Error{Status: http.StatusServiceUnavailable, Message: "The service is busy. Try again shortly.", RetryAfter: 1}

func newHashSlots(n int) *hashSlots {
	return &hashSlots{free: n, maxQueue: max(128, 64*n)}
}

// acquire waits for a slot, ahead of every stranger when first is set, or
// answers errHashesBusy when its queue is full.
func (s *hashSlots) acquire(ctx context.Context, first bool) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	p := 1
	if first {
		p = 0
	}
	if len(s.waiting[p]) >= s.maxQueue {
		s.mu.Unlock()
		return errHashesBusy
	}
	ch := make(chan struct{})
	s.waiting[p] = append(s.waiting[p], ch)
	s.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		if i := slices.Index(s.waiting[p], ch); i >= 0 {
			s.waiting[p] = slices.Delete(s.waiting[p], i, i+1)
			s.mu.Unlock()
			return ctx.Err()
		}
		s.mu.Unlock()
		s.release() // the slot came as the context ended: pass it on
		return ctx.Err()
	}
}

// release hands the slot to the next waiter, or frees it.
func (s *hashSlots) release() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for p := range s.waiting {
		if len(s.waiting[p]) > 0 {
			ch := s.waiting[p][0]
			s.waiting[p] = s.waiting[p][1:]
			close(ch)
			return
		}
	}
	s.free++
}
