package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// hitters is how many goroutines call Hit on one key at once.
const hitters = 50

func testCounters(t *testing.T, newStore newStoreFunc) {
	t.Run("Hit", testHit(newStore))
	t.Run("Hit concurrent", testHitConcurrent(newStore))
	t.Run("Counter absent", testCounterAbsent(newStore))
	t.Run("ResetCounter", testResetCounter(newStore))
	t.Run("Unhit", testUnhit(newStore))
	t.Run("Unhit concurrent", func(t *testing.T) {
		s, ctx, key := newStore(t), t.Context(), hash("unhit concurrent")
		for i := range racers {
			if _, err := s.Hit(ctx, key, t0.Add(time.Duration(i)*time.Millisecond), time.Hour); err != nil {
				t.Fatalf("Hit: %v", err)
			}
		}
		race(t, func() (bool, error) { return false, s.Unhit(ctx, key) })
		got, err := s.Counter(ctx, key)
		if err != nil || got.Count != 0 {
			t.Errorf("after %d hits and %d concurrent Unhits: got count %d, error %v, want 0", racers, racers, got.Count, err)
		}
	})
	t.Run("keys are independent", testCounterKeys(newStore))
}

// hitStep is one call of Hit, at t0 plus at, and the counter it must
// return: count hits in the window that began at t0 plus windowStart, the
// last at t0 plus at.
type hitStep struct {
	at, windowStart time.Duration
	count           int
}

func testHit(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		const µs = time.Microsecond
		// t0 is 123456µs past a second: 876544µs after it a second begins,
		// which some stores write without a fraction.
		const toSecond = 876544 * µs
		tests := []struct {
			name   string
			window time.Duration
			steps  []hitStep
		}{
			{"first hit starts at 1", time.Minute, []hitStep{{0, 0, 1}}},
			{"grows within the window", time.Minute, []hitStep{
				{0, 0, 1}, {10 * time.Second, 0, 2}, {time.Minute - µs, 0, 3},
			}},
			{"restarts when the window has just passed", time.Minute, []hitStep{
				{0, 0, 1}, {30 * time.Second, 0, 2}, {time.Minute, time.Minute, 1},
			}},
			{"restarts long after the window", time.Minute, []hitStep{
				{0, 0, 1}, {0, 0, 2}, {time.Hour, time.Hour, 1},
			}},
			{"grows in the new window", time.Minute, []hitStep{
				{0, 0, 1}, {90 * time.Second, 90 * time.Second, 1},
				{100 * time.Second, 90 * time.Second, 2}, {150*time.Second - µs, 90 * time.Second, 3},
				{150 * time.Second, 150 * time.Second, 1},
			}},
			{"LastAt follows now even backwards", time.Minute, []hitStep{
				{0, 0, 1}, {20 * time.Second, 0, 2}, {5 * time.Second, 0, 3},
			}},
			{"whole seconds against fractions", time.Second, []hitStep{
				{0, 0, 1}, {toSecond, 0, 2}, {time.Second, time.Second, 1},
				{time.Second + toSecond, time.Second, 2}, {2*time.Second + toSecond, 2*time.Second + toSecond, 1},
				{3*time.Second + toSecond - µs, 2*time.Second + toSecond, 2}, {3*time.Second + toSecond, 3*time.Second + toSecond, 1},
				{4*time.Second + toSecond + µs, 4*time.Second + toSecond + µs, 1},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, ctx, key := newStore(t), t.Context(), hash(tt.name)
				var want ihoprauth.Counter
				for i, step := range tt.steps {
					want = ihoprauth.Counter{Key: key, Count: step.count,
						WindowStart: t0.Add(step.windowStart), LastAt: t0.Add(step.at)}
					got, err := s.Hit(ctx, key, t0.Add(step.at), tt.window)
					if err != nil {
						t.Fatalf("hit %d: got error %v, want nil", i+1, err)
					}
					t.Run(fmt.Sprint("hit ", i+1), func(t *testing.T) { checkEqual(t, got, want) })
				}
				checkCounter(t, s, want)
			})
		}
	}
}

func testHitConcurrent(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		s, ctx, key := newStore(t), t.Context(), hash("raced")
		var (
			mu     sync.Mutex
			counts []int
		)
		raceN(t, hitters, func() (bool, error) {
			c, err := s.Hit(ctx, key, t0, time.Minute)
			mu.Lock()
			counts = append(counts, c.Count)
			mu.Unlock()
			return false, err
		})
		checkCounter(t, s, ihoprauth.Counter{Key: key, Count: hitters, WindowStart: t0, LastAt: t0})
		// Each hit returns the counter it left, so no two see the same count.
		slices.Sort(counts)
		for i, got := range counts {
			if got != i+1 {
				t.Fatalf("counts returned by %d concurrent hits, sorted: got %v, want 1 to %d", hitters, counts, hitters)
			}
		}
	}
}

func testCounterAbsent(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		if _, err := s.Hit(ctx, hash("present"), t0, time.Minute); err != nil {
			t.Fatalf("Hit: %v", err)
		}
		for _, key := range []string{hash("absent"), ""} {
			checkCounter(t, s, ihoprauth.Counter{Key: key})
		}
	}
}

func testResetCounter(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name string
			hits int
		}{
			{"absent counter", 0},
			{"one hit", 1},
			{"three hits", 3},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, ctx, key := newStore(t), t.Context(), hash("reset")
				for i := range tt.hits {
					if _, err := s.Hit(ctx, key, t0.Add(time.Duration(i)*time.Second), time.Minute); err != nil {
						t.Fatalf("Hit: %v", err)
					}
				}
				if err := s.ResetCounter(ctx, key); err != nil {
					t.Fatalf("ResetCounter: got error %v, want nil", err)
				}
				checkCounter(t, s, ihoprauth.Counter{Key: key})
				later := t0.Add(10 * time.Second)
				got, err := s.Hit(ctx, key, later, time.Minute)
				if err != nil {
					t.Fatalf("Hit after ResetCounter: got error %v, want nil", err)
				}
				checkEqual(t, got, ihoprauth.Counter{Key: key, Count: 1, WindowStart: later, LastAt: later})
			})
		}
	}
}

func testUnhit(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		tests := []struct {
			name      string
			hits      int
			wantCount int
		}{
			{"absent counter", 0, 0},
			{"one hit", 1, 0},
			{"three hits", 3, 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s, ctx, key := newStore(t), t.Context(), hash("unhit")
				var last ihoprauth.Counter
				for i := range tt.hits {
					var err error
					if last, err = s.Hit(ctx, key, t0.Add(time.Duration(i)*time.Second), time.Minute); err != nil {
						t.Fatalf("Hit: %v", err)
					}
				}
				if err := s.Unhit(ctx, key); err != nil {
					t.Fatalf("Unhit: got error %v, want nil", err)
				}
				if err := s.Unhit(ctx, hash("never hit")); err != nil {
					t.Fatalf("Unhit of an absent key: got error %v, want nil", err)
				}
				want := last
				want.Key, want.Count = key, tt.wantCount
				checkCounter(t, s, want)
			})
		}
	}
}

// testCounterKeys checks that hits, counts and resets under one key leave
// the others alone, including keys that differ only in case or length.
func testCounterKeys(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		s, ctx := newStore(t), t.Context()
		long := hash("key")
		keys := []struct {
			key  string
			hits int
		}{
			{long, 3},
			{strings.ToUpper(long), 2},
			{long[:32], 1},
			{"reset", 4},
		}
		for i, k := range keys {
			for range k.hits {
				if _, err := s.Hit(ctx, k.key, t0.Add(time.Duration(i)*time.Second), time.Minute); err != nil {
					t.Fatalf("Hit(%q): %v", k.key, err)
				}
			}
		}
		if err := s.ResetCounter(ctx, "reset"); err != nil {
			t.Fatalf("ResetCounter: %v", err)
		}
		for i, k := range keys {
			want := ihoprauth.Counter{Key: k.key}
			if k.key != "reset" {
				at := t0.Add(time.Duration(i) * time.Second)
				want.Count, want.WindowStart, want.LastAt = k.hits, at, at
			}
			checkCounter(t, s, want)
		}
	}
}

// checkCounter checks that Counter returns want.
func checkCounter(t *testing.T, s ihoprauth.Store, want ihoprauth.Counter) {
	t.Helper()
	got, err := s.Counter(t.Context(), want.Key)
	if err != nil {
		t.Fatalf("Counter(%q): got error %v, want nil", want.Key, err)
	}
	checkEqual(t, got, want)
}
