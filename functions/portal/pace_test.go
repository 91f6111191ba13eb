package main

import (
	"context"
	"testing"
	"time"
)

// The pacer holds an answer to the floor, and to the slowest recent answer, which decays.
func TestPacer(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name    string
		before  []time.Duration // how long earlier answers took
		elapsed time.Duration
		want    time.Duration // the hold; 0 is none
	}{
		{name: "the floor", elapsed: 20 * ms, want: 380 * ms},
		{name: "past the floor", elapsed: 500 * ms, want: 0},
		{name: "a slower answer before", before: []time.Duration{900 * ms}, elapsed: 20 * ms, want: 835 * ms},
		{name: "it decays", before: append([]time.Duration{900 * ms}, repeat(40, 10*ms)...), elapsed: 20 * ms, want: 380 * ms},
		{name: "a slow spell is bounded", before: []time.Duration{time.Minute}, elapsed: 0, want: time.Duration(float64(maxPace) * paceDecay)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer(400 * ms)
			var got time.Duration
			p.sleep = func(_ context.Context, d time.Duration) { got = d }
			for _, d := range tc.before {
				p.hold(context.Background(), time.Now().Add(-d))
			}
			got = 0
			p.hold(context.Background(), time.Now().Add(-tc.elapsed))
			// hold reads the clock after start: allow for the time the test itself takes.
			if got > tc.want+ms || got < tc.want-20*ms || (tc.want == 0 && got != 0) {
				t.Errorf("held %v, want %v", got, tc.want)
			}
		})
	}
}

func repeat(n int, d time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = d
	}
	return out
}
