package ihoprauth

import (
	"context"
	"net/http"
	"slices"
	"sync"
	"time"
)

// hashSlots lets at most n password hashes run at once (argon2id holds
// its memory for the whole hash) and decides who goes next when one ends:
// a request that has shown it belongs to an account first (a source known
// to the account, a verified reset code, a logged-in user), then everyone
// else in order of arrival. So a flood of password guesses against made-up
// accounts, which no per-account limit sees, delays only other strangers:
// the owner's known device or address waits for the hashes already
// running, not for the queue (docs/design.md, D24).
//
// Belonging is to one account, and an account's own requests must not
// crowd out another's: anyone may sign up, log in once and then flood
// correct logins of their own account from their own device. So those who
// belong wait in one queue per account, served in turn (one hash for each
// account with a waiter, round and round), and each account holds at most
// perAccount places in them; its requests beyond that wait with the
// strangers. When those queues are full, a newcomer whose account holds
// fewer places takes the newest place of the account that holds the most,
// which is refused. Each other account with a waiter still adds one hash
// to the owner's wait, so floods from RequestTimeout ÷ hash time × slots
// accounts at once, each with a known device, push the owner past the
// request timeout (docs/design.md, D24).
//
// Strangers queue up to maxQueue deep, 64 per slot and at least 128 (about
// 4 s of waiting behind one slot at the default cost, well within
// RequestTimeout; a storm of 100 logins is queued, not refused); past that
// they get 503 with Retry-After at once instead of waiting out the request
// timeout. Those who belong queue apart, as deep, or as many as the slots
// can serve within the request timeout at the fastest hash time, if more,
// up to four times as deep (RequestTimeout ÷ hash time × slots: about 300
// at 10 s and 33 ms): were
// their queue shorter than that, a flood from as many accounts, each
// holding one place, would refuse the owner at once rather than serve it
// late. So the queues also bound the memory of requests waiting for a
// hash, whatever the number of requests: a waiter holds its goroutine and
// its decoded request, whose body MaxBodyBytes caps.
//
// A waiter whose turn comes too late for its hash to end before its
// request's deadline (closer than the time a slot has lately been held)
// is refused with the same 503, and the slot goes to the next: hashing for
// a request that has timed out would only make every waiter behind it
// later.
type hashSlots struct {
	mu         sync.Mutex
	free       int
	accounts   map[string][]*hashWaiter // those who belong, by account, oldest first
	turns      []string                 // the accounts with waiters, in the order they are served
	belonging  int                      // how many wait in accounts
	strangers  []*hashWaiter
	maxQueue   int
	perAccount int
	slots      int
	timeout    time.Duration // the request timeout; 0 for none
	// held is about how long a slot is held, a moving average of the last
	// hashes (0 until the first ends), and fastest the shortest hold yet:
	// hashes slowed by a flood must not shrink the queue of those who
	// belong (belongingPlaces) when it is needed most.
	held, fastest time.Duration
}

// hashWaiter is a request waiting for a slot: its channel gets nil when
// the slot is its, or errHashesBusy when its place was taken.
type hashWaiter struct {
	account  string    // "" for a stranger
	deadline time.Time // the request's; zero for none
	ch       chan error
}

// errHashesBusy answers a stranger when the hash queue is full.
var errHashesBusy = &Error{Status: http.StatusServiceUnavailable, Message: "The service is busy. Try again shortly.", RetryAfter: 1}

func newHashSlots(n int) *hashSlots {
	return &hashSlots{free: n, slots: n, maxQueue: max(128, 64*n), perAccount: max(4, 2*n), accounts: map[string][]*hashWaiter{}}
}

// acquire waits for a slot, ahead of every stranger when account is the
// account the request has shown it belongs to ("" for a stranger), or
// answers errHashesBusy when its queue is full.
func (s *hashSlots) acquire(ctx context.Context, account string) error {
	s.mu.Lock()
	if s.free > 0 {
		s.free--
		s.mu.Unlock()
		return nil
	}
	w := &hashWaiter{ch: make(chan error, 1)}
	w.deadline, _ = ctx.Deadline()
	if !s.queueBelonging(w, account) {
		if len(s.strangers) >= s.maxQueue {
			s.mu.Unlock()
			return errHashesBusy
		}
		s.strangers = append(s.strangers, w)
	}
	s.mu.Unlock()
	select {
	case err := <-w.ch:
		return err
	case <-ctx.Done():
		s.mu.Lock()
		queued := s.remove(w)
		s.mu.Unlock()
		if !queued && <-w.ch == nil {
			s.release(0) // the slot came as the context ended: pass it on
		}
		return ctx.Err()
	}
}

// queueBelonging puts w in account's queue and reports whether it did: not
// for a stranger, nor past the account's places, nor when the queues are
// full and no account holds more places than account would.
func (s *hashSlots) queueBelonging(w *hashWaiter, account string) bool {
	held := len(s.accounts[account])
	if account == "" || held >= s.perAccount {
		return false
	}
	if s.belonging >= s.belongingPlaces() {
		most := ""
		for _, a := range s.turns {
			if len(s.accounts[a]) > len(s.accounts[most]) {
				most = a
			}
		}
		if len(s.accounts[most]) <= held+1 {
			return false
		}
		q := s.accounts[most]
		evicted := q[len(q)-1]
		s.dequeue(most, len(q)-1)
		evicted.ch <- errHashesBusy
	}
	w.account = account
	if held == 0 {
		s.turns = append(s.turns, account)
	}
	s.accounts[account] = append(s.accounts[account], w)
	s.belonging++
	return true
}

// belongingPlaces is how many may wait in the queues of those who belong:
// maxQueue, or as many as the slots serve within the request timeout at
// the fastest hash time, if more, up to four times maxQueue (each waiter
// holds a request body).
func (s *hashSlots) belongingPlaces() int {
	if s.timeout <= 0 || s.fastest <= 0 {
		return s.maxQueue
	}
	return min(max(s.maxQueue, int(s.timeout/s.fastest)*s.slots), 4*s.maxQueue)
}

// remove takes w out of its queue and reports whether it was there.
func (s *hashSlots) remove(w *hashWaiter) bool {
	if w.account == "" {
		i := slices.Index(s.strangers, w)
		if i >= 0 {
			s.strangers = slices.Delete(s.strangers, i, i+1)
		}
		return i >= 0
	}
	q := s.accounts[w.account]
	i := slices.Index(q, w)
	if i < 0 {
		return false
	}
	s.dequeue(w.account, i)
	return true
}

// dequeue takes the i-th waiter out of account's queue, and the account out
// of the turns when that was its last.
func (s *hashSlots) dequeue(account string, i int) {
	q := slices.Delete(s.accounts[account], i, i+1)
	s.belonging--
	if len(q) > 0 {
		s.accounts[account] = q
		return
	}
	delete(s.accounts, account)
	s.turns = slices.DeleteFunc(s.turns, func(a string) bool { return a == account })
}

// release hands the slot to the next waiter whose deadline leaves time for
// a hash, or frees it; held is how long the slot was held for a hash (0
// when none ran). The next waiter is the oldest of the account whose turn
// it is, which then goes to the back of the turns, else the oldest
// stranger.
func (s *hashSlots) release(held time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case held <= 0:
	case s.held == 0:
		s.held, s.fastest = held, held
	default:
		s.held += (held - s.held) / 4
		s.fastest = min(s.fastest, held)
	}
	for w := s.next(); w != nil; w = s.next() {
		if !w.deadline.IsZero() && time.Until(w.deadline) < s.held {
			w.ch <- errHashesBusy
			continue
		}
		w.ch <- nil
		return
	}
	s.free++
}

// next takes the waiter to serve next out of the queues; nil when none
// waits.
func (s *hashSlots) next() *hashWaiter {
	if len(s.turns) > 0 {
		account := s.turns[0]
		w := s.accounts[account][0]
		s.dequeue(account, 0)
		if len(s.accounts[account]) > 0 {
			s.turns = append(s.turns[1:], account)
		}
		return w
	}
	if len(s.strangers) > 0 {
		w := s.strangers[0]
		s.strangers = s.strangers[1:]
		return w
	}
	return nil
}
