package main

import (
	"context"
	"sync"
	"time"
)

// A submission that is not stored (over a rate limit, or caught as a bot) needs one round trip
// or none; a stored one needs two (its mail goes out after the answer). Answered at once, the
// difference would tell whoever posts an address whether it is over its limit, that is whether
// someone has been filing requests for it (docs/design.md, Requests). The pacer holds those
// answers until about as long as a stored submission has lately taken in this container.
const (
	// initialPace stands in until this container has stored a submission: the usual time of
	// two round trips to DynamoDB in one region, the first on a new connection.
	initialPace = 60 * time.Millisecond
	// maxPace bounds the hold, so a slow spell in DynamoDB cannot make every limited answer slow.
	maxPace = 2 * time.Second
	// paceWeight is the share of the newest stored submission in the running average.
	paceWeight = 0.2
)

type pacer struct {
	mu      sync.Mutex
	typical time.Duration
	// sleep waits d or until ctx ends; tests replace it to see what would be waited.
	sleep func(ctx context.Context, d time.Duration)
}

func newPacer() *pacer { return &pacer{typical: initialPace, sleep: sleepCtx} }

// stored records how long a stored submission took, from the same start hold uses.
func (p *pacer) stored(d time.Duration) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.typical = min(maxPace, time.Duration(float64(p.typical)*(1-paceWeight)+float64(d)*paceWeight))
}

// hold waits until a submission that started at start has taken as long as a stored one
// typically does.
func (p *pacer) hold(ctx context.Context, start time.Time) {
	p.mu.Lock()
	left := p.typical - time.Since(start)
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
