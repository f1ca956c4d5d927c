package ihoprauth_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// hangingMailer holds every Send, whatever its context says, until
// release is closed: a mail server that stopped answering, behind a
// client that ignores its timeout.
type hangingMailer struct{ release chan struct{} }

func (m hangingMailer) Send(context.Context, ihoprauth.Message) error {
	<-m.release
	return nil
}

func TestReady(t *testing.T) {
	ctx := context.Background()
	t.Run("a working Auth", func(t *testing.T) {
		e := newEnv(t)
		if err := e.auth.Ready(ctx); err != nil {
			t.Fatalf("Ready: %v", err)
		}
	})
	t.Run("closed", func(t *testing.T) {
		e := newEnv(t)
		e.auth.Close(ctx)
		if err := e.auth.Ready(ctx); !errors.Is(err, ihoprauth.ErrNotReady) || !strings.Contains(err.Error(), "closed") {
			t.Fatalf("Ready after Close: got %v, want ErrNotReady: closed", err)
		}
	})
	t.Run("database gone", func(t *testing.T) {
		db, st := openStore(t)
		auth, err := ihoprauth.New(ctx, st, hangingMailer{}, ihoprauth.Config{OnError: func(context.Context, error) {}})
		if err != nil {
			t.Fatal(err)
		}
		defer auth.Close(ctx)
		if err := auth.Ready(ctx); err != nil {
			t.Fatalf("Ready: %v", err)
		}
		sqlDB, _ := db.DB()
		sqlDB.Close()
		if err := auth.Ready(ctx); !errors.Is(err, ihoprauth.ErrNotReady) || err.Error() != "ihoprauth: not ready: the database does not answer" {
			t.Fatalf("Ready without its database: got %v, want ErrNotReady saying only that the database does not answer", err)
		}
	})
	t.Run("mail stuck", func(t *testing.T) {
		_, st := openStore(t)
		m := hangingMailer{release: make(chan struct{})}
		auth, err := ihoprauth.New(ctx, st, m, ihoprauth.Config{MailTimeout: 20 * time.Millisecond, MailAttempts: 1,
			Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, SignupsPerSourcePerHour: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer auth.Close(ctx)
		if _, err := auth.SaveProject(ctx, ihoprauth.ProjectSpec{ClientID: "otp", ClientSecret: "otp-secret-0123456789",
			Type: ihoprauth.TypeOTP}); err != nil {
			t.Fatal(err)
		}
		// One mail for each of the four workers to hang on, and one that
		// waits in the queue: otp signups mail a code.
		srv := httptest.NewServer(auth)
		defer srv.Close()
		for i := range 5 {
			body := fmt.Sprintf(`{"client_id":"otp","client_secret":"otp-secret-0123456789","email":"u%d@example.com",`+
				`"password":%q,"first_name":"A","last_name":"B","mobile_number":"1234"}`, i, goodPassword)
			res, err := srv.Client().Post(srv.URL+"/api/v1/signup", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 200 {
				t.Fatalf("signup %d: got %d", i, res.StatusCode)
			}
		}
		time.Sleep(100 * time.Millisecond)
		if err := auth.Ready(ctx); !errors.Is(err, ihoprauth.ErrNotReady) || !strings.Contains(err.Error(), "mail") {
			t.Fatalf("Ready with every mail worker held: got %v, want ErrNotReady naming the mail queue", err)
		}
		close(m.release)
		deadline := time.Now().Add(5 * time.Second)
		for auth.Ready(ctx) != nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
		}
		if err := auth.Ready(ctx); err != nil {
			t.Fatalf("Ready once the mail server answers: %v", err)
		}
	})
}
