// Package later is a test helper: two stand-ins for the queue a handler leaves its work after
// the answer in (postresponse.Queue on Lambda), for tests that call a handler directly. Now
// runs the work at once, before the handler answers, so a test sees every call a request makes
// by the time it has the answer; Held keeps it until the test runs it, so a test can tell the
// calls a person waits for from the ones made after the answer.
package later

import (
	"context"
	"sync"
)

// Now runs work at once, with the handler's context.
type Now struct{}

// Later runs fn now.
func (Now) Later(ctx context.Context, fn func(context.Context)) { fn(ctx) }

// Held keeps work until Run. The zero value is ready to use.
type Held struct {
	mu   sync.Mutex
	work []func()
}

// Later keeps fn, to run with a context that keeps ctx's values but not its cancellation, as
// work after the answer gets on Lambda.
func (q *Held) Later(ctx context.Context, fn func(context.Context)) {
	detached := context.WithoutCancel(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.work = append(q.work, func() { fn(detached) })
}

// Run does the work kept so far, in the order it was left.
func (q *Held) Run() {
	q.mu.Lock()
	work := q.work
	q.work = nil
	q.mu.Unlock()
	for _, fn := range work {
		fn()
	}
}
