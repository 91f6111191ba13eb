package store_test

import (
	"context"
	"testing"

	"github.com/dsrdesk/dsrdesk/shared/store"
	"github.com/dsrdesk/dsrdesk/shared/testkit/awsfault"
	"github.com/dsrdesk/dsrdesk/shared/testkit/emulator"
)

// DynamoDB wrote the request but its answer was lost: the SDK's retry finds the request there
// and CreateRequest still succeeds, so the caller does not draw another reference and store
// the same submission twice.
func TestCreateRequestAnswerLost(t *testing.T) {
	c := newClock(received)
	env := emulator.Get(t)
	table := env.NewTable(t, store.TableDefinition("create"))
	p := awsfault.Start(t, env.DynamoDBEndpoint)
	s := store.New(p.DynamoDB(env.AWSConfig()), table, store.WithClock(c.now))
	p.Inject(awsfault.Rule{Op: "PutItem", Fault: awsfault.DropAnswer, Times: 1})
	r := sample("LOST-2222")
	if err := s.CreateRequest(context.Background(), r); err != nil {
		t.Fatalf("create with its answer lost: %v", err)
	}
	if all, faulted := p.Requests("PutItem"); all != 2 || faulted != 1 {
		t.Errorf("%d puts, %d answers lost; want 2 and 1", all, faulted)
	}
	got, err := s.GetRequest(context.Background(), r.Ref)
	if err != nil || got.Version != 1 || len(got.Audit) != 1 {
		t.Fatalf("stored %+v, %v", got, err)
	}
}
