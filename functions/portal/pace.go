package main

import (
	"context"
	"sync"
	"time"
)

// The lost-link form must answer an address with requests and one without alike, and after
// the same time: the time would otherwise tell whoever types an address whether someone has
// filed requests from it. On Lambda the look-up, the links and the mail are work after the
// answer, so no answer waits for them; a floor absorbs the rest. Where there is no Extensions
// API (shared/postresponse) that work runs before the answer, so, as the intake's pacer does
// for submissions, the pacer also holds every answer to the slowest recent one.
const (
	// maxPace bounds the hold, so a slow spell in DynamoDB cannot make every answer slow.
	maxPace = 2 * time.Second
	// paceDecay is how much of the slowest recent answer each new answer keeps.
	paceDecay = 0.95
)

type pacer struct {
	mu sync.Mutex
	// floor is the least time an answer takes.
	floor time.Duration
	// slowest is the slowest recent answer, decaying with every answer after it.
	slowest time.Duration
	// sleep waits d or until ctx ends; tests replace it to see what would be waited.
	sleep func(ctx context.Context, d time.Duration)
}

func newPacer(floor time.Duration) *pacer { return &pacer{floor: floor, sleep: sleepCtx} }

// hold records how long an answer that started at start took to get here, and waits until
// it has taken as long as the floor and the slowest recent answer.
func (p *pacer) hold(ctx context.Context, start time.Time) {
	took := time.Since(start)
	p.mu.Lock()
	p.slowest = min(maxPace, max(took, time.Duration(float64(p.slowest)*paceDecay)))
	left := max(p.floor, p.slowest) - took
	p.mu.Unlock()
	if left > 0 {
		p.sleep(ctx, left)
	}
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}
