package store

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/go-sql-driver/mysql"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// migration is one numbered step of the schema. Steps are applied in order,
// each at most once per database, and each is written so that running it on
// a database that already has what it makes changes nothing: step 1 creates
// the tables from the row types of the running version, so a later step may
// find its change already there.
type migration struct {
	version int
	name    string
	up      func(db *gorm.DB) error
}

// migrations lists every step, oldest first. A new step goes at the end with
// the next version; a released step is never changed or removed.
var migrations = []migration{
	{1, "create tables", createTables},
	{2, "NO PAD binary collation on MySQL and MariaDB", useNoPadCollation},
	{3, "users.version for optimistic updates", addUserVersion},
	{4, "cookie sessions", createSessions},
	{5, "known sources, counted events, projects' bcrypt cost", addKnownSources},
	{6, "the change feed of the token cache", createChanges},
	{7, "users.disabled_at", addUserDisabledAt},
	{8, "changes of projects in the change feed", addChangeProjectID},
	{9, "the admin API: server API keys, events.actor", addAdminAPI},
	{10, "second factors and recovery codes", createFactors},
	{11, "the assurance level of auth codes and tokens, tokens' login time", addAAL},
	{12, "passkeys (WebAuthn credentials)", createPasskeys},
	{13, "identities at other providers, users.email_verified_at", addIdentities},
}

// schemaMigrationRow records one applied step.
type schemaMigrationRow struct {
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	AppliedAt time.Time `gorm:"precision:6;not null"`
}

func (schemaMigrationRow) TableName() string { return "ihoprauth_schema_migrations" }

// Migrate brings the ihoprauth_* tables in db up to the schema of this
// version of the package: it applies, in order, each numbered step that
// the table ihoprauth_schema_migrations does not list yet, and records it
// there. New calls it, so most apps never do; an app whose runtime database
// user may not change tables calls Migrate with a privileged connection
// before it starts, and New then finds nothing to do and changes nothing.
//
// Instances that start at once are safe: the steps run under a lock held
// in the database (an advisory lock on PostgreSQL, GET_LOCK on MySQL and
// MariaDB, the write lock of an IMMEDIATE transaction on a database from
// sqlite.Open), and whoever gets it second finds the steps applied. Steps
// recorded by a newer version of this package are left alone, so older
// instances keep running during a rolling upgrade. An instance waits at
// most two minutes for another's migration, and stops waiting, as it stops
// the steps, when ctx is done. Failed statements are logged to log (nil:
// slog.Default()), without the values bound to them.
func Migrate(ctx context.Context, db *gorm.DB, log *slog.Logger) error {
	if err := migrate(session(db.WithContext(ctx), cmp.Or(log, slog.Default()))); err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	return nil
}

// migrate is Migrate on the Store's session of db. On a Galera cluster
// GET_LOCK is each node's own, so instances on two nodes can run one step
// at once, and the slower one's DDL finds the table, column or index that
// the other just made (MySQL errors 1050, 1060, 1061), or its writes lose
// the cluster's certification to the other's (error 1213, "deadlock"): the
// steps are safe to run again, so migrate then starts over, from the steps
// recorded by then, up to three times.
func migrate(db *gorm.DB) error {
	var err error
	for range 3 {
		if err = migrateOnce(db); !madeMeanwhile(err) && !isConflict(err) {
			return err
		}
	}
	return err
}

// madeMeanwhile reports whether err is MySQL's answer to a DDL statement
// whose table, column or index exists already.
func madeMeanwhile(err error) bool {
	var myErr *mysql.MySQLError
	return errors.As(err, &myErr) && (myErr.Number == 1050 || myErr.Number == 1060 || myErr.Number == 1061)
}

// migrateOnce applies the steps that db has not recorded, under the
// migration lock.
func migrateOnce(db *gorm.DB) error {
	if pending, err := pendingMigrations(db); err != nil || len(pending) == 0 {
		return err
	}
	return withMigrationLock(db, func(db *gorm.DB) error {
		if !db.Migrator().HasTable(&schemaMigrationRow{}) {
			// The second test of HasTable is for Galera, where the lock does
			// not keep instances on other nodes out (see withMySQLLock).
			err := tableOptions(db).Migrator().CreateTable(&schemaMigrationRow{})
			if err != nil && !db.Migrator().HasTable(&schemaMigrationRow{}) {
				return fmt.Errorf("create %s: %w", schemaMigrationRow{}.TableName(), err)
			}
		}
		pending, err := pendingMigrations(db)
		if err != nil {
			return err
		}
		for _, m := range pending {
			if err := apply(db, m); err != nil {
				return fmt.Errorf("step %d (%s): %w", m.version, m.name, err)
			}
		}
		return nil
	})
}

// pendingMigrations returns the steps that db has not recorded yet: all of
// them when it has no ihoprauth_schema_migrations table.
func pendingMigrations(db *gorm.DB) ([]migration, error) {
	if !db.Migrator().HasTable(&schemaMigrationRow{}) {
		return migrations, nil
	}
	var applied []int
	if err := db.Model(&schemaMigrationRow{}).Pluck("version", &applied).Error; err != nil {
		return nil, fmt.Errorf("read applied steps: %w", err)
	}
	done := make(map[int]bool, len(applied))
	for _, v := range applied {
		done[v] = true
	}
	var pending []migration
	for _, m := range migrations {
		if !done[m.version] {
			pending = append(pending, m)
		}
	}
	return pending, nil
}

// apply runs one step and records it. Where the database can undo a change
// of its tables (PostgreSQL, SQLite) the two happen in one transaction;
// MySQL and MariaDB commit each such change at once, which is why every
// step must be safe to run again, and there a step that another instance
// recorded meanwhile is not an error: on a Galera cluster instances on two
// nodes can run one step at once (see withMySQLLock).
func apply(db *gorm.DB, m migration) error {
	run := func(tx *gorm.DB) error {
		if err := m.up(tx); err != nil {
			return err
		}
		row := schemaMigrationRow{Version: m.version, AppliedAt: utc(time.Now())}
		if isMySQL(tx) {
			tx = tx.Clauses(clause.OnConflict{DoNothing: true})
		}
		return tx.Create(&row).Error
	}
	if isMySQL(db) {
		return run(db)
	}
	return db.Transaction(run)
}

// migrationLockTimeout bounds the wait for another instance's migration.
const migrationLockTimeout = 2 * time.Minute

// withMigrationLock runs fn while holding the lock that keeps two
// instances from migrating one database at once. PostgreSQL and MySQL
// locks are taken per schema or database, so that tests that each have
// their own do not wait for each other.
func withMigrationLock(db *gorm.DB, fn func(db *gorm.DB) error) error {
	switch db.Dialector.Name() {
	case "postgres":
		return withPostgresLock(db, fn)
	case "mysql":
		return withMySQLLock(db, fn)
	default:
		// SQLite takes its write lock at BEGIN IMMEDIATE, which sqlite.Open
		// and puresqlite.Open make the default, and holds it to the end
		// of the transaction.
		return db.Transaction(fn)
	}
}

// withPostgresLock runs fn in a transaction that first takes an advisory
// lock, released when the transaction ends. READ COMMITTED lets whoever
// waited for the lock see the tables that the first instance committed,
// whatever the database's default isolation.
func withPostgresLock(db *gorm.DB, fn func(tx *gorm.DB) error) error {
	return db.Transaction(func(tx *gorm.DB) error {
		timeout := fmt.Sprintf("SET LOCAL lock_timeout = '%ds'", int(migrationLockTimeout.Seconds()))
		if err := tx.Exec(timeout).Error; err != nil {
			return err
		}
		err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('ihoprauth_schema_migrations.' || coalesce(current_schema(), '')))").Error
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		return fn(tx)
	}, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
}

// withMySQLLock runs fn on one connection that holds a named lock
// (GET_LOCK), since MySQL commits every change of a table at once and a
// transaction would hold nothing. A connection whose lock could not be
// released is closed rather than returned to the pool, which releases it.
// On a Galera cluster the lock is the node's own: instances on different
// nodes migrate at once, and the steps, safe to run again, converge
// (TestConcurrentNew on Galera).
func withMySQLLock(db *gorm.DB, fn func(conn *gorm.DB) error) error {
	const name = "concat('ihoprauth_migrate_', md5(coalesce(database(), '')))"
	return db.Connection(func(conn *gorm.DB) error {
		// A session, so that each statement starts from a clean slate
		// instead of the one the last statement left.
		conn = conn.Session(&gorm.Session{})
		var got *int
		err := conn.Raw("SELECT GET_LOCK("+name+", ?)", int(migrationLockTimeout.Seconds())).Scan(&got).Error
		if err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		if got == nil || *got != 1 {
			return errors.New("lock: another instance has been migrating for too long")
		}
		err = fn(conn)
		release := conn.WithContext(context.WithoutCancel(conn.Statement.Context))
		if releaseErr := release.Exec("DO RELEASE_LOCK(" + name + ")").Error; releaseErr != nil {
			discard(conn)
			return errors.Join(err, fmt.Errorf("unlock: %w", releaseErr))
		}
		return err
	})
}

// discard makes the pool close the connection that conn is pinned to
// instead of reusing it.
func discard(conn *gorm.DB) {
	if c, ok := conn.Statement.ConnPool.(*sql.Conn); ok {
		_ = c.Raw(func(any) error { return driver.ErrBadConn })
	}
}

// createTables is step 1: the tables and indexes of the row types, created
// or, on a database made before migrations were numbered, completed.
func createTables(db *gorm.DB) error {
	return tableOptions(db).AutoMigrate(
		&projectRow{}, &userRow{}, &challengeRow{},
		&authCodeRow{}, &tokenRow{}, &secretRow{},
		&counterRow{}, &eventRow{},
	)
}

// createChanges is step 6: the change feed.
func createChanges(db *gorm.DB) error {
	return tableOptions(db).AutoMigrate(&changeRow{})
}

// addAdminAPI is step 9: the server API keys, and who made a change
// through the admin API ("" for the events there are).
func addAdminAPI(db *gorm.DB) error {
	if err := tableOptions(db).AutoMigrate(&apiKeyRow{}); err != nil {
		return err
	}
	if db.Migrator().HasColumn(&eventRow{}, "Actor") {
		return nil
	}
	return db.Migrator().AddColumn(&eventRow{}, "Actor")
}

// addChangeProjectID is step 8: the feed names changed projects too (their
// rows are cached like tokens).
func addChangeProjectID(db *gorm.DB) error {
	if db.Migrator().HasColumn(&changeRow{}, "ProjectID") {
		return nil
	}
	return db.Migrator().AddColumn(&changeRow{}, "ProjectID")
}

// addKnownSources is step 5: the table of sources known to each account,
// and the count of requests an audit event stands for (existing events
// stand for one).
func addKnownSources(db *gorm.DB) error {
	if err := tableOptions(db).AutoMigrate(&knownSourceRow{}); err != nil {
		return err
	}
	for _, c := range []struct {
		model any
		field string
	}{{&eventRow{}, "Count"}, {&projectRow{}, "BcryptCosts"}} {
		if !db.Migrator().HasColumn(c.model, c.field) {
			if err := db.Migrator().AddColumn(c.model, c.field); err != nil {
				return err
			}
		}
	}
	return markBcryptProjects(db)
}

// markBcryptProjects sets the BcryptCosts of every project that already
// holds imported bcrypt hashes ("$2y$10$…": the cost is the two digits
// after the third "$").
func markBcryptProjects(db *gorm.DB) error {
	if !db.Migrator().HasTable(&userRow{}) {
		return nil // no users yet (MigrationSQL on a new database: step 1 was only listed)
	}
	var rows []struct {
		ProjectID int64
		Cost      string
	}
	err := db.Model(&userRow{}).Distinct("project_id", "SUBSTR(password_hash, 5, 2) AS cost").
		Where("password_hash LIKE ? OR password_hash LIKE ? OR password_hash LIKE ?", "$2a$%", "$2b$%", "$2y$%").
		Scan(&rows).Error
	if err != nil {
		return err
	}
	for _, r := range rows {
		cost, err := strconv.Atoi(r.Cost)
		if err != nil || cost < 4 || cost > 31 {
			continue
		}
		err = db.Model(&projectRow{}).Where("id = ?", r.ProjectID).
			Update("bcrypt_costs", gorm.Expr("bcrypt_costs | ?", 1<<cost)).Error
		if err != nil {
			return err
		}
	}
	return nil
}

// addUserDisabledAt is step 7: when a user was disabled, NULL for the
// users that exist (all enabled).
func addUserDisabledAt(db *gorm.DB) error {
	if db.Migrator().HasColumn(&userRow{}, "DisabledAt") {
		return nil
	}
	return db.Migrator().AddColumn(&userRow{}, "DisabledAt")
}

// addUserVersion is step 3: the version column that lets UpdateUser refuse
// to write over a concurrent change. Existing rows start at 0.
func addUserVersion(db *gorm.DB) error {
	if db.Migrator().HasColumn(&userRow{}, "Version") {
		return nil
	}
	return db.Migrator().AddColumn(&userRow{}, "Version")
}

// useNoPadCollation is step 2: on MySQL and MariaDB it converts every
// ihoprauth_* table that has another collation to the one binaryCollation
// picks. Earlier versions used utf8mb4_bin, which is PAD SPACE: it ignores
// trailing spaces, so "ann@example.com " found "ann@example.com". Making
// comparisons stricter cannot break a unique index. Other databases have
// nothing to do.
func useNoPadCollation(db *gorm.DB) error {
	if !isMySQL(db) {
		return nil
	}
	collation, err := binaryCollation(db)
	if err != nil {
		return err
	}
	var tables []string
	err = db.Raw(`SELECT DISTINCT table_name FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name LIKE 'ihoprauth\_%'
		AND collation_name IS NOT NULL AND collation_name <> ?`, collation).Scan(&tables).Error
	if err != nil {
		return err
	}
	for _, table := range tables {
		err := db.Exec("ALTER TABLE " + db.Statement.Quote(table) +
			" CONVERT TO CHARACTER SET utf8mb4 COLLATE " + collation).Error
		if err != nil {
			return fmt.Errorf("convert %s: %w", table, err)
		}
	}
	return nil
}

// tableOptions returns db set to create MySQL and MariaDB tables in
// utf8mb4 with the collation binaryCollation picks; other databases need
// no options.
func tableOptions(db *gorm.DB) *gorm.DB {
	if !isMySQL(db) {
		return db
	}
	collation, err := binaryCollation(db)
	if err != nil {
		db.AddError(err)
		return db
	}
	return db.Set("gorm:table_options", "DEFAULT CHARSET=utf8mb4 COLLATE="+collation)
}

// binaryCollation picks the utf8mb4 collation that compares bytes and is
// NO PAD, so that a trailing space counts as on SQLite and PostgreSQL:
// utf8mb4_nopad_bin on MariaDB, utf8mb4_0900_bin on MySQL 8. A server that
// has neither (MySQL 5.7) gets utf8mb4_bin, which ignores trailing spaces
// in comparisons; ihoprauth trims emails, so only a caller of the Store
// who passes untrimmed keys can tell.
func binaryCollation(db *gorm.DB) (string, error) {
	var names []string
	err := db.Raw(`SELECT collation_name FROM information_schema.collations
		WHERE collation_name IN ('utf8mb4_nopad_bin', 'utf8mb4_0900_bin')`).Scan(&names).Error
	if err != nil {
		return "", fmt.Errorf("find a binary collation: %w", err)
	}
	for _, preferred := range []string{"utf8mb4_nopad_bin", "utf8mb4_0900_bin"} {
		for _, name := range names {
			if name == preferred {
				return name, nil
			}
		}
	}
	return "utf8mb4_bin", nil
}

// isMySQL reports whether db talks to MySQL or MariaDB.
func isMySQL(db *gorm.DB) bool {
	return db.Dialector.Name() == "mysql"
}

// addAAL is step 9: the assurance level of auth codes and tokens (the
// existing ones, from before second factors, are AAL1) and the time of a
// token's login (NULL for the existing ones: not recent).
func addAAL(db *gorm.DB) error {
	for _, c := range []struct {
		model any
		field string
	}{{&authCodeRow{}, "AAL"}, {&tokenRow{}, "AAL"}, {&tokenRow{}, "AuthAt"}} {
		if db.Migrator().HasColumn(c.model, c.field) {
			continue
		}
		if err := db.Migrator().AddColumn(c.model, c.field); err != nil {
			return err
		}
	}
	return nil
}
