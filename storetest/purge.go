package storetest

import (
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// The cutoffs the purge tests pass: rows of every kind dated just before
// and at purgeBefore, and events dated around purgeEventsBefore, which is
// earlier, so that a store that used one cutoff for the other is caught.
var (
	purgeBefore       = t0.Add(time.Hour)
	purgeEventsBefore = t0
)

// purgeRow is one row of a purge fixture: whether Purge must delete it,
// and how to tell whether it is still there.
type purgeRow struct {
	name   string
	dead   bool
	exists func() (bool, error)
}

func testPurge(t *testing.T, newStore newStoreFunc) {
	t.Run("deletes what is dead, keeps what lives", testPurgeRows(newStore))
	t.Run("zero eventsBefore keeps every event", testPurgeKeepsEvents(newStore))
	t.Run("limit", testPurgeLimit(newStore))
	t.Run("concurrent", testPurgeConcurrent(newStore))
}

func testPurgeRows(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		elsewhere := time.FixedZone("UTC-5", -5*60*60)
		tests := []struct {
			name                 string
			before, eventsBefore time.Time
		}{
			{"cutoffs in UTC+2", purgeBefore, purgeEventsBefore},
			{"cutoffs in UTC-5", purgeBefore.In(elsewhere), purgeEventsBefore.In(elsewhere)},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, newStore)
				rows := f.createPurgeRows(t)
				n, err := f.store.Purge(f.ctx, tt.before, tt.eventsBefore, 100)
				if want := countDead(rows); err != nil || n != want {
					t.Errorf("Purge: got %d, error %v, want %d, nil", n, err, want)
				}
				checkPurged(t, rows, func(r purgeRow) bool { return r.dead })
			})
		}
	}
}

func testPurgeKeepsEvents(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		rows := f.createPurgeRows(t)
		isEvent := func(r purgeRow) bool { return strings.HasPrefix(r.name, "event ") }
		want := 0
		for _, r := range rows {
			if r.dead && !isEvent(r) {
				want++
			}
		}
		n, err := f.store.Purge(f.ctx, purgeBefore, time.Time{}, 100)
		if err != nil || n != want {
			t.Errorf("Purge: got %d, error %v, want %d, nil", n, err, want)
		}
		checkPurged(t, rows, func(r purgeRow) bool { return r.dead && !isEvent(r) })
	}
}

// testPurgeLimit purges with several limits, fewer and more than the dead
// rows, which lie in several tables: each call must delete as many as it
// may and no more, and calling until a call returns less than the limit
// must delete every dead row and nothing else.
func testPurgeLimit(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		for _, limit := range []int{0, 1, 2, 5, 100} {
			t.Run(fmt.Sprint("limit ", limit), func(t *testing.T) {
				f := newFixture(t, newStore)
				rows := f.createPurgeRows(t)
				dead, total := countDead(rows), 0
				for call := 1; call <= dead+2; call++ {
					n, err := f.store.Purge(f.ctx, purgeBefore, purgeEventsBefore, limit)
					if want := min(limit, dead-total); err != nil || n != want {
						t.Fatalf("call %d: got %d, error %v, want %d, nil", call, n, err, want)
					}
					total += n
					if gone := countGone(t, rows); gone != total {
						t.Fatalf("call %d: got %d rows gone, want %d", call, gone, total)
					}
					if n < limit || limit == 0 {
						break
					}
				}
				if limit == 0 {
					return
				}
				checkPurged(t, rows, func(r purgeRow) bool { return r.dead })
			})
		}
	}
}

// testPurgeConcurrent purges from several goroutines at once: each dead row
// must be counted by exactly one of them.
func testPurgeConcurrent(newStore newStoreFunc) func(*testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, newStore)
		rows := f.createPurgeRows(t)
		var total atomic.Int64
		raceN(t, 5, func() (bool, error) {
			n, err := f.store.Purge(f.ctx, purgeBefore, purgeEventsBefore, 100)
			total.Add(int64(n))
			return false, err
		})
		if got, want := int(total.Load()), countDead(rows); got != want {
			t.Errorf("rows deleted, summed over concurrent calls: got %d, want %d", got, want)
		}
		checkPurged(t, rows, func(r purgeRow) bool { return r.dead })
	}
}

// createPurgeRows creates, besides the fixture's project and user, rows of
// every kind that Purge deletes, some of them dead as of purgeBefore and
// purgeEventsBefore and some not.
func (f *fixture) createPurgeRows(t *testing.T) []purgeRow {
	t.Helper()
	var rows []purgeRow
	rows = append(rows, f.createPurgeChallenges(t)...)
	rows = append(rows, f.createPurgeAuthCodes(t)...)
	rows = append(rows, f.createPurgeTokens(t)...)
	rows = append(rows, f.createPurgeCounters(t)...)
	rows = append(rows, f.createPurgeSources(t)...)
	rows = append(rows, f.createPurgeEvents(t)...)
	return rows
}

func (f *fixture) createPurgeChallenges(t *testing.T) []purgeRow {
	t.Helper()
	tests := []struct {
		name      string
		expiresAt time.Time
		used      bool
		dead      bool
	}{
		{"challenge expired", purgeBefore.Add(-time.Microsecond), false, true},
		{"challenge used and expired", purgeBefore.Add(-time.Hour), true, true},
		{"challenge expiring at the cutoff", purgeBefore, false, false},
		{"challenge used, not expired", purgeBefore.Add(time.Minute), true, false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		c := f.newChallenge(ihoprauth.PurposeOTP, tt.name)
		c.ExpiresAt = tt.expiresAt
		if tt.used {
			c.UsedAt = ptr(t0)
		}
		if err := f.store.CreateChallenge(f.ctx, &c); err != nil {
			t.Fatalf("CreateChallenge: %v", err)
		}
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			_, err := f.store.ChallengeByToken(f.ctx, c.Purpose, c.TokenHash)
			return found(err)
		}})
	}
	return rows
}

func (f *fixture) createPurgeAuthCodes(t *testing.T) []purgeRow {
	t.Helper()
	tests := []struct {
		name      string
		expiresAt time.Time
		dead      bool
	}{
		{"auth code expired", purgeBefore.Add(-time.Microsecond), true},
		{"auth code expiring at the cutoff", purgeBefore, false},
		{"auth code not expired", purgeBefore.Add(time.Minute), false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		c := f.newAuthCode(tt.name)
		c.ExpiresAt = tt.expiresAt
		if err := f.store.CreateAuthCode(f.ctx, &c); err != nil {
			t.Fatalf("CreateAuthCode: %v", err)
		}
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			_, err := f.store.AuthCodeByHash(f.ctx, c.Hash)
			return found(err)
		}})
	}
	return rows
}

func (f *fixture) createPurgeTokens(t *testing.T) []purgeRow {
	t.Helper()
	justBefore, later := purgeBefore.Add(-time.Microsecond), purgeBefore.Add(24*time.Hour)
	tests := []struct {
		name                   string
		refreshExpiresAt       time.Time
		refreshedAt, revokedAt *time.Time
		dead                   bool
	}{
		{"token whose refresh token expired", justBefore, nil, nil, true},
		{"token revoked before the cutoff", later, nil, &justBefore, true},
		{"token refreshed, its refresh token expired", justBefore, ptr(t0), nil, true},
		{"token whose refresh token expires at the cutoff", purgeBefore, nil, nil, false},
		{"token revoked at the cutoff", later, nil, &purgeBefore, false},
		{"token refreshed, not expired", later, ptr(t0), nil, false},
		{"token whose access token expired", later, nil, nil, false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		tok := f.newToken(tt.name, tt.name, 0, f.user.ID)
		tok.ExpiresAt = t0.Add(-time.Hour)
		tok.RefreshExpiresAt, tok.RefreshedAt, tok.RevokedAt = tt.refreshExpiresAt, tt.refreshedAt, tt.revokedAt
		if err := f.store.CreateToken(f.ctx, &tok); err != nil {
			t.Fatalf("CreateToken: %v", err)
		}
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			_, err := accessToken(f, tok.AccessHash)
			return found(err)
		}})
	}
	return rows
}

func (f *fixture) createPurgeCounters(t *testing.T) []purgeRow {
	t.Helper()
	tests := []struct {
		name string
		hits []time.Time
		dead bool
	}{
		{"counter last hit before the cutoff", []time.Time{t0, purgeBefore.Add(-time.Microsecond)}, true},
		{"counter last hit at the cutoff", []time.Time{t0.Add(-24 * time.Hour), purgeBefore}, false},
		{"counter hit after the cutoff", []time.Time{purgeBefore.Add(time.Minute)}, false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		key := hash(tt.name)
		for _, at := range tt.hits {
			if _, err := f.store.Hit(f.ctx, key, at, time.Minute); err != nil {
				t.Fatalf("Hit: %v", err)
			}
		}
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			c, err := f.store.Counter(f.ctx, key)
			return c.Count > 0, err
		}})
	}
	return rows
}

func (f *fixture) createPurgeSources(t *testing.T) []purgeRow {
	t.Helper()
	cutoff := purgeBefore.Add(-ihoprauth.KnownSourceTTL)
	tests := []struct {
		name string
		at   time.Time
		dead bool
	}{
		{"source last seen before the cutoff", cutoff.Add(-time.Microsecond), true},
		{"source last seen at the cutoff", cutoff, false},
		{"source seen after the cutoff", purgeBefore.Add(-time.Hour), false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		account, source := hash("account "+tt.name), hash("source "+tt.name)
		if err := f.store.RememberSource(f.ctx, account, source, tt.at); err != nil {
			t.Fatalf("RememberSource: %v", err)
		}
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			_, err := f.store.SourceLastSeen(f.ctx, account, source)
			return found(err)
		}})
	}
	return rows
}

func (f *fixture) createPurgeEvents(t *testing.T) []purgeRow {
	t.Helper()
	tests := []struct {
		name string
		at   time.Time
		dead bool
	}{
		{"event before the events cutoff", purgeEventsBefore.Add(-time.Microsecond), true},
		{"event at the events cutoff", purgeEventsBefore, false},
		{"event after the events cutoff, before the other", purgeBefore.Add(-time.Microsecond), false},
	}
	var rows []purgeRow
	for _, tt := range tests {
		e := f.recordEvent(t, ihoprauth.Event{Kind: tt.name, ProjectID: f.project.ID, IP: "192.0.2.1",
			Result: "ok", At: tt.at})
		rows = append(rows, purgeRow{tt.name, tt.dead, func() (bool, error) {
			events, err := f.store.Events(f.ctx, t0.Add(-24*time.Hour), 100)
			for _, got := range events {
				if got.ID == e.ID {
					return true, err
				}
			}
			return false, err
		}})
	}
	return rows
}

// found turns the error of a lookup into whether it found its row.
func found(err error) (bool, error) {
	if errors.Is(err, ihoprauth.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func countDead(rows []purgeRow) int {
	n := 0
	for _, r := range rows {
		if r.dead {
			n++
		}
	}
	return n
}

// countGone returns how many rows are no longer there; a live row that is
// gone fails t.
func countGone(t *testing.T, rows []purgeRow) int {
	t.Helper()
	gone := 0
	for _, r := range rows {
		exists, err := r.exists()
		if err != nil {
			t.Fatalf("%s: lookup: %v", r.name, err)
		}
		if !exists {
			gone++
			if !r.dead {
				t.Errorf("%s: got deleted, want kept", r.name)
			}
		}
	}
	return gone
}

// checkPurged checks that exactly the rows for which deleted reports true
// are gone.
func checkPurged(t *testing.T, rows []purgeRow, deleted func(purgeRow) bool) {
	t.Helper()
	for _, r := range rows {
		exists, err := r.exists()
		switch {
		case err != nil:
			t.Errorf("%s: lookup: %v", r.name, err)
		case exists == deleted(r):
			t.Errorf("%s: got present %v, want %v", r.name, exists, !deleted(r))
		}
	}
}
