package ihoprauth

import (
	"context"
	"sync"
	"time"
)

// purgeBatch is how many rows one Purge call may delete, so that cleanup
// never holds a big table locked for long.
const purgeBatch = 500

// Cleanup deletes what can no longer be used: expired codes and auth codes,
// tokens past their refresh lifetime or revoked, stale throttle counters,
// and audit events older than Config.EventRetention. It works in batches of
// a few hundred rows until nothing is left, and returns how many rows it
// deleted. Rows are kept for a day after they stop working, so throttles
// and reuse detection still see them.
func (a *Auth) Cleanup(ctx context.Context) (int, error) {
	now := a.now()
	before := now.Add(-24 * time.Hour)
	var eventsBefore time.Time
	if a.cfg.EventRetention > 0 {
		eventsBefore = now.Add(-a.cfg.EventRetention)
	}
	total := 0
	for {
		n, err := a.store.Purge(ctx, before, eventsBefore, purgeBatch)
		total += n
		if err != nil || n < purgeBatch {
			return total, err
		}
	}
}

// StartCleanup runs Cleanup every interval in the background until the
// returned stop is called; stop waits for a run in progress to end. Errors
// go to Config.OnError. Every instance may run it: the deletes are
// idempotent.
func (a *Auth) StartCleanup(interval time.Duration) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				if _, err := a.Cleanup(ctx); err != nil && ctx.Err() == nil {
					a.cfg.OnError(ctx, err)
				}
			}
		}
	}()
	return func() { cancel(); wg.Wait() }
}
