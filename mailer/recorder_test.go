package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

func TestRecorderAwaitReturnsEachMessageOnceInOrder(t *testing.T) {
	var r mailer.Recorder
	sends := []ihoprauth.Message{
		{To: "alice@example.com", Subject: "a1"},
		{To: "bob@example.com", Subject: "b1"},
		{To: "Alice@Example.com", Subject: "a2"},
		{To: "alice@example.com", Subject: "a3"},
	}
	for _, msg := range sends {
		if err := r.Send(context.Background(), msg); err != nil {
			t.Fatalf("Send: got error %v, want nil", err)
		}
	}
	awaits := []struct {
		to          string
		wantSubject string
	}{
		{to: "alice@example.com", wantSubject: "a1"},
		{to: "ALICE@EXAMPLE.COM", wantSubject: "a2"},
		{to: "bob@example.com", wantSubject: "b1"},
		{to: "alice@example.com", wantSubject: "a3"},
	}
	for _, tt := range awaits {
		got, err := r.Await(t.Context(), tt.to)
		if err != nil || got.Subject != tt.wantSubject {
			t.Fatalf("Await(%q): got %q, %v, want %q, nil", tt.to, got.Subject, err, tt.wantSubject)
		}
	}
	if got := len(r.Messages()); got != len(sends) {
		t.Errorf("Messages: got %d, want %d", got, len(sends))
	}
}

func TestRecorderAwaitWaits(t *testing.T) {
	var r mailer.Recorder
	type result struct {
		msg ihoprauth.Message
		err error
	}
	done := make(chan result, 1)
	go func() {
		msg, err := r.Await(t.Context(), "alice@example.com")
		done <- result{msg, err}
	}()
	for _, msg := range []ihoprauth.Message{
		{To: "bob@example.com", Subject: "not for alice"},
		{To: "alice@example.com", Subject: "for alice"},
	} {
		if err := r.Send(context.Background(), msg); err != nil {
			t.Fatalf("Send: got error %v, want nil", err)
		}
	}

	got := <-done
	if got.err != nil || got.msg.Subject != "for alice" {
		t.Errorf("Await: got %q, %v, want %q, nil", got.msg.Subject, got.err, "for alice")
	}
}

func TestRecorderAwaitStopsWithContext(t *testing.T) {
	tests := []struct {
		name    string
		ctx     func(t *testing.T) context.Context
		wantErr error
	}{
		{name: "cancelled", ctx: cancelled, wantErr: context.Canceled},
		{name: "deadline", ctx: shortDeadline, wantErr: context.DeadlineExceeded},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r mailer.Recorder
			if err := r.Send(context.Background(), ihoprauth.Message{To: "alice@example.com"}); err != nil {
				t.Fatalf("Send: got error %v, want nil", err)
			}
			if _, err := r.Await(t.Context(), "alice@example.com"); err != nil {
				t.Fatalf("first Await: got error %v, want nil", err)
			}

			_, err := r.Await(tt.ctx(t), "alice@example.com")

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("second Await: got error %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestRecorderSendFails(t *testing.T) {
	failure := errors.New("smtp down")
	tests := []struct {
		name    string
		fail    error
		ctx     func(t *testing.T) context.Context
		wantErr error
	}{
		{name: "SetFail", fail: failure, ctx: func(t *testing.T) context.Context { return t.Context() }, wantErr: failure},
		{name: "context done", ctx: cancelled, wantErr: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r mailer.Recorder
			r.SetFail(tt.fail)

			err := r.Send(tt.ctx(t), ihoprauth.Message{To: "alice@example.com"})

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Send: got error %v, want %v", err, tt.wantErr)
			}
			if got := r.Messages(); len(got) != 0 {
				t.Errorf("Messages: got %d, want 0", len(got))
			}
		})
	}
	t.Run("SetFail(nil) restores", func(t *testing.T) {
		var r mailer.Recorder
		r.SetFail(failure)
		r.SetFail(nil)
		if err := r.Send(context.Background(), ihoprauth.Message{To: "alice@example.com"}); err != nil {
			t.Errorf("Send: got error %v, want nil", err)
		}
		if got := r.Messages(); len(got) != 1 {
			t.Errorf("Messages: got %d, want 1", len(got))
		}
	})
}

func TestRecorderMessagesIsACopy(t *testing.T) {
	var r mailer.Recorder
	if err := r.Send(context.Background(), ihoprauth.Message{To: "alice@example.com", Subject: "original"}); err != nil {
		t.Fatalf("Send: got error %v, want nil", err)
	}
	r.Messages()[0].Subject = "changed"
	if got := r.Messages()[0].Subject; got != "original" {
		t.Errorf("Subject: got %q, want %q", got, "original")
	}
}

func TestRecorderConcurrentUse(t *testing.T) {
	var r mailer.Recorder
	const recipients, perRecipient = 5, 20
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for i := range recipients {
		to := fmt.Sprintf("user%d@example.com", i)
		wg.Go(func() {
			for j := range perRecipient {
				msg := ihoprauth.Message{To: to, Subject: fmt.Sprint(j)}
				if err := r.Send(ctx, msg); err != nil {
					t.Errorf("Send: got error %v, want nil", err)
				}
			}
		})
		wg.Go(func() {
			for j := range perRecipient {
				msg, err := r.Await(ctx, to)
				if err != nil || msg.Subject != fmt.Sprint(j) {
					t.Errorf("Await(%q): got %q, %v, want %q, nil", to, msg.Subject, err, fmt.Sprint(j))
					return
				}
			}
		})
	}
	wg.Wait()
	if got := len(r.Messages()); got != recipients*perRecipient {
		t.Errorf("Messages: got %d, want %d", got, recipients*perRecipient)
	}
}
