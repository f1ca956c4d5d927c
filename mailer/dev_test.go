package mailer_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

const devWarning = "mailer: WARNING: no SMTP server is configured, so mails, login codes included, are written here instead of being sent\n"

func TestDevWritesWarningThenMails(t *testing.T) {
	var out bytes.Buffer
	d := mailer.NewDev(&out)
	msgs := []ihoprauth.Message{
		{Kind: ihoprauth.MailOTP, To: "alice@example.com", Subject: "Your login code", Text: "Your code is 493817.", HTML: "<p>html</p>"},
		{Kind: ihoprauth.MailReset, To: "bob@example.com", Subject: "Reset your password", Text: "Your code is 120934."},
	}
	for _, msg := range msgs {
		if err := d.Send(context.Background(), msg); err != nil {
			t.Fatalf("Send: got error %v, want nil", err)
		}
	}

	want := devWarning +
		"--- mail (otp)\nTo: alice@example.com\nSubject: Your login code\n\nYour code is 493817.\n--- end of mail\n" +
		"--- mail (reset)\nTo: bob@example.com\nSubject: Reset your password\n\nYour code is 120934.\n--- end of mail\n"
	if got := out.String(); got != want {
		t.Errorf("got output\n%s\nwant\n%s", got, want)
	}
}

func TestDevFails(t *testing.T) {
	writeErr := errors.New("disk full")
	tests := []struct {
		name    string
		w       *failingWriter
		ctx     func(t *testing.T) context.Context
		wantErr error
	}{
		{name: "context done", w: &failingWriter{}, ctx: cancelled, wantErr: context.Canceled},
		{name: "writer fails", w: &failingWriter{err: writeErr}, ctx: func(t *testing.T) context.Context { return t.Context() }, wantErr: writeErr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := mailer.NewDev(tt.w)

			err := d.Send(tt.ctx(t), ihoprauth.Message{To: "alice@example.com", Text: "Your code is 493817."})

			if !errors.Is(err, tt.wantErr) {
				t.Errorf("Send: got error %v, want %v", err, tt.wantErr)
			}
			if strings.Contains(fmt.Sprint(err), "493817") {
				t.Errorf("error %q contains the body", err)
			}
			if tt.w.n != 0 {
				t.Errorf("wrote %d bytes, want 0", tt.w.n)
			}
		})
	}
}

// failingWriter fails every Write with err, or counts the bytes written
// when err is nil.
type failingWriter struct {
	err error
	n   int
}

func (w *failingWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.n += len(p)
	return len(p), nil
}

func TestDevConcurrentSends(t *testing.T) {
	var out bytes.Buffer
	d := mailer.NewDev(&out)
	const n = 20
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			msg := ihoprauth.Message{To: fmt.Sprintf("user%d@example.com", i), Subject: "Code", Text: "Your code is 493817."}
			if err := d.Send(context.Background(), msg); err != nil {
				t.Errorf("Send: got error %v, want nil", err)
			}
		})
	}
	wg.Wait()

	got := out.String()
	if c := strings.Count(got, devWarning); c != 1 || !strings.HasPrefix(got, devWarning) {
		t.Errorf("got the warning %d times, first: %v, want once, first", c, strings.HasPrefix(got, devWarning))
	}
	for i := range n {
		block := fmt.Sprintf("--- mail ()\nTo: user%d@example.com\nSubject: Code\n\nYour code is 493817.\n--- end of mail\n", i)
		if !strings.Contains(got, block) {
			t.Errorf("got output without the whole mail to user%d:\n%s", i, got)
		}
	}
}
