package main

import (
	"context"
	"errors"
	"maps"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// dueSet seeds requests at every level on a Monday in Denmark, a refusal that bounced, an
// answer whose files were not downloaded, one unconfirmed request due for its reminder and
// one open request whose receipt failed, and returns ref → level (or line).
func dueSet(t *testing.T, h *harness, now time.Time) (levels map[string]string, reminderTo, receiptTo string) {
	t.Helper()
	lad := newLadderOrFail(t, h)
	levels = map[string]string{}
	for _, back := range []int{-9, -5, -4, -3, -1, 0, 1, 3} {
		r, _ := h.add(seed{received: now.AddDate(0, -1, back), verified: true})
		esc, ok := lad.At(r, now)
		if !ok {
			t.Fatalf("scenario: %s has no level", h.cal.LocalDate(r.Deadline()))
		}
		levels[r.Ref] = esc.Level.Name
	}
	// Besides the levels: a refusal that bounced, an answer whose files were not downloaded.
	bounced, _ := h.add(seed{received: now.AddDate(0, 0, -9), verified: true, rejectAt: now.AddDate(0, 0, -2),
		bounce: dsr.MailRejection, bounceAt: now.AddDate(0, 0, -1)})
	levels[bounced.Ref] = digest.LineUndelivered
	answered, _ := h.add(seed{received: now.AddDate(0, 0, -20), verified: true, deliverAt: now.AddDate(0, 0, -8), files: 2, downloaded: []int{1}})
	levels[answered.Ref] = digest.LineNotDownloaded
	pending, _ := h.add(seed{received: now.Add(-49 * time.Hour), lang: "nb"})
	open, _ := h.add(seed{received: now.AddDate(0, 0, -2), verified: true,
		mails: map[dsr.MailKind]dsr.MailState{dsr.MailReceipt: {State: dsr.MailFailed, At: now.AddDate(0, 0, -2), Attempts: 1}}})
	return levels, pending.Email, open.Email
}

// reported reads every digest sent to the DPO since the last look: ref → level.
func reported(t *testing.T, h *harness) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, m := range h.newMails(h.dpo) {
		_, lines := h.digestLines(m)
		for level, refs := range lines {
			for _, ref := range refs {
				if _, dup := out[ref]; dup {
					t.Errorf("%s reported twice", ref)
				}
				out[ref] = level
			}
		}
	}
	return out
}

func checkNoMarks(t *testing.T, h *harness, levels map[string]string) {
	t.Helper()
	for ref := range levels {
		if m := h.marks(ref); len(m) != 0 {
			t.Errorf("%s marked without a digest: %v", ref, m)
		}
	}
}

// caughtUp checks what the run after a failed one did: every level reported is marked, and the
// reminder and the receipt that had failed went out, once each.
func caughtUp(t *testing.T, h *harness, levels map[string]string, reminderTo, receiptTo string) {
	t.Helper()
	checkMarked(t, h, levels)
	if n := len(h.newMails(reminderTo)); n != 1 {
		t.Errorf("%d reminders, want 1", n)
	}
	if n := len(h.newMails(receiptTo)); n != 1 {
		t.Errorf("%d receipts, want 1", n)
	}
}

func checkMarked(t *testing.T, h *harness, levels map[string]string) {
	t.Helper()
	for ref, level := range levels {
		m := h.marks(ref)
		if len(m) != 1 || !strings.HasSuffix(m[level], "/done") {
			t.Errorf("%s marks %v, want %s done", ref, m, level)
		}
	}
}

// When SES is down the digest cannot go out: nothing is marked, the run fails (so Lambda
// retries it and the alarm fires), and the next run reports everything, once.
func TestDigestNotSentIsReportedNextRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	levels, reminderTo, receiptTo := dueSet(t, h, now)

	h.clock.Set(now)
	err := h.sweeper(deadSES(t)).Handle(context.Background(), scheduledEvent(t))
	if err == nil || !strings.Contains(err.Error(), "digest") {
		t.Fatalf("run with SES down: err = %v, want the digest's failure", err)
	}
	checkNoMarks(t, h, levels)
	rec := lastEMF(t, h)
	if rec["DigestSent"].(float64) != 0 || rec["Escalated"].(float64) != 0 || rec["Failures"].(float64) == 0 || rec["Incomplete"].(float64) != 1 {
		t.Errorf("EMF after a failed digest: %v", rec)
	}
	if !strings.Contains(h.logs.String(), `"level":"ERROR","msg":"sweep"`) {
		t.Errorf("no error summary:\n%s", h.logs.String())
	}

	h.run(now.Add(2 * time.Minute))
	if got := reported(t, h); !maps.Equal(got, levels) {
		t.Errorf("next run reported %v, want %v", got, levels)
	}
	caughtUp(t, h, levels, reminderTo, receiptTo)
	h.run(now.Add(3 * time.Minute))
	if got := reported(t, h); len(got) != 0 {
		t.Errorf("third run reported %v", got)
	}
	checkLogs(t, h)
}

// blackhole accepts connections and never answers, like an endpoint that hangs.
func blackhole(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return "http://" + l.Addr().String()
}

// A run that hits its timeout (SES hangs until the invocation's deadline) leaves nothing
// claimed: the next run reports every line, and does the requester-side work the first run
// never reached (the digest goes first, so that is what the time was spent on).
func TestTimeoutMidRunIsCompletedNextRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	levels, reminderTo, receiptTo := dueSet(t, h, now)

	hanging := ses.NewFromConfig(h.env.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(blackhole(t))
		o.RetryMaxAttempts = 1
	})
	s := h.sweeper(hanging)
	s.reserve = 300 * time.Millisecond
	h.clock.Set(now)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := s.Handle(ctx, scheduledEvent(t)); err == nil {
		t.Fatal("a run cut off by its deadline reported success")
	}
	checkNoMarks(t, h, levels)
	if r := h.get(refOf(t, h, reminderTo)); !r.RemindedAt.IsZero() {
		t.Fatal("the reminder was reached after the deadline")
	}

	if r := h.get(refOf(t, h, receiptTo)); r.Mails[dsr.MailReceipt].State != dsr.MailFailed {
		t.Fatalf("the receipt retry was started after the deadline: %+v", r.Mails[dsr.MailReceipt])
	}

	h.run(now.Add(time.Minute))
	if got := reported(t, h); !maps.Equal(got, levels) {
		t.Errorf("next run reported %v, want %v", got, levels)
	}
	caughtUp(t, h, levels, reminderTo, receiptTo)
}

// refOf finds a seeded request by its requester's address.
func refOf(t *testing.T, h *harness, email string) string {
	t.Helper()
	ref, _, ok := strings.Cut(strings.TrimPrefix(email, "req-"), "-")
	if !ok {
		t.Fatalf("not a seeded address: %s", email)
	}
	return strings.ToUpper(ref[:4] + "-" + ref[4:])
}

// With too little time left the run starts nothing it could not finish, and says so.
func TestNoTimeLeftStartsNothing(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	levels, _, _ := dueSet(t, h, now)
	s := h.sweeper(nil)
	s.reserve = time.Hour
	h.clock.Set(now)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := s.Handle(ctx, scheduledEvent(t)); !errors.Is(err, errOutOfTime) {
		t.Fatalf("err = %v, want errOutOfTime", err)
	}
	checkNoMarks(t, h, levels)
	if got := reported(t, h); len(got) != 0 {
		t.Fatalf("reported %v", got)
	}
	h.run(now.Add(time.Minute))
	if got := reported(t, h); !maps.Equal(got, levels) {
		t.Errorf("next run reported %v, want %v", got, levels)
	}
}

// A run that died holding claims (killed at its timeout, say) blocks those lines only until
// its lease lapses; then the next run reports them.
func TestDeadRunClaimLapses(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	r, _ := h.add(seed{received: now.AddDate(0, -1, -3), verified: true}) // overdue since Friday
	lease := now.Add(maxLease)
	if _, _, err := h.store.ClaimEscalation(context.Background(), r.Ref, levelOverdue, h.cal.LocalDate(now), lease); err != nil {
		t.Fatal(err)
	}
	h.run(now.Add(time.Minute))
	if got := reported(t, h); len(got) != 0 {
		t.Fatalf("reported a line another run holds: %v", got)
	}
	h.run(lease.Add(time.Second))
	if got := reported(t, h); got[r.Ref] != levelOverdue || len(got) != 1 {
		t.Fatalf("after the lease: %v", got)
	}
	if m := h.marks(r.Ref); m[levelOverdue] != h.cal.LocalDate(now)+"/done" {
		t.Fatalf("marks %v", m)
	}
}

// A live run's lease outlasts its invocation, and not by much: a run killed at its deadline
// is taken over soon after, never while it could still be sending.
func TestLeaseFollowsTheInvocation(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	h.clock.Set(now)
	if got := h.sweeper(nil).lease(context.Background()); !got.Equal(now.Add(maxLease)) {
		t.Errorf("no deadline: lease %s, want %s", got, now.Add(maxLease))
	}

	// The claims of a run with 8 s left, caught while its digest hangs (time enough to claim on a
	// loaded machine).
	r, _ := h.add(seed{received: now.AddDate(0, -1, -3), verified: true})
	hanging := ses.NewFromConfig(h.env.AWSConfig(), func(o *ses.Options) {
		o.BaseEndpoint = aws.String(blackhole(t))
		o.RetryMaxAttempts = 1
	})
	s := h.sweeper(hanging)
	s.reserve = 0
	const left = 8 * time.Second
	ctx, cancel := context.WithTimeout(context.Background(), left)
	defer cancel()
	done := make(chan error)
	go func() { done <- s.Handle(ctx, scheduledEvent(t)) }()
	var lease time.Time
	for lease.IsZero() && ctx.Err() == nil {
		if m := h.rawMark(r.Ref, levelOverdue); m["st"] == store.EscClaimed {
			var err error
			if lease, err = time.Parse(time.RFC3339, m["lease"]); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-done
	if d := lease.Sub(now); d <= leaseMargin || d > leaseMargin+left {
		t.Fatalf("claim with %s left lapses after %s, want just over %s", left, d, leaseMargin)
	}
	if m := h.marks(r.Ref); len(m) != 0 {
		t.Fatalf("claim not released after the failed send: %v", m)
	}
}

// When the table cannot be read the sweep cannot run: it fails, and still logs its summary.
func TestStoreUnavailableFailsTheRun(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	dead := dynamodb.NewFromConfig(emulator.Get(t).AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
	h.clock.Set(localTime(t, "DK", 2026, 11, 23, 7, 0))
	err := h.sweeperOn(dead, nil).Handle(context.Background(), scheduledEvent(t))
	if !errors.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v, want fault.Unavailable", err)
	}
	if !strings.Contains(h.logs.String(), `"kind":"store_unavailable"`) {
		t.Errorf("summary does not say why:\n%s", h.logs.String())
	}
	if rec := lastEMF(t, h); rec["Incomplete"].(float64) != 1 {
		t.Errorf("EMF Incomplete = %v", rec["Incomplete"])
	}
}
