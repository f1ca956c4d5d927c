package ihoprauth_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
)

// stuckMailer never delivers: each Send waits for its context to end.
type stuckMailer struct{ sends atomic.Int32 }

func (m *stuckMailer) Send(ctx context.Context, _ ihoprauth.Message) error {
	m.sends.Add(1)
	<-ctx.Done()
	return ctx.Err()
}

// TestCloseTriesQueuedMailOnceAndReportsIt checks that shutting down with a
// dead SMTP server neither hangs through every retry nor loses mail
// silently: each queued mail gets one try and is reported.
func TestCloseTriesQueuedMailOnceAndReportsIt(t *testing.T) {
	e := newEnv(t)
	stuck := &stuckMailer{}
	errs := &errorLog{}
	auth, err := ihoprauth.New(context.Background(), newStoreForTest(t), stuck, ihoprauth.Config{
		Argon2: ihoprauth.Argon2Params{Memory: 64, Time: 1, Threads: 1}, MailTimeout: 50 * time.Millisecond,
		MailAttempts: 3, OnError: errs.add, Logger: e.quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := auth.SaveProject(ctx, ihoprauth.ProjectSpec{ClientID: "p", ClientSecret: "secret-0123456789", Type: ihoprauth.TypeOTP}); err != nil {
		t.Fatal(err)
	}
	e.srv.Config.Handler = auth
	const n = 8
	for i := range n {
		r := e.post("/api/v1/signup", with(map[string]any{"client_id": "p", "client_secret": "secret-0123456789"},
			"email", "q"+strings.Repeat("x", i)+"@example.com", "first_name", "Q", "last_name", "Q", "mobile_number", 1))
		want(t, r, 200)
	}
	auth.Close(context.Background())
	reported := errs.all()
	if len(reported) != n {
		t.Fatalf("got %d reports, want one per queued mail (%d): %v", len(reported), n, reported)
	}
	for _, err := range reported {
		if !errors.Is(err, ihoprauth.ErrMailNotSent) {
			t.Errorf("got %v, want ErrMailNotSent", err)
		}
	}
	if got := stuck.sends.Load(); got > n+4 {
		t.Errorf("got %d sends for %d mails, want at most one more try each after close began", got, n)
	}
}
