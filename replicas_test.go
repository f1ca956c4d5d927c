package ihoprauth_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"log/slog"
	"testing"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
)

// TestRevocationsReachAnInstanceReadingAReplica runs instance A on the
// primary of "pgreplica" and instance B with its replica
// (store.Config.Replicas), both with the token cache on: a revocation made
// on A is refused on B at B's next read of the change feed, as on one
// database (docs/design.md, D7), even while the replica is stopped behind
// the primary, and B's own revocations are refused on B at once
// (docs/design.md, D45).
func TestRevocationsReachAnInstanceReadingAReplica(t *testing.T) {
	testdb.Require(t, testdb.PGReplica)
	db := testdb.Open(t, testdb.PGReplica)
	stA, err := store.New(t.Context(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	dbB := testdb.Reopen(t, db)
	stB, err := store.New(t.Context(), dbB, store.Config{Replicas: testdb.Replicas(t, dbB)})
	if err != nil {
		t.Fatal(err)
	}
	a := buildEnv(t, stA, nil, withTokenCache)
	b := buildEnv(t, stB, a.mail, withTokenCache)
	b.clock = a.clock
	const email = "replica@example.com"
	a.signupNone(email)
	login := func() string {
		return a.exchange(a.none, a.loginWith(a.none, email, goodPassword).str("code"), "").str("access_token")
	}

	t.Run("the replica answers bearer checks", func(t *testing.T) {
		tok := login()
		fromReplica(t, b, stB, tok)
		want(t, b.do("GET", "/api/v1/user", tok, nil), 200)
	})
	t.Run("a revocation on the primary, the replica behind", func(t *testing.T) {
		tok := login()
		fromReplica(t, b, stB, tok)
		want(t, b.do("GET", "/api/v1/user", tok, nil), 200) // cached on B
		resume := testdb.PauseReplay(t, db)
		defer resume()
		want(t, a.do("POST", "/api/v1/logout", tok, nil), 200)
		b.poll()
		before := stB.ReplicaStats()
		want(t, b.do("GET", "/api/v1/user", tok, nil), 401)
		if got := stB.ReplicaStats(); got.Primary == before.Primary {
			t.Errorf("the replica is behind the feed: got the read from the replica (%+v), want it from the primary", got)
		}
	})
	t.Run("a revocation on the instance itself, at once", func(t *testing.T) {
		tok := login()
		fromReplica(t, b, stB, tok)
		want(t, b.do("GET", "/api/v1/user", tok, nil), 200)
		// The replica is as far as the feed's last read says, and stays
		// there: only B's own revocation can keep B off it.
		resume := testdb.PauseReplay(t, db)
		defer resume()
		want(t, b.do("POST", "/api/v1/logout", tok, nil), 200)
		want(t, b.do("GET", "/api/v1/user", tok, nil), 401)
		tokB, _, err := stB.TokenUser(t.Context(), hashOf(tok))
		if err != nil || tokB.RevokedAt == nil {
			t.Errorf("TokenUser on B right after its logout: got revoked at %v, error %v; want it revoked", tokB.RevokedAt, err)
		}
	})
	t.Run("a revocation on the primary, the replica up to date", func(t *testing.T) {
		tok := login()
		fromReplica(t, b, stB, tok)
		want(t, b.do("GET", "/api/v1/user", tok, nil), 200)
		want(t, a.do("POST", "/api/v1/logout", tok, nil), 200)
		b.poll()
		want(t, b.do("GET", "/api/v1/user", tok, nil), 401)
	})
}

// TestAnUnknownTokenReadsThePrimaryOnce: with a replica that is up to
// date, a bearer check of an unknown token reads the primary once, as it
// did before tokens were read by the key their hash gives: the replica's
// miss of that read is final, and only the read by hash goes on to the
// primary (docs/design.md, D48).
func TestAnUnknownTokenReadsThePrimaryOnce(t *testing.T) {
	testdb.Require(t, testdb.PGReplica)
	db := testdb.Open(t, testdb.PGReplica)
	st, err := store.New(t.Context(), db, store.Config{Replicas: testdb.Replicas(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, st, nil, withTokenCache)
	fromReplica(t, e, st, e.signupNone("known@example.com"))
	e.poll()
	before := st.ReplicaStats()
	if _, _, err := st.TokenUser(t.Context(), hashOf("unknown")); !errors.Is(err, ihoprauth.ErrNotFound) {
		t.Fatalf("TokenUser of an unknown token: got %v, want ErrNotFound", err)
	}
	if got := st.ReplicaStats(); got.Primary-before.Primary != 1 {
		t.Errorf("got %d reads of the primary (%+v, before %+v), want 1", got.Primary-before.Primary, got, before)
	}
}

// TestAReplicaThatIsDownIsLeftAlone: with a replica that cannot be
// reached, the reads it would serve go to the primary and succeed.
func TestAReplicaThatIsDownIsLeftAlone(t *testing.T) {
	testdb.Require(t, testdb.PGReplica)
	db := testdb.Open(t, testdb.PGReplica)
	down, err := gorm.Open(postgres.Open("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1"),
		&gorm.Config{Logger: logger.Discard, DisableAutomaticPing: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.New(t.Context(), db, store.Config{Replicas: []*gorm.DB{down}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, st, nil, withTokenCache)
	tok := e.signupNone("down@example.com")
	before := st.ReplicaStats()
	for range 3 {
		e.poll()
		if _, _, err := st.TokenUser(t.Context(), hashOf(tok)); err != nil {
			t.Fatalf("TokenUser with the replica down: %v", err)
		}
	}
	if got := st.ReplicaStats(); got.Replica != 0 || got.Primary-before.Primary != 3 {
		t.Errorf("got %+v, want 3 reads from the primary and none from the replica", got)
	}
}

// fromReplica reads tok's login through st until the replica answers,
// each time after a read of e's feed: streaming replication is
// asynchronous, so the replica has the token a moment after the primary.
// It waits at most 10 seconds.
func fromReplica(t *testing.T, e *env, st *store.Store, tok string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		e.poll()
		before := st.ReplicaStats().Replica
		if _, _, err := st.TokenUser(ctx, hashOf(tok)); err != nil {
			t.Fatalf("TokenUser: %v", err)
		}
		if st.ReplicaStats().Replica > before {
			return
		}
		time.Sleep(10 * time.Millisecond) // the replica's replay, not a clock of ours
	}
	t.Fatalf("the replica did not answer within 10 s: %+v", st.ReplicaStats())
}

// hashOf is the store's key of the access token tok.
func hashOf(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}
