// Package fakeclock is a clock a test sets and moves, for handlers that take their time
// from a func() time.Time. Deadlines, leases and link expiry are tested by moving it, never
// by sleeping.
package fakeclock

import (
	"sync"
	"time"
)

// Clock is safe for the handler's goroutines to read while the test moves it. The zero
// value reads as the zero time.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// At returns a clock showing t.
func At(t time.Time) *Clock {
	c := &Clock{}
	c.Set(t)
	return c
}

// Now is the time shown, in UTC as the handlers store it.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set shows t from now on.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t.UTC()
}

// Add moves the clock on by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}
