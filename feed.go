package ihoprauth

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The change feed keeps every instance's token and project caches right
// (docs/design.md, D7). Every revocation and every change of a user goes
// through revokeInTx, and every change of a project through changeProject,
// which append a Change in the same transaction; every instance with a
// cache reads the feed every feedInterval and drops the logins of the
// users it names, and its projects when it names one. A read asks for the changes stamped since
// the database's clock at the last read, less feedOverlap: a transaction
// stamps its change when it writes it and may commit up to its request's
// timeout later, so the window reaches back that far, and changes already
// applied are known by ID. An instance whose last successful read is older
// than feedStale does not trust its cache and reads the database instead,
// so a feed that fails cannot leave a revoked token accepted.

const (
	// feedInterval is how often the feed is read.
	feedInterval = 250 * time.Millisecond
	// feedStale is how old the last successful read may be before the
	// cache is bypassed.
	feedStale = 750 * time.Millisecond
)

// feed is an instance's reader of the change feed.
type feed struct {
	mu      sync.Mutex
	since   time.Time           // the database's clock at the last read
	applied map[int64]time.Time // changes applied, by ID, with their stamp
	lastOK  atomic.Int64        // Auth.now() of the last successful read, in Unix nanoseconds
	stop    func()              // ends the background reads; nil when there are none
}

// feedOverlap is how far back each read reaches before the last one: the
// longest a transaction may take between stamping a change and committing
// it (a request's timeout), and a margin.
func (a *Auth) feedOverlap() time.Duration {
	if a.cfg.RequestTimeout <= 0 || a.cfg.RequestTimeout > time.Hour {
		return time.Minute
	}
	return a.cfg.RequestTimeout + 5*time.Second
}

// startFeed reads the feed on every tick of ticks until stopFeed. It does
// nothing without a token cache.
func (a *Auth) startFeed(ticks <-chan time.Time, stopTicks func()) {
	if a.cache == nil || ticks == nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() {
		defer stopTicks()
		for {
			select {
			case <-ctx.Done():
				return
			case <-ticks:
				if err := a.pollFeed(ctx); err != nil && ctx.Err() == nil {
					a.cfg.OnError(ctx, err)
				}
			}
		}
	})
	a.feed.stop = func() { cancel(); wg.Wait() }
}

// stopFeed ends the background reads and waits for one in progress.
func (a *Auth) stopFeed() {
	if a.feed.stop != nil {
		a.feed.stop()
	}
}

// pollFeed reads the changes since the last read and drops the cached
// logins of the users they name.
func (a *Auth) pollFeed(ctx context.Context) error {
	f := &a.feed
	f.mu.Lock()
	defer f.mu.Unlock()
	since := f.since.Add(-a.feedOverlap())
	if f.since.IsZero() {
		// The first read: the cache is empty, so only the window matters.
		since = a.now().Add(-a.feedOverlap() - time.Minute)
	}
	ctx, cancel := context.WithTimeout(ctx, feedStale)
	defer cancel()
	changes, now, err := a.store.Changes(ctx, since)
	if err != nil {
		return err
	}
	if f.applied == nil {
		f.applied = map[int64]time.Time{}
	}
	for _, c := range changes {
		if _, done := f.applied[c.ID]; !done {
			if c.ProjectID != 0 {
				a.projects.forget()
			} else {
				a.cache.forgetUser(c.UserID)
			}
			f.applied[c.ID] = c.At
		}
	}
	for id, at := range f.applied {
		if at.Before(since) {
			delete(f.applied, id)
		}
	}
	f.since = now
	f.lastOK.Store(a.now().UnixNano())
	return nil
}

// feedFresh reports whether the feed was read successfully within
// feedStale, so that the cache may be trusted.
func (a *Auth) feedFresh(now time.Time) bool {
	return now.UnixNano()-a.feed.lastOK.Load() < int64(feedStale)
}
