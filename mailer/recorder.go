package mailer

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/ihoprauth/ihoprauth"
)

// Recorder is an ihoprauth.Mailer for tests: it keeps every message it is
// given, and lets a test wait for the next one to an address. It is safe for
// concurrent use. The zero value is an empty Recorder that accepts mail.
type Recorder struct {
	mu   sync.Mutex
	msgs []ihoprauth.Message
	// awaited counts, per lower-cased address, the messages Await returned.
	awaited map[string]int
	// arrived, when not nil, is closed by the next Send that records.
	arrived chan struct{}
	fail    error
}

// Send records msg and returns nil; or, after SetFail(err) with a non-nil
// err, records nothing and returns err; or returns ctx's error if ctx is done.
func (r *Recorder) Send(ctx context.Context, msg ihoprauth.Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: recorder: %w", err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	r.msgs = append(r.msgs, msg)
	if r.arrived != nil {
		close(r.arrived)
		r.arrived = nil
	}
	return nil
}

// SetFail makes every later Send fail with err, to test how failures are
// reported; SetFail(nil) makes Send record again. By default Send records.
func (r *Recorder) SetFail(err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = err
}

// Messages returns a copy of the messages recorded so far, oldest first.
func (r *Recorder) Messages() []ihoprauth.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.msgs)
}

// Await returns the oldest message to the address to, compared without
// regard to case, that no earlier Await for that address returned. It waits
// for one to be sent if there is none, until ctx is done; then it returns an
// error wrapping ctx.Err().
func (r *Recorder) Await(ctx context.Context, to string) (ihoprauth.Message, error) {
	key := strings.ToLower(to)
	for {
		msg, arrived := r.next(key)
		if arrived == nil {
			return msg, nil
		}
		select {
		case <-arrived:
		case <-ctx.Done():
			return ihoprauth.Message{}, fmt.Errorf("mailer: no mail to %s: %w", to, ctx.Err())
		}
	}
}

// next returns the first message to key that Await has not returned yet,
// and counts it as returned. When there is none, it returns a channel that
// the next recording Send closes.
func (r *Recorder) next(key string) (ihoprauth.Message, <-chan struct{}) {
	r.mu.Lock()
	defer r.mu.Unlock()
	skip := r.awaited[key]
	for _, msg := range r.msgs {
		if strings.ToLower(msg.To) != key {
			continue
		}
		if skip > 0 {
			skip--
			continue
		}
		if r.awaited == nil {
			r.awaited = make(map[string]int)
		}
		r.awaited[key]++
		return msg, nil
	}
	if r.arrived == nil {
		r.arrived = make(chan struct{})
	}
	return ihoprauth.Message{}, r.arrived
}
