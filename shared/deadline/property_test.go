package deadline

import (
	"math/rand/v2"
	"testing"
	"time"
)

// sameDate is the un-rolled rule, written independently of addMonths: the same
// date k months after (y, m, d), or the last day of that month if it is shorter.
func sameDate(y int, m time.Month, d, k int) time.Time {
	t := time.Date(y, m+time.Month(k), d, 0, 0, 0, 0, time.UTC)
	if t.Day() != d { // normalised into the following month: the date does not exist
		t = time.Date(y, m+time.Month(k)+1, 0, 0, 0, 0, 0, time.UTC)
	}
	return t
}

// localDay returns t's date in loc as midnight UTC, for whole-day arithmetic.
func localDay(t time.Time, loc *time.Location) time.Time {
	y, m, d := t.In(loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// checkRolled checks that got is the end of the first working day on or after
// base, and that this is at most six days on (the longest run of days off is
// Easter: Maundy Thursday to Easter Monday).
func checkRolled(t *testing.T, c *Calendar, received, got time.Time, base time.Time, what string) {
	t.Helper()
	loc := c.Location()
	l := got.In(loc)
	if h, m, s := l.Clock(); h != 23 || m != 59 || s != 59 || l.Nanosecond() != 999_999_999 || got.Location() != loc {
		t.Fatalf("%s %s(%s) = %s: not the end of a local day", c.Country(), what, received, got)
	}
	gd := localDay(got, loc)
	if gd.Before(base) || gd.Sub(base) > 6*24*time.Hour {
		t.Fatalf("%s %s(%s) = %s, want 0-6 days on from %s", c.Country(), what, received, gd.Format(time.DateOnly), base.Format(time.DateOnly))
	}
	if wd := gd.Weekday(); wd == time.Saturday || wd == time.Sunday || c.IsHoliday(got) {
		t.Fatalf("%s %s(%s) = %s (%s): not a working day", c.Country(), what, received, gd.Format(time.DateOnly), wd)
	}
	for d := base; d.Before(gd); d = d.AddDate(0, 0, 1) {
		if c.IsWorkingDay(c.EndOfDay(time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc))) {
			t.Fatalf("%s %s(%s) = %s, but %s is an earlier working day", c.Country(), what, received, gd.Format(time.DateOnly), d.Format(time.DateOnly))
		}
	}
}

func TestDueProperties(t *testing.T) {
	const samples = 20_000
	rng := rand.New(rand.NewPCG(2026, 12))
	lo := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(2036, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	cals := []*Calendar{mustCalendar(t, "DK"), mustCalendar(t, "NO")}

	for i := range samples {
		c := cals[i%len(cals)]
		loc := c.Location()
		received := time.Unix(lo+rng.Int64N(hi-lo), rng.Int64N(1e9)).UTC()
		y, m, d := received.In(loc).Date()

		due := c.Due(received)
		ext := c.Extended(received)
		if pkg, err := Due(c.Country(), received); err != nil || !pkg.Equal(due) {
			t.Fatalf("Due(%s, %s) = %v, %v; method gave %v", c.Country(), received, pkg, err, due)
		}

		oneMonth := sameDate(y, m, d, 1)
		checkRolled(t, c, received, due, oneMonth, "Due")
		if !localDay(due, loc).After(localDay(received, loc)) {
			t.Fatalf("%s Due(%s) = %s: not after the receipt date", c.Country(), received, due)
		}

		extBase := sameDate(y, m, d, 3)
		if b := sameDate(oneMonth.Year(), oneMonth.Month(), oneMonth.Day(), 2); b.Before(extBase) {
			extBase = b
		}
		checkRolled(t, c, received, ext, extBase, "Extended")
		if ext.Before(due) {
			t.Fatalf("%s Extended(%s) = %s is before Due %s", c.Country(), received, ext, due)
		}

		// The sweep's horizon: a deadline is within n working days exactly when it
		// is not after AddWorkingDays(now, n).
		now := received.Add(time.Duration(rng.Int64N(int64(45 * 24 * time.Hour))))
		n := rng.IntN(11)
		horizon := c.AddWorkingDays(now, n)
		if within := c.WorkingDaysUntil(now, due) <= n; within != !due.After(horizon) {
			t.Fatalf("%s now %s n %d: WorkingDaysUntil(due %s) = %d but horizon is %s",
				c.Country(), now, n, due, c.WorkingDaysUntil(now, due), horizon)
		}
		if got := c.WorkingDaysUntil(now, horizon); got != n {
			t.Fatalf("%s WorkingDaysUntil(%s, AddWorkingDays(%d) = %s) = %d", c.Country(), now, n, horizon, got)
		}
		// The sign says ahead, today or past.
		w := c.WorkingDaysUntil(now, due)
		nd, dd := localDay(now, loc), localDay(due, loc)
		if (w > 0) != nd.Before(dd) || (w == 0) != nd.Equal(dd) || (w < 0) != nd.After(dd) {
			t.Fatalf("%s WorkingDaysUntil(%s, %s) = %d has the wrong sign", c.Country(), now, due, w)
		}
	}
}

func BenchmarkDue(b *testing.B) {
	c := mustCalendar(b, "DK")
	received := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		_ = c.Due(received)
	}
}

func BenchmarkDuePackage(b *testing.B) {
	received := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for b.Loop() {
		if _, err := Due("DK", received); err != nil {
			b.Fatal(err)
		}
	}
}
