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

// A letter not yet posted keeps its request where the sweep reads it from the time it was
// written, for the digest to list it (the digest, knowing the calendar, from the local day
// after); once the DPO records it posted, the request goes back to where it was: an open one to
// its deadline, a closed one off every queue. A requester the desk can mail has no letters.
func TestSweepQueueLetters(t *testing.T) {
	extendAt, rejectAt := received.Add(72*time.Hour), received.Add(96*time.Hour)
	posted := func(r *Request, k MailKind, at time.Time) {
		t.Helper()
		day := time.Date(at.Year(), at.Month(), at.Day(), 0, 0, 0, 0, time.UTC)
		if _, err := r.RecordPosted("dpo", k, day, at.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	extend := func(r *Request) {
		t.Helper()
		if _, err := r.Extend("dpo", "Fem systemer.", r.Due.AddDate(0, 2, 0), extendAt); err != nil {
			t.Fatal(err)
		}
	}
	reject := func(r *Request) {
		t.Helper()
		if _, err := r.Refuse("dpo", Refusal{Ground: GroundLegalExemption, Reason: "Retsplejeloven."}, rejectAt); err != nil {
			t.Fatal(err)
		}
	}
	sent := func(r *Request) {
		for k, m := range r.Mails {
			if m.State == MailQueued {
				r.Mails[k] = MailState{State: MailSent, At: m.At, Attempts: 1}
			}
		}
	}
	tests := []struct {
		name   string
		setup  func() *Request
		queue  Queue
		when   func(*Request) time.Time
		letter time.Time // OldestLetter; zero for none
	}{
		{"open, no letter: its deadline", func() *Request { return registered("") }, QueueOpen, (*Request).Deadline, time.Time{}},
		{"open, the extension's letter not posted: from its writing", func() *Request { r := registered(""); extend(r); return r },
			QueueOpen, func(*Request) time.Time { return extendAt }, extendAt},
		{"open, the extension's letter posted: its new deadline", func() *Request { r := registered(""); extend(r); posted(r, MailExtension, extendAt); return r },
			QueueOpen, (*Request).Deadline, time.Time{}},
		{"closed, the refusal's letter not posted: on the retry queue from its writing", func() *Request { r := registered(""); reject(r); return r },
			QueueRetry, func(*Request) time.Time { return rejectAt }, rejectAt},
		{"closed, two letters not posted: from the first", func() *Request { r := registered(""); extend(r); reject(r); return r },
			QueueRetry, func(*Request) time.Time { return extendAt }, extendAt},
		{"closed, the first posted: from the second", func() *Request {
			r := registered("")
			extend(r)
			reject(r)
			posted(r, MailExtension, rejectAt)
			return r
		}, QueueRetry, func(*Request) time.Time { return rejectAt }, rejectAt},
		{"closed, every letter posted: nowhere", func() *Request {
			r := registered("")
			reject(r)
			posted(r, MailRejection, rejectAt)
			return r
		}, "", func(*Request) time.Time { return time.Time{} }, time.Time{}},
		{"closed by mail, every mail sent: nowhere", func() *Request { r := registered("karen@example.dk"); sent(r); reject(r); sent(r); return r },
			"", func(*Request) time.Time { return time.Time{} }, time.Time{}},
		{"expired with a letter: nowhere", func() *Request {
			r := registered("")
			r.Status = Expired
			r.Mails[MailQuestion] = MailState{State: MailLetter, At: extendAt}
			return r
		}, "", func(*Request) time.Time { return time.Time{} }, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.setup()
			at, ok := r.OldestLetter()
			if ok != !tt.letter.IsZero() || !at.Equal(tt.letter) {
				t.Errorf("OldestLetter = %v %v, want %v", at, ok, tt.letter)
			}
			q, when := r.SweepQueue()
			if want := tt.when(r); q != tt.queue || !when.Equal(want) {
				t.Fatalf("SweepQueue = %q %v, want %q %v", q, when, tt.queue, want)
			}
		})
	}
}
