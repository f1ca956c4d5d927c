package store_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"
	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/driver/mysql"
	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/storetest"
)

// forEachBackend runs test once on every backend, as a subtest named after
// it; a backend whose DSN variable is unset is a skipped subtest whose
// message names the variable.
func forEachBackend(t *testing.T, test func(t *testing.T, backend string)) {
	for _, backend := range testdb.All() {
		t.Run(backend, func(t *testing.T) {
			testdb.Require(t, backend)
			test(t, backend)
		})
	}
}

// newStore returns a Store on db, reading db's replica on "pgreplica".
func newStore(t *testing.T, db *gorm.DB) *store.Store {
	t.Helper()
	s, err := store.New(context.Background(), db, store.Config{Replicas: testdb.Replicas(t, db)})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

func TestConformance(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		// The backends at once: each test makes a schema of its own and
		// mostly waits for its database, so one after the other they were
		// most of .ci/run's ten minutes.
		t.Parallel()
		storetest.Run(t, func(t *testing.T) ihoprauth.Store { return newStore(t, testdb.Open(t, backend)) })
	})
}

// TestConcurrentTransactions runs transactions that read and then write
// from many goroutines at once: none may fail, on SQLite in particular
// with "database is locked", which IMMEDIATE transactions and a busy
// timeout prevent.
func TestConcurrentTransactions(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		const goroutines = 50
		s, ctx := newStore(t, testdb.Open(t, backend)), t.Context()
		p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP}
		if err := s.SaveProject(ctx, &p); err != nil {
			t.Fatalf("SaveProject: %v", err)
		}
		var wg sync.WaitGroup
		errs := make(chan error, goroutines)
		for i := range goroutines {
			wg.Go(func() {
				errs <- s.InTx(ctx, func(tx ihoprauth.Store) error { return signUp(ctx, tx, p.ClientID, i) })
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("InTx: got error %v, want nil", err)
			}
		}
	})
}

// TestConcurrentHitsOnTwoInstances counts hits of one key from two Stores
// at once, as two instances on two nodes of a Galera cluster (testdb.Reopen)
// count one client's failures: on Galera every such upsert conflicts with
// those through the other node at commit. Every hit must succeed, and the
// conflicts, retried, must not be logged as errors. Every hit must count,
// on Galera too, where Hit therefore reads nothing back in the upsert's
// transaction (see hitMySQLSQL in counters.go).
func TestConcurrentHitsOnTwoInstances(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		const hits = 40
		var buf syncBuffer
		log := slog.New(slog.NewTextHandler(&buf, nil))
		db := testdb.Open(t, backend)
		stores := []*store.Store{newStoreLogging(t, db, log), newStoreLogging(t, testdb.Reopen(t, db), log)}
		now, ctx := time.Now(), t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, hits)
		for i := range hits {
			wg.Go(func() {
				_, err := stores[i%2].Hit(ctx, "source", now, time.Hour)
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("Hit: got error %v, want nil", err)
			}
		}
		if c, err := stores[0].Counter(ctx, "source"); err != nil || c.Count != hits {
			t.Errorf("Counter: got %d, error %v, want %d", c.Count, err, hits)
		}
		if logged := buf.String(); logged != "" {
			t.Errorf("log: got %q, want nothing", logged)
		}
	})
}

// newStoreLogging returns a Store on db that logs to log.
func newStoreLogging(t *testing.T, db *gorm.DB, log *slog.Logger) *store.Store {
	t.Helper()
	s, err := store.New(context.Background(), db, store.Config{Logger: log})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return s
}

// syncBuffer is a bytes.Buffer that goroutines may write at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// signUp reads the project, then creates user i in it.
func signUp(ctx context.Context, tx ihoprauth.Store, clientID string, i int) error {
	p, err := tx.ProjectByClientID(ctx, clientID)
	if err != nil {
		return err
	}
	email := fmt.Sprintf("user%d@example.com", i)
	u := ihoprauth.User{
		UserID:    fmt.Sprintf("%032x", i),
		ProjectID: p.ID,
		Email:     email,
		EmailKey:  email,
		CreatedAt: time.Now(),
		UpdatedAt: time.Now(),
	}
	return tx.CreateUser(ctx, &u)
}

// TestConcurrentNew starts instances, each with a connection pool of its
// own, on one empty database at once: every New must succeed, and each
// migration step must be applied once.
func TestConcurrentNew(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		const instances = 4
		db := testdb.Open(t, backend)
		dbs := []*gorm.DB{db}
		for range instances - 1 {
			dbs = append(dbs, testdb.Reopen(t, db))
		}
		var wg sync.WaitGroup
		errs := make(chan error, instances)
		start := make(chan struct{})
		for _, db := range dbs {
			wg.Go(func() {
				<-start
				_, err := store.New(context.Background(), db, store.Config{})
				errs <- err
			})
		}
		close(start)
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("New: got error %v, want nil", err)
			}
		}
		checkApplied(t, db, allSteps)
	})
}

// allSteps lists the migration steps of this version.
var allSteps = []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13}

// checkApplied checks that ihoprauth_schema_migrations lists want, each
// once.
func checkApplied(t *testing.T, db *gorm.DB, want []int) {
	t.Helper()
	var got []int
	if err := db.Table("ihoprauth_schema_migrations").Order("version").Pluck("version", &got).Error; err != nil {
		t.Fatalf("read ihoprauth_schema_migrations: %v", err)
	}
	if !slices.Equal(got, want) {
		t.Errorf("applied steps: got %v, want %v", got, want)
	}
}

// TestNewTwice checks that New accepts the tables it made before, as on a
// restart, and keeps their rows.
func TestNewTwice(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeNone}
		if err := newStore(t, db).SaveProject(ctx, &p); err != nil {
			t.Fatalf("SaveProject: %v", err)
		}
		got, err := newStore(t, testdb.Reopen(t, db)).ProjectByClientID(ctx, "web")
		if err != nil || got.ID != p.ID {
			t.Errorf("after restart: got project %d, error %v, want project %d", got.ID, err, p.ID)
		}
		checkApplied(t, db, allSteps)
	})
}

// TestMigrateThenNew checks that an app can run Migrate on its own, before
// New, and that New then finds nothing to do.
func TestMigrateThenNew(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db := testdb.Open(t, backend)
		for run := range 2 {
			if err := store.Migrate(context.Background(), db, nil); err != nil {
				t.Fatalf("Migrate, run %d: got error %v, want nil", run+1, err)
			}
		}
		checkApplied(t, db, allSteps)
		newStore(t, db)
		checkApplied(t, db, allSteps)
	})
}

// TestMigrateLeavesNewerSteps checks that a database migrated by a newer
// version, whose steps this one does not know, is used as it is, as in a
// rolling upgrade.
func TestMigrateLeavesNewerSteps(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db := testdb.Open(t, backend)
		newStore(t, db)
		newer := map[string]any{"version": 99, "applied_at": time.Now().UTC()}
		if err := db.Table("ihoprauth_schema_migrations").Create(newer).Error; err != nil {
			t.Fatalf("record step 99: %v", err)
		}
		newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, append(slices.Clone(allSteps), 99))
	})
}

// TestMigrateUpgradesUnnumbered checks that New brings a database made
// before migrations were numbered up to date, keeping its rows: the
// column Challenge.AccountKey, which came later, is added, and on MySQL
// the tables get the NO PAD collation in place of the older utf8mb4_bin,
// so a trailing space in a lookup no longer matches.
func TestMigrateUpgradesUnnumbered(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		s, p := storeWithUser(t, db)
		c := ihoprauth.Challenge{Purpose: ihoprauth.PurposeOTP, TokenHash: "token", AccountKey: "account",
			ExpiresAt: time.Now(), CreatedAt: time.Now()}
		if err := s.CreateChallenge(ctx, &c); err != nil {
			t.Fatalf("CreateChallenge: %v", err)
		}
		makeUnnumbered(t, db, backend)

		s = newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		got, err := s.ChallengeByToken(ctx, c.Purpose, c.TokenHash)
		if err != nil || got.ID != c.ID || got.AccountKey != "" {
			t.Errorf("old challenge: got ID %d, AccountKey %q, error %v, want ID %d, AccountKey \"\"",
				got.ID, got.AccountKey, err, c.ID)
		}
		if !db.Migrator().HasColumn("ihoprauth_challenges", "account_key") {
			t.Error("column account_key: got none, want it added")
		}
		if _, err := s.UserByEmail(ctx, p.ID, "user1@example.com "); !errors.Is(err, ihoprauth.ErrNotFound) {
			t.Errorf("UserByEmail with a trailing space: got error %v, want ErrNotFound", err)
		}
		if _, err := s.UserByEmail(ctx, p.ID, "user1@example.com"); err != nil {
			t.Errorf("UserByEmail: got error %v, want nil", err)
		}
	})
}

// storeWithUser is a Store on db holding project "web" and its user
// user1@example.com.
func storeWithUser(t *testing.T, db *gorm.DB) (*store.Store, ihoprauth.Project) {
	t.Helper()
	s := newStore(t, db)
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP}
	if err := s.SaveProject(t.Context(), &p); err != nil {
		t.Fatalf("SaveProject: %v", err)
	}
	if err := signUp(t.Context(), s, p.ClientID, 1); err != nil {
		t.Fatalf("create user: %v", err)
	}
	return s, p
}

// userOne returns the user that storeWithUser made in p.
func userOne(t *testing.T, s *store.Store, p ihoprauth.Project) ihoprauth.User {
	t.Helper()
	u, err := s.UserByEmail(t.Context(), p.ID, "user1@example.com")
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// TestMigrateAddsUserVersion checks step 3 on a database at step 2: the
// users get a version column, starting at 0, that UpdateUser then uses.
func TestMigrateAddsUserVersion(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		_, p := storeWithUser(t, db)
		for _, stmt := range []string{"ALTER TABLE ihoprauth_users DROP COLUMN version",
			"DELETE FROM ihoprauth_schema_migrations WHERE version = 3"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s := newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		u, err := s.UserByEmail(ctx, p.ID, "user1@example.com")
		if err != nil || u.Version != 0 {
			t.Fatalf("old user: got version %d, error %v, want version 0", u.Version, err)
		}
		u.FirstName = "Upgraded"
		if err := s.UpdateUser(ctx, &u); err != nil || u.Version != 1 {
			t.Errorf("UpdateUser after the upgrade: got version %d, error %v, want version 1", u.Version, err)
		}
	})
}

// TestMigrateAddsUserDisabledAt checks step 7 on a database at step 6:
// the users get a disabled_at column, NULL for the users there are, that
// UpdateUser then writes.
func TestMigrateAddsUserDisabledAt(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		_, p := storeWithUser(t, db)
		for _, stmt := range []string{"ALTER TABLE ihoprauth_users DROP COLUMN disabled_at",
			"DELETE FROM ihoprauth_schema_migrations WHERE version = 7"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s := newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		u, err := s.UserByEmail(ctx, p.ID, "user1@example.com")
		if err != nil || u.Disabled() {
			t.Fatalf("old user: got DisabledAt %v, error %v, want an enabled user", u.DisabledAt, err)
		}
		at := time.Date(2030, 1, 2, 3, 4, 5, 6000, time.UTC)
		u.DisabledAt = &at
		if err := s.UpdateUser(ctx, &u); err != nil {
			t.Fatalf("UpdateUser after the upgrade: %v", err)
		}
		if got, err := s.UserByID(ctx, u.ID); err != nil || got.DisabledAt == nil || !got.DisabledAt.Equal(at) {
			t.Errorf("after UpdateUser: got DisabledAt %v, error %v, want %v", got.DisabledAt, err, at)
		}
	})
}

// TestMigrateAddsChangeProjectID checks step 8 on a database at step 7:
// the change feed gets a project_id column, 0 for the changes there are
// (each of a user), that AppendChange then writes.
func TestMigrateAddsChangeProjectID(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		s := newStore(t, db)
		if err := s.AppendChange(ctx, ihoprauth.Change{UserID: 41}); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{"ALTER TABLE ihoprauth_changes DROP COLUMN project_id",
			"DELETE FROM ihoprauth_schema_migrations WHERE version = 8"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s = newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		if err := s.AppendChange(ctx, ihoprauth.Change{ProjectID: 42}); err != nil {
			t.Fatalf("AppendChange after the upgrade: %v", err)
		}
		changes, _, err := s.Changes(ctx, time.Now().Add(-time.Hour))
		if err != nil || len(changes) != 2 || changes[0].UserID != 41 || changes[0].ProjectID != 0 ||
			changes[1].UserID != 0 || changes[1].ProjectID != 42 {
			t.Fatalf("changes after the upgrade: got %+v, %v; want user 41, then project 42", changes, err)
		}
	})
}

// TestMigrateAddsFactors checks step 10 on a database at step 9: the
// tables of second factors and recovery codes are created, and work.
func TestMigrateAddsFactors(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		_, p := storeWithUser(t, db)
		for _, stmt := range []string{"DROP TABLE ihoprauth_factors", "DROP TABLE ihoprauth_recovery_codes",
			"DELETE FROM ihoprauth_schema_migrations WHERE version = 10"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s := newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		u := userOne(t, s, p)
		f := ihoprauth.Factor{UserID: u.ID, Kind: ihoprauth.FactorTOTP, Secret: []byte("sealed")}
		if err := s.SaveFactor(ctx, &f); err != nil {
			t.Fatalf("SaveFactor after the upgrade: %v", err)
		}
		if err := s.ReplaceRecoveryCodes(ctx, u.ID, []string{"h1", "h2"}, time.Now()); err != nil {
			t.Fatalf("ReplaceRecoveryCodes after the upgrade: %v", err)
		}
		if codes, err := s.RecoveryCodes(ctx, u.ID); err != nil || len(codes) != 2 {
			t.Errorf("RecoveryCodes after the upgrade: got %d, %v, want 2", len(codes), err)
		}
	})
}

// TestMigrateAddsAAL checks step 11 on a database at step 10: auth codes and
// tokens get an aal column, and the tokens there are read as AAL1.
func TestMigrateAddsAAL(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		s, p := storeWithUser(t, db)
		u := userOne(t, s, p)
		tok := ihoprauth.Token{AccessHash: "access", RefreshHash: "refresh", FamilyID: "family", ProjectID: p.ID, UserID: u.ID,
			ExpiresAt: time.Now().Add(time.Hour), RefreshExpiresAt: time.Now().Add(time.Hour)}
		if err := s.CreateToken(ctx, &tok); err != nil {
			t.Fatal(err)
		}
		for _, stmt := range []string{"ALTER TABLE ihoprauth_tokens DROP COLUMN aal", "ALTER TABLE ihoprauth_tokens DROP COLUMN auth_at",
			"ALTER TABLE ihoprauth_auth_codes DROP COLUMN aal",
			"DELETE FROM ihoprauth_schema_migrations WHERE version = 11"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s = newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		if got, _, err := s.TokenUser(ctx, "access"); err != nil || got.AAL != ihoprauth.AAL1 || !got.AuthAt.IsZero() {
			t.Errorf("old token: got AAL %v, AuthAt %v, error %v, want aal1 and no AuthAt", got.AAL, got.AuthAt, err)
		}
	})
}

// TestMigrateAddsPasskeys checks step 12 on a database at step 11: the
// table of passkeys is created, and works.
func TestMigrateAddsPasskeys(t *testing.T) {
	forEachBackend(t, func(t *testing.T, backend string) {
		db, ctx := testdb.Open(t, backend), t.Context()
		_, p := storeWithUser(t, db)
		for _, stmt := range []string{"DROP TABLE ihoprauth_passkeys", "DELETE FROM ihoprauth_schema_migrations WHERE version = 12"} {
			if err := db.Exec(stmt).Error; err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
		s := newStore(t, testdb.Reopen(t, db))
		checkApplied(t, db, allSteps)
		u := userOne(t, s, p)
		k := ihoprauth.Passkey{UserID: u.ID, CredentialID: []byte("credential"), PublicKey: []byte("key"), CreatedAt: time.Now()}
		if err := s.SavePasskey(ctx, &k); err != nil {
			t.Fatalf("SavePasskey after the upgrade: %v", err)
		}
		if ok, err := s.UsePasskey(ctx, k.ID, 1, false, time.Now()); err != nil || !ok {
			t.Errorf("UsePasskey after the upgrade: got %v, %v, want true", ok, err)
		}
	})
}

// makeUnnumbered turns db into a database as the version before numbered
// migrations left it: no ihoprauth_schema_migrations, no
// ihoprauth_challenges.account_key, and on MySQL every table in
// utf8mb4_bin.
func makeUnnumbered(t *testing.T, db *gorm.DB, backend string) {
	t.Helper()
	statements := []string{
		"DROP TABLE ihoprauth_schema_migrations",
		"ALTER TABLE ihoprauth_challenges DROP COLUMN account_key",
	}
	if testdb.IsMySQL(backend) {
		tables, err := db.Migrator().GetTables()
		if err != nil {
			t.Fatalf("GetTables: %v", err)
		}
		for _, table := range slices.DeleteFunc(tables, func(t string) bool { return t == "ihoprauth_schema_migrations" }) {
			statements = append(statements,
				"ALTER TABLE "+table+" CONVERT TO CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
		}
	}
	for _, stmt := range statements {
		if err := db.Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// TestMySQLCollation checks that every text column of a new MySQL or
// MariaDB database compares bytes without padding.
func TestMySQLCollation(t *testing.T) {
	testdb.Require(t, testdb.MySQL)
	db := testdb.Open(t, testdb.MySQL)
	newStore(t, db)
	var collations []string
	err := db.Raw(`SELECT DISTINCT collation_name FROM information_schema.columns
		WHERE table_schema = DATABASE() AND collation_name IS NOT NULL`).Scan(&collations).Error
	if err != nil {
		t.Fatalf("read collations: %v", err)
	}
	for _, c := range collations {
		if c != "utf8mb4_nopad_bin" && c != "utf8mb4_0900_bin" {
			t.Errorf("collation: got %s, want utf8mb4_nopad_bin or utf8mb4_0900_bin", c)
		}
	}
}

// TestNewRefusesMySQLWithoutParseTime checks that a MySQL DSN that returns
// times as bytes is refused at New, with the fix in the message.
func TestNewRefusesMySQLWithoutParseTime(t *testing.T) {
	testdb.Require(t, testdb.MySQL)
	db := testdb.Open(t, testdb.MySQL)
	d := db.Dialector.(*mysql.Dialector)
	dsn := strings.NewReplacer("parseTime=true", "parseTime=false").Replace(d.DSN)
	raw, err := gorm.Open(mysql.Open(dsn), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := raw.DB()
	defer sqlDB.Close()
	if _, err := store.New(context.Background(), raw, store.Config{}); err == nil || !strings.Contains(err.Error(), "parseTime=true") {
		t.Errorf("got %v, want an error asking for parseTime=true", err)
	}
}

// TestNewBoundsAnUnboundedPool checks that New bounds a pool that the app
// left unbounded, to Config.MaxOpenConns, and leaves a bounded one alone.
func TestNewBoundsAnUnboundedPool(t *testing.T) {
	tests := []struct {
		name      string
		appBound  int
		configMax int
		want      int
	}{
		{"unbounded, default", 0, 0, 16},
		{"unbounded, configured", 0, 5, 5},
		{"bounded by the app", 3, 5, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := testdb.Open(t, testdb.SQLite)
			sqlDB, err := db.DB()
			if err != nil {
				t.Fatal(err)
			}
			sqlDB.SetMaxOpenConns(tt.appBound)
			if _, err := store.New(t.Context(), db, store.Config{MaxOpenConns: tt.configMax}); err != nil {
				t.Fatal(err)
			}
			if got := sqlDB.Stats().MaxOpenConnections; got != tt.want {
				t.Errorf("MaxOpenConnections: got %d, want %d", got, tt.want)
			}
		})
	}
}

// TestConflictsAreRetried: a transaction the database refuses for a
// conflict with another runs again, and its caller sees the answer of the
// try that went through; when every try conflicts, the error is
// ErrUnavailable (503). Other errors are not retried.
func TestConflictsAreRetried(t *testing.T) {
	st := newStore(t, testdb.Open(t, testdb.SQLite))
	conflicts := []struct {
		name string
		err  error
	}{
		{"PostgreSQL serialization failure", &pgconn.PgError{Code: "40001"}},
		{"PostgreSQL deadlock", &pgconn.PgError{Code: "40P01"}},
		{"MariaDB deadlock or Galera certification failure", &gomysql.MySQLError{Number: 1213}},
	}
	for _, c := range conflicts {
		t.Run(c.name, func(t *testing.T) {
			tries := 0
			err := st.InTx(t.Context(), func(ihoprauth.Store) error {
				if tries++; tries < 3 {
					return fmt.Errorf("store: a write: %w", c.err)
				}
				return nil
			})
			if err != nil || tries != 3 {
				t.Errorf("two conflicts, then success: got %v after %d tries, want nil after 3", err, tries)
			}
			tries = 0
			err = st.InTx(t.Context(), func(ihoprauth.Store) error { tries++; return c.err })
			if !errors.Is(err, ihoprauth.ErrUnavailable) || tries != store.ConflictTries {
				t.Errorf("conflicts every time: got %v after %d tries, want ErrUnavailable after %d", err, tries, store.ConflictTries)
			}
		})
	}
	tries := 0
	other := errors.New("not a conflict")
	if err := st.InTx(t.Context(), func(ihoprauth.Store) error { tries++; return other }); err != other || tries != 1 {
		t.Errorf("another error: got %v after %d tries, want it as it is after 1", err, tries)
	}
}

// TestSQLiteDriversShareAFile writes a user with one SQLite driver and
// reads it back, times included, with the other, both ways: an app can
// move between store/sqlite and store/puresqlite with its data in place.
// (In a build without cgo both are the pure-Go driver.)
func TestSQLiteDriversShareAFile(t *testing.T) {
	drivers := []string{testdb.SQLite, testdb.PureSQLite}
	for i, writer := range drivers {
		reader := drivers[1-i]
		t.Run(writer+" then "+reader, func(t *testing.T) {
			ctx := t.Context()
			first := testdb.Open(t, writer)
			s := newStore(t, first)
			p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeOTP}
			if err := s.SaveProject(ctx, &p); err != nil {
				t.Fatalf("SaveProject: %v", err)
			}
			if err := signUp(ctx, s, p.ClientID, 1); err != nil {
				t.Fatalf("signUp: %v", err)
			}
			want, err := s.UserByEmail(ctx, p.ID, "user1@example.com")
			if err != nil {
				t.Fatalf("UserByEmail (%s): %v", writer, err)
			}
			var path string
			if err := first.Raw("SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&path).Error; err != nil {
				t.Fatal(err)
			}
			// Two copies of SQLite in one process must not have one file
			// open at once: each would release the other's POSIX locks.
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if sqlDB, err := first.DB(); err != nil || sqlDB.Close() != nil {
				t.Fatalf("closing the %s database: %v", writer, err)
			}
			got, err := newStore(t, testdb.OpenFile(t, reader, path)).UserByEmail(ctx, p.ID, "user1@example.com")
			if err != nil {
				t.Fatalf("UserByEmail (%s): %v", reader, err)
			}
			if got.ID != want.ID || got.UserID != want.UserID || !got.CreatedAt.Equal(want.CreatedAt) || got.CreatedAt.Location() != time.UTC {
				t.Errorf("user read by %s: got %d %s %v, want %d %s %v in UTC", reader,
					got.ID, got.UserID, got.CreatedAt, want.ID, want.UserID, want.CreatedAt)
			}
		})
	}
}
