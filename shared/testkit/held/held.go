// Package held is a test helper: a queue for the work a handler leaves for after its answer
// (what postresponse.Queue does on Lambda) that keeps the work until the test runs it, so a
// test can tell the calls a person waits for from the ones made after the answer.
package held

import (
	"context"
	"sync"
)

// Queue keeps work until Run. The zero value is ready to use.
type Queue struct {
	mu   sync.Mutex
	work []func()
}

// Later keeps fn, to run with a context that keeps ctx's values but not its cancellation, as
// work after the answer gets on Lambda.
func (q *Queue) Later(ctx context.Context, fn func(context.Context)) {
	detached := context.WithoutCancel(ctx)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.work = append(q.work, func() { fn(detached) })
}

// Run does the work kept so far, in the order it was left.
func (q *Queue) Run() {
	q.mu.Lock()
	work := q.work
	q.work = nil
	q.mu.Unlock()
	for _, fn := range work {
		fn()
	}
}
