package dsr

import (
	"testing"
	"time"
)

// SweepQueue puts a request where the sweep finds it in time for what it needs next, and
// never later: the next follow-up, the deadline in force, or a mail's retry, whichever is first.
func TestSweepQueue(t *testing.T) {
	at := received.Add(time.Hour)
	sentAll := func(r *Request) {
		for k, m := range r.Mails {
			r.Mails[k] = MailState{State: MailSent, At: m.At, Attempts: 1}
		}
	}
	tests := []struct {
		name  string
		setup func(*testing.T) *Request
		queue Queue
		when  time.Time
	}{
		{"new: its link in the mail queue", func(*testing.T) *Request { return newRequest() }, QueueUnverified, received.Add(MailLease)},
		{"link sent: the reminder", func(*testing.T) *Request { r := newRequest(); sentAll(r); return r }, QueueUnverified, received.Add(ReminderAfter)},
		{"link failed: at once", func(*testing.T) *Request {
			r := newRequest()
			r.Mails[MailVerification] = MailState{State: MailFailed, At: at, Attempts: 1}
			return r
		}, QueueUnverified, at},
		{"reminded: the expiry", func(*testing.T) *Request {
			r := newRequest()
			_, _ = r.Remind("new", received.Add(ReminderAfter))
			sentAll(r)
			return r
		}, QueueUnverified, received.Add(ExpireAfter)},
		{"open: the deadline", func(t *testing.T) *Request { r := openRequest(t); sentAll(r); return r }, QueueOpen, due},
		{"extended: the new deadline", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Extend("dpo", "why", extended, at)
			sentAll(r)
			return r
		}, QueueOpen, extended},
		{"open with a failed mail: at once", func(t *testing.T) *Request {
			r := openRequest(t)
			sentAll(r)
			r.Mails[MailReceipt] = MailState{State: MailFailed, At: at, Attempts: 1}
			return r
		}, QueueOpen, at},
		{"closed, mail queued: after the lease", func(t *testing.T) *Request {
			r := openRequest(t)
			sentAll(r)
			_, _ = r.Complete("dpo", "done", at)
			return r
		}, QueueRetry, at.Add(MailLease)},
		{"closed, every mail sent: nowhere", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Complete("dpo", "done", at)
			sentAll(r)
			return r
		}, "", time.Time{}},
		{"confirmed in one write: its mails' lease", func(*testing.T) *Request {
			r, _ := Verification("K7MQ-4XTZ", "hash", at)
			return r
		}, QueueOpen, at.Add(MailLease)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q, when := tt.setup(t).SweepQueue()
			if q != tt.queue || !when.Equal(tt.when) {
				t.Fatalf("SweepQueue = %q %v, want %q %v", q, when, tt.queue, tt.when)
			}
		})
	}
}

// What an unconfirmed request needs, at the times SweepQueue has the sweep look.
func TestFollowUp(t *testing.T) {
	fresh := func() *Request {
		r := newRequest()
		r.Mails[MailVerification] = MailState{State: MailSent, At: received, Attempts: 1}
		return r
	}
	reminded := func() *Request {
		r := fresh()
		_, _ = r.Remind("new", received.Add(ReminderAfter))
		r.Mails[MailReminder] = MailState{State: MailSent, At: received.Add(ReminderAfter), Attempts: 1}
		return r
	}
	failed := func() *Request {
		r := fresh()
		r.Mails[MailVerification] = MailState{State: MailFailed, At: received, Attempts: 1}
		return r
	}
	tests := []struct {
		name string
		r    *Request
		at   time.Time
		want FollowUp
	}{
		{"just filed", fresh(), received.Add(time.Hour), NoFollowUp},
		{"just before the reminder", fresh(), received.Add(ReminderAfter - time.Nanosecond), NoFollowUp},
		{"reminder due", fresh(), received.Add(ReminderAfter), FollowUpRemind},
		{"reminded", reminded(), received.Add(ReminderAfter + time.Hour), NoFollowUp},
		{"link mail failed", failed(), received.Add(time.Minute), FollowUpReissue},
		{"reminder due and the link failed", failed(), received.Add(ReminderAfter), FollowUpRemind},
		{"expiry due", reminded(), received.Add(ExpireAfter), FollowUpExpire},
		{"expiry due, never reminded", fresh(), received.Add(ExpireAfter), FollowUpExpire},
		{"confirmed", func() *Request { r := fresh(); _, _ = r.Verify("hash", received); return r }(), received.Add(ExpireAfter), NoFollowUp},
	}
	for _, tt := range tests {
		if got := tt.r.FollowUp(tt.at); got != tt.want {
			t.Errorf("%s: FollowUp = %v, want %v", tt.name, got, tt.want)
		}
	}
}
