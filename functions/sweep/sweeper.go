package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/dsrdesk/dsrdesk/shared/config"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// sweepStore is the part of store.Store the sweep uses.
type sweepStore interface {
	SweepDue(ctx context.Context, q dsr.Queue, until time.Time, pageSize int) iter.Seq2[store.SweepItem, error]
	ClaimEscalation(ctx context.Context, ref, level, period string, lease time.Time) (*dsr.Request, store.EscClaim, error)
	ClaimLine(ctx context.Context, ref, line, period string, lease time.Time) (*dsr.Request, store.EscClaim, error)
	Downloads(ctx context.Context, ref string) ([]dsr.Download, error)
	MarkEscalated(ctx context.Context, c store.EscClaim) error
	ReleaseEscalation(ctx context.Context, c store.EscClaim) error
	ClaimMailRetry(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, now time.Time) error
	Commit(ctx context.Context, r *dsr.Request, c dsr.Change) error
	SyncSiblings(ctx context.Context, r *dsr.Request, sent ...dsr.SentMail) error
	CountUnconfirmed(ctx context.Context, perDay int) (store.Counted, error)
	Uncount(ctx context.Context, c store.Counted) error
}

// deliverer sends the mails a change queued and records how they went (notice.Outbox does).
type deliverer interface {
	Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error
}

// renderer renders a mail from a template (notice.Notices does).
type renderer interface {
	Render(name string, data any) (subject, text, html string, err error)
}

const (
	// maxLease bounds an escalation claim; see Sweeper.lease.
	maxLease = 15 * time.Minute
	// leaseMargin covers clock skew between this run and the next, so a live run's claims are
	// never taken from it.
	leaseMargin = time.Minute
	// defaultReserve is the time kept back at the end of an invocation for the digest and the
	// marks: no new work is started once less than this is left.
	defaultReserve = 30 * time.Second
	// parallelism is how many requests are handled at once: enough to hide round trips, few
	// enough for SES's sending rate.
	parallelism = 4
	// itemTimeout bounds the work on one request, and digestTimeout the digest's send, so a
	// hanging endpoint cannot eat the time kept back for sending, marking and releasing.
	itemTimeout   = 20 * time.Second
	digestTimeout = 20 * time.Second
	// cleanupTimeout bounds the marks and releases, which run even when the invocation's own
	// context has run out.
	cleanupTimeout = 10 * time.Second
)

// errOutOfTime stops a partition when the invocation is about to end; what is left is still
// due and the next run (or Lambda's retry) picks it up.
var errOutOfTime = errors.New("sweep: out of time, rest left for the next run")

// Sweeper is the scheduled sweep: it escalates deadlines to the DPO in one digest, reminds and
// expires unconfirmed requests, and retries mails that could not be sent.
type Sweeper struct {
	cfg      config.Sweep
	store    sweepStore
	outbox   deliverer
	notices  renderer
	sender   notice.Sender
	ladder   ladder
	lang     i18n.Lang
	now      func() time.Time
	log      *slog.Logger
	metrics  io.Writer
	function string
	// reserve and pageSize are fields so tests can exercise timeouts and page boundaries.
	reserve  time.Duration
	pageSize int
}

// Handle runs one sweep. The event is whatever EventBridge Scheduler sends (a manual run with
// "{}" works the same); only its id is used, to tie the log lines of one run together.
//
// It returns an error, so that Lambda retries the run and raises the failure alarm, when the
// sweep could not do its job: a partition could not be read, no escalation could be claimed,
// the digest could not be sent, or time ran out. Every step is idempotent, so a retry never reports or sends anything twice.
// A failure on one request is counted and logged, and does not fail the run.
func (s *Sweeper) Handle(ctx context.Context, ev events.EventBridgeEvent) error {
	start := time.Now()
	now := s.now()
	log := s.log.With("run", ev.ID)
	run := newTally(s.ladder)
	var errs []error

	// The DPO's digest first: the requester-side mails may be slow, it must not wait for them.
	// The unconfirmed requests are read before it too, since a withdrawal or a marketing
	// objection is reported on its short clock whether confirmed or not, and so are the
	// closed ones on the retry queue, for the mails that did not arrive and the files not
	// downloaded.
	found, err := s.escalate(ctx, log, run, now, s.lease(ctx))
	if err != nil {
		errs = append(errs, err)
	}
	reported := map[string]bool{}
	if err := s.report(ctx, log, run, found.claims, now); err != nil {
		errs = append(errs, err)
	} else {
		for _, c := range found.claims {
			reported[c.claim.Ref] = true
		}
	}
	if err := s.retryAll(ctx, log, run, found.retries, now); err != nil {
		errs = append(errs, fmt.Errorf("mail retries: %w", err))
	}
	if err := s.followUps(ctx, log, run, found.unverified, reported, now); err != nil {
		errs = append(errs, fmt.Errorf("unconfirmed requests: %w", err))
	}

	err = errors.Join(errs...)
	if err != nil {
		run.unfinished()
	}
	run.summary(log, err, time.Since(start))
	run.emf(s.metrics, s.function, now)
	return err
}

// each hands every request due on queue q (sweep time at or before until) to fn, a few at a
// time, and stops starting new ones when the invocation is about to end. The index may show a
// request twice in one run (handling it can move it further down the same partition); it is
// handled once.
func (s *Sweeper) each(ctx context.Context, log *slog.Logger, run *tally, q dsr.Queue, until time.Time, fn func(context.Context, store.SweepItem)) error {
	seen := map[string]bool{}
	w := newWorkers()
	defer w.wait()
	for it, err := range s.store.SweepDue(ctx, q, until, s.pageSize) {
		if errors.Is(err, fault.Unavailable) {
			return err
		}
		if err != nil {
			run.fail()
			log.WarnContext(ctx, "unreadable item", "partition", q, errlog.Attr(err, outOfTime))
			continue
		}
		if seen[it.Request.Ref] {
			continue
		}
		seen[it.Request.Ref] = true
		run.found(q)
		if !s.timeLeft(ctx) {
			return errOutOfTime
		}
		w.do(ctx, itemTimeout, func(ctx context.Context) { fn(ctx, it) })
	}
	return nil
}

// workers runs jobs a few at a time.
type workers struct {
	sem chan struct{}
	wg  sync.WaitGroup
}

func newWorkers() *workers { return &workers{sem: make(chan struct{}, parallelism)} }

// do runs fn when a worker is free, under ctx bounded by timeout.
func (w *workers) do(ctx context.Context, timeout time.Duration, fn func(context.Context)) {
	w.sem <- struct{}{}
	w.wg.Go(func() {
		defer func() { <-w.sem }()
		ctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		fn(ctx)
	})
}

func (w *workers) wait() { w.wg.Wait() }

// timeLeft reports whether there is time to start on another request and still finish the run.
func (s *Sweeper) timeLeft(ctx context.Context) bool {
	if ctx.Err() != nil {
		return false
	}
	dl, ok := ctx.Deadline()
	return !ok || time.Until(dl) > s.reserve
}

// lease is when this run's claims lapse if it dies: shortly after the invocation must have
// ended (Lambda stops it at its timeout), so the next run can report what it left, and never
// later than maxLease. ctx must be the invocation's: a job's context ends sooner.
func (s *Sweeper) lease(ctx context.Context) time.Time {
	d := maxLease
	if dl, ok := ctx.Deadline(); ok {
		d = min(d, time.Until(dl)+leaseMargin)
	}
	return s.now().Add(d)
}

// cleanup is a context for the writes that must follow a send (marks) or a failure (releases)
// even when the invocation's context has just run out.
func cleanup(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
}
