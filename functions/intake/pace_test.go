package main

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

func TestPacerTracksStoredSubmissions(t *testing.T) {
	for _, tc := range []struct {
		name    string
		stored  []time.Duration
		elapsed time.Duration
		want    time.Duration // the hold; 0 is none
	}{
		{name: "nothing stored yet", elapsed: 20 * time.Millisecond, want: initialPace - 20*time.Millisecond},
		{name: "one slower store", stored: []time.Duration{620 * time.Millisecond}, want: 220 * time.Millisecond},
		{name: "many quick stores", stored: repeat(40, 50*time.Millisecond), want: 50 * time.Millisecond},
		{name: "a slow spell is bounded", stored: repeat(40, time.Minute), want: maxPace},
		{name: "already slower than a store", elapsed: time.Second, want: 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newPacer()
			var got time.Duration
			p.sleep = func(_ context.Context, d time.Duration) { got = d }
			for _, d := range tc.stored {
				p.stored(d)
			}
			p.hold(context.Background(), time.Now().Add(-tc.elapsed))
			// hold reads the clock after start: allow for the time the test itself takes, and for
			// the running average still closing in.
			if got > tc.want+time.Millisecond || got < tc.want-50*time.Millisecond || (tc.want == 0 && got != 0) {
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

// TestUnstoredAnswersTakeAsLongAsStored: a submission that is not stored (over the limit for
// its address or IP, or caught as a bot) is answered no sooner than a stored one typically is,
// so the time of the answer does not tell who has been filing requests; a stored one is never
// held.
func TestUnstoredAnswersTakeAsLongAsStored(t *testing.T) {
	t.Parallel()
	hs := newHarness(t, withEnv("RATE_LIMIT_PER_EMAIL", "1"))
	var mu sync.Mutex
	var holds []time.Duration
	hs.h.pace.sleep = func(_ context.Context, d time.Duration) {
		mu.Lock()
		defer mu.Unlock()
		holds = append(holds, d)
	}
	taken := func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		out := holds
		holds = nil
		return out
	}

	email := address("paced")
	if resp := hs.postForm(hs.form(email, i18n.EN)); resp.StatusCode != http.StatusSeeOther || hs.requests() != 1 {
		t.Fatalf("the first submission was not stored: %s", fmtStatus(resp))
	}
	if h := taken(); len(h) != 0 {
		t.Errorf("a stored submission was held %v", h)
	}

	// The stored path's time is whatever it is: fix the typical to see each hold make it up.
	const typical = time.Hour
	hs.h.pace.typical = typical
	for _, tc := range []struct {
		name string
		form func() map[string]string
	}{
		{"over the limit for its address", func() map[string]string { return nil }},
		{"honeypot", func() map[string]string { return map[string]string{"website": "x"} }},
		{"filled too fast", func() map[string]string {
			return map[string]string{"ts": hs.stamp(hs.clock.Now())}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := hs.form(email, i18n.EN)
			for k, val := range tc.form() {
				v.Set(k, val)
			}
			resp := hs.postForm(v)
			if resp.StatusCode != http.StatusSeeOther || hs.requests() != 1 {
				t.Fatalf("%s, %d stored: want the generic answer and nothing stored", fmtStatus(resp), hs.requests())
			}
			h := taken()
			if len(h) != 1 || h[0] < typical-time.Minute {
				t.Errorf("held %v, want once, for the rest of %v", h, typical)
			}
		})
	}

	// And the hold is real time, not just a call.
	hs.h.pace.sleep = sleepCtx
	hs.h.pace.typical = 300 * time.Millisecond
	start := time.Now()
	hs.postForm(hs.form(email, i18n.EN))
	if took := time.Since(start); took < 300*time.Millisecond {
		t.Errorf("a limited answer took %v, want at least 300ms", took)
	}
}
