package dsr

import "time"

const (
	// DefaultRetention keeps closed requests three years: long enough to document compliance
	// (Art. 5(2)) and to answer a complaint, short enough to honour storage limitation.
	DefaultRetention = 3 * 365 * 24 * time.Hour
	// expiredGrace keeps an unconfirmed request's audit trail after it lapses, for the DPO's
	// overview, before it may be deleted.
	expiredGrace = 30 * 24 * time.Hour
)

// KeptUntil is when r may be deleted, for a deployment that keeps closed requests for
// retention; zero while the controller owes an answer, which it must be able to show it gave.
// An unconfirmed request goes expiredGrace after it would expire, an expired one expiredGrace
// after it did, an answered one retention after it was closed.
func (r *Request) KeptUntil(retention time.Duration) time.Time {
	switch {
	case r.Status == Quarantined && r.Escalates():
		// Kept until a DPO decides: it may be a person's request.
		return time.Time{}
	case r.Status == Quarantined:
		return r.Entered().Add(ExpireAfter + expiredGrace)
	case r.Status == PendingVerification:
		return r.linkSince().Add(ExpireAfter + expiredGrace)
	case r.Status == Expired:
		return r.ClosedAt.Add(expiredGrace)
	case r.Status.Closed():
		return r.ClosedAt.Add(retention)
	}
	return time.Time{}
}
