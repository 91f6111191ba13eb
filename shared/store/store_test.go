package store_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
	"github.com/dsrdesk/dsrdesk/shared/testkit/rawitem"
)

var (
	received = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	due      = time.Date(2026, 4, 7, 21, 59, 59, 999999999, time.UTC)
)

// clock is a settable time source shared by a store and its test.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.set(t); return c }
func (c *clock) set(t time.Time)  { c.t.Store(t.UnixNano()) }
func (c *clock) now() time.Time   { return time.Unix(0, c.t.Load()).UTC() }

// race runs try n times at once and returns how many succeeded; every other one must have lost
// the race, with an error of the kind lost.
func race(t *testing.T, n int, lost fault.Kind, try func() error) int {
	t.Helper()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			switch err := try(); {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, lost):
				t.Errorf("racing: %v, want %v", err, lost)
			}
		})
	}
	wg.Wait()
	return int(wins.Load())
}

func newStore(t *testing.T, c *clock) (*store.Store, *dynamodb.Client, string) {
	t.Helper()
	env := emulator.Get(t)
	db := env.DynamoDB()
	table := env.NewTable(t, store.TableDefinition("requests"))
	return store.New(db, table, store.WithClock(c.now), store.WithRetention(365*24*time.Hour)), db, table
}

func sample(ref string) *dsr.Request {
	s := dsr.Submission{Type: "access", Name: "Jens <b>Hansen</b>", Email: "Jens@Example.dk", Details: "linje 1\nlinje 2", CustomerRef: "C-1", Lang: "da"}
	return dsr.New(ref, s, received, due, "tokhash")
}

func TestCreateAndGet(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sample("AAAA-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != r.Name || got.Email != r.Email || got.Details != r.Details || got.Type != r.Type ||
		got.Status != dsr.PendingVerification || !got.ReceivedAt.Equal(received) || !got.Due.Equal(due) ||
		got.TokenHash != "tokhash" || got.Version != 1 || len(got.Audit) != 1 || got.Mails[dsr.MailVerification].State != dsr.MailQueued {
		t.Fatalf("round trip lost data:\n got %+v\nwant %+v", got, r)
	}
	dup := sample("AAAA-2222")
	dup.TokenHash = "another request's" // the same reference drawn for another request
	if err := s.CreateRequest(ctx, dup); !errors.Is(err, fault.Conflict) {
		t.Fatalf("duplicate reference: err = %v, want fault.Conflict", err)
	}
	if _, err := s.GetRequest(ctx, "ZZZZ-9999"); !errors.Is(err, fault.NotFound) {
		t.Fatalf("unknown reference: err = %v, want fault.NotFound", err)
	}
}

// An unconfirmed request whose TTL time has passed is absent to the code, though dynalite
// (like DynamoDB for up to days) still holds it.
func TestExpiredItemIsNotTrusted(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sample("AAAA-3333")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	c.set(received.Add(60 * 24 * time.Hour))
	if _, err := s.GetRequest(ctx, r.Ref); !errors.Is(err, fault.NotFound) {
		t.Fatalf("GetRequest of an expired item: err = %v, want fault.NotFound", err)
	}
	ch, err := r.AddNote("dpo@x.dk", "n", c.now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, r, ch); !errors.Is(err, fault.Conflict) {
		t.Fatalf("Commit on an expired item: err = %v, want fault.Conflict", err)
	}
}

// step moves a stored request through one operation and commits it.
type step struct {
	name string
	op   func(r *dsr.Request, now time.Time) (dsr.Change, error)
}

var (
	verify   = step{"verify", func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Verify(r.TokenHash, now) }}
	start    = step{"start", func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Start("dpo@x.dk", now) }}
	complete = step{"complete", func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Complete("dpo@x.dk", "done", now) }}
	reject   = step{"reject", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
		return r.Refuse("dpo@x.dk", dsr.Refusal{Ground: dsr.GroundExcessive, Reason: "again", Justification: "fourth this week"}, now)
	}}
	expire = step{"expire", func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.Expire(now) }}
	extend = step{"extend", func(r *dsr.Request, now time.Time) (dsr.Change, error) {
		return r.Extend("dpo@x.dk", "complex", due.AddDate(0, 2, 0), now)
	}}
	note = step{"note", func(r *dsr.Request, now time.Time) (dsr.Change, error) { return r.AddNote("dpo@x.dk", "n", now) }}
)

// Every allowed path through the lifecycle, committed step by step, leaves the stored request
// equal to the one in memory, with one audit entry per step and the index keys derived.
func TestCommitPaths(t *testing.T) {
	paths := []struct {
		name      string
		steps     []step
		status    dsr.Status
		partition dsr.Queue
		ttl       bool
	}{
		{"verify", []step{verify}, dsr.Open, dsr.QueueOpen, false},
		{"verify start complete", []step{verify, start, complete}, dsr.Completed, "", true},
		{"verify complete", []step{verify, complete}, dsr.Completed, "", true},
		{"verify start reject", []step{verify, start, reject}, dsr.Rejected, "", true},
		{"verify reject", []step{verify, reject}, dsr.Rejected, "", true},
		{"verify extend note start", []step{verify, extend, note, start}, dsr.InProgress, dsr.QueueOpen, false},
		{"expire", []step{expire}, dsr.Expired, "", true},
	}
	for i, p := range paths {
		t.Run(p.name, func(t *testing.T) {
			c := newClock(received)
			s, db, table := newStore(t, c)
			ctx := context.Background()
			r := sample("BBBB-22" + string(rune('A'+i)) + "2")
			if err := s.CreateRequest(ctx, r); err != nil {
				t.Fatal(err)
			}
			for _, st := range p.steps {
				c.set(c.now().Add(time.Hour))
				ch, err := st.op(r, c.now())
				if err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				// Mark queued mails sent, as the outbox would, so the index key is the deadline.
				if err := s.Commit(ctx, r, ch); err != nil {
					t.Fatalf("%s: commit: %v", st.name, err)
				}
				states := map[dsr.MailKind]dsr.MailState{}
				for k, m := range r.Mails {
					if m.State == dsr.MailQueued {
						states[k] = dsr.MailState{State: dsr.MailSent, At: c.now(), Attempts: 1}
					}
				}
				if err := s.RecordMails(ctx, r, states); err != nil {
					t.Fatalf("%s: record mails: %v", st.name, err)
				}
			}
			got, err := s.GetRequest(ctx, r.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != p.status || got.Version != len(p.steps)+1 || len(got.Audit) != len(p.steps)+1 {
				t.Fatalf("status %s version %d audit %d", got.Status, got.Version, len(got.Audit))
			}
			for i, e := range got.Audit {
				if e != r.Audit[i] {
					t.Errorf("audit[%d] = %+v, want %+v", i, e, r.Audit[i])
				}
			}
			raw := rawItem(t, db, table, r.Ref)
			pk, _ := raw["sweep_pk"].(*ddbtypes.AttributeValueMemberS)
			switch {
			case p.partition == "" && pk != nil:
				t.Errorf("closed request still on the sweep index (%s)", pk.Value)
			case p.partition != "" && (pk == nil || pk.Value != string(p.partition)):
				t.Errorf("sweep_pk = %v, want %s", pk, p.partition)
			}
			if p.partition == dsr.QueueOpen {
				at := raw["sweep_at"].(*ddbtypes.AttributeValueMemberS).Value
				if at != store.TimeKey(got.Deadline()) {
					t.Errorf("sweep_at = %s, want the deadline in force %s", at, store.TimeKey(got.Deadline()))
				}
			}
			if _, ok := raw["expires_at"]; ok != p.ttl {
				t.Errorf("expires_at present = %v, want %v", ok, p.ttl)
			}
			if p.status == dsr.Expired {
				for _, a := range []string{"name", "email", "email_hash", "details", "customer_ref", "token_hash"} {
					if _, ok := raw[a]; ok {
						t.Errorf("expired request still holds %s", a)
					}
				}
			}
		})
	}
}

func rawItem(t *testing.T, db *dynamodb.Client, table, ref string) map[string]ddbtypes.AttributeValue {
	t.Helper()
	it := rawitem.Request(t, db, table, ref)
	if it == nil {
		t.Fatalf("no item %s", ref)
	}
	return it
}

// A change computed from a stale read is refused, and nothing of it is written.
func TestCommitRefusesStaleVersion(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sample("CCCC-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, _ := r.Verify(r.TokenHash, c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	stale, _ := s.GetRequest(ctx, r.Ref)
	fresh, _ := s.GetRequest(ctx, r.Ref)
	ch1, _ := fresh.Start("a@x.dk", c.now())
	if err := s.Commit(ctx, fresh, ch1); err != nil {
		t.Fatal(err)
	}
	ch2, _ := stale.Complete("b@x.dk", "done", c.now())
	if err := s.Commit(ctx, stale, ch2); !errors.Is(err, fault.Conflict) {
		t.Fatalf("stale commit: err = %v, want fault.Conflict", err)
	}
	got, _ := s.GetRequest(ctx, r.Ref)
	if got.Status != dsr.InProgress || len(got.Audit) != 3 || got.Outcome != nil {
		t.Fatalf("stale commit leaked: %+v", got)
	}
}

// Many writers race on the same request: exactly one transition lands, with exactly one
// audit entry, whatever the interleaving.
func TestConcurrentTransitionsExactlyOneWins(t *testing.T) {
	c := newClock(received)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	r := sample("DDDD-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	ch, _ := r.Verify(r.TokenHash, c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	const writers = 12
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	// Everyone reads the same version before anyone writes, so every writer believes it may
	// act: only the store's condition can stop all but one.
	var read sync.WaitGroup
	read.Add(writers)
	for i := range writers {
		wg.Go(func() {
			mine, err := s.GetRequest(ctx, r.Ref)
			read.Done()
			read.Wait()
			if err != nil {
				t.Error(err)
				return
			}
			var ch dsr.Change
			if i%2 == 0 {
				ch, err = mine.Complete("dpo@x.dk", "done", c.now())
			} else {
				ch, err = mine.Reject("dpo@x.dk", "other", "no", c.now())
			}
			if err != nil {
				t.Error(err)
				return
			}
			switch err := s.Commit(ctx, mine, ch); {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, fault.Conflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("wins %d conflicts %d", wins.Load(), conflicts.Load())
	}
	got, _ := s.GetRequest(ctx, r.Ref)
	if len(got.Audit) != 3 || got.Version != 3 || !got.Status.Closed() {
		t.Fatalf("after the race: %+v", got)
	}
}

// A failed mail pulls the request forward in the sweep index; sending it puts it back on its
// deadline. A closed request with a failed mail sits on RETRY until the mail goes out.
func TestRecordMailsMovesTheIndex(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("EEEE-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	keyOf := func() (string, string) {
		raw := rawItem(t, db, table, r.Ref)
		pk, _ := raw["sweep_pk"].(*ddbtypes.AttributeValueMemberS)
		at, _ := raw["sweep_at"].(*ddbtypes.AttributeValueMemberS)
		if pk == nil {
			return "", ""
		}
		return pk.Value, at.Value
	}
	// Queued verification: look again after the lease, in case the sender died.
	if pk, at := keyOf(); pk != string(dsr.QueueUnverified) || at != store.TimeKey(received.Add(dsr.MailLease)) {
		t.Fatalf("queued: %s %s", pk, at)
	}
	failedAt := received.Add(time.Second)
	if err := s.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{dsr.MailVerification: {State: dsr.MailFailed, At: failedAt, Attempts: 1}}); err != nil {
		t.Fatal(err)
	}
	if pk, at := keyOf(); pk != string(dsr.QueueUnverified) || at != store.TimeKey(failedAt) {
		t.Fatalf("failed: %s %s", pk, at)
	}
	if err := s.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{dsr.MailVerification: {State: dsr.MailSent, At: failedAt, Attempts: 2}}); err != nil {
		t.Fatal(err)
	}
	if pk, at := keyOf(); pk != string(dsr.QueueUnverified) || at != store.TimeKey(received.Add(dsr.ReminderAfter)) {
		t.Fatalf("sent: %s %s, want the reminder time", pk, at)
	}
	ch, _ := r.Verify(r.TokenHash, c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	ch, _ = r.Complete("dpo@x.dk", "done", c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{
		dsr.MailReceipt: {State: dsr.MailSent, At: c.now()}, dsr.MailDPONew: {State: dsr.MailSent, At: c.now()},
		dsr.MailCompletion: {State: dsr.MailFailed, At: c.now()},
	}); err != nil {
		t.Fatal(err)
	}
	if pk, _ := keyOf(); pk != string(dsr.QueueRetry) {
		t.Fatalf("closed with a failed mail: partition %q, want RETRY", pk)
	}
	if err := s.RecordMails(ctx, r, map[dsr.MailKind]dsr.MailState{dsr.MailCompletion: {State: dsr.MailSent, At: c.now()}}); err != nil {
		t.Fatal(err)
	}
	if pk, _ := keyOf(); pk != "" {
		t.Fatalf("closed and delivered: still on partition %q", pk)
	}
}

// RecordMails derived from a stale status re-reads and keys the index from the fresh one.
func TestRecordMailsAfterConcurrentTransition(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("FFFF-2222")
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	stale, _ := s.GetRequest(ctx, r.Ref)
	ch, _ := r.Verify(r.TokenHash, c.now())
	if err := s.Commit(ctx, r, ch); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordMails(ctx, stale, map[dsr.MailKind]dsr.MailState{dsr.MailVerification: {State: dsr.MailSent, At: c.now()}}); err != nil {
		t.Fatal(err)
	}
	raw := rawItem(t, db, table, r.Ref)
	if pk := raw["sweep_pk"].(*ddbtypes.AttributeValueMemberS).Value; pk != string(dsr.QueueOpen) {
		t.Fatalf("partition %s, want OPEN", pk)
	}
}

func TestAllowCountsPerWindow(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	c := newClock(start)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	const limit = 3
	allow := func() error { _, err := s.Allow(ctx, "email", dsr.HashEmail("a@x.dk"), limit, time.Hour); return err }
	for i := range limit {
		if err := allow(); err != nil {
			t.Fatalf("event %d: %v", i+1, err)
		}
	}
	if err := allow(); !errors.Is(err, fault.Limited) {
		t.Fatalf("over the limit: err = %v, want fault.Limited", err)
	}
	// Another key and another scope have their own counters.
	if _, err := s.Allow(ctx, "email", dsr.HashEmail("b@x.dk"), limit, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Allow(ctx, "ip", dsr.HashEmail("a@x.dk"), limit, time.Hour); err != nil {
		t.Fatal(err)
	}
	// Still in the same window at 10:59:59, a new one at 11:00.
	c.set(start.Add(time.Hour - time.Second))
	if err := allow(); !errors.Is(err, fault.Limited) {
		t.Fatalf("same window: err = %v", err)
	}
	c.set(start.Add(time.Hour))
	if err := allow(); err != nil {
		t.Fatalf("new window: %v", err)
	}
	// Concurrent callers never get more than the limit between them.
	c.set(start.Add(5 * time.Hour))
	var ok atomic.Int32
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if allow() == nil {
				ok.Add(1)
			}
		})
	}
	wg.Wait()
	if ok.Load() != limit {
		t.Fatalf("%d allowed concurrently, want %d", ok.Load(), limit)
	}
}

// An event taken back frees its place in the window it was counted in, even when the clock
// has moved into the next window meanwhile; taking back nothing, or more than was counted,
// changes nothing.
func TestUncount(t *testing.T) {
	start := time.Date(2026, 11, 23, 10, 59, 59, 0, time.UTC)
	c := newClock(start)
	s, _, _ := newStore(t, c)
	ctx := context.Background()
	first, err := s.Allow(ctx, "ip", "k", 1, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	limited, err := s.Allow(ctx, "ip", "k", 1, time.Hour)
	if !errors.Is(err, fault.Limited) {
		t.Fatalf("err = %v, want fault.Limited", err)
	}
	if err := s.Uncount(ctx, limited); err != nil {
		t.Fatalf("taking back a refused event: %v", err)
	}
	c.set(start.Add(time.Second)) // the next window
	if err := s.Uncount(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.Uncount(ctx, first); err != nil {
		t.Fatalf("taking back twice: %v", err)
	}
	c.set(start)
	for i := range 2 {
		_, err := s.Allow(ctx, "ip", "k", 1, time.Hour)
		if want := i == 0; (err == nil) != want {
			t.Fatalf("after taking back, event %d: %v", i+1, err)
		}
	}
}

func TestHashEmailIgnoresCaseAndSpace(t *testing.T) {
	if dsr.HashEmail(" Jens@Example.DK ") != dsr.HashEmail("jens@example.dk") {
		t.Fatal("hash differs by case or space")
	}
	if dsr.HashEmail("a@x.dk") == dsr.HashEmail("b@x.dk") {
		t.Fatal("hash collides")
	}
}

// The database being unreachable is fault.Unavailable, which pages turn into 503.
func TestUnavailable(t *testing.T) {
	env := emulator.Get(t)
	db := dynamodb.NewFromConfig(env.AWSConfig(), func(o *dynamodb.Options) {
		o.BaseEndpoint = aws.String("http://127.0.0.1:1")
		o.RetryMaxAttempts = 1
	})
	s := store.New(db, "nope")
	if _, err := s.GetRequest(context.Background(), "AAAA-2222"); !errors.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v, want fault.Unavailable", err)
	}
	if err := s.CreateRequest(context.Background(), sample("AAAA-2222")); !errors.Is(err, fault.Unavailable) {
		t.Fatalf("err = %v, want fault.Unavailable", err)
	}
}

// A request held at intake is stored held, and released in one write; an expiry removes the
// DPO's notes from the stored trail and keeps their entries.
func TestHeldReleasedAndExpiredWithNotes(t *testing.T) {
	c := newClock(received)
	s, db, table := newStore(t, c)
	ctx := context.Background()
	r := sample("HHHH-2222")
	r.Hold()
	if err := s.CreateRequest(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetRequest(ctx, r.Ref)
	if err != nil || !got.Held() || got.TokenHash != "" {
		t.Fatalf("stored held: %v, %v", got.Held(), err)
	}
	at := received.Add(30 * time.Hour)
	c.set(at)
	ch, err := got.Release("hash", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, got, ch); err != nil {
		t.Fatal(err)
	}
	got, _ = s.GetRequest(ctx, r.Ref)
	if got.Held() || !got.ReleasedAt.Equal(at) || got.TokenHash != "hash" || got.Mails[dsr.MailVerification].State != dsr.MailQueued {
		t.Fatalf("released: %+v", got)
	}
	ch, err = got.AddNote("dpo@firma.dk", "Ringede til Jens på 12345678.", at)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, got, ch); err != nil {
		t.Fatal(err)
	}
	end := at.Add(dsr.ExpireAfter)
	c.set(end)
	ch, err = got.Expire(end)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Commit(ctx, got, ch); err != nil {
		t.Fatal(err)
	}
	raw := rawItem(t, db, table, r.Ref)
	var audit []map[string]any
	if err := attributevalue.Unmarshal(raw["audit"], &audit); err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range audit {
		actions = append(actions, e["action"].(string))
		if n, ok := e["note"]; ok && n != "" {
			t.Errorf("after expiry the trail still holds a note: %v", e)
		}
	}
	want := []string{"submitted", "held", "released", "noted", "expired"}
	if !slices.Equal(actions, want) {
		t.Fatalf("trail %v, want %v", actions, want)
	}
}
