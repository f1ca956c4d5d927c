package main

import (
	"context"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/ihoprauth/ihoprauth"
	"github.com/ihoprauth/ihoprauth/mailer"
)

// inboxSize is how many mails the dev inbox keeps; older ones are dropped.
const inboxSize = 50

// inbox is the development mailer used when no -smtp is given: it writes
// each mail to a writer, as mailer.Dev does, and keeps the last inboxSize
// mails for the page at /dev/inbox, so that the codes can be read in the
// browser. Like mailer.Dev it is for development only: whoever can open the
// page can read every code. It is safe for concurrent use.
type inbox struct {
	dev *mailer.Dev

	mu    sync.Mutex
	mails []inboxMail // oldest first
}

// inboxMail is one mail the server "sent".
type inboxMail struct {
	ihoprauth.Message
	At time.Time
}

func newInbox(w io.Writer) *inbox {
	return &inbox{dev: mailer.NewDev(w)}
}

// Send keeps msg for the page, then writes it with mailer.Dev; or returns
// ctx's error if ctx is done.
func (in *inbox) Send(ctx context.Context, msg ihoprauth.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("inbox: %w", err)
	}
	in.mu.Lock()
	in.mails = append(in.mails, inboxMail{Message: msg, At: time.Now()})
	if len(in.mails) > inboxSize {
		in.mails = slices.Delete(in.mails, 0, len(in.mails)-inboxSize)
	}
	in.mu.Unlock()
	return in.dev.Send(ctx, msg)
}

// newest returns the mails kept, newest first.
func (in *inbox) newest() []inboxMail {
	in.mu.Lock()
	defer in.mu.Unlock()
	mails := slices.Clone(in.mails)
	slices.Reverse(mails)
	return mails
}

var inboxPage = template.Must(template.ParseFS(pages, "web/inbox.html"))

// ServeHTTP renders the inbox page. The mails' HTML parts are shown in
// sandboxed frames: no script of theirs runs and they cannot reach the page.
func (in *inbox) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	render(w, inboxPage, inboxCSP, struct {
		Mails []inboxMail
		Size  int
	}{in.newest(), inboxSize})
}
