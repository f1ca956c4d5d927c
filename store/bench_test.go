package store_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/authmw"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
	"github.com/ihoprauth/ihoprauth/store/sqlite"
)

// millionEnv, set to 1, adds the lookups at 1,000,000 users. Their fixture
// takes a while to build the first time; it is kept in os.TempDir() under a
// name that holds a hash of the schema, so later runs reuse it until the
// schema changes (docs/design.md, D15: never built by a plain CI run).
const millionEnv = "IHOPRAUTH_BENCH_MILLION"

// BenchmarkLookup is the store's hot lookups, the user by project and
// canonical email (login) and the token with its user (every bearer
// check), on SQLite with 1,000 users, each with one token, and, when
// IHOPRAUTH_BENCH_MILLION=1, with 1,000,000. Successive calls look up
// users spread over the whole table.
func BenchmarkLookup(b *testing.B) {
	for _, users := range []int{1_000, 1_000_000} {
		b.Run("users="+strconv.Itoa(users), func(b *testing.B) {
			benchLookups(b, lookupFixture(b, users), users)
		})
	}
}

// benchLookups runs the two lookups of BenchmarkLookup on st, whose
// fixture has users users.
func benchLookups(b *testing.B, st *store.Store, users int) {
	ctx := context.Background()
	b.Run("UserByEmail", func(b *testing.B) {
		lookups(b, users, func(i int) error {
			_, err := st.UserByEmail(ctx, 1, fixtureEmail(i))
			return err
		})
	})
	b.Run("TokenUser", func(b *testing.B) {
		lookups(b, users, func(i int) error {
			_, _, err := st.TokenUser(ctx, fixtureAccessHash(i))
			return err
		})
	})
}

// BenchmarkBearerCheck is the bearer check with no in-process cache next
// to the floor it stands on, on the 1,000-user fixture of BenchmarkLookup
// and one of its tokens:
//
//   - RequireUser: authmw.RequireUser in front of a handler that does
//     nothing, over an Auth on this Store with the token cache off; the
//     request and the recorder are made once;
//   - TokenUser: the Store's read alone;
//   - database-sql: the statement that TokenUser prepares, prepared on the
//     same *sql.DB and run bare (QueryRowContext, Scan into variables of
//     the types the check returns).
//
// The two reads run under a deadline, as the check's read does
// (Config.RequestTimeout): database/sql and the driver then watch the
// context, which costs them a goroutine and a few allocations per query.
func BenchmarkBearerCheck(b *testing.B) {
	const users = 1_000
	db := testdb.Open(b, testdb.SQLite)
	st := fillFixture(b, db, users)
	i := 7919 % users
	token, hash := "access-"+strconv.Itoa(i), fixtureAccessHash(i)
	b.Run("RequireUser", func(b *testing.B) { benchRequireUser(b, st, token) })
	b.Run("TokenUser", func(b *testing.B) { benchTokenUser(b, st, hash) })
	b.Run("database-sql", func(b *testing.B) {
		sqlDB, err := db.DB()
		if err != nil {
			b.Fatal(err)
		}
		stmt, err := sqlDB.Prepare(store.TokenUserSQL(st))
		if err != nil {
			b.Fatal(err)
		}
		defer stmt.Close()
		b.ReportAllocs()
		for b.Loop() {
			ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
			err := bareTokenUser(ctx, stmt, hash)
			cancel()
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// benchRequireUser is authmw.RequireUser checking token, with st
// answering every check (the token cache off), in front of a handler that
// does nothing; the request and the recorder are made once.
func benchRequireUser(b *testing.B, st *store.Store, token string) {
	counted := &countingStore{Store: st}
	h := requireUser(b, counted)
	req := httptest.NewRequest("GET", "/hello", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	rec := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(rec, req)
	}
	if rec.Code != http.StatusNoContent {
		b.Fatalf("got %d, want %d", rec.Code, http.StatusNoContent)
	}
	if n := counted.reads.Load(); n < int64(b.N) {
		b.Fatalf("got %d reads of the database for %d checks, want one each: a cache answered", n, b.N)
	}
}

// benchTokenUser is st's TokenUser of the access-token hash, under a
// deadline as in a request.
func benchTokenUser(b *testing.B, st *store.Store, hash string) {
	b.ReportAllocs()
	for b.Loop() {
		ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
		_, _, err := st.TokenUser(ctx, hash)
		cancel()
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSQLiteDrivers is the bearer check of BenchmarkBearerCheck
// (RequireUser and TokenUser, same fixture and token) and a sign-up's
// write (a transaction that reads the project and inserts a user), on
// each SQLite driver: "sqlite" is store/sqlite (mattn/go-sqlite3, cgo),
// "puresqlite" is store/puresqlite (modernc, pure Go). go test -count
// repeats each sub-benchmark back to back; BENCHMARKS.md runs the test
// binary -count 1 in a loop instead, so that the two take turns and the
// machine's noise falls on both alike.
func BenchmarkSQLiteDrivers(b *testing.B) {
	const users = 1_000
	for _, backend := range []string{testdb.SQLite, testdb.PureSQLite} {
		b.Run(backend, func(b *testing.B) {
			st := fillFixture(b, testdb.Open(b, backend), users)
			i := 7919 % users
			token, hash := "access-"+strconv.Itoa(i), fixtureAccessHash(i)
			b.Run("RequireUser", func(b *testing.B) { benchRequireUser(b, st, token) })
			b.Run("TokenUser", func(b *testing.B) { benchTokenUser(b, st, hash) })
			b.Run("SignUp", func(b *testing.B) {
				ctx := context.Background()
				n := users
				b.ReportAllocs()
				for b.Loop() {
					n++
					if err := st.InTx(ctx, func(tx ihoprauth.Store) error { return signUp(ctx, tx, "bench", n) }); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}

// BenchmarkReads is the Store's prepared reads, under a deadline as in a
// request, on every backend configured (see package testdb): one project,
// one user and one token.
func BenchmarkReads(b *testing.B) {
	for _, backend := range testdb.Backends() {
		b.Run(backend, func(b *testing.B) {
			st, err := store.New(context.Background(), testdb.Open(b, backend), store.Config{})
			if err != nil {
				b.Fatal(err)
			}
			u, hash := readsFixture(b, st)
			for _, r := range []struct {
				name string
				read func(ctx context.Context) error
			}{
				{"TokenUser", func(ctx context.Context) error { _, _, err := st.TokenUser(ctx, hash); return err }},
				{"UserByID", func(ctx context.Context) error { _, err := st.UserByID(ctx, u.ID); return err }},
				{"ProjectByClientID", func(ctx context.Context) error { _, err := st.ProjectByClientID(ctx, "bench"); return err }},
			} {
				b.Run(r.name, func(b *testing.B) {
					b.ReportAllocs()
					for b.Loop() {
						ctx, cancel := context.WithTimeout(context.Background(), requestTimeout)
						err := r.read(ctx)
						cancel()
						if err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// readsFixture saves project "bench" in st with one user and one live
// token of that user, and returns the user and the token's access hash.
func readsFixture(b *testing.B, st *store.Store) (ihoprauth.User, string) {
	b.Helper()
	ctx := context.Background()
	p := ihoprauth.Project{ClientID: "bench", Type: ihoprauth.TypeNone}
	if err := st.SaveProject(ctx, &p); err != nil {
		b.Fatal(err)
	}
	meta := `{"plan":"free"}`
	u := ihoprauth.User{UserID: sha256Hex("user")[:32], ProjectID: p.ID, Email: "ada@example.com", EmailKey: "ada@example.com",
		FirstName: "Ada", LastName: "Lovelace", MobileNumber: "11223344", Meta: &meta, Role: "user",
		PasswordHash: "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5"}
	if err := st.CreateUser(ctx, &u); err != nil {
		b.Fatal(err)
	}
	now := time.Now()
	t := ihoprauth.Token{AccessHash: sha256Hex("access"), RefreshHash: sha256Hex("refresh"), FamilyID: sha256Hex("family"),
		ProjectID: p.ID, UserID: u.ID, ExpiresAt: now.Add(time.Hour), RefreshExpiresAt: now.Add(24 * time.Hour), CreatedAt: now}
	if err := st.CreateToken(ctx, &t); err != nil {
		b.Fatal(err)
	}
	return u, t.AccessHash
}

// requestTimeout is the default of ihoprauth.Config.RequestTimeout.
const requestTimeout = 10 * time.Second

// bareTokenUser runs the statement of Store.TokenUser that finds a token by
// the key its hash gives, as a program on database/sql alone would.
func bareTokenUser(ctx context.Context, stmt *sql.Stmt, hash string) error {
	var t ihoprauth.Token
	var u ihoprauth.User
	var refreshed, revoked, disabled, authAt sql.NullTime
	var meta sql.NullString
	return stmt.QueryRowContext(ctx, store.TokenID(hash), hash).Scan(&t.FamilyID, &t.ProjectID, &t.UserID, &t.AuthCodeID,
		&t.ExpiresAt, &t.RefreshExpiresAt, &refreshed, &revoked, &t.CreatedAt, &t.AAL, &authAt,
		&u.UserID, &u.ProjectID, &u.Email, &u.EmailKey, &u.FirstName, &u.LastName,
		&u.MobileNumber, &meta, &u.Role, &u.Provider, &u.CreatedAt, &u.UpdatedAt, &u.Version, &disabled)
}

// countingStore counts the reads behind bearer checks.
type countingStore struct {
	*store.Store
	reads atomic.Int64
}

func (s *countingStore) TokenUser(ctx context.Context, hash string) (ihoprauth.Token, ihoprauth.User, error) {
	s.reads.Add(1)
	return s.Store.TokenUser(ctx, hash)
}

// requireUser is authmw.RequireUser in front of a handler that answers 204,
// over an Auth on st with the token cache off.
func requireUser(b *testing.B, st ihoprauth.Store) http.Handler {
	b.Helper()
	auth, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, ihoprauth.Config{
		TokenCacheTTL: -1,
		Logger:        slog.New(slog.NewTextHandler(io.Discard, nil)),
		OnError:       func(_ context.Context, err error) { b.Error(err) },
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { auth.Close(context.Background()) })
	return authmw.RequireUser(auth)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
}

// lookups times find over a stride through the users (a prime step, so
// consecutive lookups land far apart in every index).
func lookups(b *testing.B, users int, find func(i int) error) {
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		i = (i + 7919) % users
		if err := find(i); err != nil {
			b.Fatalf("user %d: %v", i, err)
		}
	}
}

func fixtureEmail(i int) string { return fmt.Sprintf("user%07d@example.com", i) }

func fixtureAccessHash(i int) string { return sha256Hex("access-" + strconv.Itoa(i)) }

func sha256Hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// lookupFixture returns a Store on a database of users users in project 1,
// each with one live token. A million-user fixture is cached in
// os.TempDir(), and skipped unless IHOPRAUTH_BENCH_MILLION=1.
func lookupFixture(b *testing.B, users int) *store.Store {
	b.Helper()
	if users < 1_000_000 {
		db := testdb.Open(b, testdb.SQLite)
		return fillFixture(b, db, users)
	}
	if os.Getenv(millionEnv) != "1" {
		b.Skipf("set %s=1 to run the lookups at %d users (the fixture is built once and cached)", millionEnv, users)
	}
	path := filepath.Join(os.TempDir(), fmt.Sprintf("ihoprauth-bench-%d-%s-%s.db", users, schemaKey(b), fixtureRows))
	if _, err := os.Stat(path); err != nil {
		buildFixtureFile(b, path, users)
	}
	warmPageCache(b, path)
	db, err := sqlite.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { closeDB(b, db) })
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	return st
}

// buildFixtureFile builds the fixture under a temporary name and renames it
// to path when complete, so an interrupted build is never reused.
func buildFixtureFile(b *testing.B, path string, users int) {
	b.Helper()
	start := time.Now()
	tmp := path + ".building"
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(tmp + suffix)
	}
	db, err := sqlite.Open(tmp)
	if err != nil {
		b.Fatal(err)
	}
	fillFixture(b, db, users)
	if err := db.Exec("PRAGMA wal_checkpoint(TRUNCATE)").Error; err != nil {
		b.Fatal(err)
	}
	closeDB(b, db)
	if err := os.Rename(tmp, path); err != nil {
		b.Fatal(err)
	}
	os.Remove(tmp + "-wal")
	os.Remove(tmp + "-shm")
	b.Logf("built the %d-user fixture %s in %s", users, path, time.Since(start).Round(time.Second))
}

// warmPageCache reads the file at path once, so that the lookups at a
// million users find it in the page cache as those at a thousand do, rather
// than on disk after the kernel dropped it between runs.
func warmPageCache(b *testing.B, path string) {
	b.Helper()
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if _, err := io.Copy(io.Discard, f); err != nil {
		b.Fatal(err)
	}
}

// fillFixture creates the schema and project 1 in db and inserts the users
// and their tokens in one transaction, in multi-row INSERTs.
func fillFixture(b *testing.B, db *gorm.DB, users int) *store.Store {
	b.Helper()
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	p := ihoprauth.Project{ClientID: "bench", Type: ihoprauth.TypeNone, Public: true}
	if err := st.SaveProject(ctx, &p); err != nil || p.ID != 1 {
		b.Fatalf("got project %d, %v; want project 1", p.ID, err)
	}
	sqlDB, err := db.DB()
	if err != nil {
		b.Fatal(err)
	}
	tx, err := sqlDB.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	// A page cache of 256 MiB keeps the indexes being filled in memory.
	if _, err := tx.Exec("PRAGMA cache_size = -262144"); err != nil {
		b.Fatal(err)
	}
	if err := insertRows(tx, users); err != nil {
		b.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return st
}

const (
	userColumns  = "id, user_id, project_id, email, email_key, first_name, last_name, mobile_number, role, provider, password_hash, created_at, updated_at, version"
	tokenColumns = "id, access_hash, refresh_hash, family_id, project_id, user_id, auth_code_id, expires_at, refresh_expires_at, created_at"
	insertBatch  = 500
)

func insertRows(tx *sql.Tx, users int) error {
	now := time.Now().UTC().Truncate(time.Microsecond)
	userRow := func(i int) []any {
		email := fixtureEmail(i)
		return []any{i + 1, sha256Hex("user-" + strconv.Itoa(i))[:32], 1, email, email, "Ada", "Lovelace",
			"11223344", "user", "", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5", now, now, 0}
	}
	tokenRow := func(i int) []any {
		access := fixtureAccessHash(i)
		return []any{store.TokenID(access), access, sha256Hex("refresh-" + strconv.Itoa(i)), sha256Hex("family-" + strconv.Itoa(i)),
			1, i + 1, 0, now.Add(24 * time.Hour), now.Add(30 * 24 * time.Hour), now}
	}
	if err := insertAll(tx, "ihoprauth_users", userColumns, users, userRow); err != nil {
		return err
	}
	return insertAll(tx, "ihoprauth_tokens", tokenColumns, users, tokenRow)
}

// insertAll inserts n rows made by row into table, insertBatch at a time.
func insertAll(tx *sql.Tx, table, columns string, n int, row func(i int) []any) error {
	stmts := map[int]*sql.Stmt{}
	for start := 0; start < n; start += insertBatch {
		count := min(insertBatch, n-start)
		stmt := stmts[count]
		if stmt == nil {
			var err error
			if stmt, err = tx.Prepare(insertSQL(table, columns, count)); err != nil {
				return err
			}
			defer stmt.Close()
			stmts[count] = stmt
		}
		var args []any
		for i := start; i < start+count; i++ {
			args = append(args, row(i)...)
		}
		if _, err := stmt.Exec(args...); err != nil {
			return fmt.Errorf("insert into %s: %w", table, err)
		}
	}
	return nil
}

func insertSQL(table, columns string, rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", strings.Count(columns, ",")+1), ", ") + ")"
	return "INSERT INTO " + table + " (" + columns + ") VALUES " + strings.TrimSuffix(strings.Repeat(one+", ", rows), ", ")
}

// fixtureRows names the rows that insertRows writes, in the name of a
// cached fixture beside schemaKey: change it when they change. "keyed":
// each token's ID is the one CreateToken derives from its access hash.
const fixtureRows = "keyed"

// schemaKey hashes the schema that New creates, so that a cached fixture
// is rebuilt when the tables or indexes change.
func schemaKey(b *testing.B) string {
	b.Helper()
	db := testdb.Open(b, testdb.SQLite)
	if _, err := store.New(context.Background(), db, store.Config{}); err != nil {
		b.Fatal(err)
	}
	var ddl []string
	if err := db.Raw("SELECT COALESCE(sql, '') FROM sqlite_master ORDER BY name").Scan(&ddl).Error; err != nil {
		b.Fatal(err)
	}
	return sha256Hex(strings.Join(ddl, ";\n"))[:12]
}

func closeDB(b *testing.B, db *gorm.DB) {
	b.Helper()
	sqlDB, err := db.DB()
	if err == nil {
		err = sqlDB.Close()
	}
	if err != nil {
		b.Error(err)
	}
}

// BenchmarkLookupServer is BenchmarkLookup on PostgreSQL and MariaDB, for
// those whose DSN is set (internal/testdb): the same lookups of the same
// rows, 1,000 users and, with IHOPRAUTH_BENCH_MILLION=1, 1,000,000. The
// database makes the rows itself (generate_series, MariaDB's sequence
// tables), in a schema of the run's own that is dropped after it.
func BenchmarkLookupServer(b *testing.B) {
	for _, backend := range testdb.Backends() {
		if backend != testdb.Postgres && backend != testdb.MySQL {
			continue
		}
		b.Run(backend, func(b *testing.B) {
			for _, users := range []int{1_000, 1_000_000} {
				b.Run("users="+strconv.Itoa(users), func(b *testing.B) {
					if users >= 1_000_000 && os.Getenv(millionEnv) != "1" {
						b.Skipf("set %s=1 to run the lookups at %d users", millionEnv, users)
					}
					benchLookups(b, serverFixture(b, backend, users), users)
				})
			}
		})
	}
}

// serverFixture is lookupFixture's database on PostgreSQL or MariaDB: the
// rows that insertRows writes, made by the server in two statements.
func serverFixture(b *testing.B, backend string, users int) *store.Store {
	b.Helper()
	db := testdb.Open(b, backend)
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		b.Fatal(err)
	}
	p := ihoprauth.Project{ClientID: "bench", Type: ihoprauth.TypeNone, Public: true}
	if err := st.SaveProject(context.Background(), &p); err != nil || p.ID != 1 {
		b.Fatalf("got project %d, %v; want project 1", p.ID, err)
	}
	start := time.Now()
	const hash = `'$argon2id$v=19$m=64,t=1,p=1$c2FsdA$a2V5'`
	var stmts []string
	if backend == testdb.Postgres {
		sha := func(prefix string) string {
			return "encode(sha256(convert_to('" + prefix + "' || i, 'UTF8')), 'hex')"
		}
		email := "'user' || lpad(i::text, 7, '0') || '@example.com'"
		series := fmt.Sprintf(" FROM generate_series(0, %d) AS i", users-1)
		stmts = []string{
			"INSERT INTO ihoprauth_users (" + userColumns + ") SELECT i + 1, substr(" + sha("user-") + ", 1, 32), 1, " +
				email + ", " + email + ", 'Ada', 'Lovelace', '11223344', 'user', '', " + hash + ", now(), now(), 0" + series,
			"INSERT INTO ihoprauth_tokens (" + tokenColumns + ") SELECT (1::bigint << 41) + (('x' || substr(" + sha("access-") + ", 1, 16))::bit(64) >> 23)::bigint, " + sha("access-") + ", " + sha("refresh-") + ", " +
				sha("family-") + ", 1, i + 1, 0, now() + interval '1 day', now() + interval '30 days', now()" + series,
			"VACUUM ANALYZE ihoprauth_users", "VACUUM ANALYZE ihoprauth_tokens",
		}
	} else {
		sha := func(prefix string) string { return "SHA2(CONCAT('" + prefix + "', seq), 256)" }
		email := "CONCAT('user', LPAD(seq, 7, '0'), '@example.com')"
		series := fmt.Sprintf(" FROM seq_0_to_%d", users-1)
		stmts = []string{
			"INSERT INTO ihoprauth_users (" + userColumns + ") SELECT seq + 1, LEFT(" + sha("user-") + ", 32), 1, " +
				email + ", " + email + ", 'Ada', 'Lovelace', '11223344', 'user', '', " + hash + ", NOW(6), NOW(6), 0" + series,
			"INSERT INTO ihoprauth_tokens (" + tokenColumns + ") SELECT (1 << 41) + (CAST(CONV(LEFT(" + sha("access-") + ", 16), 16, 10) AS UNSIGNED) >> 23), " + sha("access-") + ", " + sha("refresh-") + ", " +
				sha("family-") + ", 1, seq + 1, 0, NOW(6) + INTERVAL 1 DAY, NOW(6) + INTERVAL 30 DAY, NOW(6)" + series,
			"ANALYZE TABLE ihoprauth_users", "ANALYZE TABLE ihoprauth_tokens",
		}
	}
	for _, s := range stmts {
		if err := db.Exec(s).Error; err != nil {
			b.Fatalf("%s: %v", s[:40], err)
		}
	}
	// The first and the last user must be what the lookups ask for.
	for _, i := range []int{0, users - 1} {
		u, err := st.UserByEmail(context.Background(), 1, fixtureEmail(i))
		if err != nil {
			b.Fatalf("user %d: %v", i, err)
		}
		// Keyed as CreateToken keys them, or the lookups would measure
		// the read by hash that follows a miss by key.
		hash := fixtureAccessHash(i)
		tok, tu, err := st.TokenUser(context.Background(), hash)
		if key := store.TokenID(hash); err != nil || tu.Email != u.Email || tok.ID != key {
			b.Fatalf("token of user %d: %v, %q, key %d, want %d", i, err, tu.Email, tok.ID, key)
		}
	}
	b.Logf("%s: made %d users with their tokens in %s", backend, users, time.Since(start).Round(time.Second))
	return st
}
