package mailer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ihoprauth/ihoprauth"
)

// devWarning is the line Dev writes before its first mail, so that nobody
// mistakes a development setup that shows login codes for a production one.
const devWarning = "mailer: WARNING: no SMTP server is configured, so mails, login codes included, are written here instead of being sent\n"

// Dev is an ihoprauth.Mailer for development: instead of sending a mail, it
// writes its recipient, subject and text to a writer, and before the first
// mail a warning line. Never use it in production: anyone who reads the
// output can log in as anyone. It is safe for concurrent use, and writes each
// mail with a single Write. The zero value writes to os.Stderr.
type Dev struct {
	mu     sync.Mutex
	w      io.Writer
	warned bool
}

// NewDev returns a Dev that writes to w; nil means os.Stderr.
func NewDev(w io.Writer) *Dev {
	return &Dev{w: w}
}

// Send writes msg, or returns ctx's error if ctx is done, or the writer's
// error.
func (d *Dev) Send(ctx context.Context, msg ihoprauth.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: dev: %w", err)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var b bytes.Buffer
	if !d.warned {
		b.WriteString(devWarning)
	}
	fmt.Fprintf(&b, "--- mail (%s)\nTo: %s\nSubject: %s\n\n%s\n--- end of mail\n",
		msg.Kind, msg.To, msg.Subject, msg.Text)
	w := d.w
	if w == nil {
		w = os.Stderr
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return fmt.Errorf("mailer: dev: %w", err)
	}
	d.warned = true
	return nil
}
