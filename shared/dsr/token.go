package dsr

import "time"

// TokenLive reports whether a verification token expiring at expires is still good at now.
// CanVerify asks it, and the store's write of a confirmation checks the same: the stored
// expiry against TokenCutoff(now).
//
// The store keeps the expiry as RFC 3339 text with trimmed fractions and compares it as text,
// which orders times only to the whole second. So the rule is stated at whole seconds and errs
// on the side of refusing: a token dies up to two seconds early, never a moment late.
func TokenLive(expires, now time.Time) bool {
	return !expires.Truncate(time.Second).Before(TokenCutoff(now).Add(time.Second))
}

// TokenCutoff is now rounded up to the second, in UTC: a token is live while its expiry's
// whole second is later than that.
func TokenCutoff(now time.Time) time.Time {
	c := now.UTC().Truncate(time.Second)
	if c.Before(now) {
		c = c.Add(time.Second)
	}
	return c
}
