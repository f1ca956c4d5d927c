// Package testdb gives each test an empty database of its own on SQLite,
// PostgreSQL or MySQL/MariaDB, for the tests of ihoprauth and its store:
//
//	func TestSomething(t *testing.T) {
//		for _, backend := range testdb.Backends() {
//			t.Run(backend, func(t *testing.T) {
//				db := testdb.Open(t, backend) // dropped when t ends
//				st, err := store.New(context.Background(), db, store.Config{})
//				...
//			})
//		}
//	}
//
// SQLite always works: the database is a file in t.TempDir(). "sqlite" is
// the SQLite of the build: package sqlite (mattn/go-sqlite3) when cgo is on,
// package puresqlite (pure Go) in a CGO_ENABLED=0 build, so that
// CGO_ENABLED=0 go test runs every SQLite test on the pure-Go driver.
// "puresqlite" is package puresqlite in any build, for the benchmarks that
// set the two side by side and for IHOPRAUTH_TEST_BACKEND. PostgreSQL
// and MySQL need a server, named by a DSN in an environment variable:
//
//   - IHOPRAUTH_TEST_POSTGRES, a pgx DSN, URL or key=value form, such as
//     postgres://ihoprauth_test@127.0.0.1:5432/ihoprauth_test?sslmode=disable.
//     Its user must be allowed to create schemas in its database: each
//     Open creates one, named ihoprauth_test_ and random letters and
//     digits, and points the connections' search_path at it.
//   - IHOPRAUTH_TEST_MYSQL, a go-sql-driver/mysql DSN, such as
//     ihoprauth_test:secret@tcp(127.0.0.1:3306)/ihoprauth_test. Its user
//     must be allowed to create and drop databases named ihoprauth_test_%:
//     each Open creates one, named like the PostgreSQL schemas. parseTime
//     and loc=UTC are set whatever the DSN says.
//   - IHOPRAUTH_TEST_GALERA, the DSNs of the nodes of a MariaDB Galera
//     cluster, one per node in the form of IHOPRAUTH_TEST_MYSQL, separated
//     by commas. Open creates the database through the first node and
//     connects to it there; each Reopen of it connects to the next node
//     in turn, so that two instances of a test are on different nodes.
//     wsrep_sync_wait=1 is set whatever the DSNs say (see Open).
//     .ci/galera.sh starts such a cluster.
//   - IHOPRAUTH_TEST_PGREPLICA, the pgx URLs of a PostgreSQL primary and
//     of a streaming replica of it, separated by a comma. Open creates a
//     schema on the primary as for IHOPRAUTH_TEST_POSTGRES, and Replicas
//     returns a connection to the replica with the same search_path, for
//     store.Config.Replicas. Its user must be a superuser: tests pause
//     the replica's replay with it (PauseReplay). .ci/pgreplica.sh starts
//     such a pair.
//
// Each is dropped again when the test ends. The package is for tests
// only.
package testdb

import (
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gosqlite "github.com/glebarez/go-sqlite"
	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ihoprauth/ihoprauth/store/puresqlite"
)

// The backends, as Open, Backends and Backend name them.
const (
	SQLite     = "sqlite"
	PureSQLite = "puresqlite"
	Postgres   = "postgres"
	MySQL      = "mysql"
	Galera     = "galera"
	PGReplica  = "pgreplica"
)

// Environment variables that configure the tests.
const (
	// PostgresEnv holds the DSN of the PostgreSQL server; unset: no
	// PostgreSQL tests.
	PostgresEnv = "IHOPRAUTH_TEST_POSTGRES"
	// MySQLEnv holds the DSN of the MySQL or MariaDB server; unset: no
	// MySQL tests.
	MySQLEnv = "IHOPRAUTH_TEST_MYSQL"
	// GaleraEnv holds the comma-separated DSNs of the nodes of a MariaDB
	// Galera cluster; unset: no Galera tests.
	GaleraEnv = "IHOPRAUTH_TEST_GALERA"
	// PGReplicaEnv holds the URLs of a PostgreSQL primary and of its
	// streaming replica, comma-separated; unset: no replica tests.
	PGReplicaEnv = "IHOPRAUTH_TEST_PGREPLICA"
	// BackendEnv names the backend that Backend returns.
	BackendEnv = "IHOPRAUTH_TEST_BACKEND"
)

// maxOpenConns caps the pool of each database that Open returns: tests run
// side by side in several packages, and PostgreSQL accepts 100 connections
// by default.
const maxOpenConns = 10

// All returns the name of every backend, configured or not, for tests
// that report a backend without a server as skipped: "sqlite" (the
// build's), "postgres", "mysql", "galera" and "pgreplica".
func All() []string {
	return []string{SQLite, Postgres, MySQL, Galera, PGReplica}
}

// Backends returns "sqlite" and each backend whose DSN variable is set.
func Backends() []string {
	backends := []string{SQLite}
	if os.Getenv(PostgresEnv) != "" {
		backends = append(backends, Postgres)
	}
	if os.Getenv(MySQLEnv) != "" {
		backends = append(backends, MySQL)
	}
	if os.Getenv(GaleraEnv) != "" {
		backends = append(backends, Galera)
	}
	if os.Getenv(PGReplicaEnv) != "" {
		backends = append(backends, PGReplica)
	}
	return backends
}

// Backend returns the backend named by IHOPRAUTH_TEST_BACKEND, for a
// package whose whole test run targets one backend; "sqlite" when unset.
// Naming a backend whose DSN variable is unset is a mistake that would
// skip nearly every test, so it panics with the variable to set.
func Backend() string {
	b := os.Getenv(BackendEnv)
	switch {
	case b == "":
		return SQLite
	case b == Postgres && os.Getenv(PostgresEnv) == "":
		panic("testdb: " + BackendEnv + "=postgres needs " + PostgresEnv + " set to a DSN")
	case b == MySQL && os.Getenv(MySQLEnv) == "":
		panic("testdb: " + BackendEnv + "=mysql needs " + MySQLEnv + " set to a DSN")
	case b == Galera && os.Getenv(GaleraEnv) == "":
		panic("testdb: " + BackendEnv + "=galera needs " + GaleraEnv + " set to the nodes' DSNs")
	case b == PGReplica && os.Getenv(PGReplicaEnv) == "":
		panic("testdb: " + BackendEnv + "=pgreplica needs " + PGReplicaEnv + " set to the two URLs")
	}
	return b
}

// Require skips t when the DSN variable of backend is unset, with a
// message that names the variable, and fails t for an unknown backend: a
// test that runs many subtests on one backend calls it once, first.
func Require(t testing.TB, backend string) {
	t.Helper()
	switch backend {
	case SQLite, PureSQLite:
	case Postgres:
		dsn(t, PostgresEnv)
	case MySQL:
		dsn(t, MySQLEnv)
	case Galera:
		galeraNodes(t)
	case PGReplica:
		replicaPair(t)
	default:
		t.Fatalf("testdb: unknown backend %q, want one of %q", backend, All())
	}
}

// IsMySQL reports whether backend speaks MySQL's dialect (MySQL and
// Galera), for tests of what only that dialect does.
func IsMySQL(backend string) bool {
	return backend == MySQL || backend == Galera
}

// Open returns an empty database of its own on backend ("sqlite",
// "puresqlite", "postgres", "mysql" or "galera"), which is closed and dropped when t
// ends. It skips t when the DSN variable of backend is unset, and fails t
// for an unknown backend or a server it cannot use.
//
// On Galera its connections wait for causality (wsrep_sync_wait=1): a
// read on one node sees every write committed on another before the read
// began, as on one server. Without it a node may answer from a state a
// few writesets behind, and a code minted through one node is not found
// through another a moment later.
func Open(t testing.TB, backend string) *gorm.DB {
	t.Helper()
	switch backend {
	case SQLite, PureSQLite:
		return OpenFile(t, backend, filepath.Join(t.TempDir(), "test.db"))
	case Postgres:
		return openPostgres(t, dsn(t, PostgresEnv))
	case MySQL:
		return openMySQL(t, MySQLEnv, dsn(t, MySQLEnv))
	case Galera:
		return openMySQL(t, GaleraEnv, galeraNodes(t)[0])
	case PGReplica:
		pair := replicaPair(t)
		db := openPostgres(t, pair[0])
		replicaURLs.Store(db, withSearchPath(pair[1], searchPath(db)))
		return db
	}
	Require(t, backend)
	return nil
}

// Reopen returns a second database handle, with a connection pool of its
// own, onto the database that db, returned by Open, is using: what a second
// instance of an app on the same database has. On Galera it connects to
// the node after db's (node 2 after node 1, node 1 after the last). It is
// closed when t ends; the database is still dropped by the Open that made
// it.
func Reopen(t testing.TB, db *gorm.DB) *gorm.DB {
	t.Helper()
	if db.Dialector.Name() == SQLite {
		var path string
		if err := db.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error; err != nil {
			t.Fatalf("testdb: Reopen: %v", err)
		}
		sqlDB, err := db.DB()
		if err != nil {
			t.Fatalf("testdb: Reopen: %v", err)
		}
		if _, pure := sqlDB.Driver().(*gosqlite.Driver); pure {
			return OpenFile(t, PureSQLite, path)
		}
		return OpenFile(t, SQLite, path)
	}
	switch d := db.Dialector.(type) {
	case *postgres.Dialector:
		again := connect(t, postgres.Open(d.DSN))
		if url, ok := replicaURLs.Load(db); ok {
			replicaURLs.Store(again, url)
		}
		return again
	case *mysql.Dialector:
		dsn := nextNode(t, d.DSN)
		if dsn != d.DSN {
			awaitDatabase(t, dsn)
		}
		return connect(t, mysql.Open(dsn))
	}
	t.Fatalf("testdb: Reopen: %T is not a database from Open", db.Dialector)
	return nil
}

// OpenFile opens the SQLite file at path with the driver of backend,
// "sqlite" (the build's) or "puresqlite", and closes it when t ends; it
// fails t for any other backend.
func OpenFile(t testing.TB, backend, path string) *gorm.DB {
	t.Helper()
	switch backend {
	case SQLite:
		return openSQLite(t, openBuildSQLite, path)
	case PureSQLite:
		return openSQLite(t, puresqlite.Open, path)
	}
	t.Fatalf("testdb: OpenFile: %q is not a SQLite backend", backend)
	return nil
}

// dsn returns the value of the environment variable env, or skips t.
func dsn(t testing.TB, env string) string {
	t.Helper()
	v := os.Getenv(env)
	if v == "" {
		t.Skipf("testdb: %s is not set; set it to a DSN to run this test against that server", env)
	}
	return v
}

// openSQLite opens the SQLite file at path with open, sqlite.Open or
// puresqlite.Open.
func openSQLite(t testing.TB, open func(path string) (*gorm.DB, error), path string) *gorm.DB {
	t.Helper()
	db, err := open(path)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	closeAtEnd(t, db)
	return db
}

// openPostgres creates a schema of its own on the server of dsn and
// returns a database whose connections all use it.
func openPostgres(t testing.TB, dsn string) *gorm.DB {
	t.Helper()
	schema := uniqueName()
	admin := connect(t, postgres.Open(dsn))
	if err := admin.Exec("CREATE SCHEMA " + schema).Error; err != nil {
		t.Fatalf("testdb: create schema on %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP SCHEMA " + schema + " CASCADE").Error; err != nil {
			t.Errorf("testdb: drop schema %s: %v", schema, err)
		}
	})
	return connect(t, postgres.Open(withSearchPath(dsn, schema)))
}

// withSearchPath adds search_path=schema to a pgx DSN, URL or key=value.
func withSearchPath(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// replicaURLs maps each database that Open returned on "pgreplica", and
// each Reopen of one, to the URL of its replica.
var replicaURLs sync.Map

// Replicas returns, for store.Config.Replicas, a connection to the replica
// of db when db is from Open on "pgreplica" (or a Reopen of one), with the
// same search_path, closed when t ends; on any other backend nil.
func Replicas(t testing.TB, db *gorm.DB) []*gorm.DB {
	t.Helper()
	url, ok := replicaURLs.Load(db)
	if !ok {
		return nil
	}
	return []*gorm.DB{connect(t, postgres.Open(url.(string)))}
}

// PauseReplay pauses the replay of the WAL on the replica of db, from
// Open on "pgreplica", so that it falls behind the primary, until t ends
// or the function it returns is called.
func PauseReplay(t testing.TB, db *gorm.DB) (resume func()) {
	t.Helper()
	replicas := Replicas(t, db)
	if replicas == nil {
		t.Fatalf("testdb: PauseReplay: not a database of %q", PGReplica)
	}
	r := replicas[0]
	if err := r.Exec("SELECT pg_wal_replay_pause()").Error; err != nil {
		t.Fatalf("testdb: pause the replica's replay: %v", err)
	}
	var once sync.Once
	resume = func() {
		once.Do(func() {
			if err := r.Exec("SELECT pg_wal_replay_resume()").Error; err != nil {
				t.Errorf("testdb: resume the replica's replay: %v", err)
			}
		})
	}
	t.Cleanup(resume)
	return resume
}

// AwaitReplay waits, on "pgreplica", until the replica of db has replayed
// everything committed on the primary so far, for at most 10 s; on any
// other backend it returns at once. A test whose instance keeps its own
// clock (a stale change feed by an injected clock) calls it where it needs
// a read of the primary's latest: the Store decides on replica reads by
// the real time of its last read of the feed (store.Config.Replicas).
func AwaitReplay(t testing.TB, db *gorm.DB) {
	t.Helper()
	replicas := Replicas(t, db)
	if replicas == nil {
		return
	}
	var target string
	if err := db.Raw("SELECT pg_current_wal_lsn()::text").Row().Scan(&target); err != nil {
		t.Fatalf("testdb: the primary's WAL position: %v", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var done bool
		err := replicas[0].Raw("SELECT pg_last_wal_replay_lsn() >= ?::pg_lsn", target).Row().Scan(&done)
		switch {
		case err != nil:
			t.Fatalf("testdb: the replica's replay position: %v", err)
		case done:
			return
		case time.Now().After(deadline):
			t.Fatalf("testdb: the replica has not replayed %s after 10 s", target)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// searchPath returns the search_path that db's DSN sets.
func searchPath(db *gorm.DB) string {
	u, err := url.Parse(db.Dialector.(*postgres.Dialector).DSN)
	if err != nil {
		return ""
	}
	return u.Query().Get("search_path")
}

// replicaPair returns the two URLs of IHOPRAUTH_TEST_PGREPLICA, or skips t.
func replicaPair(t testing.TB) []string {
	t.Helper()
	v := os.Getenv(PGReplicaEnv)
	if v == "" {
		t.Skipf("testdb: %s is not set; set it to the URLs of a PostgreSQL primary and its streaming replica "+
			"(bash .ci/pgreplica.sh start DIR writes them to DIR/dsns) to run this test on them", PGReplicaEnv)
	}
	pair := strings.Split(v, ",")
	if len(pair) != 2 {
		t.Fatalf("testdb: %s: got %d URLs, want 2 (the primary's, then the replica's)", PGReplicaEnv, len(pair))
	}
	return pair
}

// galeraNodes returns the DSNs of IHOPRAUTH_TEST_GALERA, or skips t.
func galeraNodes(t testing.TB) []string {
	t.Helper()
	v := os.Getenv(GaleraEnv)
	if v == "" {
		t.Skipf("testdb: %s is not set; set it to the comma-separated DSNs of a Galera cluster's nodes "+
			"(bash .ci/galera.sh start DIR writes them to DIR/dsns) to run this test on that cluster", GaleraEnv)
	}
	return strings.Split(v, ",")
}

// nextNode returns dsn with the address of the Galera node after the one
// it names, or dsn itself when it names no node of IHOPRAUTH_TEST_GALERA.
func nextNode(t testing.TB, dsn string) string {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil || os.Getenv(GaleraEnv) == "" {
		return dsn
	}
	nodes := galeraNodes(t)
	for i, node := range nodes {
		nodeCfg, err := gomysql.ParseDSN(node)
		if err != nil {
			t.Fatalf("testdb: %s: %v", GaleraEnv, err)
		}
		if nodeCfg.Addr == cfg.Addr {
			next, err := gomysql.ParseDSN(nodes[(i+1)%len(nodes)])
			if err != nil {
				t.Fatalf("testdb: %s: %v", GaleraEnv, err)
			}
			cfg.Addr = next.Addr
			return cfg.FormatDSN()
		}
	}
	return dsn
}

// awaitDatabase returns once the Galera node of dsn has applied the
// creation of dsn's database, which the node that ran it reported done
// before the others had: a read with wsrep_sync_wait=1 waits for every
// write the cluster committed before it.
func awaitDatabase(t testing.TB, dsn string) {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	name := cfg.DBName
	cfg.DBName = ""
	admin := connect(t, mysql.Open(cfg.FormatDSN()))
	var n int
	err = admin.Raw("SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", name).Scan(&n).Error
	if err != nil || n != 1 {
		t.Fatalf("testdb: database %s on %s: got %d, error %v; want it there", name, cfg.Addr, n, err)
	}
	sqlDB, _ := admin.DB()
	sqlDB.Close()
}

// openMySQL creates a database of its own on the server of dsn, taken
// from the variable env, and returns it.
func openMySQL(t testing.TB, env, dsn string) *gorm.DB {
	t.Helper()
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatalf("testdb: %s: %v", env, err)
	}
	cfg.ParseTime, cfg.Loc = true, time.UTC
	if env == GaleraEnv {
		if cfg.Params == nil {
			cfg.Params = map[string]string{}
		}
		cfg.Params["wsrep_sync_wait"] = "1"
	}
	name := uniqueName()
	adminCfg := cfg.Clone()
	adminCfg.DBName = ""
	admin := connect(t, mysql.Open(adminCfg.FormatDSN()))
	if err := admin.Exec("CREATE DATABASE " + name + " CHARACTER SET utf8mb4").Error; err != nil {
		t.Fatalf("testdb: create database on %s: %v", env, err)
	}
	t.Cleanup(func() {
		if err := admin.Exec("DROP DATABASE " + name).Error; err != nil {
			t.Errorf("testdb: drop database %s: %v", name, err)
		}
	})
	cfg.DBName = name
	return connect(t, mysql.Open(cfg.FormatDSN()))
}

// connect opens dialector with a logger that prints nothing and a small
// pool, and closes it when t ends. Cleanups run last-added first, so a
// database is closed before the schema or database under it is dropped.
func connect(t testing.TB, dialector gorm.Dialector) *gorm.DB {
	t.Helper()
	db, err := gorm.Open(dialector, &gorm.Config{Logger: logger.Discard})
	if err != nil {
		t.Fatalf("testdb: connect: %v", err)
	}
	closeAtEnd(t, db)
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	sqlDB.SetMaxOpenConns(maxOpenConns)
	return db
}

// closeAtEnd closes db's connection pool when t ends.
func closeAtEnd(t testing.TB, db *gorm.DB) {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("testdb: %v", err)
	}
	t.Cleanup(func() { sqlDB.Close() })
}

// uniqueName returns a fresh schema or database name: lower case, so that
// it needs no quoting, and random, so that test processes running at once
// never pick the same.
func uniqueName() string {
	return "ihoprauth_test_" + strings.ToLower(rand.Text())
}
