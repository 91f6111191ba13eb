package later

import (
	"context"
	"testing"
)

type key struct{}

func TestNowRunsAtOnce(t *testing.T) {
	ran := false
	Now{}.Later(context.Background(), func(context.Context) { ran = true })
	if !ran {
		t.Fatal("Now did not run the work at once")
	}
}

func TestHeldWaitsForRun(t *testing.T) {
	var q Held
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), key{}, "v"))
	var order []int
	for i := range 3 {
		q.Later(ctx, func(ctx context.Context) {
			if ctx.Err() != nil || ctx.Value(key{}) != "v" {
				t.Errorf("work %d got a context cancelled %v with value %v", i, ctx.Err(), ctx.Value(key{}))
			}
			order = append(order, i)
		})
	}
	cancel() // as aws-lambda-go does once the handler has answered
	if len(order) != 0 {
		t.Fatalf("work ran before Run: %v", order)
	}
	q.Run()
	if len(order) != 3 || order[0] != 0 || order[2] != 2 {
		t.Fatalf("Run did %v, want [0 1 2]", order)
	}
	q.Run()
	if len(order) != 3 {
		t.Fatalf("a second Run repeated work: %v", order)
	}
}
