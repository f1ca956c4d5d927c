package store_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/internal/testdb"
	"github.com/ihoprauth/ihoprauth/mailer"
	"github.com/ihoprauth/ihoprauth/store"
)

// serveAuth runs an Auth on st behind a test server, with one none project
// ("web") and cheap hashes.
func serveAuth(t *testing.T, st ihoprauth.Store) *httptest.Server {
	t.Helper()
	auth, err := ihoprauth.New(context.Background(), st, &mailer.Recorder{}, ihoprauth.Config{
		Argon2:                  ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1},
		SignupsPerSourcePerHour: -1,
		TokenCacheTTL:           -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { auth.Close(context.Background()) })
	if _, err := auth.SaveProject(context.Background(), ihoprauth.ProjectSpec{ClientID: "web",
		ClientSecret: "web-secret-0123456789", Type: ihoprauth.TypeNone}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(auth)
	t.Cleanup(srv.Close)
	return srv
}

// post sends body as JSON to path and returns the status.
func post(srv *httptest.Server, path string, body map[string]any) (int, error) {
	raw, _ := json.Marshal(body)
	res, err := srv.Client().Post(srv.URL+path, "application/json", bytes.NewReader(raw))
	if err != nil {
		return 0, err
	}
	res.Body.Close()
	return res.StatusCode, nil
}

func credentials(email string) map[string]any {
	return map[string]any{"client_id": "web", "client_secret": "web-secret-0123456789", "email": email,
		"password": "Correct horse battery 9"}
}

// TestBackupWhileServing copies an SQLite database with Backup while
// signups run, then serves the copy: every signup acknowledged before the
// copy began logs in from it.
func TestBackupWhileServing(t *testing.T) {
	dir := t.TempDir()
	db := testdb.OpenFile(t, testdb.SQLite, filepath.Join(dir, "live.db"))
	st := newStore(t, db)
	srv := serveAuth(t, st)

	var mu sync.Mutex
	var acked []string // in the order the answers came
	var later []string // signups sent after the copy was made
	var copied atomic.Bool
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				after := copied.Load()
				email := fmt.Sprintf("user-%d-%d@example.com", w, i)
				body := credentials(email)
				body["first_name"], body["last_name"], body["mobile_number"] = "Ada", "Lovelace", "11223344"
				status, err := post(srv, "/api/v1/signup", body)
				if err != nil || status != 200 {
					t.Errorf("signup %s: %d %v", email, status, err)
					return
				}
				mu.Lock()
				acked = append(acked, email)
				if after {
					later = append(later, email)
				}
				mu.Unlock()
			}
		})
	}
	// awaitLen waits up to 10 s until *list holds want emails.
	awaitLen := func(list *[]string, want int) {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			mu.Lock()
			n := len(*list)
			mu.Unlock()
			if n >= want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	// Some signups before the copy: ten answers rather than a fixed time,
	// which a busy machine (the CI runs every suite at once) spends on fewer.
	awaitLen(&acked, 10)
	mu.Lock()
	before := len(acked) // acknowledged before the copy began
	mu.Unlock()
	copyPath := filepath.Join(dir, "copy.db")
	if err := st.Backup(context.Background(), copyPath); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	copied.Store(true)
	awaitLen(&later, 4)
	close(stop)
	wg.Wait()
	if before < 10 || len(later) == 0 {
		t.Fatalf("got %d signups before the copy and %d after it; want some on both sides", before, len(later))
	}
	if fi, err := os.Stat(copyPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the copy: got %v, %v; want a file readable by its owner only", fi, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, "copy.db.tmp-*")); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}

	restored := testdb.OpenFile(t, testdb.SQLite, copyPath)
	copySrv := serveAuth(t, newStore(t, restored))
	for _, email := range acked[:before] {
		if status, err := post(copySrv, "/api/v1/login", credentials(email)); err != nil || status != 200 {
			t.Fatalf("login of %s, acknowledged before the copy, on the copy: got %d, %v; want 200", email, status, err)
		}
	}
	// The copy is a snapshot: signups sent after it are not in it.
	for _, email := range later {
		if status, _ := post(copySrv, "/api/v1/login", credentials(email)); status != 401 {
			t.Errorf("login of %s, sent after the copy, on the copy: got %d, want 401", email, status)
		}
	}
	t.Logf("%d signups before the copy, %d during it, %d after it", before, len(acked)-before-len(later), len(later))

	// A second copy replaces the first.
	if err := st.Backup(context.Background(), copyPath); err != nil {
		t.Fatalf("Backup over an older copy: %v", err)
	}
}

func TestBackupOnlySQLite(t *testing.T) {
	for _, backend := range testdb.All() {
		if backend == testdb.SQLite {
			continue
		}
		t.Run(backend, func(t *testing.T) {
			testdb.Require(t, backend)
			st := newStore(t, testdb.Open(t, backend))
			err := st.Backup(context.Background(), filepath.Join(t.TempDir(), "copy.db"))
			if !errors.Is(err, store.ErrBackupUnsupported) {
				t.Fatalf("got %v, want ErrBackupUnsupported", err)
			}
		})
	}
}

// TestBackupRefusesItsOwnFile checks that the database, or one of its
// files, is never the target: the copy would be renamed over a database
// that is open, corrupting it.
func TestBackupRefusesItsOwnFile(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	db := testdb.OpenFile(t, testdb.SQLite, live)
	st := newStore(t, db)
	p := ihoprauth.Project{ClientID: "web", Type: ihoprauth.TypeNone, SecretHash: "00"}
	if err := st.SaveProject(context.Background(), &p); err != nil {
		t.Fatal(err)
	}
	os.Symlink(live, filepath.Join(dir, "link.db"))
	for _, target := range []string{live, live + "-wal", live + "-shm", filepath.Join(dir, "link.db"), dir + "/./live.db"} {
		if err := st.Backup(context.Background(), target); err == nil || !strings.Contains(err.Error(), "own file") {
			t.Errorf("Backup to %s: got %v, want a refusal", target, err)
		}
	}
	var check string
	if err := db.Raw("PRAGMA integrity_check").Row().Scan(&check); err != nil || check != "ok" {
		t.Fatalf("the database after the refusals: %q, %v", check, err)
	}
	if _, err := st.ProjectByClientID(context.Background(), "web"); err != nil {
		t.Fatal(err)
	}
}

func TestBackupCancelled(t *testing.T) {
	dir := t.TempDir()
	db := testdb.OpenFile(t, testdb.SQLite, filepath.Join(dir, "live.db"))
	st := newStore(t, db)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := st.Backup(ctx, filepath.Join(dir, "copy.db")); err == nil {
		t.Fatal("Backup with a cancelled context: got nil, want an error")
	}
	if files, _ := filepath.Glob(filepath.Join(dir, "copy.db*")); len(files) > 0 {
		t.Errorf("a cancelled backup left %v", files)
	}
}
