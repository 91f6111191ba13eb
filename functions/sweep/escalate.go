package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
)

// claimed is one line of the digest: a level (or another line) this run holds the claim on,
// and the request as the claim found it. Exactly one of esc, undelivered, letters and files is
// set.
type claimed struct {
	claim store.EscClaim
	req   *dsr.Request
	// esc is a deadline's level.
	esc *escalation
	// undelivered are the mails that did not arrive.
	undelivered *digest.Undelivered
	// letters are the letters not posted.
	letters *digest.NotPosted
	// files are the files not downloaded, and downloads what the requester did download,
	// which the record of the reminder names after the digest went (dsr.RemindDelivery).
	files     *digest.NotDownloaded
	downloads []dsr.Download
}

// found is what the sweep read before the digest: the lines it claimed for the digest, the
// requests whose mails are due for a retry, and the unconfirmed requests whose follow-up
// (reminder, expiry, new link) waits until the digest is out.
type found struct {
	claims     []claimed
	retries    []*dsr.Request
	unverified []store.SweepItem
}

// escalate goes through the open requests whose deadline is within the horizon (or whose mails
// need a retry or did not arrive, or whose letters wait to be posted), the unconfirmed ones due
// for a follow-up or on a short clock (dsr.Request.Escalates), and the closed ones the sweep
// still has work on, and claims the level each one that escalates is at, the line of mails
// that did not arrive, the line of letters not posted, and the line of an answer's files not
// downloaded when its reminder is due.
//
// When claims were tried and every one failed, the table is refusing the run's writes
// (throttled, unavailable): the sweep could not do its work and says so with errNoClaims, so
// that Lambda retries the run and the failure alarm fires. Some failed among others claimed
// is a failure on those items, counted and left for the next run.
func (s *Sweeper) escalate(ctx context.Context, log *slog.Logger, run *tally, now, lease time.Time) (found, error) {
	var mu sync.Mutex
	var f found
	failed := 0
	add := func(c claimed, outcome claimOutcome) {
		mu.Lock()
		defer mu.Unlock()
		switch outcome {
		case claimOK:
			f.claims = append(f.claims, c)
		case claimFailed:
			failed++
		}
	}
	retry := func(it store.SweepItem) {
		if len(it.Request.MailsDue(now)) > 0 {
			mu.Lock()
			f.retries = append(f.retries, it.Request)
			mu.Unlock()
		}
	}
	var errs []error
	if err := s.each(ctx, log, run, dsr.QueueOpen, s.ladder.Horizon(now), func(ctx context.Context, it store.SweepItem) {
		add(s.claim(ctx, log, run, it, now, lease))
		add(s.claimUndelivered(ctx, log, run, it, now, lease))
		add(s.claimNotPosted(ctx, log, run, it, now, lease))
		retry(it)
	}); err != nil {
		errs = append(errs, fmt.Errorf("open requests: %w", err))
	}
	if err := s.each(ctx, log, run, dsr.QueueUnverified, now, func(ctx context.Context, it store.SweepItem) {
		add(s.claim(ctx, log, run, it, now, lease))
		add(s.claimUndelivered(ctx, log, run, it, now, lease))
		add(s.claimNotPosted(ctx, log, run, it, now, lease))
		mu.Lock()
		f.unverified = append(f.unverified, it)
		mu.Unlock()
	}); err != nil {
		errs = append(errs, fmt.Errorf("unconfirmed requests: %w", err))
	}
	if err := s.each(ctx, log, run, dsr.QueueRetry, now, func(ctx context.Context, it store.SweepItem) {
		add(s.claimUndelivered(ctx, log, run, it, now, lease))
		add(s.claimNotPosted(ctx, log, run, it, now, lease))
		add(s.claimFiles(ctx, log, run, it, now, lease))
		retry(it)
	}); err != nil {
		errs = append(errs, fmt.Errorf("closed requests: %w", err))
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
	return claimed{claim: c, esc: &cur, req: fresh}, claimOK
}

// claimUndelivered claims today's line of the mails of the request that SES reported did not
// arrive and no DPO has acted on since (digest.Ladder.UndeliveredAt), unless a digest listed
// them today already.
func (s *Sweeper) claimUndelivered(ctx context.Context, log *slog.Logger, run *tally, it store.SweepItem, now, lease time.Time) (claimed, claimOutcome) {
	return s.claimDaily(ctx, log, run, it, now, lease, digest.LineUndelivered, func(r *dsr.Request, c *claimed) (string, bool) {
		u, period, ok := s.ladder.UndeliveredAt(r, now)
		c.undelivered = &u
		return period, ok
	})
}

// claimNotPosted claims today's line of the letters of the request that no DPO has recorded
// posted, written before today (digest.Ladder.NotPostedAt), unless a digest listed them today
// already.
func (s *Sweeper) claimNotPosted(ctx context.Context, log *slog.Logger, run *tally, it store.SweepItem, now, lease time.Time) (claimed, claimOutcome) {
	return s.claimDaily(ctx, log, run, it, now, lease, digest.LineNotPosted, func(r *dsr.Request, c *claimed) (string, bool) {
		n, period, ok := s.ladder.NotPostedAt(r, now)
		c.letters = &n
		return period, ok
	})
}

// claimDaily claims the line named line of the request for the period at gives it, unless a
// digest listed it for that period already. at says whether the request (as the index showed
// it, then as the claim returned it) has the line and for which period, and sets the line on
// c. A DPO may have acted on the request since the index was read: a line the claimed request
// no longer has, or has for another period, is released.
func (s *Sweeper) claimDaily(ctx context.Context, log *slog.Logger, run *tally, it store.SweepItem, now, lease time.Time, line string, at func(*dsr.Request, *claimed) (string, bool)) (claimed, claimOutcome) {
	period, ok := at(it.Request, &claimed{})
	if !ok {
		return claimed{}, claimNone
	}
	if m, ok := it.Esc[line]; ok && m.Covers(period, now) {
		return claimed{}, claimNone
	}
	fresh, c, outcome := s.claimLine(ctx, log, run, it.Request.Ref, line, period, lease)
	if outcome != claimOK {
		return claimed{}, outcome
	}
	out := claimed{claim: c, req: fresh}
	if cur, ok := at(fresh, &out); !ok || cur != period {
		run.skip()
		s.release(ctx, log, run, []claimed{{claim: c}})
		return claimed{}, claimNone
	}
	return out, claimOK
}

// claimFiles looks, once an answer's reminder is due, whether its files were downloaded: it
// reads the request's downloads (one Query of its partition, only for a request whose
// reminder is due, so the sweep still reads what is due and nothing else) and claims the line
// of those that were not. An answer whose files were all downloaded is recorded so at once
// and leaves the queue without a line. An answer a digest listed whose record could not be
// written then (the DPO changed the request at the same moment) is recorded now, not listed
// again.
func (s *Sweeper) claimFiles(ctx context.Context, log *slog.Logger, run *tally, it store.SweepItem, now, lease time.Time) (claimed, claimOutcome) {
	r := it.Request
	if !r.DeliveryReminderDue(now) {
		return claimed{}, claimNone
	}
	downloads, err := s.store.Downloads(ctx, r.Ref)
	if err != nil {
		run.fail()
		log.WarnContext(ctx, "downloads unreadable", "ref", r.Ref, errlog.Attr(err, outOfTime))
		return claimed{}, claimFailed
	}
	_, period, ok := digest.NotDownloadedAt(r, downloads, now)
	m, marked := it.Esc[digest.LineNotDownloaded]
	switch {
	case !ok, marked && m.Period == period && m.State == store.EscDone:
		ch, err := r.RemindDelivery(downloads, now)
		if s.commit(ctx, log, run, r, ch, err, "delivery looked at") {
			log.DebugContext(ctx, "delivery looked at", "ref", r.Ref, "listed", ok)
		}
		return claimed{}, claimNone
	case marked && m.Covers(period, now):
		return claimed{}, claimNone
	}
	fresh, c, outcome := s.claimLine(ctx, log, run, r.Ref, digest.LineNotDownloaded, period, lease)
	if outcome != claimOK {
		return claimed{}, outcome
	}
	n, cur, ok := digest.NotDownloadedAt(fresh, downloads, now)
	if !ok || cur != period {
		run.skip()
		s.release(ctx, log, run, []claimed{{claim: c}})
		return claimed{}, claimNone
	}
	return claimed{claim: c, files: &n, downloads: downloads, req: fresh}, claimOK
}

// claimLine claims a line that is not a deadline's level (store.ClaimLine), counting and
// logging what became of it.
func (s *Sweeper) claimLine(ctx context.Context, log *slog.Logger, run *tally, ref, line, period string, lease time.Time) (*dsr.Request, store.EscClaim, claimOutcome) {
	fresh, c, err := s.store.ClaimLine(ctx, ref, line, period, lease)
	switch {
	case errors.Is(err, fault.Conflict):
		run.skip()
		log.DebugContext(ctx, "line already claimed", "ref", ref, "line", line)
		return nil, c, claimNone
	case err != nil:
		run.fail()
		log.WarnContext(ctx, "line claim failed", "ref", ref, "line", line, errlog.Attr(err, outOfTime))
		s.withdraw(ctx, log, store.EscClaim{Ref: ref, Level: line, Period: period, Lease: lease.UTC()})
		return nil, c, claimFailed
	}
	return fresh, c, claimOK
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
		if c.files != nil {
			// The trail records the reminder and the request leaves the queue. Should this
			// write fail, the mark says the digest listed it, and the next run records it.
			ch, err := c.req.RemindDelivery(c.downloads, now)
			s.commit(ctx, log, run, c.req, ch, err, "delivery reminded")
		}
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
