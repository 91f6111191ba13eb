package dsr

import (
	"slices"
	"testing"
	"time"
)

// Which mails are due for a retry, which never are, and which queue that puts a request on.
func TestMailsDue(t *testing.T) {
	now := received.Add(time.Hour)
	failed := MailState{State: MailFailed, At: now.Add(-time.Minute), Attempts: 1}
	queued := func(age time.Duration) MailState { return MailState{State: MailQueued, At: now.Add(-age)} }
	sent := MailState{State: MailSent, At: now, Attempts: 1}
	tests := []struct {
		name  string
		setup func(r *Request)
		mails map[MailKind]MailState
		want  []MailKind
		queue Queue
	}{
		{"failed verification", nil, map[MailKind]MailState{MailVerification: failed}, []MailKind{MailVerification}, QueueUnverified},
		{"verification queued within the lease", nil, map[MailKind]MailState{MailVerification: queued(MailLease - time.Second)}, nil, QueueUnverified},
		{"verification queued past the lease", nil, map[MailKind]MailState{MailVerification: queued(MailLease)}, []MailKind{MailVerification}, QueueUnverified},
		{"verification superseded by the reminder", func(r *Request) { r.RemindedAt = now }, map[MailKind]MailState{MailVerification: failed, MailReminder: sent}, nil, QueueUnverified},
		{"failed reminder", func(r *Request) { r.RemindedAt = now }, map[MailKind]MailState{MailVerification: failed, MailReminder: failed}, []MailKind{MailReminder}, QueueUnverified},
		{"link mails of a confirmed request", func(r *Request) { _, _ = r.Verify("hash", now) },
			map[MailKind]MailState{MailVerification: failed, MailReceipt: failed, MailDPONew: sent}, []MailKind{MailReceipt}, QueueOpen},
		{"given up after MaxMailAttempts", func(r *Request) { _, _ = r.Verify("hash", now) },
			map[MailKind]MailState{MailReceipt: {State: MailFailed, At: now, Attempts: MaxMailAttempts}, MailDPONew: failed}, []MailKind{MailDPONew}, QueueOpen},
		{"expired: no one left to write to", func(r *Request) { _, _ = r.Expire(now) }, map[MailKind]MailState{MailVerification: failed}, nil, ""},
		{"closed with a failed completion", func(r *Request) { _, _ = r.Verify("hash", now); _, _ = r.Complete("dpo@x.dk", "done", now) },
			map[MailKind]MailState{MailReceipt: sent, MailDPONew: sent, MailCompletion: failed}, []MailKind{MailCompletion}, QueueRetry},
		{"closed with every mail sent", func(r *Request) { _, _ = r.Verify("hash", now); _, _ = r.Complete("dpo@x.dk", "done", now) },
			map[MailKind]MailState{MailReceipt: sent, MailDPONew: sent, MailCompletion: sent}, nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest()
			if tc.setup != nil {
				tc.setup(r)
			}
			r.Mails = tc.mails
			if got := r.MailsDue(now); !slices.Equal(got, tc.want) {
				t.Errorf("MailsDue = %v, want %v", got, tc.want)
			}
			if q, _ := r.SweepQueue(); q != tc.queue {
				t.Errorf("queue %q, want %q", q, tc.queue)
			}
		})
	}
}
