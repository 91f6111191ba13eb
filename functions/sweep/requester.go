package main

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/token"
)

// followUps does what each unconfirmed request found needs, a few at a time, while there is
// time. reported holds the references this run's digest reported.
func (s *Sweeper) followUps(ctx context.Context, log *slog.Logger, run *tally, items []store.SweepItem, reported map[string]bool, now time.Time) error {
	// The requests held longest come first: they get the day's room under the ceiling.
	items = slices.Clone(items)
	slices.SortStableFunc(items, func(a, b store.SweepItem) int { return a.Request.HeldAt.Compare(b.Request.HeldAt) })
	w := newWorkers()
	defer w.wait()
	for _, it := range items {
		if !s.timeLeft(ctx) {
			return errOutOfTime
		}
		if it.Request.FollowUp(now) == dsr.FollowUpRelease {
			// Counted here, one at a time in the index's order, so that the day's room goes
			// to the requests held longest.
			counted, ok := s.roomToRelease(ctx, log, run, it.Request)
			if !ok {
				continue
			}
			w.do(ctx, itemTimeout, func(ctx context.Context) { s.releaseHeld(ctx, log, run, it.Request, counted, now) })
			continue
		}
		w.do(ctx, itemTimeout, func(ctx context.Context) {
			s.unverified(ctx, log, run, it.Request, shown(it, reported), now)
		})
	}
	return nil
}

// roomToRelease counts a held request's link against the day's ceiling on unconfirmed
// requests (the one the intake held it by), so that a flood never mails more than the ceiling
// a day, and reports whether there was room.
func (s *Sweeper) roomToRelease(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request) (store.Counted, bool) {
	counted, err := s.store.CountUnconfirmed(ctx, s.cfg.UnconfirmedPerDay)
	switch {
	case errors.Is(err, fault.Limited):
		run.skip()
		log.DebugContext(ctx, "held: no room today", "ref", r.Ref)
		return counted, false
	case err != nil:
		run.fail()
		log.WarnContext(ctx, "held: ceiling unreadable", "ref", r.Ref, errlog.Attr(err, outOfTime))
		return counted, false
	}
	return counted, true
}

// releaseHeld gives a request held at intake its link (dsr.Request.Release) and mails it. A link
// that could not be committed gives its place under the ceiling back.
func (s *Sweeper) releaseHeld(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, counted store.Counted, now time.Time) {
	n := s.newLink(ctx, log, run, r, "release", func(hash string) (dsr.Change, error) { return r.Release(hash, now) })
	if n > 0 {
		run.release()
		return
	}
	if r.Held() {
		if err := s.store.Uncount(ctx, counted); err != nil {
			log.WarnContext(ctx, "held: place not given back", "ref", r.Ref, errlog.Attr(err, outOfTime))
		}
	}
}

// shown reports whether the DPO has been told about the request: in this run's digest, or in
// an earlier one (a level marked done).
func shown(it store.SweepItem, reported map[string]bool) bool {
	if reported[it.Request.Ref] {
		return true
	}
	for _, m := range it.Esc {
		if m.State == store.EscDone {
			return true
		}
	}
	return false
}

// unverified does what an unconfirmed request needs now (dsr.Request.FollowUp): expiry,
// one reminder with a new link, or a new link when the mail carrying the current one could
// not be sent. Each is one state change committed before any mail goes out, so two runs
// racing for the same request cannot both act.
//
// A withdrawal of consent or a marketing objection is not expired before a digest has shown
// it to the DPO (shown): it is kept, and read again on the next run, until one has.
func (s *Sweeper) unverified(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, shown bool, now time.Time) {
	switch r.FollowUp(now) {
	case dsr.FollowUpExpire:
		if r.Escalates() && !shown {
			run.skip()
			log.DebugContext(ctx, "expiry waits for the digest", "ref", r.Ref)
			return
		}
		ch, err := r.Expire(now)
		if !s.commit(ctx, log, run, r, ch, err, "expire") {
			return
		}
		// The texts of the mails that went to the requester, and the entries that found the
		// request by name, go with the personal data. Left behind, their TTL (the expiry
		// itself) still hides and then removes them.
		if err := s.store.SyncSiblings(ctx, r); err != nil {
			log.WarnContext(ctx, "siblings not wiped", "ref", r.Ref, errlog.Attr(err, outOfTime))
		}
		run.expire()
		log.DebugContext(ctx, "expired", "ref", r.Ref)

	case dsr.FollowUpRemind:
		// The old link stops working, since only the new secret's hash is stored.
		if n := s.newLink(ctx, log, run, r, "remind", func(hash string) (dsr.Change, error) { return r.Remind(hash, now) }); n > 0 {
			run.remind()
		}

	case dsr.FollowUpReissue:
		// The secret of the link that could not be sent was never stored: send a new one.
		if n := s.newLink(ctx, log, run, r, "reissue", func(hash string) (dsr.Change, error) { return r.ReissueToken(hash, now) }); n > 0 {
			run.retry(n)
		}
	}
}

// newLink draws a new confirmation link for r, commits the change that stores its hash and
// sends the mail that carries it, and returns how many mails went out (0 if any step failed).
func (s *Sweeper) newLink(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, action string, change func(hash string) (dsr.Change, error)) int {
	tok, hash := token.ForRequest(r.Ref)
	ch, err := change(hash)
	if !s.commit(ctx, log, run, r, ch, err, action) {
		return 0
	}
	if !s.deliver(ctx, log, run, r, ch.Mails, notice.VerifyLink(s.cfg.BaseURL, tok)) {
		return 0
	}
	return len(ch.Mails)
}

// retryAll retries the mails of the open and closed requests found due for it, a few at a
// time, while there is time.
func (s *Sweeper) retryAll(ctx context.Context, log *slog.Logger, run *tally, rs []*dsr.Request, now time.Time) error {
	w := newWorkers()
	defer w.wait()
	for _, r := range rs {
		if !s.timeLeft(ctx) {
			return errOutOfTime
		}
		w.do(ctx, itemTimeout, func(ctx context.Context) { s.retryMails(ctx, log, run, r, now) })
	}
	return nil
}

// retryMails sends again the mails of r that failed or stayed queued past their lease
// (receipt, DPO notification, extension, completion, rejection), after claiming them so that
// a concurrent run does not send them too. They carry no link, and nothing about the request
// changes but their delivery state.
func (s *Sweeper) retryMails(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, now time.Time) {
	kinds := r.MailsDue(now)
	if len(kinds) == 0 {
		return
	}
	err := s.store.ClaimMailRetry(ctx, r, kinds, now)
	switch {
	case errors.Is(err, fault.Conflict):
		run.skip()
		log.DebugContext(ctx, "mail retry taken by another run", "ref", r.Ref)
		return
	case err != nil:
		run.fail()
		log.WarnContext(ctx, "mail retry not claimed", "ref", r.Ref, "kinds", kinds, errlog.Attr(err, outOfTime))
		return
	}
	if s.deliver(ctx, log, run, r, kinds, "") {
		run.retry(len(kinds))
	}
}

// commit writes a change the sweep made. A conflict means someone else changed the request
// since the index was read: it is skipped this run and read again on the next.
func (s *Sweeper) commit(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, ch dsr.Change, err error, action string) bool {
	if err == nil {
		err = s.store.Commit(ctx, r, ch)
	}
	switch {
	case errors.Is(err, fault.Conflict), errors.Is(err, fault.Refused):
		run.skip()
		log.DebugContext(ctx, "changed meanwhile, skipped", "ref", r.Ref, "action", action)
		return false
	case err != nil:
		run.fail()
		log.WarnContext(ctx, "not committed", "ref", r.Ref, "action", action, errlog.Attr(err, outOfTime))
		return false
	}
	return true
}

// deliver sends mails about r and records how they went. A failed mail stays on the request
// as failed, which keeps it on the index for the next run.
func (s *Sweeper) deliver(ctx context.Context, log *slog.Logger, run *tally, r *dsr.Request, kinds []dsr.MailKind, link string) bool {
	if err := s.outbox.Deliver(ctx, r, kinds, link); err != nil {
		run.fail()
		log.WarnContext(ctx, "mail not sent", "ref", r.Ref, "kinds", kinds, errlog.Attr(err, outOfTime))
		return false
	}
	log.DebugContext(ctx, "mail sent", "ref", r.Ref, "kinds", kinds)
	return true
}
