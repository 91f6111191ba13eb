package notice

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Sender sends one message.
type Sender interface {
	Send(ctx context.Context, msg Message) error
}

// Recorder stores mail delivery states on a request (store.Store does).
type Recorder interface {
	RecordMails(ctx context.Context, r *dsr.Request, states map[dsr.MailKind]dsr.MailState) error
}

// Outbox sends the mails a committed change queued and records how each went. A mail that
// could not be sent stays on the request as failed, and the sweep sends it later: the
// requester's request is never lost because a mail was.
type Outbox struct {
	Notices  *Notices
	Sender   Sender
	Recorder Recorder
	Now      func() time.Time
}

// Deliver sends the given mails about r in parallel, then records their states in one write.
// It returns the joined errors of whatever failed (for logging); the caller's answer to the
// user does not depend on it.
func (o *Outbox) Deliver(ctx context.Context, r *dsr.Request, kinds []dsr.MailKind, link string) error {
	if len(kinds) == 0 {
		return nil
	}
	states := make(map[dsr.MailKind]dsr.MailState, len(kinds))
	errs := make([]error, len(kinds))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, kind := range kinds {
		wg.Go(func() {
			err := o.send(ctx, kind, r, link)
			st := dsr.MailState{State: dsr.MailSent, At: o.Now().UTC(), Attempts: r.Mails[kind].Attempts + 1}
			if err != nil {
				st.State = dsr.MailFailed
				errs[i] = fmt.Errorf("%s: %w", kind, err)
			}
			mu.Lock()
			states[kind] = st
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := o.Recorder.RecordMails(ctx, r, states); err != nil {
		errs = append(errs, fmt.Errorf("record mail states: %w", err))
	}
	return errors.Join(errs...)
}

func (o *Outbox) send(ctx context.Context, kind dsr.MailKind, r *dsr.Request, link string) error {
	msg, err := o.Notices.Request(kind, r, link)
	if err != nil {
		return err
	}
	return o.Sender.Send(ctx, msg)
}
