package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrMailNotSent wraps every failure to deliver a mail reported to
// Config.OnError.
var ErrMailNotSent = errors.New("ihoprauth: mail not sent")

// mailQueue sends mail in the background so a slow SMTP server never holds
// up a request. A mail that fails after every try is reported, never
// dropped silently.
type mailQueue struct {
	mailer  Mailer
	cfg     *Config
	ch      chan Message
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	stopped bool
}

const (
	mailWorkers   = 4
	mailQueueSize = 1024
)

func newMailQueue(m Mailer, cfg *Config) *mailQueue {
	q := &mailQueue{mailer: m, cfg: cfg, ch: make(chan Message, mailQueueSize), done: make(chan struct{})}
	q.wg.Add(mailWorkers)
	for range mailWorkers {
		go q.work()
	}
	return q
}

// enqueue hands msg to the workers, or reports why it cannot.
func (q *mailQueue) enqueue(ctx context.Context, msg Message) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		q.cfg.OnError(ctx, fmt.Errorf("%w: %s mail: the Auth is closed", ErrMailNotSent, msg.Kind))
		return
	}
	select {
	case q.ch <- msg:
	default:
		q.cfg.OnError(ctx, fmt.Errorf("%w: %s mail: the queue is full", ErrMailNotSent, msg.Kind))
	}
}

func (q *mailQueue) work() {
	defer q.wg.Done()
	for msg := range q.ch {
		q.send(msg)
	}
}

// send tries msg up to MailAttempts times, waiting 1 s, 2 s, 4 s… between
// tries (cut short by close).
func (q *mailQueue) send(msg Message) {
	var err error
	for try := range q.cfg.MailAttempts {
		if try > 0 {
			select {
			case <-time.After(time.Second << (try - 1)):
			case <-q.done:
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), q.cfg.MailTimeout)
		err = q.mailer.Send(ctx, msg)
		cancel()
		if err == nil {
			q.cfg.Logger.Info("ihoprauth mail sent", "kind", msg.Kind)
			return
		}
	}
	q.cfg.OnError(context.Background(), fmt.Errorf("%w: %s mail after %d tries: %w", ErrMailNotSent, msg.Kind, q.cfg.MailAttempts, err))
}

// close stops taking mail and waits until the mail already queued has been
// sent or has failed.
func (q *mailQueue) close() {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	q.stopped = true
	close(q.ch)
	close(q.done)
	q.mu.Unlock()
	q.wg.Wait()
}
