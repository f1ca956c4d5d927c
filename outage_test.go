package ihoprauth_test

import (
	"context"
	"io"
	"net"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/store"
	"gorm.io/driver/mysql"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
)

// proxy is a TCP proxy on loopback between the app and its database server,
// which a test can cut (every connection dropped, new ones refused) or
// stall (connections accepted, nothing forwarded) and restore.
type proxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	mode   string // "up", "down" or "stalled"
	conns  map[net.Conn]bool
}

func startProxy(t *testing.T, target string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, target: target, mode: "up", conns: map[net.Conn]bool{}}
	go p.accept()
	t.Cleanup(func() { ln.Close(); p.set("down") })
	return p
}

func (p *proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		mode := p.mode
		if mode != "down" {
			p.conns[c] = true
		}
		p.mu.Unlock()
		switch mode {
		case "down":
			c.Close()
		case "up":
			go p.pipe(c)
		}
	}
}

func (p *proxy) pipe(c net.Conn) {
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	p.mu.Lock()
	p.conns[s] = true
	p.mu.Unlock()
	go func() { io.Copy(s, c); s.Close() }()
	io.Copy(c, s)
	c.Close()
}

// set changes the mode, dropping every open connection.
func (p *proxy) set(mode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.mode = mode
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

var hostPort = regexp.MustCompile(`(127\.0\.0\.1|localhost):\d+`)

// throughProxy opens db's database again through a proxy.
func throughProxy(t *testing.T, db *gorm.DB) (*gorm.DB, *proxy) {
	t.Helper()
	var dsn string
	var open func(string) gorm.Dialector
	switch d := db.Dialector.(type) {
	case *postgres.Dialector:
		dsn, open = d.DSN, postgres.Open
	case *mysql.Dialector:
		dsn, open = d.DSN, mysql.Open
	default:
		t.Fatalf("%T has no network to cut", db.Dialector)
	}
	target := hostPort.FindString(dsn)
	if target == "" {
		t.Skipf("the test DSN names no 127.0.0.1:port or localhost:port to put a proxy in front of")
	}
	p := startProxy(t, target)
	proxied, err := gorm.Open(open(hostPort.ReplaceAllLiteralString(dsn, p.ln.Addr().String())), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	sqlDB, _ := proxied.DB()
	t.Cleanup(func() { sqlDB.Close() })
	return proxied, p
}

// TestDatabaseOutage cuts the connection to the database server and
// checks that requests get a 503 JSON error with Retry-After, that nothing
// half-written remains, and that service comes back by itself.
func TestDatabaseOutage(t *testing.T) {
	for _, backend := range []string{testdb.Postgres, testdb.MySQL} {
		t.Run(backend, func(t *testing.T) {
			db, p := throughProxy(t, testdb.Open(t, backend))
			st, err := store.New(context.Background(), db, store.Config{})
			if err != nil {
				t.Fatal(err)
			}
			e := buildEnv(t, st, nil, func(c *ihoprauth.Config) { c.RequestTimeout = 2 * time.Second })
			tok := e.signupNone("outage@example.com")

			p.set("down")
			for _, r := range []resp{
				e.post("/api/v1/signup", signupBody(e.none, "during@example.com")),
				e.loginWith(e.none, "outage@example.com", goodPassword),
				e.do("GET", "/api/v1/user", tok, nil),
			} {
				if r.status != 503 || r.str("status") != "error" || r.header.Get("Retry-After") == "" {
					t.Errorf("database down: got %s, want a 503 JSON error with Retry-After", r)
					for _, err := range e.errs.all() {
						t.Logf("OnError: %v", err)
					}
				}
			}

			p.set("stalled")
			for _, path := range []string{"/api/v1/user", "/hello"} {
				if r := e.do("GET", path, tok, nil); r.status != 503 || r.header.Get("Retry-After") == "" {
					t.Errorf("database stalled, GET %s: got %s, want 503 with Retry-After once the request timeout ends the query", path, r)
				}
			}

			p.set("up")
			r := e.do("GET", "/api/v1/user", tok, nil)
			for i := 0; i < 3 && r.status == 503; i++ { // the pool may hand out one dead connection first
				r = e.do("GET", "/api/v1/user", tok, nil)
			}
			want(t, r, 200)
			want(t, e.post("/api/v1/signup", signupBody(e.none, "during@example.com")), 200) // nothing half-written
		})
	}
}

// TestLockedSQLiteAnswers503: while another process holds SQLite's write
// lock, a request that must write gets a 503 JSON error with Retry-After
// (never a 500 "database is locked"), and works again once the lock is
// released.
func TestLockedSQLiteAnswers503(t *testing.T) {
	db := testdb.Open(t, testdb.SQLite)
	st, err := store.New(context.Background(), db, store.Config{})
	if err != nil {
		t.Fatal(err)
	}
	e := buildEnv(t, st, nil)
	e.signupNone("locked@example.com")

	other, err := testdb.Reopen(t, db).DB() // another process, as far as SQLite can tell
	if err != nil {
		t.Fatal(err)
	}
	conn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	// SQLite's busy wait does not heed the request's deadline: the answer
	// comes when the 10 s busy timeout gives up.
	r := e.loginWith(e.none, "locked@example.com", goodPassword)
	if r.status != 503 || r.str("status") != "error" || r.header.Get("Retry-After") == "" {
		t.Errorf("write lock held elsewhere: got %s, want a 503 JSON error with Retry-After", r)
	}
	if _, err := conn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	want(t, e.loginWith(e.none, "locked@example.com", goodPassword), 200)
	want(t, e.post("/api/v1/signup", signupBody(e.none, "during-lock@example.com")), 200)
}
