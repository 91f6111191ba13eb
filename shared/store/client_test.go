package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/fault"
	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// The store works over store.Client as over the client itself: every operation it calls
// reaches DynamoDB through the method values.
func TestClientAdapter(t *testing.T) {
	c := newClock(received)
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("client"))
	s := store.New(store.Client(env.DynamoDB()), table, store.WithClock(c.now))
	ctx := context.Background()

	r := sample("CLNT-2222")
	if err := s.CreateRequest(ctx, r); err != nil { // PutItem
		t.Fatal(err)
	}
	if _, err := s.GetRequest(ctx, r.Ref); err != nil { // GetItem
		t.Fatal(err)
	}
	if _, _, err := confirm(ctx, s, r.Ref, "tokhash", received.Add(time.Hour)); err != nil { // UpdateItem
		t.Fatal(err)
	}
	n := 0
	for _, err := range s.SweepDue(ctx, dsr.QueueOpen, received.AddDate(0, 2, 0), 0) { // Query
		if err != nil {
			t.Fatal(err)
		}
		n++
	}
	p, err := s.PeriodPage(ctx, received.Add(-time.Hour), received.Add(time.Hour), "", 10) // Query
	if err != nil {
		t.Fatal(err)
	}
	if n += len(p.Requests); n != 2 {
		t.Errorf("found the request %d times in the two indexes, want 2", n)
	}
	sess := store.Session{Email: "dpo@example.dk", CSRF: "csrf", Created: received, Expires: received.Add(time.Hour)}
	if err := s.CreateSession(ctx, "session-id", sess); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteSession(ctx, "session-id"); err != nil { // DeleteItem
		t.Fatal(err)
	}
	if _, err := s.GetSession(ctx, "session-id"); !errors.Is(err, fault.NotFound) {
		t.Errorf("session after delete: %v", err)
	}
}
