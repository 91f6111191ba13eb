// Package deadline computes GDPR Art. 12(3) answer deadlines for Danish and
// Norwegian controllers, as docs/deadlines.md sets out:
// periods counted per Regulation 1182/71 on local dates, rolled forward past
// weekends and statutory public holidays.
//
// A deadline is the last instant of its final day in the country's time zone
// (23:59:59.999999999 local), so t.After(deadline) means the period has run out.
package deadline

import "time"

// Due returns the end of the one-month answer period for a request received at
// `received` by a controller in `country` ("DK" or "NO"): the last instant of the
// final day, in that country's time zone (docs/deadlines.md, one month).
func Due(country string, received time.Time) (time.Time, error) {
	c, err := ForCountry(country)
	if err != nil {
		return time.Time{}, err
	}
	return c.Due(received), nil
}

// Extended returns the end of the period once extended by two further months
// (docs/deadlines.md, extension).
func Extended(country string, received time.Time) (time.Time, error) {
	c, err := ForCountry(country)
	if err != nil {
		return time.Time{}, err
	}
	return c.Extended(received), nil
}

// Due is the package-level Due for this calendar's country. The receipt date is
// received's local date; that day itself is not counted (1182/71 Art. 3(1)).
func (c *Calendar) Due(received time.Time) time.Time {
	return c.endOf(c.rollForward(addMonths(c.day(received), 1)))
}

// Extended is the package-level Extended for this calendar's country: the earlier
// of (a) receipt + 3 months and (b) the un-rolled one-month date + 2 months, both
// clamped, then rolled forward. (b) matters when the receipt date does not exist
// in the first month: received 31 January gives (a) 30 April, (b) 28 April.
func (c *Calendar) Extended(received time.Time) time.Time {
	r := c.day(received)
	a := addMonths(r, 3)
	b := addMonths(addMonths(r, 1), 2)
	if b.Before(a) {
		a = b
	}
	return c.endOf(c.rollForward(a))
}

// rollForward moves a last day that is not a working day to the next working day
// (1182/71 Art. 3(4)).
func (c *Calendar) rollForward(day time.Time) time.Time {
	for !c.isWorkingDay(day) {
		day = day.AddDate(0, 0, 1)
	}
	return day
}

// addMonths returns the same date k months after day or, when that month is too
// short, its last day (1182/71 Art. 3(2)(c)). day must be a midnight-UTC day.
func addMonths(day time.Time, k int) time.Time {
	y, m, d := day.Date()
	first := time.Date(y, m+time.Month(k), 1, 0, 0, 0, 0, time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// Resume returns the deadline once a clock that stood still from `from` to `until` runs again
// (docs/deadlines.md, pause): the deadline in force when it stopped, moved on by the calendar
// days between from's and until's local dates, then rolled forward past a weekend or holiday.
// A pause that starts and ends on the same local day moves nothing. The deadline is counted
// from its local date, already rolled: a period that had run to a Monday because its last day
// was a Saturday stays on the later side, the requester's.
func (c *Calendar) Resume(deadline, from, until time.Time) time.Time {
	days := int(c.day(until).Sub(c.day(from)).Hours() / 24)
	if days <= 0 {
		return deadline
	}
	return c.endOf(c.rollForward(c.day(deadline).AddDate(0, 0, days)))
}
