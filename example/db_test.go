package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

func TestMySQLDSN(t *testing.T) {
	tests := []struct {
		name, url string
		// prefix is how the DSN must begin: user, password, address and
		// database.
		prefix string
		// user, passwd, addr and dbName are what the driver reads back.
		user, passwd, addr, dbName string
		// params must appear in the DSN.
		params []string
	}{
		{"host, port and database", "mysql://app:secret@db.example.com:3307/auth",
			"app:secret@tcp(db.example.com:3307)/auth?", "app", "secret", "db.example.com:3307", "auth", nil},
		{"default port", "mysql://app:secret@db.example.com/auth",
			"app:secret@tcp(db.example.com:3306)/auth?", "app", "secret", "db.example.com:3306", "auth", nil},
		{"no password", "mysql://app@127.0.0.1/auth",
			"app@tcp(127.0.0.1:3306)/auth?", "app", "", "127.0.0.1:3306", "auth", nil},
		{"escaped password", "mysql://app:p%40ss%3Aw%2Frd@db/auth",
			"app:p@ss:w/rd@tcp(db:3306)/auth?", "app", "p@ss:w/rd", "db:3306", "auth", nil},
		{"IPv6 host", "mysql://app:secret@[::1]:3306/auth",
			"app:secret@tcp([::1]:3306)/auth?", "app", "secret", "[::1]:3306", "auth", nil},
		{"driver parameters pass", "mysql://app:secret@db/auth?tls=skip-verify&timeout=5s",
			"app:secret@tcp(db:3306)/auth?", "app", "secret", "db:3306", "auth",
			[]string{"tls=skip-verify", "timeout=5s"}},
		{"charset kept", "mysql://app:secret@db/auth?charset=utf8mb3",
			"app:secret@tcp(db:3306)/auth?", "app", "secret", "db:3306", "auth", []string{"charset=utf8mb3"}},
		{"parseTime and loc forced", "mysql://app:secret@db/auth?parseTime=false&loc=Local",
			"app:secret@tcp(db:3306)/auth?", "app", "secret", "db:3306", "auth", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := mysqlDSN(tt.url)
			if err != nil {
				t.Fatalf("mysqlDSN(%q): got error %v, want nil", tt.url, err)
			}
			if !strings.HasPrefix(dsn, tt.prefix) {
				t.Errorf("DSN: got %q, want it to begin with %q", dsn, tt.prefix)
			}
			params := tt.params
			if len(params) == 0 {
				params = []string{"charset=utf8mb4"}
			}
			for _, p := range append(params, "parseTime=true") {
				if !strings.Contains(dsn, p) {
					t.Errorf("DSN: got %q, want %s in it", dsn, p)
				}
			}
			cfg, err := gomysql.ParseDSN(dsn)
			if err != nil {
				t.Fatalf("ParseDSN(%q): %v", dsn, err)
			}
			got := []string{cfg.User, cfg.Passwd, cfg.Net, cfg.Addr, cfg.DBName}
			want := []string{tt.user, tt.passwd, "tcp", tt.addr, tt.dbName}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Errorf("user, password, net, address, database: got %q, want %q", got, want)
			}
			if !cfg.ParseTime || cfg.Loc != time.UTC {
				t.Errorf("parseTime, loc: got %v, %v, want true, UTC", cfg.ParseTime, cfg.Loc)
			}
		})
	}
}

func TestMySQLDSNRefuses(t *testing.T) {
	tests := []struct{ name, url string }{
		{"no database", "mysql://app:secret@db"},
		{"empty database", "mysql://app:secret@db/"},
		{"no host", "mysql:///auth"},
		{"path below the database", "mysql://app:secret@db/auth/more"},
		{"bad driver parameter", "mysql://app:secret@db/auth?timeout=forever"},
		{"other scheme", "postgres://app:secret@db/auth"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dsn, err := mysqlDSN(tt.url)
			if err == nil {
				t.Fatalf("mysqlDSN(%q): got %q, want an error", tt.url, dsn)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("error: got %q, want the password left out", err)
			}
		})
	}
}

// TestOpenDBSQLite opens a SQLite file with each -sqlite driver and checks
// that the database is that driver's.
func TestOpenDBSQLite(t *testing.T) {
	tests := []struct{ driver, sqlDriver string }{
		{"cgo", "*sqlite3.SQLiteDriver"},
		{"pure", "*sqlite.Driver"},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "auth.db")
			db := mustOpenDB(t, path, tt.driver)
			if _, err := store.New(context.Background(), db, store.Config{}); err != nil {
				t.Fatalf("store.New: %v", err)
			}
			if _, err := os.Stat(path); err != nil {
				t.Errorf("SQLite file: %v", err)
			}
			sqlDB, _ := db.DB()
			if got := fmt.Sprintf("%T", sqlDB.Driver()); got != tt.sqlDriver {
				t.Errorf("database/sql driver: got %s, want %s", got, tt.sqlDriver)
			}
		})
	}
}

func TestOpenDBUnknownScheme(t *testing.T) {
	for _, spec := range []string{"sqlite://auth.db", "sqlserver://db/auth"} {
		if _, err := openDB(spec, "cgo"); err == nil {
			t.Errorf("openDB(%q): got nil error, want an error", spec)
		}
	}
}

func TestOpenDBUnknownSQLiteDriver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "auth.db")
	if _, err := openDB(path, "mattn"); err == nil || !strings.Contains(err.Error(), "-sqlite") {
		t.Errorf("openDB with -sqlite mattn: got %v, want an error naming -sqlite", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Errorf("openDB with an unknown driver created %s, want nothing created", path)
	}
}

// TestOpenDBServers opens the test servers through URLs, as -db gets them.
func TestOpenDBServers(t *testing.T) {
	t.Run(testdb.Postgres, func(t *testing.T) {
		testdb.Require(t, testdb.Postgres)
		dsn := os.Getenv(testdb.PostgresEnv)
		if !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
			t.Skipf("%s is not a URL", testdb.PostgresEnv)
		}
		ping(t, mustOpenDB(t, dsn, "cgo"))
	})
	t.Run(testdb.MySQL, func(t *testing.T) {
		testdb.Require(t, testdb.MySQL)
		cfg, err := gomysql.ParseDSN(os.Getenv(testdb.MySQLEnv))
		if err != nil {
			t.Fatalf("%s: %v", testdb.MySQLEnv, err)
		}
		u := url.URL{Scheme: "mysql", User: url.UserPassword(cfg.User, cfg.Passwd), Host: cfg.Addr, Path: "/" + cfg.DBName}
		ping(t, mustOpenDB(t, u.String(), "cgo"))
	})
}

// mustOpenDB is openDB that closes the database when the test ends.
func mustOpenDB(t *testing.T, spec, sqliteDriver string) *gorm.DB {
	t.Helper()
	db, err := openDB(spec, sqliteDriver)
	if err != nil {
		t.Fatalf("openDB: got error %v, want nil", err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatalf("DB: %v", err)
	}
	t.Cleanup(func() { sqlDB.Close() })
	return db
}

// ping checks that db answers a query and reads times as time.Time.
func ping(t *testing.T, db *gorm.DB) {
	t.Helper()
	var now time.Time
	if err := db.Raw("SELECT CURRENT_TIMESTAMP").Scan(&now).Error; err != nil || now.IsZero() {
		t.Errorf("SELECT CURRENT_TIMESTAMP: got %v, error %v, want a time", now, err)
	}
}
