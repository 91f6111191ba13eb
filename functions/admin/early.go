package main

import (
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// early is the read of the request a route names, started alongside the session check: the
// two reads are independent and the DPO waits for both, so they share one round trip. Its
// result is used only once the session has been checked.
type early struct {
	ref   string
	done  chan struct{}
	r     *dsr.Request
	mails []dsr.SentMail
	msgs  []dsr.Message
	err   error
}

// readEarly starts reading request ref for c, if c carries a session cookie worth checking
// (junk never costs a read) and ref is a reference.
func (h *handler) readEarly(c *call, ref string) {
	canon, ok := dsr.NormalizeReference(ref)
	if !ok || !wellFormed(c.Cookie(sessionCookieName)) {
		return
	}
	e := &early{ref: canon, done: make(chan struct{})}
	go func() {
		defer close(e.done)
		e.r, e.mails, e.msgs, e.err = h.reqs.OpenConversation(c.ctx, canon)
	}()
	c.early = e
}

// dropEarly waits for an early read the call did not use, so that nothing of the call runs on
// after its answer. The read was in flight beside the session check, so this rarely waits.
// It is not cancelled: a request cut off in flight is no cheaper for DynamoDB, and dynalite
// (the tests' emulator) dies of one.
func (c *call) dropEarly() {
	if c.early != nil {
		<-c.early.done
		c.early = nil
	}
}

// takeEarly waits for and returns the early read of request ref, once: a later read of the
// same request (after a conflict) must see the table as it is then.
func (c *call) takeEarly(ref string) (*early, bool) {
	e := c.early
	if e == nil || e.ref != ref {
		return nil, false
	}
	c.early = nil
	<-e.done
	return e, true
}
