package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/url"
	"strings"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/store/puresqlite"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

// openDB opens the database that -db names:
//
//   - a postgres:// or postgresql:// URL: PostgreSQL through pgx, which
//     takes the URL as it is (sslmode, connect_timeout and the like);
//   - a mysql:// URL, mysql://USER:PASSWORD@HOST[:PORT]/DATABASE[?PARAMS]:
//     MySQL or MariaDB, through the go-sql-driver DSN that mysqlDSN makes;
//   - anything else: the path of a SQLite file, created if missing,
//     opened with the driver that -sqlite names: "cgo" (store/sqlite,
//     mattn/go-sqlite3) or "pure" (store/puresqlite, pure Go); the
//     servers ignore it.
//
// For the servers it connects once, so that a wrong DSN fails at start.
func openDB(spec, sqliteDriver string) (*gorm.DB, error) {
	scheme, _, isURL := strings.Cut(spec, "://")
	if !isURL {
		return openSQLite(spec, sqliteDriver)
	}
	var dialector gorm.Dialector
	switch scheme {
	case "postgres", "postgresql":
		dialector = postgres.Open(spec)
	case "mysql":
		dsn, err := mysqlDSN(spec)
		if err != nil {
			return nil, err
		}
		dialector = mysql.Open(dsn)
	default:
		return nil, fmt.Errorf("-db: unknown scheme %q: want a SQLite file, postgres:// or mysql://", scheme)
	}
	db, err := gorm.Open(dialector, &gorm.Config{Logger: quietLogger()})
	if err != nil {
		return nil, fmt.Errorf("-db: open %s: %w", scheme, err)
	}
	return db, nil
}

// openReplicas opens the -replica URLs, PostgreSQL streaming replicas of
// -db, without connecting: a replica that is down at start only sends its
// reads to the primary (store.Config.Replicas).
func openReplicas(urls []string) ([]*gorm.DB, error) {
	var dbs []*gorm.DB
	for _, u := range urls {
		if scheme, _, _ := strings.Cut(u, "://"); scheme != "postgres" && scheme != "postgresql" {
			return dbs, fmt.Errorf("-replica %q: want a postgres:// URL", scheme)
		}
		db, err := gorm.Open(postgres.Open(u), &gorm.Config{Logger: quietLogger(), DisableAutomaticPing: true})
		if err != nil {
			return dbs, fmt.Errorf("-replica: %w", err)
		}
		dbs = append(dbs, db)
	}
	return dbs, nil
}

// openSQLite opens the SQLite file at path with the driver that -sqlite
// names.
func openSQLite(path, driver string) (*gorm.DB, error) {
	switch driver {
	case "cgo":
		db, err := sqlite.Open(path)
		if errors.Is(err, sqlite.ErrNoCgo) {
			return nil, fmt.Errorf("-db: %w (here: -sqlite pure)", err)
		}
		return db, err
	case "pure":
		return puresqlite.Open(path)
	}
	return nil, fmt.Errorf("-sqlite: unknown driver %q: want cgo or pure", driver)
}

// quietLogger logs failed and slow statements without the values bound to
// them, which may be hashes or emails. store.New sets a logger of its own
// for the statements of the Store; this one serves opening.
func quietLogger() logger.Interface {
	return logger.New(log.Default(), logger.Config{
		SlowThreshold:             time.Second,
		LogLevel:                  logger.Warn,
		IgnoreRecordNotFoundError: true,
		ParameterizedQueries:      true,
	})
}

// mysqlDSN turns mysql://USER:PASSWORD@HOST[:PORT]/DATABASE[?PARAMS] into
// the DSN of github.com/go-sql-driver/mysql,
// USER:PASSWORD@tcp(HOST:PORT)/DATABASE?PARAMS. The port defaults to 3306.
// PARAMS are the driver's (tls, timeout, ...); charset defaults to
// utf8mb4, and parseTime=true and loc=UTC are always set, because the
// store reads times as time.Time and keeps them in UTC (the DSN leaves
// loc out: UTC is the driver's default).
func mysqlDSN(spec string) (string, error) {
	u, err := url.Parse(spec)
	if err != nil {
		return "", fmt.Errorf("-db: %w", err)
	}
	if u.Scheme != "mysql" {
		return "", fmt.Errorf("-db %s: not a mysql:// URL", u.Redacted())
	}
	dbName := strings.TrimPrefix(u.Path, "/")
	if dbName == "" || strings.Contains(dbName, "/") || u.Hostname() == "" {
		return "", fmt.Errorf("-db %s: want mysql://USER:PASSWORD@HOST[:PORT]/DATABASE", u.Redacted())
	}
	params := u.Query()
	if params.Get("charset") == "" {
		params.Set("charset", "utf8mb4")
	}
	params.Set("parseTime", "true")
	params.Set("loc", "UTC")
	cfg, err := gomysql.ParseDSN("/?" + params.Encode())
	if err != nil {
		return "", fmt.Errorf("-db %s: %w", u.Redacted(), err)
	}
	cfg.User = u.User.Username()
	cfg.Passwd, _ = u.User.Password()
	cfg.Net = "tcp"
	cfg.Addr = net.JoinHostPort(u.Hostname(), cmp.Or(u.Port(), "3306"))
	cfg.DBName = dbName
	return cfg.FormatDSN(), nil
}

// printMigrations writes to w the SQL that bringing the schema of the -db
// database up to date would run (store.MigrationSQL), one statement a
// line, each ended by ';', for a DBA to review and apply; then the app
// starts with -migrate off.
func printMigrations(ctx context.Context, o options, w io.Writer) error {
	db, err := openDB(o.db, o.sqlite)
	if err != nil {
		return err
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	stmts, err := store.MigrationSQL(ctx, db)
	if err != nil {
		return err
	}
	if len(stmts) == 0 {
		fmt.Fprintln(w, "-- the schema is up to date")
	}
	for _, s := range stmts {
		fmt.Fprintf(w, "%s;\n", s)
	}
	return nil
}
