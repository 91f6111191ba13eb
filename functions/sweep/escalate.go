package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// claimed is one line of the digest: a level this run holds the claim on, and the request as
// the claim found it.
type claimed struct {
	claim store.EscClaim
	esc   escalation
	req   *dsr.Request
}

// found is what the sweep read before the digest: the levels it claimed for the digest, the
// open requests whose mails are due for a retry, and the unconfirmed requests whose follow-up
// (reminder, expiry, new link) waits until the digest is out.
type found struct {
	claims     []claimed
	retries    []*dsr.Request
	unverified []store.SweepItem
}

// escalate goes through the open requests whose deadline is within the horizon (or whose mails
// need a retry), and the unconfirmed ones due for a follow-up or on a short clock
// (dsr.Request.Escalates), and claims the level each one that escalates is at.
//
// When claims were tried and every one failed, the table is refusing the run's writes
// (throttled, unavailable): the sweep could not do its work and says so with errNoClaims, so
// that Lambda retries the run and the failure alarm fires. Some failed among others claimed
// is a failure on those items, counted and left for the next run.
func (s *Sweeper) escalate(ctx context.Context, log *slog.Logger, run *tally, now, lease time.Time) (found, error) {
	var mu sync.Mutex
	var f found
	failed := 0
	claim := func(ctx context.Context, it store.SweepItem) {
		c, outcome := s.claim(ctx, log, run, it, now, lease)
		mu.Lock()
		defer mu.Unlock()
		switch outcome {
		case claimOK:
			f.claims = append(f.claims, c)
		case claimFailed:
			failed++
		}
	}
	var errs []error
	if err := s.each(ctx, log, run, dsr.QueueOpen, s.ladder.Horizon(now), func(ctx context.Context, it store.SweepItem) {
		claim(ctx, it)
		if len(it.Request.MailsDue(now)) > 0 {
			mu.Lock()
			f.retries = append(f.retries, it.Request)
			mu.Unlock()
		}
	}); err != nil {
		errs = append(errs, fmt.Errorf("open requests: %w", err))
	}
	if err := s.each(ctx, log, run, dsr.QueueUnverified, now, func(ctx context.Context, it store.SweepItem) {
		claim(ctx, it)
		mu.Lock()
		f.unverified = append(f.unverified, it)
		mu.Unlock()
	}); err != nil {
		errs = append(errs, fmt.Errorf("unconfirmed requests: %w", err))
	}
	if len(errs) == 0 && failed > 0 && len(f.claims) == 0 {
		errs = append(errs, fmt.Errorf("%w: %d tried", errNoClaims, failed))
	}
	return f, errors.Join(errs...)
}

// errNoClaims is a run whose every escalation claim failed.
var errNoClaims = errors.New("sweep: no escalation could be claimed")

// claimOutcome is what came of trying to claim a request's level.
type claimOutcome int

const (
	// claimNone: nothing to claim, or another run holds or has reported it.
	claimNone claimOutcome = iota
	claimOK
	// claimFailed: the write failed; the level is left for the next run.
	claimFailed
)

// claim claims the level the request is at until lease, unless its mark says that level was
// already reported (or is being reported) for the same period. The conditional write decides; the mark
// read from the index only saves a write.
func (s *Sweeper) claim(ctx context.Context, log *slog.Logger, run *tally, it store.SweepItem, now, lease time.Time) (claimed, claimOutcome) {
	r := it.Request
	esc, ok := s.ladder.At(r, now)
	if !ok {
		return claimed{}, claimNone
	}
	if m, ok := it.Esc[esc.Level.Name]; ok && m.Covers(esc.Period, now) {
		return claimed{}, claimNone
	}
	fresh, c, err := s.store.ClaimEscalation(ctx, r.Ref, esc.Level.Name, esc.Period, lease)
	switch {
	case errors.Is(err, fault.Conflict):
		run.skip()
		log.DebugContext(ctx, "escalation already claimed", "ref", r.Ref, "level", esc.Level.Name)
		return claimed{}, claimNone
	case err != nil:
		run.fail()
		log.WarnContext(ctx, "escalation claim failed", "ref", r.Ref, "level", esc.Level.Name, errlog.Attr(err, outOfTime))
		s.withdraw(ctx, log, store.EscClaim{Ref: r.Ref, Level: esc.Level.Name, Period: esc.Period, Lease: lease.UTC()})
		return claimed{}, claimFailed
	}
	// The index lags the table: the claim returned the request as it is now. If the DPO closed
	// or extended it in between, what we claimed is no longer true.
	cur, ok := s.ladder.At(fresh, now)
	if !ok || cur.Level.Name != esc.Level.Name || cur.Period != esc.Period {
		run.skip()
		log.DebugContext(ctx, "escalation changed under the claim", "ref", r.Ref, "level", esc.Level.Name)
		s.release(ctx, log, run, []claimed{{claim: c}})
		return claimed{}, claimNone
	}
	return claimed{claim: c, esc: cur, req: fresh}, claimOK
}

// report sends the one digest of everything claimed, then marks each line reported; if the
// digest cannot be sent it releases the claims, so the next run reports them.
func (s *Sweeper) report(ctx context.Context, log *slog.Logger, run *tally, claims []claimed, now time.Time) error {
	if len(claims) == 0 {
		return nil
	}
	msg, err := s.digest(claims, now)
	if err == nil {
		sendCtx, cancel := context.WithTimeout(ctx, digestTimeout)
		err = s.sender.Send(sendCtx, msg)
		cancel()
	}
	if err != nil {
		run.digestFailed()
		log.ErrorContext(ctx, "digest not sent", "lines", len(claims), errlog.Attr(err, outOfTime))
		s.release(ctx, log, run, claims)
		return fmt.Errorf("digest: %w", err)
	}
	run.digestSent(claims)
	s.parallel(ctx, claims, func(ctx context.Context, c claimed) {
		// Unmarked, the line repeats after the lease: a duplicate, never a gap.
		if err := s.store.MarkEscalated(ctx, c.claim); err != nil {
			run.fail()
			log.WarnContext(ctx, "escalation not marked", "ref", c.claim.Ref, "level", c.claim.Level, errlog.Attr(err, outOfTime))
			return
		}
		log.DebugContext(ctx, "escalated", "ref", c.claim.Ref, "level", c.claim.Level, "period", c.claim.Period)
	})
	return nil
}

// withdraw gives up a claim whose write failed: DynamoDB may have made it although its answer
// was lost (the invocation's deadline, a dropped connection), and a claim nobody knows of would
// hold the level back until its lease lapsed. The release is conditional on this very claim,
// so where the write never landed it changes nothing.
func (s *Sweeper) withdraw(ctx context.Context, log *slog.Logger, c store.EscClaim) {
	ctx, cancel := cleanup(ctx)
	defer cancel()
	if err := s.store.ReleaseEscalation(ctx, c); err != nil && !errors.Is(err, fault.Conflict) {
		log.WarnContext(ctx, "escalation not released", "ref", c.Ref, "level", c.Level, errlog.Attr(err, outOfTime))
	}
}

// release gives up claims. One that cannot be released lapses at its lease.
func (s *Sweeper) release(ctx context.Context, log *slog.Logger, run *tally, claims []claimed) {
	s.parallel(ctx, claims, func(ctx context.Context, c claimed) {
		if err := s.store.ReleaseEscalation(ctx, c.claim); err != nil {
			run.fail()
			log.WarnContext(ctx, "escalation not released", "ref", c.claim.Ref, "level", c.claim.Level, errlog.Attr(err, outOfTime))
		}
	})
}

// parallel runs fn for each claim, a few at a time, under a context that outlives ctx by a
// little: these writes follow a send (or its failure) and must be made.
func (s *Sweeper) parallel(ctx context.Context, claims []claimed, fn func(context.Context, claimed)) {
	ctx, cancel := cleanup(ctx)
	defer cancel()
	w := newWorkers()
	for _, c := range claims {
		w.do(ctx, cleanupTimeout, func(ctx context.Context) { fn(ctx, c) })
	}
	w.wait()
}
