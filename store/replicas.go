package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// A Store with Config.Replicas sends two named reads to a PostgreSQL hot
// standby when a replication delay cannot make them wrong, and every
// other statement to the primary (docs/design.md, D45). The two are the
// reads of every request that the token and project caches stand in for:
// TokenUser, the bearer check's, and ProjectByClientID. The caches are
// kept right by the change feed (D7), and a replica read is allowed only
// while it is at least as fresh as the feed:
//
//   - the feed was read (Changes) within feedFresh, and that read noted
//     the primary's WAL insert position after it had read the changes;
//   - the replica has replayed the WAL up to that position, so every change
//     the feed has applied, and everything committed before it, is
//     visible there;
//   - the row read is not of a user or project that a transaction of this
//     Store changed (appended a change for) after the last read of the
//     feed began: the instance that revokes reads its own revocation at
//     once, from the primary, until the feed's position covers it.
//
// Outside those, and when the replica is down, answers an error or does
// not know the row (a token issued a moment ago), the read goes to the
// primary.
type replicaSet struct {
	dbs  []*replica
	next atomic.Uint64 // round robin over dbs
	// feedAt is time.Now() of the last successful Changes, in Unix
	// nanoseconds; minLSN the primary's WAL insert position that it noted.
	feedAt atomic.Int64
	minLSN atomic.Int64
	// ownSeq counts the commits through this Store that appended a
	// change; covered is what ownSeq was when the last successful Changes
	// began. mine holds, for each user and project those commits changed,
	// the ownSeq of the last; one above covered may not have reached the
	// replicas yet.
	ownSeq, covered atomic.Uint64
	mu              sync.Mutex
	mine            map[ihoprauth.Change]uint64 // by UserID or ProjectID alone
	// Counts for ReplicaStats.
	served, primary atomic.Int64
}

// replica is one standby of a replicaSet.
type replica struct {
	name string // "replica 1", for the log
	db   *sql.DB
	// lsn is the last replay position seen there: replay only moves
	// forward, so a position above lsn needs no new question.
	lsn       atomic.Int64
	downUntil atomic.Int64 // Unix nanoseconds; a read before it goes to the primary
}

const (
	// feedFresh is how old the last read of the feed may be for a replica
	// to be read: the token cache's own limit (feedStale in package
	// ihoprauth), so a replica read is never staler than a cache hit.
	feedFresh = 750 * time.Millisecond
	// replicaRest is how long a replica that failed is left alone.
	replicaRest = 2 * time.Second
)

// ReplicaStats counts the reads that Config.Replicas may serve, since New.
// Both are zero on a Store without replicas.
type ReplicaStats struct {
	// Replica counts the reads a replica answered.
	Replica int64
	// Primary counts those that went to the primary instead: the feed was
	// not read lately, the replica was behind, down or failed, or it did
	// not have the row.
	Primary int64
}

// ReplicaStats returns the counts of the reads that may go to a replica;
// see Config.Replicas.
func (s *Store) ReplicaStats() ReplicaStats {
	if s.replicas == nil {
		return ReplicaStats{}
	}
	return ReplicaStats{Replica: s.replicas.served.Load(), Primary: s.replicas.primary.Load()}
}

// newReplicaSet checks that primary and every replica are PostgreSQL and
// bounds the replicas' pools to n connections, as New does the primary's.
func newReplicaSet(primary *gorm.DB, dbs []*gorm.DB, n int) (*replicaSet, error) {
	if len(dbs) == 0 {
		return nil, nil
	}
	if primary.Dialector.Name() != "postgres" {
		return nil, fmt.Errorf("store: Replicas: replicas are supported on PostgreSQL only, not %s", primary.Dialector.Name())
	}
	rs := &replicaSet{mine: map[ihoprauth.Change]uint64{}}
	for i, db := range dbs {
		if db == nil || db.Dialector.Name() != "postgres" {
			return nil, fmt.Errorf("store: Replicas[%d]: not a PostgreSQL database", i)
		}
		if err := boundPool(db, n); err != nil {
			return nil, err
		}
		sqlDB, err := db.DB()
		if err != nil {
			return nil, fmt.Errorf("store: Replicas[%d]: %w", i, err)
		}
		rs.dbs = append(rs.dbs, &replica{name: fmt.Sprintf("replica %d", i+1), db: sqlDB})
	}
	return rs, nil
}

// readRow is row for the reads that a replica may answer: on a replica
// when chooseReplica allows it, else, or when the replica fails or has no
// such row (unless st.replicaMissIsFinal), or the row is of a user or
// project that this Store changed lately (of reports which, from the row
// read), on the primary.
func (s *Store) readRow(ctx context.Context, st *statement, of func() ihoprauth.Change, dest []any, args ...any) error {
	if r, covered := s.chooseReplica(ctx); r != nil {
		err := r.db.QueryRowContext(ctx, st.sql, args...).Scan(dest...)
		switch {
		case err == nil && !s.replicas.changedSince(of(), covered):
			s.replicas.served.Add(1)
			return nil
		case err == nil:
		case errors.Is(err, sql.ErrNoRows) && st.replicaMissIsFinal:
			return fmt.Errorf("store: %s: %w", st.op, ihoprauth.ErrNotFound)
		case ctx.Err() != nil:
			return s.wrap(st.op, err)
		case !errors.Is(err, sql.ErrNoRows):
			s.rest(r, st.op, err)
		}
	}
	if s.replicas != nil {
		s.replicas.primary.Add(1)
	}
	return s.row(ctx, st, dest, args...)
}

// chooseReplica returns the replica to read, or nil for the primary, and
// the value of covered that the position it has replayed goes with.
func (s *Store) chooseReplica(ctx context.Context) (*replica, uint64) {
	rs := s.replicas
	if rs == nil || s.inTx || time.Since(time.Unix(0, rs.feedAt.Load())) >= feedFresh {
		return nil, 0
	}
	// covered before minLSN: noteFeed stores them the other way round, so
	// this covered comes with a position at least as far as its own.
	covered := rs.covered.Load()
	need := rs.minLSN.Load()
	r := rs.dbs[rs.next.Add(1)%uint64(len(rs.dbs))]
	if time.Now().UnixNano() < r.downUntil.Load() {
		return nil, 0
	}
	if r.lsn.Load() >= need {
		return r, covered
	}
	// Ask before reading: the read's snapshot is then at least as new as
	// the position this answers.
	var lsn int64
	err := r.db.QueryRowContext(ctx, "SELECT COALESCE((pg_last_wal_replay_lsn() - '0/0'::pg_lsn)::bigint, -1)").Scan(&lsn)
	if err != nil {
		if ctx.Err() == nil {
			s.rest(r, "replay position", err)
		}
		return nil, 0
	}
	storeMax(&r.lsn, lsn)
	if lsn >= need {
		return r, covered
	}
	return nil, 0
}

// rest leaves r alone for replicaRest after it failed op with err, and
// says so in the log once for each rest.
func (s *Store) rest(r *replica, op string, err error) {
	until := time.Now().Add(replicaRest).UnixNano()
	if old := r.downUntil.Load(); old < time.Now().UnixNano() && r.downUntil.CompareAndSwap(old, until) {
		r.lsn.Store(0)
		s.log.Warn("ihoprauth store: a replica failed; its reads go to the primary for a while",
			"replica", r.name, "op", op, "rest", replicaRest, "err", err)
	}
}

// noteFeed records a successful read of the feed that began when ownSeq
// was seq: the primary's WAL insert position now, read after the changes,
// is what a replica must have replayed to be read.
func (s *Store) noteFeed(ctx context.Context, seq uint64) error {
	rs := s.replicas
	var lsn int64
	if err := s.db.WithContext(ctx).Raw("SELECT (pg_current_wal_insert_lsn() - '0/0'::pg_lsn)::bigint").Row().Scan(&lsn); err != nil {
		return s.wrap("WAL position", err)
	}
	storeMax(&rs.minLSN, lsn)
	storeMax64(&rs.covered, seq)
	rs.feedAt.Store(time.Now().UnixNano())
	covered := rs.covered.Load()
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for c, n := range rs.mine {
		if n <= covered {
			delete(rs.mine, c)
		}
	}
	return nil
}

// noteChangesCommitted records that a transaction of this Store that
// appended changes has committed: until a read of the feed that began
// after this covers them, their users' and projects' rows are read on the
// primary.
func (s *Store) noteChangesCommitted(changes []ihoprauth.Change) {
	rs := s.replicas
	if rs == nil || len(changes) == 0 {
		return
	}
	seq := rs.ownSeq.Add(1)
	rs.mu.Lock()
	defer rs.mu.Unlock()
	for _, c := range changes {
		rs.mine[changeKey(c)] = seq
	}
}

// changedSince reports whether a transaction of this Store changed c's
// user or project after the read of the feed whose covered it was began:
// the replica's position may then be short of that change.
func (rs *replicaSet) changedSince(c ihoprauth.Change, covered uint64) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	n, ok := rs.mine[changeKey(c)]
	return ok && n > covered
}

// changeKey is c with only what names its user or project.
func changeKey(c ihoprauth.Change) ihoprauth.Change {
	return ihoprauth.Change{UserID: c.UserID, ProjectID: c.ProjectID}
}

// storeMax raises v to x if x is larger.
func storeMax(v *atomic.Int64, x int64) {
	for old := v.Load(); old < x && !v.CompareAndSwap(old, x); old = v.Load() {
	}
}

// storeMax64 raises v to x if x is larger.
func storeMax64(v *atomic.Uint64, x uint64) {
	for old := v.Load(); old < x && !v.CompareAndSwap(old, x); old = v.Load() {
	}
}
