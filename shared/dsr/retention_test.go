package dsr

import (
	"testing"
	"time"
)

func TestKeptUntil(t *testing.T) {
	const retention = 365 * 24 * time.Hour
	closedAt := received.Add(10 * 24 * time.Hour)
	tests := []struct {
		name  string
		setup func(*testing.T) *Request
		want  time.Time
	}{
		{"unconfirmed: a grace after it would expire", func(*testing.T) *Request { return newRequest() }, received.Add(ExpireAfter + expiredGrace)},
		{"expired: a grace after it did", func(*testing.T) *Request {
			r := newRequest()
			_, _ = r.Expire(closedAt)
			return r
		}, closedAt.Add(expiredGrace)},
		{"open: kept while an answer is owed", openRequest, time.Time{}},
		{"in progress: kept", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Start("dpo", closedAt)
			return r
		}, time.Time{}},
		{"completed: the retention", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Complete("dpo", "done", closedAt)
			return r
		}, closedAt.Add(retention)},
		{"rejected: the retention", func(t *testing.T) *Request {
			r := openRequest(t)
			_, _ = r.Reject("dpo", "other", "no", closedAt)
			return r
		}, closedAt.Add(retention)},
	}
	for _, tt := range tests {
		if got := tt.setup(t).KeptUntil(retention); !got.Equal(tt.want) {
			t.Errorf("%s: KeptUntil = %v, want %v", tt.name, got, tt.want)
		}
	}
}
