package testdb

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"gorm.io/gorm"
)

func TestBackends(t *testing.T) {
	tests := []struct {
		name                               string
		postgres, mysql, galera, pgreplica string
		want                               []string
	}{
		{"none set", "", "", "", "", []string{SQLite}},
		{"postgres set", "postgres://x", "", "", "", []string{SQLite, Postgres}},
		{"mysql set", "", "x@tcp(y)/z", "", "", []string{SQLite, MySQL}},
		{"galera set", "", "", "x@tcp(y:1)/,x@tcp(y:2)/", "", []string{SQLite, Galera}},
		{"pgreplica set", "", "", "", "postgres://x,postgres://y", []string{SQLite, PGReplica}},
		{"all set", "postgres://x", "x@tcp(y)/z", "x@tcp(y:1)/", "postgres://x,postgres://y",
			[]string{SQLite, Postgres, MySQL, Galera, PGReplica}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(PostgresEnv, tt.postgres)
			t.Setenv(MySQLEnv, tt.mysql)
			t.Setenv(GaleraEnv, tt.galera)
			t.Setenv(PGReplicaEnv, tt.pgreplica)
			if got := Backends(); !slices.Equal(got, tt.want) {
				t.Errorf("Backends: got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestBackend(t *testing.T) {
	t.Setenv(PostgresEnv, "postgres://x")
	t.Setenv(MySQLEnv, "x@tcp(y)/z")
	t.Setenv(GaleraEnv, "x@tcp(y:1)/")
	for _, tt := range []struct{ env, want string }{{"", SQLite}, {PureSQLite, PureSQLite}, {Postgres, Postgres}, {MySQL, MySQL}, {Galera, Galera}} {
		t.Setenv(BackendEnv, tt.env)
		if got := Backend(); got != tt.want {
			t.Errorf("%s=%q: got %q, want %q", BackendEnv, tt.env, got, tt.want)
		}
	}
}

// TestBackendWithoutDSN checks that naming a backend without its DSN stops
// the run instead of skipping almost every test.
func TestBackendWithoutDSN(t *testing.T) {
	for backend, env := range map[string]string{Postgres: PostgresEnv, MySQL: MySQLEnv, Galera: GaleraEnv} {
		t.Run(backend, func(t *testing.T) {
			t.Setenv(env, "")
			t.Setenv(BackendEnv, backend)
			defer func() {
				if r := recover(); r == nil || !strings.Contains(r.(string), env) {
					t.Errorf("got %v, want a panic naming %s", r, env)
				}
			}()
			Backend()
		})
	}
}

func TestWithSearchPath(t *testing.T) {
	tests := []struct{ dsn, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?search_path=s&sslmode=disable"},
		{"postgresql://u@h/db", "postgresql://u@h/db?search_path=s"},
		{"host=h user=u dbname=db", "host=h user=u dbname=db search_path=s"},
	}
	for _, tt := range tests {
		if got := withSearchPath(tt.dsn, "s"); got != tt.want {
			t.Errorf("withSearchPath(%q): got %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

// TestOpenIsolates checks on every configured backend that two databases
// from Open share no table and that Reopen reaches the same database as
// its Open, through the same driver.
func TestOpenIsolates(t *testing.T) {
	for _, backend := range append(All(), PureSQLite) {
		t.Run(backend, func(t *testing.T) {
			Require(t, backend)
			var first, second, again tableNames
			t.Run("open", func(t *testing.T) {
				a, b := Open(t, backend), Open(t, backend)
				if err := a.Exec("CREATE TABLE only_in_a (id INT)").Error; err != nil {
					t.Fatalf("CREATE TABLE: %v", err)
				}
				reopened := Reopen(t, a)
				first, second, again = tables(t, a), tables(t, b), tables(t, reopened)
				if got, want := driverType(t, reopened), driverType(t, a); got != want {
					t.Errorf("driver of the reopened database: got %v, want %v", got, want)
				}
			})
			if !slices.Equal(first, tableNames{"only_in_a"}) || len(second) != 0 || !slices.Equal(again, first) {
				t.Errorf("tables of the first, the second and the first reopened: got %v, %v, %v, want [only_in_a], [], [only_in_a]",
					first, second, again)
			}
		})
	}
}

type tableNames = []string

// driverType returns the type of the database/sql driver under db.
func driverType(t *testing.T, db *gorm.DB) reflect.Type {
	t.Helper()
	sqlDB, err := db.DB()
	if err != nil {
		t.Fatal(err)
	}
	return reflect.TypeOf(sqlDB.Driver())
}

func tables(t *testing.T, db *gorm.DB) tableNames {
	t.Helper()
	names, err := db.Migrator().GetTables()
	if err != nil {
		t.Fatalf("GetTables: %v", err)
	}
	return names
}

func TestOpenSkipsUnset(t *testing.T) {
	for _, tt := range []struct{ backend, env string }{{Postgres, PostgresEnv}, {MySQL, MySQLEnv}, {Galera, GaleraEnv}} {
		t.Run(tt.backend, func(t *testing.T) {
			t.Setenv(tt.env, "")
			ran := false
			t.Run("inner", func(t *testing.T) {
				defer func() { ran = !t.Skipped() }()
				Open(t, tt.backend)
			})
			if ran {
				t.Errorf("Open with %s unset: got the test run on, want it skipped", tt.env)
			}
		})
	}
}

// TestReopenOnNextNode checks that Reopen moves a Galera database to the
// next node of IHOPRAUTH_TEST_GALERA, round, and leaves a DSN of no node
// as it is.
func TestReopenOnNextNode(t *testing.T) {
	t.Setenv(GaleraEnv, "u:p@tcp(127.0.0.1:1)/,u:p@tcp(127.0.0.1:2)/,u:p@tcp(127.0.0.1:3)/")
	tests := []struct{ dsn, want string }{
		{"u:p@tcp(127.0.0.1:1)/db", "u:p@tcp(127.0.0.1:2)/db"},
		{"u:p@tcp(127.0.0.1:3)/db?parseTime=true", "u:p@tcp(127.0.0.1:1)/db?parseTime=true"},
		{"u:p@tcp(127.0.0.1:3306)/db", "u:p@tcp(127.0.0.1:3306)/db"},
	}
	for _, tt := range tests {
		if got := nextNode(t, tt.dsn); got != tt.want {
			t.Errorf("nextNode(%q): got %q, want %q", tt.dsn, got, tt.want)
		}
	}
}

// TestGaleraNodesDiffer checks on the cluster of IHOPRAUTH_TEST_GALERA
// that a database and its Reopen are on two different nodes of one
// cluster.
func TestGaleraNodesDiffer(t *testing.T) {
	Require(t, Galera)
	db := Open(t, Galera)
	again := Reopen(t, db)
	var first, second string
	var size int
	if err := db.Raw("SELECT @@wsrep_node_name").Scan(&first).Error; err != nil {
		t.Fatal(err)
	}
	if err := again.Raw("SELECT @@wsrep_node_name").Scan(&second).Error; err != nil {
		t.Fatal(err)
	}
	if err := again.Raw("SELECT variable_value FROM information_schema.global_status WHERE variable_name = 'WSREP_CLUSTER_SIZE'").Scan(&size).Error; err != nil {
		t.Fatal(err)
	}
	if first == "" || first == second || size < 2 {
		t.Errorf("nodes of Open and Reopen, cluster size: got %q, %q, %d; want two different nodes of a cluster of 2 or more", first, second, size)
	}
}
