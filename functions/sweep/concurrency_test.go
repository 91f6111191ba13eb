package main

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Sweeps that overlap (a schedule firing while a manual run is going, an event delivered
// twice) report each level of each request once between them (and each mail that did not
// arrive, each answer not downloaded), send each reminder once and retry each failed mail
// once.
func TestOverlappingSweeps(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0) // a Monday
	want := map[string]string{}                   // ref → level
	var requesters []string
	for i := range 40 {
		// Deadlines from ten days ago to ten days ahead: every level, and some with none.
		received := now.AddDate(0, -1, -10+i/2)
		r, _ := h.add(seed{received: received, verified: true, started: i%3 == 0})
		if esc, ok := newLadderOrFail(t, h).At(r, now); ok {
			want[r.Ref] = esc.Level.Name
		}
	}
	for range 5 {
		r, _ := h.add(seed{received: now.Add(-50 * time.Hour)})
		requesters = append(requesters, r.Email)
	}
	failedAt := now.Add(-time.Hour)
	for range 5 {
		r, _ := h.add(seed{received: now.AddDate(0, 0, -3), verified: true,
			mails: map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: {State: dsr.MailFailed, At: failedAt, Attempts: 1}}})
		requesters = append(requesters, r.Email)
	}
	// Refusals that bounced, answers whose files were not downloaded, and answers downloaded
	// in time (not listed).
	for i := range 12 {
		received := now.AddDate(0, 0, -14)
		switch i % 3 {
		case 0:
			r, _ := h.add(seed{received: received, verified: true, rejectAt: now.AddDate(0, 0, -2),
				bounce: dsr.MailRejection, bounceAt: now.AddDate(0, 0, -1)})
			want[r.Ref] = digest.LineUndelivered
		case 1:
			r, _ := h.add(seed{received: received, verified: true, deliverAt: now.AddDate(0, 0, -9), files: 2})
			want[r.Ref] = digest.LineNotDownloaded
		default:
			h.add(seed{received: received, verified: true, deliverAt: now.AddDate(0, 0, -9), files: 1, downloaded: []int{0}})
		}
	}
	if len(want) < 15 {
		t.Fatalf("scenario: only %d requests to escalate", len(want))
	}

	h.clock.Set(now)
	const runs = 3
	var wg sync.WaitGroup
	for range runs {
		s := h.sweeper(nil)
		wg.Go(func() {
			if err := s.Handle(context.Background(), scheduledEvent(t)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()

	got := map[string]string{}
	digests := h.newMails(h.dpo)
	if len(digests) == 0 || len(digests) > runs {
		t.Fatalf("%d digests from %d runs", len(digests), runs)
	}
	for _, m := range digests {
		_, lines := h.digestLines(m)
		for level, refs := range lines {
			for _, ref := range refs {
				if prev, dup := got[ref]; dup {
					t.Errorf("%s reported twice (%s, %s)", ref, prev, level)
				}
				got[ref] = level
			}
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d lines reported, want %d", len(got), len(want))
	}
	for ref, level := range want {
		if got[ref] != level {
			t.Errorf("%s reported at %q, want %q", ref, got[ref], level)
		}
	}
	for _, addr := range requesters {
		if n := len(h.newMails(addr)); n != 1 {
			t.Errorf("a requester got %d mails, want 1", n)
		}
	}
	// And a run after them finds nothing left to do.
	h.run(now.Add(time.Minute))
	if n := len(h.newMails(h.dpo)); n != 0 {
		t.Fatalf("a later run sent %d digests", n)
	}
}

func newLadderOrFail(t testing.TB, h *harness) ladder {
	t.Helper()
	return newLadder(h.cal, h.cfg.Thresholds)
}
