package main

import (
	"context"
	"errors"
	"maps"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/notice"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
)

// A run hit by a fault injected between the sweep and the emulators (shared/testkit/awsfault), then a
// run with the services recovered: between them every level of every request is reported once,
// none skipped and none twice, and every requester mail that was due goes out once.
//
// Covered elsewhere: SES unreachable for a whole run (TestDigestNotSentIsReportedNextRun), SES
// hanging until the invocation's deadline (TestTimeoutMidRunIsCompletedNextRun), a run killed
// holding its claims (TestDeadRunClaimLapses), the table unreachable
// (TestStoreUnavailableFailsTheRun).
func TestFaultThenRecovery(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		db, ml []awsfault.Rule
		// deadline and reserve cut the first run short, as the invocation's timeout would.
		deadline, reserve time.Duration
		// noClaims: the first run could claim nothing, and must fail for Lambda to retry it.
		noClaims bool
	}{
		// The digest is the run's first mail.
		{name: "SES throttles after the digest", ml: []awsfault.Rule{{Op: "SendEmail", Fault: awsfault.Throttle, Skip: 1}}},
		{name: "SES fails at the digest", ml: []awsfault.Rule{{Op: "SendEmail", Fault: awsfault.ServerError, Times: 3}}},
		{name: "SES drops the connection mid-run", ml: []awsfault.Rule{{Op: "SendEmail", Fault: awsfault.Drop, Skip: 2}}},
		{name: "DynamoDB throttles the claims", db: []awsfault.Rule{{Op: "UpdateItem", Fault: awsfault.Throttle}}, noClaims: true},
		{name: "DynamoDB throttles the index", db: []awsfault.Rule{{Op: "Query", Fault: awsfault.Throttle, Skip: 1}}},
		// Claims take 150 ms, four at a time: the deadline falls in the second four, whose
		// writes reach the table after the run gave up on them (held until their lease lapses).
		// No time is kept back, so the run is past its deadline when the digest is due and it
		// is never sent. A reserve that leaves the send in flight at the deadline would make
		// its outcome unknown: the mail may have gone out, and its lines repeat next run by
		// design (a duplicate, never a gap), which this test would count as a failure.
		{name: "killed mid-run by its deadline, DynamoDB slow",
			db:       []awsfault.Rule{{Op: "UpdateItem", Latency: 150 * time.Millisecond}},
			deadline: 250 * time.Millisecond},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := newHarness(t, "DK", "da")
			now := localTime(t, "DK", 2026, 11, 23, 7, 0)
			levels, reminderTo, receiptTo := dueSet(t, h, now)
			dbp, mlp := awsfault.Start(t, h.env.DynamoDBEndpoint), awsfault.Start(t, h.env.SESEndpoint)
			for _, r := range tc.db {
				dbp.Inject(r)
			}
			for _, r := range tc.ml {
				mlp.Inject(r)
			}
			var ses notice.SES = mlp.SES(h.env.AWSConfig())
			s := h.sweeperOn(dbp.DynamoDB(h.env.AWSConfig()), ses)
			ctx := context.Background()
			if tc.deadline > 0 {
				s.reserve = tc.reserve
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tc.deadline)
				defer cancel()
			}
			h.clock.Set(now)
			err := s.Handle(ctx, scheduledEvent(t))
			got := reported(t, h)
			t.Logf("first run: %d of %d lines reported, err %v", len(got), len(levels), err)
			if _, faulted := dbp.Requests(""); tc.db != nil && faulted == 0 && tc.deadline == 0 {
				t.Fatal("no DynamoDB fault was injected: the scenario did not happen")
			}
			if _, faulted := mlp.Requests(""); tc.ml != nil && faulted == 0 {
				t.Fatal("no SES fault was injected: the scenario did not happen")
			}
			if tc.noClaims && !errors.Is(err, errNoClaims) {
				t.Errorf("a run that could claim nothing returned %v, want errNoClaims", err)
			}
			if tc.deadline > 0 && (err == nil || len(got) != 0) {
				t.Fatalf("the run was not cut short before its digest: %d lines reported, err %v", len(got), err)
			}

			// Recovered, once any claim the first run left has lapsed.
			h.run(now.Add(maxLease + time.Minute))
			for ref, level := range reported(t, h) {
				if prev, dup := got[ref]; dup {
					t.Errorf("%s reported twice (%s, then %s)", ref, prev, level)
				}
				got[ref] = level
			}
			if !maps.Equal(got, levels) {
				t.Errorf("reported %v over both runs, want %v", got, levels)
			}
			caughtUp(t, h, levels, reminderTo, receiptTo)
			h.run(now.Add(maxLease + 2*time.Minute))
			if got := reported(t, h); len(got) != 0 {
				t.Errorf("a third run reported %v", got)
			}
			if pk, _ := h.sweepKey(refOf(t, h, receiptTo)); pk != dsr.QueueOpen {
				t.Errorf("the receipt's request is on %q afterwards", pk)
			}
		})
	}
}

// A claim DynamoDB made but whose answer was lost (the connection dropped, or the invocation's
// deadline came first) is given back at once: a run minutes later reports the level, rather
// than the lost claim holding it until its lease lapses. Every other line goes out on time.
func TestLostClaimAnswerIsGivenBack(t *testing.T) {
	t.Parallel()
	h := newHarness(t, "DK", "da")
	now := localTime(t, "DK", 2026, 11, 23, 7, 0)
	levels, _, _ := dueSet(t, h, now)
	dbp := awsfault.Start(t, h.env.DynamoDBEndpoint)
	dbp.Inject(awsfault.Rule{Op: "UpdateItem", Fault: awsfault.DropAnswer, Times: 1})
	// No SDK retry: a retry of the lost write would find the claim and report a conflict, which
	// is another path (the level is then another run's).
	db := dbp.DynamoDB(h.env.AWSConfig(), func(o *dynamodb.Options) { o.RetryMaxAttempts = 1 })
	h.clock.Set(now)
	if err := h.sweeperOn(db, nil).Handle(context.Background(), scheduledEvent(t)); err != nil {
		t.Logf("first run: %v", err)
	}
	if _, faulted := dbp.Requests("UpdateItem"); faulted != 1 {
		t.Fatalf("%d answers dropped, want 1: the scenario did not happen", faulted)
	}
	got := reported(t, h)
	if len(got) != len(levels)-1 {
		t.Fatalf("first run reported %d of %d lines, want all but the lost claim", len(got), len(levels))
	}
	h.run(now.Add(time.Minute))
	for ref, level := range reported(t, h) {
		if _, dup := got[ref]; dup {
			t.Errorf("%s reported twice", ref)
		}
		got[ref] = level
	}
	if !maps.Equal(got, levels) {
		t.Errorf("reported %v over both runs, want %v", got, levels)
	}
	checkMarked(t, h, levels)
}
