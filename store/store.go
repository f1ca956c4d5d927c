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
//	)
//
//	func main() {
//		db, err := store.OpenSQLite("auth.db")
//		if err != nil {
//			log.Fatal(err)
//		}
//		st, err := store.New(db)
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
// New creates the tables it needs, all named ihoprauth_*, next to the app's
// own. Indexed string columns have a fixed size, as MariaDB requires, which
// limits their length in characters: hashes, AccountKey, FamilyID and
// counter keys 64, UserID (of users and of events) 32, ClientID and secret
// names 191, EmailKey 320, Purpose 16. On MySQL and MariaDB the tables use
// the utf8mb4_bin collation, so that lookups compare bytes there as they do
// on SQLite and PostgreSQL.
//
// Times are stored in UTC, truncated to the microsecond so that every
// database returns the same value. A zero CreatedAt, UpdatedAt or Event.At
// is stored as the current time.
package store

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
)

// Store is an ihoprauth.Store backed by a *gorm.DB. It is safe for
// concurrent use. Create one with New; the zero value is not usable.
type Store struct {
	db   *gorm.DB
	inTx bool
}

var _ ihoprauth.Store = (*Store)(nil)

// New returns a Store that keeps its data in db, creating or updating its
// tables first. The Store talks to db through a session of its own whose
// logger never prints the values of a statement (hashes, emails) and that
// wraps no single write in a transaction of its own; db itself is not
// changed.
func New(db *gorm.DB) (*Store, error) {
	db = db.Session(&gorm.Session{
		Logger:                 newQuietLogger(db.Dialector),
		SkipDefaultTransaction: true,
	})
	if err := migrate(db); err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	return &Store{db: db}, nil
}

// migrate creates or updates the tables and their indexes.
func migrate(db *gorm.DB) error {
	if db.Dialector.Name() == "mysql" {
		db = db.Set("gorm:table_options", "DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin")
	}
	return db.AutoMigrate(
		&projectRow{}, &userRow{}, &challengeRow{},
		&authCodeRow{}, &tokenRow{}, &secretRow{},
		&counterRow{}, &eventRow{},
	)
}

// InTx runs fn with a Store bound to one transaction, which is committed
// when fn returns nil and rolled back when it returns an error or panics.
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
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		return fn(&Store{db: tx, inTx: true})
	})
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
	err := s.db.WithContext(ctx).Create(row).Error
	if err != nil && isDuplicate(s.db.Dialector, err) {
		return ihoprauth.ErrDuplicate
	}
	return err
}

// set runs UPDATE model SET column = value WHERE query and reports how many
// rows it changed. Every caller changes each row it matches (a NULL time
// gets set, a count grows), so MySQL, which counts only changed rows, gives
// the same count as the databases that count matched ones.
func (s *Store) set(ctx context.Context, model any, column string, value any, query string, args ...any) (int64, error) {
	res := s.db.WithContext(ctx).Model(model).Where(query, args...).Update(column, value)
	return res.RowsAffected, res.Error
}
