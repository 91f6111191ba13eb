// Package awscount records the AWS calls an SDK client makes, with when each started and
// ended, so tests and benchmarks can count what an operation costs in round trips.
//
// A person waiting for a page waits for the calls made one after another, not for the
// calls: two calls in flight at once cost one round trip. Rounds groups the recorded calls
// that way and Sequential counts the groups.
//
//	rec := &awscount.Recorder{}
//	db := dynamodb.NewFromConfig(cfg, rec.DynamoDB)
//	ses := ses.NewFromConfig(cfg, rec.SES)
//	… run the handler …
//	calls := rec.Take()
//	awscount.Sequential(calls) // e.g. 3
//	awscount.Describe(calls)   // "UpdateItem → SendEmail ‖ SendEmail → UpdateItem"
package awscount

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/smithy-go/middleware"
)

// Call is one SDK operation, with all its retries.
type Call struct {
	Service   string // the SDK's service id: "DynamoDB", "SES"
	Operation string // "PutItem", "SendEmail", …
	Start     time.Time
	End       time.Time
	// Attempts is how many HTTP requests the operation took (retries included).
	Attempts int
	Err      error
	// Input and Output are the operation's parameters and result (*dynamodb.QueryOutput, …),
	// for a test that needs to look closer (how many items a Query returned, whom a mail went to).
	Input  any
	Output any
}

// Recorder collects the calls of every client it was added to. It is safe for concurrent use.
type Recorder struct {
	// Latency, if set, is added to every call before it is sent, as a network would. The
	// emulators answer in well under a millisecond, so calls a handler makes together may not
	// overlap in time at all (one goroutine still renders its mail while the other's send is
	// done); with a latency far above such jitter, calls made together always overlap and calls
	// made one after another never do, and Rounds shows the handler's structure.
	Latency time.Duration

	mu    sync.Mutex
	calls []Call
}

// DynamoDB adds the recorder to a DynamoDB client: dynamodb.NewFromConfig(cfg, rec.DynamoDB).
func (r *Recorder) DynamoDB(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, r.Record) }

// SES adds the recorder to an SES client: ses.NewFromConfig(cfg, rec.SES).
func (r *Recorder) SES(o *ses.Options) { o.APIOptions = append(o.APIOptions, r.Record) }

// Record is the stack mutator behind DynamoDB and SES, for any other client's APIOptions.
//
// It sits at the end of the Initialize step: after the operation has registered its name,
// before the retry loop, so one Call spans every attempt of the operation.
func (r *Recorder) Record(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("awscount",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c := Call{
				Service:   awsmiddleware.GetServiceID(ctx),
				Operation: awsmiddleware.GetOperationName(ctx),
				Input:     in.Parameters,
				Start:     time.Now(),
			}
			if r.Latency > 0 {
				select {
				case <-time.After(r.Latency):
				case <-ctx.Done():
					return middleware.InitializeOutput{}, middleware.Metadata{}, ctx.Err()
				}
			}
			out, md, err := next.HandleInitialize(ctx, in)
			c.End = time.Now()
			c.Err, c.Output = err, out.Result
			c.Attempts = 1
			if res, ok := retry.GetAttemptResults(md); ok && len(res.Results) > 0 {
				c.Attempts = len(res.Results)
			}
			r.mu.Lock()
			r.calls = append(r.calls, c)
			r.mu.Unlock()
			return out, md, err
		}), middleware.After)
}

// Calls returns the calls recorded so far, in the order they ended.
func (r *Recorder) Calls() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.calls)
}

// Take returns the calls recorded so far and forgets them, so the next Take sees only what
// came after.
func (r *Recorder) Take() []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	calls := r.calls
	r.calls = nil
	return calls
}

// Rounds groups calls into round trips: calls whose times overlap (directly, or through
// other calls that overlap both) were in flight together and form one round. Rounds are in
// time order, and the calls in each by start.
func Rounds(calls []Call) [][]Call {
	sorted := slices.Clone(calls)
	slices.SortStableFunc(sorted, func(a, b Call) int { return a.Start.Compare(b.Start) })
	var rounds [][]Call
	var end time.Time
	for _, c := range sorted {
		if n := len(rounds); n > 0 && c.Start.Before(end) {
			rounds[n-1] = append(rounds[n-1], c)
			if c.End.After(end) {
				end = c.End
			}
			continue
		}
		rounds = append(rounds, []Call{c})
		end = c.End
	}
	return rounds
}

// Sequential is the number of round trips made one after another: what a caller waits for.
func Sequential(calls []Call) int { return len(Rounds(calls)) }

// Count returns how many calls were of operation op ("Query", "SendEmail", …).
func Count(calls []Call, op string) int {
	n := 0
	for _, c := range calls {
		if c.Operation == op {
			n++
		}
	}
	return n
}

// Filter returns the calls for which keep is true.
func Filter(calls []Call, keep func(Call) bool) []Call {
	var out []Call
	for _, c := range calls {
		if keep(c) {
			out = append(out, c)
		}
	}
	return out
}

// Describe writes the rounds as "GetItem ‖ GetItem → UpdateItem → SendEmail": ‖ joins the
// calls of one round, → separates rounds. Failed calls are marked with "!". Within a round
// the calls are in the order of their names: which of two parallel calls started first is
// chance, and a description must not depend on it.
func Describe(calls []Call) string {
	var b strings.Builder
	for i, round := range Rounds(calls) {
		if i > 0 {
			b.WriteString(" → ")
		}
		names := make([]string, 0, len(round))
		for _, c := range round {
			name := c.Operation
			if c.Err != nil {
				name += "!"
			}
			names = append(names, name)
		}
		slices.Sort(names)
		b.WriteString(strings.Join(names, " ‖ "))
	}
	return b.String()
}

// CheckAnswer fails t unless the calls made before an answer took trips sequential round
// trips, in the sequence want (as Describe writes it), and the calls made after the answer,
// which no one waits for, were wantAfter.
func CheckAnswer(t testing.TB, before, after []Call, trips int, want, wantAfter string) {
	t.Helper()
	got := Sequential(before)
	t.Logf("%d round trips: %s, then %s", got, Describe(before), Describe(after))
	if got != trips || Describe(before) != want {
		t.Errorf("%d round trips (%s), want %d (%s)", got, Describe(before), trips, want)
	}
	if Describe(after) != wantAfter {
		t.Errorf("after the answer: %q, want %q", Describe(after), wantAfter)
	}
}
