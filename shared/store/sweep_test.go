package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
)

// openRequest stores a confirmed request whose mails all went out, due at deadline.
func sweepOpen(t *testing.T, s *store.Store, ref string, deadline time.Time) *dsr.Request {
	t.Helper()
	r := sample(ref)
	r.Due = deadline
	if _, err := r.Verify(r.TokenHash, received.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	for k := range r.Mails {
		r.Mails[k] = dsr.MailState{State: dsr.MailSent, At: received.Add(time.Hour), Attempts: 1}
	}
	if err := s.CreateRequest(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r
}

func sweepRefs(t *testing.T, seq func(func(store.SweepItem, error) bool)) []string {
	t.Helper()
	var out []string
	for it, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, it.Request.Ref)
	}
	return out
}

// The sweep reads one partition up to a time, earliest first, page by page, and nothing else:
// not later items, not other partitions, not closed requests.
func TestSweepDueReadsOnlyWhatIsDue(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	base := time.Date(2026, 4, 1, 21, 59, 59, 999999999, time.UTC)
	for i, ref := range []string{"OPEN-2224", "OPEN-2222", "OPEN-2223", "OPEN-2225", "OPEN-2226"} {
		// Stored out of order on purpose: the index orders them.
		sweepOpen(t, s, ref, base.AddDate(0, 0, []int{2, 0, 1, 3, 30}[i]))
	}
	// Unconfirmed (UNVERIFIED) and closed (off the index) requests are never read from OPEN.
	pending := sample("PEND-2222")
	pending.Mails[dsr.MailVerification] = dsr.MailState{State: dsr.MailSent, At: received, Attempts: 1}
	if err := s.CreateRequest(ctx, pending); err != nil {
		t.Fatal(err)
	}
	closed := sweepOpen(t, s, "DONE-2222", base)
	ch, _ := closed.Complete("dpo@x.dk", "done", received.Add(2*time.Hour))
	if err := s.Commit(ctx, closed, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordMails(ctx, closed, map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: {State: dsr.MailSent, At: c.now(), Attempts: 1}}); err != nil {
		t.Fatal(err)
	}

	until := base.AddDate(0, 0, 2)
	want := []string{"OPEN-2222", "OPEN-2223", "OPEN-2224"}
	for _, page := range []int{0, 1, 2, 3, 100} {
		if got := sweepRefs(t, s.SweepDue(ctx, dsr.QueueOpen, until, page)); !slices.Equal(got, want) {
			t.Errorf("page size %d: %v, want %v", page, got, want)
		}
	}
	// A caller that stops early stops reading.
	var n int
	for range s.SweepDue(ctx, dsr.QueueOpen, until, 1) {
		n++
		break
	}
	if n != 1 {
		t.Fatalf("early stop read %d", n)
	}
	if got := sweepRefs(t, s.SweepDue(ctx, dsr.QueueUnverified, received.Add(dsr.ReminderAfter), 0)); !slices.Equal(got, []string{"PEND-2222"}) {
		t.Fatalf("UNVERIFIED at the reminder time: %v", got)
	}
	if got := sweepRefs(t, s.SweepDue(ctx, dsr.QueueUnverified, received.Add(dsr.ReminderAfter-time.Minute), 0)); len(got) != 0 {
		t.Fatalf("UNVERIFIED before the reminder time: %v", got)
	}
	if got := sweepRefs(t, s.SweepDue(ctx, dsr.QueueRetry, base.AddDate(1, 0, 0), 0)); len(got) != 0 {
		t.Fatalf("RETRY: %v", got)
	}
}

// An unreachable database ends the iteration with fault.Unavailable.
func TestSweepDueUnavailable(t *testing.T) {
	s := store.New(sweepUnreachable(t), "nope")
	var errs int
	for _, err := range s.SweepDue(context.Background(), dsr.QueueOpen, received, 0) {
		if !errors.Is(err, fault.Unavailable) {
			t.Fatalf("err = %v, want fault.Unavailable", err)
		}
		errs++
	}
	if errs != 1 {
		t.Fatalf("%d errors, want 1", errs)
	}
}

func sweepMark(t *testing.T, db *dynamodb.Client, table, ref, level string) map[string]string {
	t.Helper()
	raw := rawItem(t, db, table, ref)
	esc, ok := raw["esc"].(*ddbtypes.AttributeValueMemberM)
	if !ok {
		t.Fatalf("no esc map on %s", ref)
	}
	m, ok := esc.Value[level].(*ddbtypes.AttributeValueMemberM)
	if !ok {
		return nil
	}
	out := map[string]string{}
	for k, v := range m.Value {
		out[k] = v.(*ddbtypes.AttributeValueMemberS).Value
	}
	return out
}

// A level is claimed once per period: a second claim fails while the first holds or after it
// was marked; another period, a released claim or a lapsed lease can be claimed again. No
// claim, mark or release changes the request's version.
func TestClaimEscalation(t *testing.T) {
	c := newClock(time.Date(2026, 4, 1, 5, 0, 0, 0, time.UTC))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sweepOpen(t, s, "CLAM-2222", due)
	lease := func() time.Time { return c.now().Add(15 * time.Minute) }
	conflict := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, fault.Conflict) {
			t.Fatalf("%s: err = %v, want fault.Conflict", what, err)
		}
	}

	got, claim, err := s.ClaimEscalation(ctx, r.Ref, "wd5", "2026-04-07", lease())
	if err != nil {
		t.Fatal(err)
	}
	if got.Ref != r.Ref || got.Status != dsr.Open || !got.Due.Equal(due) || got.Email != r.Email {
		t.Fatalf("claim returned %+v", got)
	}
	if m := sweepMark(t, db, table, r.Ref, "wd5"); m["p"] != "2026-04-07" || m["st"] != store.EscClaimed || m["lease"] != store.TimeKey(lease()) {
		t.Fatalf("claimed mark = %v", m)
	}
	_, _, err = s.ClaimEscalation(ctx, r.Ref, "wd5", "2026-04-07", lease())
	conflict("second claim while the first holds", err)

	// Other levels are independent.
	if _, _, err := s.ClaimEscalation(ctx, r.Ref, "wd2", "2026-04-07", lease()); err != nil {
		t.Fatalf("another level: %v", err)
	}

	// Released: the next run claims it at once.
	if err := s.ReleaseEscalation(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if m := sweepMark(t, db, table, r.Ref, "wd5"); m != nil {
		t.Fatalf("released mark still there: %v", m)
	}
	conflict("release twice", s.ReleaseEscalation(ctx, claim))
	_, claim, err = s.ClaimEscalation(ctx, r.Ref, "wd5", "2026-04-07", lease())
	if err != nil {
		t.Fatalf("claim after release: %v", err)
	}

	// Marked: never again for this period, even after the lease.
	if err := s.MarkEscalated(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if m := sweepMark(t, db, table, r.Ref, "wd5"); m["p"] != "2026-04-07" || m["st"] != store.EscDone || m["lease"] != "" {
		t.Fatalf("marked = %v", m)
	}
	conflict("release after mark", s.ReleaseEscalation(ctx, claim))
	c.set(c.now().Add(time.Hour))
	_, _, err = s.ClaimEscalation(ctx, r.Ref, "wd5", "2026-04-07", lease())
	conflict("claim after mark", err)

	// A new period (an extended deadline, the next overdue day) is claimed afresh.
	if _, _, err := s.ClaimEscalation(ctx, r.Ref, "wd5", "2026-06-08", lease()); err != nil {
		t.Fatalf("new period: %v", err)
	}

	// A run that died leaves a claim that lapses at its lease; only then may another take it.
	_, dead, err := s.ClaimEscalation(ctx, r.Ref, "overdue", "2026-04-08", lease())
	if err != nil {
		t.Fatal(err)
	}
	c.set(dead.Lease.Add(-time.Millisecond))
	_, _, err = s.ClaimEscalation(ctx, r.Ref, "overdue", "2026-04-08", lease())
	conflict("claim before the lease lapsed", err)
	c.set(dead.Lease.Add(time.Millisecond))
	_, taken, err := s.ClaimEscalation(ctx, r.Ref, "overdue", "2026-04-08", lease())
	if err != nil {
		t.Fatalf("claim after the lease lapsed: %v", err)
	}
	// The dead run's late release must not free the new claim…
	conflict("stale release", s.ReleaseEscalation(ctx, dead))
	// …but its late mark is true: its report went out.
	if err := s.MarkEscalated(ctx, dead); err != nil {
		t.Fatalf("late mark: %v", err)
	}
	conflict("release of a marked claim", s.ReleaseEscalation(ctx, taken))

	// A mark never overwrites a newer period.
	old := store.EscClaim{Ref: r.Ref, Level: "overdue", Period: "2026-04-07"}
	conflict("mark of an older period", s.MarkEscalated(ctx, old))

	after, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if after.Version != r.Version || len(after.Audit) != len(r.Audit) {
		t.Fatalf("claims changed the request: version %d → %d, audit %d → %d", r.Version, after.Version, len(r.Audit), len(after.Audit))
	}
	// And a DPO's change made from the version read before the claims still commits.
	ch, _ := r.Start("dpo@x.dk", c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatalf("commit after claims: %v", err)
	}
	if m := sweepMark(t, db, table, r.Ref, "wd5"); m["p"] != "2026-06-08" {
		t.Fatalf("commit lost the marks: %v", m)
	}
}

// Closed or unknown requests are never claimed, and a claim never creates an item. An
// unconfirmed one can be: a withdrawal of consent escalates before it is confirmed
// (dsr.Request.Escalates decides which).
func TestClaimEscalationNeedsAnUnclosedRequest(t *testing.T) {
	c := newClock(time.Date(2026, 4, 1, 5, 0, 0, 0, time.UTC))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	lease := c.now().Add(15 * time.Minute)

	pending := sample("PEND-3333")
	if err := s.CreateRequest(ctx, pending); err != nil {
		t.Fatal(err)
	}
	closed := sweepOpen(t, s, "DONE-3333", due)
	ch, _ := closed.Reject("dpo@x.dk", "other", "again", c.now())
	if err := s.Commit(ctx, closed, ch); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimEscalation(ctx, pending.Ref, "wd2", "2026-04-03", lease); err != nil {
		t.Errorf("unconfirmed: %v", err)
	}
	for _, ref := range []string{closed.Ref, "NONE-3333"} {
		if _, _, err := s.ClaimEscalation(ctx, ref, "overdue", "2026-04-01", lease); !errors.Is(err, fault.Conflict) {
			t.Errorf("%s: err = %v, want fault.Conflict", ref, err)
		}
	}
	if it := rawitem.Request(t, db, table, "NONE-3333"); it != nil {
		t.Fatalf("claim created an item: %v", it)
	}
	if err := s.MarkEscalated(ctx, store.EscClaim{Ref: "NONE-3333", Level: "overdue", Period: "2026-04-01"}); !errors.Is(err, fault.Conflict) {
		t.Fatalf("mark of an unknown request: %v", err)
	}
}

// A line that is not a deadline's (a mail that did not arrive, files not downloaded) is
// claimed on a request in any state but expired, once per period, as a level is.
func TestClaimLine(t *testing.T) {
	c := newClock(time.Date(2026, 4, 1, 5, 0, 0, 0, time.UTC))
	s, db, table := newStore(t, c)
	ctx := context.Background()
	lease := c.now().Add(15 * time.Minute)

	open := sweepOpen(t, s, "LOPN-3333", due)
	rejected := sweepOpen(t, s, "LREJ-3333", due)
	ch, _ := rejected.Reject("dpo@x.dk", "other", "again", c.now())
	if err := s.Commit(ctx, rejected, ch); err != nil {
		t.Fatal(err)
	}
	expired := sample("LEXP-3333")
	if err := s.CreateRequest(ctx, expired); err != nil {
		t.Fatal(err)
	}
	ch, err := expired.Expire(received.Add(dsr.ExpireAfter))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, expired, ch); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		ref    string
		period string
		want   error
	}{
		{"open", open.Ref, "2026-04-01", nil},
		{"the same period again", open.Ref, "2026-04-01", fault.Conflict},
		{"the next day", open.Ref, "2026-04-02", nil},
		{"closed", rejected.Ref, "2026-04-01", nil},
		{"expired", expired.Ref, "2026-04-01", fault.Conflict},
		{"unknown", "NONE-4444", "2026-04-01", fault.Conflict},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, claim, err := s.ClaimLine(ctx, tc.ref, "undelivered", tc.period, lease)
			if tc.want != nil {
				if !errors.Is(err, tc.want) {
					t.Fatalf("err = %v, want %v", err, tc.want)
				}
				return
			}
			if err != nil || got.Ref != tc.ref || claim.Level != "undelivered" || claim.Period != tc.period {
				t.Fatalf("claim %+v of %v: %v", claim, got, err)
			}
		})
	}
	if it := rawitem.Request(t, db, table, "NONE-4444"); it != nil {
		t.Fatalf("claim created an item: %v", it)
	}
	// A line's claim is marked and released as a level's is.
	_, claim, err := s.ClaimLine(ctx, rejected.Ref, "not_downloaded", "2026-03-25T10:00:00Z", lease)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseEscalation(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if _, claim, err = s.ClaimLine(ctx, rejected.Ref, "not_downloaded", "2026-03-25T10:00:00Z", lease); err != nil {
		t.Fatalf("released, then: %v", err)
	}
	if err := s.MarkEscalated(ctx, claim); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimLine(ctx, rejected.Ref, "not_downloaded", "2026-03-25T10:00:00Z", c.now().Add(time.Hour)); !errors.Is(err, fault.Conflict) {
		t.Fatalf("reported, claimed again: %v", err)
	}
}

// However many runs race for a level, exactly one claims it.
func TestClaimEscalationRace(t *testing.T) {
	c := newClock(time.Date(2026, 4, 1, 5, 0, 0, 0, time.UTC))
	s, _, _ := newStore(t, c)
	r := sweepOpen(t, s, "RACE-2222", due)
	won := race(t, 12, fault.Conflict, func() error {
		_, _, err := s.ClaimEscalation(context.Background(), r.Ref, "due_today", "2026-04-07", c.now().Add(time.Minute))
		return err
	})
	if won != 1 {
		t.Fatalf("%d claims won, want 1", won)
	}
}

// Two sweeps that find the same failed mail: only one of them sends it.
func TestClaimMailRetry(t *testing.T) {
	c := newClock(received.Add(24 * time.Hour))
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sweepOpen(t, s, "RTRY-2222", due)
	if err := s.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{
		dsr.MailReceipt: {State: dsr.MailFailed, At: c.now().Add(-time.Hour).Add(123456789), Attempts: 1},
		dsr.MailDPONew:  {State: dsr.MailFailed, At: c.now().Add(-time.Hour), Attempts: 2},
	}); err != nil {
		t.Fatal(err)
	}
	var found []*dsr.Request
	for range 2 {
		for it, err := range s.SweepDue(ctx, dsr.QueueOpen, c.now(), 0) {
			if err != nil {
				t.Fatal(err)
			}
			found = append(found, it.Request)
		}
	}
	if len(found) != 2 {
		t.Fatalf("found %d", len(found))
	}
	kinds := found[0].MailsDue(c.now())
	if !slices.Equal(kinds, []dsr.MailKind{dsr.MailDPONew, dsr.MailReceipt}) {
		t.Fatalf("due: %v", kinds)
	}
	if err := s.ClaimMailRetry(ctx, found[0], kinds, c.now()); err != nil {
		t.Fatal(err)
	}
	if st := found[0].Mails[dsr.MailDPONew]; st.State != dsr.MailQueued || !st.At.Equal(c.now()) || st.Attempts != 2 {
		t.Fatalf("claimed state in memory: %+v", st)
	}
	if err := s.ClaimMailRetry(ctx, found[1], kinds, c.now()); !errors.Is(err, fault.Conflict) {
		t.Fatalf("second sweep: err = %v, want fault.Conflict", err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if st := got.Mails[dsr.MailReceipt]; st.State != dsr.MailQueued || st.Attempts != 1 {
		t.Fatalf("stored: %+v", st)
	}
	if got.Version != r.Version {
		t.Fatalf("version %d → %d", r.Version, got.Version)
	}
}

func sweepUnreachable(t *testing.T) *dynamodb.Client {
	t.Helper()
	return dynamodb.NewFromConfig(aws.Config{Region: "eu-north-1", Credentials: aws.AnonymousCredentials{}}, func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
}
