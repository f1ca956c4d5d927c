// Package store keeps ihoprauth's projects, users, one-time codes, tokens,
// throttle counters and audit trail in any database GORM supports. It is
// the ihoprauth.Store most apps use:
//
//	package main
//
//	import (
//		"context"
//		"fmt"
//		"log"
//
//		"github.com/ihoprauth/ihoprauth"
//		"github.com/ihoprauth/ihoprauth/store"
//		"github.com/ihoprauth/ihoprauth/store/sqlite"
//	)
//
//	func main() {
//		db, err := sqlite.Open("auth.db")
//		if err != nil {
//			log.Fatal(err)
//		}
//		st, err := store.New(context.Background(), db, store.Config{})
//		if err != nil {
//			log.Fatal(err)
//		}
//		p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP, Public: true}
//		if err := st.SaveProject(context.Background(), &p); err != nil {
//			log.Fatal(err)
//		}
//		fmt.Println("project", p.ID)
//	}
//
// # Databases
//
// SQLite, PostgreSQL and MySQL or MariaDB are tested, each against the
// conformance suite in package storetest. Open SQLite with package sqlite (store/sqlite),
// or, in a build without cgo, with package puresqlite (store/puresqlite), the
// servers with their GORM drivers, and pass the *gorm.DB to New:
//
//	db, err := gorm.Open(postgres.Open("postgres://app@db.example.com/app"), &gorm.Config{})
//	db, err := gorm.Open(mysql.Open("app:secret@tcp(db.example.com:3306)/app?parseTime=true&charset=utf8mb4"), &gorm.Config{})
//
// The MySQL DSN needs parseTime=true; loc is best left at its default, UTC.
// Several instances of an app can share one database: every one-time item
// is consumed by a conditional UPDATE whose count of changed rows decides
// the single winner, which holds under READ COMMITTED and REPEATABLE READ.
//
// On PostgreSQL, Config.Replicas takes hot standbys for the two reads of
// every request (the bearer check's token and user, the project by
// client_id), which they serve only while the app's change feed keeps
// them as fresh as its token cache; everything else stays on db (see
// Config.Replicas and ReplicaStats).
//
// # Tables and migrations
//
// The tables are all named ihoprauth_*, next to the app's own. Indexed
// string columns have a fixed size, as MariaDB requires, which limits
// their length in characters: hashes, AccountKey, FamilyID and counter
// keys 64, UserID (of users and of events) 32, ClientID and secret names
// 191, EmailKey 320, Purpose 16. On MySQL and MariaDB the tables use a
// utf8mb4 binary collation that is NO PAD (utf8mb4_nopad_bin on MariaDB,
// utf8mb4_0900_bin on MySQL 8), so that lookups compare bytes, trailing
// spaces included, as they do on SQLite and PostgreSQL.
//
// The schema is versioned: the table ihoprauth_schema_migrations lists the
// numbered steps applied so far, and New applies those still missing (see
// Migrate), so a database made by an earlier version, numbered or not, is
// upgraded in place when the new version first starts. Instances that
// start at once wait for each other. When the schema is up to date New
// only reads that table and changes nothing, so an app whose runtime user
// may not change tables runs Migrate once with a privileged user before
// starting it. The first start on a database made before the steps were
// numbered runs step 1, GORM's AutoMigrate, once more: it adds the columns
// and indexes this version has (the indexes that Purge uses among them),
// and on PostgreSQL it sets the time columns to the type they already have
// (a brief lock on each table, no data rewritten). Later starts run
// neither.
//
// # Prepared statements
//
// The reads that requests make all the time go around GORM: TokenUser
// (every bearer check that the token cache does not answer),
// ProjectByClientID and UserByID are prepared once, by New, on db's
// connection pool, which prepares each again on every connection that runs
// it; inside InTx they run on the transaction's connection. They answer
// exactly as GORM would. Close releases them, and so does closing db.
//
// On PostgreSQL and MariaDB they are server-side prepared statements. GORM's
// pgx driver prepares its own statements too unless told to use the
// simple protocol (postgres.Config's PreferSimpleProtocol), which some
// poolers need; behind PgBouncer in transaction mode, these three need
// PgBouncer 1.21 or later with max_prepared_statements set.
//
// # Cleanup
//
// Expired codes and tokens, idle throttle counters and, when asked, old
// audit events are deleted by Purge in batches of a size the caller picks.
//
// Times are stored in UTC, truncated to the microsecond so that every
// database returns the same value. A zero CreatedAt, UpdatedAt or Event.At
// is stored as the current time.
package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/ihoprauth/ihoprauth"
)

// Store is an ihoprauth.Store backed by a *gorm.DB. It is safe for
// concurrent use. Create one with New; the zero value is not usable.
type Store struct {
	db    *gorm.DB
	inTx  bool
	log   *slog.Logger
	reads *reads // prepared on db's pool, shared with the Stores of its transactions
	// replicas is nil without Config.Replicas; shared with the Stores of
	// its transactions.
	replicas *replicaSet
	// appended collects, in a transaction's Store, the changes the
	// transaction appends (see noteChangesCommitted).
	appended *[]ihoprauth.Change
}

var _ ihoprauth.Store = (*Store)(nil)

// Config holds the optional settings of a Store. The zero value is ready to
// use.
type Config struct {
	// Logger receives failed and slow statements, with their placeholders
	// but never the values bound to them (hashes, emails). Default
	// slog.Default(); pass the app's, as to ihoprauth.Config.Logger.
	Logger *slog.Logger
	// MaxOpenConns bounds the connection pool of db when the app has not
	// bounded it (database/sql's default is unbounded), so that a burst of
	// requests waits for a connection instead of exceeding the server's
	// max_connections ("too many clients", which would then answer 503).
	// Default 16 per instance, well under PostgreSQL's default of 100 and
	// MariaDB's of 151 for a few instances; the pool then also keeps that
	// many idle connections, so that steady load does not reconnect all
	// the time. A pool the app bounded itself is left alone, and so is
	// sqlite.Open's and puresqlite.Open's.
	MaxOpenConns int
	// NoMigrate makes New leave the schema alone: it fails with an error
	// wrapping ErrSchemaBehind, naming the missing steps, when the
	// database lacks a step of this version. For apps whose schema changes
	// are applied by someone else (MigrationSQL, or Migrate run with a
	// privileged user) before the app starts.
	NoMigrate bool
	// Replicas are hot standbys of db, kept by PostgreSQL's streaming
	// replication, opened like db (each with the search_path of db, if
	// it sets one). Two reads go to them: a bearer check's read of its
	// token and user (TokenUser) and the read of a project by client_id
	// (ProjectByClientID), the reads of every request. They go there only
	// while they cannot be staler than the token cache of the app's
	// instances: while the change feed is being read (the token cache is
	// on, ihoprauth.Config.TokenCacheTTL) and the replica has replayed
	// what the primary had written at the feed's last read, and not
	// until then after this Store has committed a revocation or any other
	// change, so that a revocation is refused within the feed's bound
	// everywhere and at once on the instance that made it. Every other
	// read, every write, everything inside a transaction (single-use
	// checks, counters, the feed itself) goes to db, and so does a read
	// whose replica is behind, down or without the row (a token issued a
	// moment ago); a replica that fails is left alone for 2 seconds.
	// ReplicaStats counts both ways. The pools of the replicas are bounded
	// as db's is (MaxOpenConns). Default none; New fails when db or a
	// replica is not PostgreSQL (docs/design.md, D45).
	Replicas []*gorm.DB
}

// New returns a Store that keeps its data in db, after bringing its tables
// up to date with Migrate; ctx bounds that work. The Store talks to db
// through a session of its own whose logger never prints the values of a
// statement (hashes, emails) and that wraps no single write in a
// transaction of its own; db itself is not changed.
func New(ctx context.Context, db *gorm.DB, cfg Config) (*Store, error) {
	log := cmp.Or(cfg.Logger, slog.Default())
	if err := boundPool(db, cmp.Or(cfg.MaxOpenConns, 16)); err != nil {
		return nil, err
	}
	replicas, err := newReplicaSet(db, cfg.Replicas, cmp.Or(cfg.MaxOpenConns, 16))
	if err != nil {
		return nil, err
	}
	db = session(db.WithContext(ctx), log)
	if err := checkTimes(db); err != nil {
		return nil, err
	}
	if cfg.NoMigrate {
		if err := checkSchema(db); err != nil {
			return nil, err
		}
	} else if err := migrate(db); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	r, err := prepareReads(ctx, db)
	if err != nil {
		return nil, err
	}
	return &Store{db: db.WithContext(context.Background()), log: log, reads: r, replicas: replicas}, nil
}

// boundPool sets db's pool to n connections, open and idle, unless it is
// bounded already.
func boundPool(db *gorm.DB, n int) error {
	sqlDB, err := db.DB()
	if err != nil {
		return fmt.Errorf("store: the connection pool: %w", err)
	}
	if sqlDB.Stats().MaxOpenConnections == 0 {
		sqlDB.SetMaxOpenConns(n)
		sqlDB.SetMaxIdleConns(n)
	}
	return nil
}

// checkTimes fails at once on a MySQL connection that returns times as
// bytes (a DSN without parseTime=true), which would otherwise fail every
// request later with a scan error.
func checkTimes(db *gorm.DB) error {
	if !isMySQL(db) {
		return nil
	}
	var now time.Time
	if err := db.Raw("SELECT CURRENT_TIMESTAMP(6)").Row().Scan(&now); err != nil {
		return fmt.Errorf("store: MySQL times cannot be read (add parseTime=true to the DSN): %w", err)
	}
	return nil
}

// session returns the session of db that the Store and Migrate use.
func session(db *gorm.DB, log *slog.Logger) *gorm.DB {
	return db.Session(&gorm.Session{
		Logger:                 newQuietLogger(db.Dialector, log),
		SkipDefaultTransaction: true,
	})
}

// InTx runs fn with a Store bound to one transaction, which is committed
// when fn returns nil and rolled back when it returns an error or panics.
// A transaction the database refuses for a conflict with a concurrent one
// (PostgreSQL's serialization failures and deadlocks, 40001 and 40P01;
// MySQL and MariaDB's deadlocks and Galera's certification failures, 1213
// and 40001) is rolled back and run again, up to ten times with a jittered
// backoff (see retry), so fn must be safe to run again; when the tries run
// out the error wraps ihoprauth.ErrUnavailable (503, Retry-After).
// On a Store that is already bound to a transaction it just runs fn with
// that Store.
func (s *Store) InTx(ctx context.Context, fn func(tx ihoprauth.Store) error) error {
	return s.transaction(ctx, func(tx *Store) error { return fn(tx) })
}

// transaction is InTx for the Store's own methods.
func (s *Store) transaction(ctx context.Context, fn func(tx *Store) error) error {
	if s.inTx {
		return fn(s)
	}
	return s.retry(ctx, func() error { return s.runTransaction(ctx, fn) })
}

// retry runs op, a transaction or a statement outside one, and runs it
// again while the database refuses it for a conflict with a concurrent
// transaction, which rolled it back, up to conflictTries times in all; when
// the tries run out the error wraps ihoprauth.ErrUnavailable. Inside a
// transaction it runs op once: a conflict there rolls back the whole
// transaction, which its own retry runs again.
//
// On a Galera cluster every write on a hot row (a throttle's counter, a
// code that twenty requests race to redeem) through one node conflicts
// with those through the others at commit, and only one of each round
// wins: the backoff, doubling from 1 ms up to 50 ms with as much again at
// random, spreads the losers out so that twenty of them across two nodes
// all get through (the race tests of instances_test.go).
func (s *Store) retry(ctx context.Context, op func() error) error {
	if s.inTx {
		return op()
	}
	for try := 1; ; try++ {
		err := op()
		if err == nil || !isConflict(err) || ctx.Err() != nil {
			return err
		}
		if try == conflictTries {
			return fmt.Errorf("store: %d tries: %w: %w", try, ihoprauth.ErrUnavailable, err)
		}
		wait := min(time.Duration(1<<(try-1))*time.Millisecond, maxConflictWait)
		select {
		case <-time.After(wait + time.Duration(rand.Int64N(int64(wait)))):
		case <-ctx.Done():
			return err
		}
	}
}

// conflictTries is how many times a transaction or statement is run when
// the database keeps refusing it for a conflict with another (a
// serialization failure, a deadlock, a Galera certification failure)
// before its request gets 503; maxConflictWait bounds the backoff between
// two tries, so that all of them take at most about 0.5 s.
const (
	conflictTries   = 10
	maxConflictWait = 50 * time.Millisecond
)

// runTransaction runs fn in one transaction, once.
func (s *Store) runTransaction(ctx context.Context, fn func(tx *Store) error) error {
	var fnErr error
	var appended []ihoprauth.Change
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		fnErr = fn(&Store{db: tx, inTx: true, log: s.log, reads: s.reads, replicas: s.replicas, appended: &appended})
		return fnErr
	})
	if err != nil && err != fnErr {
		return s.wrap("transaction", err) // BEGIN or COMMIT failed
	}
	if err == nil {
		s.noteChangesCommitted(appended)
	}
	return err
}

// take loads into dst the row that matches query, or returns
// ihoprauth.ErrNotFound.
func (s *Store) take(ctx context.Context, dst any, query string, args ...any) error {
	err := s.db.WithContext(ctx).Where(query, args...).Take(dst).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return ihoprauth.ErrNotFound
	}
	return err
}

// create inserts row and sets its ID, or returns ihoprauth.ErrDuplicate
// when a unique index refuses it.
func (s *Store) create(ctx context.Context, row any) error {
	_, err := s.insert(ctx, row)
	return err
}

// insert is create with clauses added to the INSERT, and reports how many
// rows it inserted (none when an ON CONFLICT clause gave way).
func (s *Store) insert(ctx context.Context, row any, clauses ...clause.Expression) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		res := s.db.WithContext(ctx).Clauses(clauses...).Create(row)
		n = res.RowsAffected
		return res.Error
	})
	if err != nil && isDuplicate(s.db.Dialector, err) {
		return 0, ihoprauth.ErrDuplicate
	}
	return n, err
}

// set runs UPDATE model SET column = value WHERE query and reports how many
// rows it changed. Every caller changes each row it matches (a NULL time
// gets set, a count grows), so MySQL, which counts only changed rows, gives
// the same count as the databases that count matched ones. A conflict with
// a concurrent transaction is retried (see retry).
func (s *Store) set(ctx context.Context, model any, column string, value any, query string, args ...any) (int64, error) {
	var n int64
	err := s.retry(ctx, func() error {
		res := s.db.WithContext(ctx).Model(model).Where(query, args...).Update(column, value)
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// Ping reports whether the database answers a trivial query within ctx;
// ihoprauth.Auth.Ready asks it.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.wrap("ping", s.db.WithContext(ctx).Raw("SELECT 1").Row().Scan(&one))
}
