package ihoprauth

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
)

// ErrMailNotSent wraps every failure to deliver a mail reported to
// Config.OnError.
var ErrMailNotSent = errors.New("ihoprauth: mail not sent")

// mailQueue sends mail in the background so a slow SMTP server never holds
// up a request. A mail that fails after every try is reported, never
// dropped silently.
type mailQueue struct {
	mailer Mailer
	cfg    *Config
	ch     chan queued
	done   chan struct{}
	// drain is the context of every send; stopDrain ends it when close has
	// waited long enough.
	drain     context.Context
	stopDrain context.CancelFunc
	wg        sync.WaitGroup
	mu        sync.Mutex
	stopped   bool
	tel       *telemetry
	// lastTaken is when a worker last took a mail from the queue (Unix
	// nanoseconds), for stuck.
	lastTaken atomic.Int64
}

const (
	mailWorkers   = 4
	mailQueueSize = 1024
)

func newMailQueue(m Mailer, cfg *Config) *mailQueue {
	q := &mailQueue{mailer: m, cfg: cfg, ch: make(chan queued, mailQueueSize), done: make(chan struct{})}
	q.drain, q.stopDrain = context.WithCancel(context.Background())
	q.lastTaken.Store(time.Now().UnixNano())
	q.wg.Add(mailWorkers)
	for range mailWorkers {
		go q.work()
	}
	return q
}

// queued is a mail in the queue; a decoy is dropped by the worker that
// takes it (see enqueueDecoy).
type queued struct {
	msg   Message
	decoy bool
}

// enqueueDecoy queues a mail that no worker sends, for a request about an
// email with no account: the request pays the same queueing as one that
// mails, so neither its time nor a worker's wake-up tells them apart
// (docs/design.md, D29).
func (q *mailQueue) enqueueDecoy(ctx context.Context, msg Message) {
	q.put(ctx, queued{msg: msg, decoy: true})
}

// enqueue hands msg to the workers, or reports why it cannot.
func (q *mailQueue) enqueue(ctx context.Context, msg Message) {
	q.put(ctx, queued{msg: msg})
}

func (q *mailQueue) put(ctx context.Context, m queued) {
	msg := m.msg
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		q.cfg.OnError(ctx, fmt.Errorf("%w: %s mail: the Auth is closed", ErrMailNotSent, msg.Kind))
		return
	}
	select {
	case q.ch <- m:
	default:
		q.cfg.OnError(ctx, fmt.Errorf("%w: %s mail: the queue is full", ErrMailNotSent, msg.Kind))
	}
}

func (q *mailQueue) work() {
	defer q.wg.Done()
	for m := range q.ch {
		q.lastTaken.Store(time.Now().UnixNano())
		if !m.decoy {
			q.send(m.msg)
		}
	}
}

// send tries msg up to MailAttempts times, waiting 1 s, 2 s, 4 s… between
// tries. Once the queue is closing, a mail gets one more try at most, and
// none after the drain deadline: it is reported instead.
func (q *mailQueue) send(msg Message) {
	var err error
	tries := 0
	for tries < q.cfg.MailAttempts {
		if tries > 0 {
			select {
			case <-time.After(time.Second << (tries - 1)):
			case <-q.done:
			}
		}
		ctx, cancel := context.WithTimeout(q.drain, q.cfg.MailTimeout)
		err = q.mailer.Send(ctx, msg)
		cancel()
		tries++
		if err == nil {
			q.cfg.Logger.Info("ihoprauth mail sent", "kind", msg.Kind)
			return
		}
		if q.closing() {
			break
		}
	}
	if q.tel != nil {
		q.tel.mailFailures.Add(context.Background(), 1, metric.WithAttributes(attribute.String("kind", string(msg.Kind))))
	}
	q.cfg.OnError(context.Background(), fmt.Errorf("%w: %s mail after %d tries: %w", ErrMailNotSent, msg.Kind, tries, err))
}

// stuck reports whether mail waits in the queue while no worker has taken
// one for longer than a mail can take with all its tries: every worker is
// held by a mail server that does not answer within MailTimeout, or the
// workers are gone.
func (q *mailQueue) stuck(now time.Time) bool {
	if len(q.ch) == 0 {
		return false
	}
	tries := q.cfg.MailAttempts
	// The sends, and the waits between them: 1 s, 2 s, 4 s…
	bound := time.Duration(tries)*q.cfg.MailTimeout + (time.Second<<min(tries-1, 20) - time.Second)
	return now.Sub(time.Unix(0, q.lastTaken.Load())) > bound
}

// closed reports whether close has been called.
func (q *mailQueue) closed() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.stopped
}

func (q *mailQueue) closing() bool {
	select {
	case <-q.done:
		return true
	default:
		return false
	}
}

// close stops taking mail and waits until the mail already queued has been
// sent or reported: each gets one try at most, and whatever is left after
// closeGrace, or when ctx is done, fails at once, so shutdown never hangs on a dead SMTP server.
func (q *mailQueue) close(ctx context.Context) {
	q.mu.Lock()
	if q.stopped {
		q.mu.Unlock()
		return
	}
	q.stopped = true
	close(q.ch)
	close(q.done)
	q.mu.Unlock()
	ctx, cancel := context.WithTimeout(ctx, closeGrace)
	defer cancel()
	stop := context.AfterFunc(ctx, q.stopDrain)
	defer stop()
	defer q.stopDrain()
	q.wg.Wait()
}

// closeGrace bounds how long close waits for queued mail.
const closeGrace = 30 * time.Second
