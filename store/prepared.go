package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
	"gorm.io/gorm/schema"

	"github.com/ihoprauth/ihoprauth"
)

// reads are the statements of the reads that requests make all the time:
// TokenUser's two (by the key that the hash gives, then by the hash) on
// every bearer check that misses the token cache,
// ProjectByClientID on every request that names a client, UserByID on
// every token issued. GORM would build and format their SQL on each call
// and prepare nothing; these are prepared once, on the *sql.DB under the
// Store, which prepares each again on every connection it uses it on and
// closes them all with Store.Close or with the pool.
type reads struct {
	tokenUserByID, tokenUser, userByID, projectByClientID *statement
}

// statement is one prepared read.
type statement struct {
	op   string // names the read in errors
	sql  string
	stmt *sql.Stmt
	// replicaMissIsFinal makes a replica's "no such row" the answer
	// (readRow), for a read that its caller follows with another that
	// asks the primary on a miss: TokenUser's read by key.
	replicaMissIsFinal bool
}

// prepareReads prepares the reads on db's connection pool.
func prepareReads(ctx context.Context, db *gorm.DB) (*reads, error) {
	sqlDB, err := db.DB()
	if err != nil {
		return nil, fmt.Errorf("store: the connection pool: %w", err)
	}
	q, err := newQueryBuilder(db)
	if err != nil {
		return nil, err
	}
	r := &reads{}
	for _, p := range []struct {
		dst  **statement
		op   string
		text string
	}{
		{&r.tokenUserByID, "token and user by id", q.tokenUserByID()},
		{&r.tokenUser, "token and user", q.tokenUser()},
		{&r.userByID, "user by id", q.userByID()},
		{&r.projectByClientID, "project by client_id", q.projectByClientID()},
	} {
		text := q.bindVars(p.text)
		stmt, err := sqlDB.PrepareContext(ctx, text)
		if err != nil {
			r.close()
			return nil, fmt.Errorf("store: prepare %s: %w", p.op, err)
		}
		*p.dst = &statement{op: p.op, sql: text, stmt: stmt}
	}
	r.tokenUserByID.replicaMissIsFinal = true
	return r, nil
}

// close closes the prepared statements.
func (r *reads) close() error {
	var errs []error
	for _, st := range []*statement{r.tokenUserByID, r.tokenUser, r.userByID, r.projectByClientID} {
		if st != nil {
			errs = append(errs, st.stmt.Close())
		}
	}
	return errors.Join(errs...)
}

// Close closes the statements that the Store prepared on its database; db
// itself stays open. Closing db closes them too, so an app that closes db
// when it is done need not call Close; one that makes Stores over and over
// on one db (tests, say) should. A Store must not be used after Close.
func (s *Store) Close() error {
	return s.reads.close()
}

// row scans the one row that st returns for args into dest. No row is
// ihoprauth.ErrNotFound; any other error is classified by wrap. A Store
// bound to a transaction runs st on the transaction's connection.
func (s *Store) row(ctx context.Context, st *statement, dest []any, args ...any) error {
	begin := time.Now()
	err := s.query(ctx, st, args...).Scan(dest...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("store: %s: %w", st.op, ihoprauth.ErrNotFound)
	case err != nil || time.Since(begin) > slowThreshold:
		// Through the Store's logger, as GORM's own statements are: it
		// shows the SQL and never the values.
		s.db.Logger.Trace(ctx, begin, func() (string, int64) { return st.sql, 1 }, err)
	}
	return s.wrap(st.op, err)
}

// query runs st with args on the pool, or in the Store's transaction.
func (s *Store) query(ctx context.Context, st *statement, args ...any) *sql.Row {
	if !s.inTx {
		return st.stmt.QueryRowContext(ctx, args...)
	}
	pool := s.db.Statement.ConnPool
	if tx, ok := pool.(interface {
		StmtContext(context.Context, *sql.Stmt) *sql.Stmt
	}); ok {
		return tx.StmtContext(ctx, st.stmt).QueryRowContext(ctx, args...)
	}
	return pool.QueryRowContext(ctx, st.sql, args...)
}

// queryBuilder writes the SQL of the reads for one database: its columns
// under db's naming strategy, quoted and with bind variables in its
// dialect.
type queryBuilder struct {
	db      *gorm.DB
	schemas map[string]*schema.Schema // by table
}

func newQueryBuilder(db *gorm.DB) (*queryBuilder, error) {
	q := &queryBuilder{db: db, schemas: map[string]*schema.Schema{}}
	for _, model := range []schema.Tabler{tokenRow{}, userRow{}, projectRow{}} {
		s, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
		if err != nil {
			return nil, fmt.Errorf("store: parse %s: %w", model.TableName(), err)
		}
		q.schemas[model.TableName()] = s
	}
	return q, nil
}

// columns returns the columns of the fields of table's row type, quoted
// and prefixed with alias when it is not empty, joined by ", ".
func (q *queryBuilder) columns(table, alias string, fields ...string) string {
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = q.db.Statement.Quote(clause.Column{Table: alias, Name: q.schemas[table].LookUpField(f).DBName})
	}
	return strings.Join(cols, ", ")
}

// column is the quoted column of one field of table's row type.
func (q *queryBuilder) column(table, field string) string {
	return q.columns(table, "", field)
}

// bindVars replaces each ? of text with a bind variable of the dialect
// ($1, $2... on PostgreSQL).
func (q *queryBuilder) bindVars(text string) string {
	stmt := &gorm.Statement{DB: q.db}
	clause.Expr{SQL: text, Vars: blanks(strings.Count(text, "?"))}.Build(stmt)
	return stmt.SQL.String()
}

// blanks returns n empty strings, the values that bindVars binds.
func blanks(n int) []any {
	vars := make([]any, n)
	for i := range vars {
		vars[i] = ""
	}
	return vars
}

// nullString is s as the GORM rows hold a nullable string.
func nullString(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	str := s.String
	return &str
}

// utcNull is utcPtr for a time scanned as sql.NullTime.
func utcNull(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := utc(t.Time)
	return &u
}
