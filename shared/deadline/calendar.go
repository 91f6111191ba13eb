package deadline

import (
	_ "embed"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rickar/cal/v2"
	"github.com/rickar/cal/v2/aa"
	"github.com/rickar/cal/v2/dk"
	"github.com/rickar/cal/v2/no"
)

// ErrUnknownCountry is returned (wrapped) for a country code other than "DK" or "NO".
// It is a configuration error: the package never falls back to a default calendar.
var ErrUnknownCountry = errors.New("unknown country")

// lastBededag is the last year Store Bededag was a Danish public holiday; it was
// abolished from 2024. Pinned here rather than taken from the library, so an
// upstream change cannot move deadlines.
const lastBededag = 2023

// Calendar is a country's statutory calendar: its time zone and the public
// holidays that extend a deadline (docs/deadlines.md, holidays). Obtain one with
// ForCountry; a Calendar is immutable and safe for concurrent use.
//
// Every method that takes a time.Time looks only at its date in the calendar's
// time zone, whatever location the value carries.
type Calendar struct {
	country  string
	loc      *time.Location
	holidays []*cal.Holiday
}

// ForCountry returns the calendar for "DK" (Denmark) or "NO" (Norway). Any other
// code, including lower case, yields an error wrapping ErrUnknownCountry.
func ForCountry(country string) (*Calendar, error) {
	var holidays []*cal.Holiday
	switch country {
	case "DK":
		// Picked one by one: dk.Holidays also holds Grundlovsdag, which is not a
		// helligdag and must not extend a deadline. Easter Sunday and Whit Sunday
		// are Sundays anyway; they are listed so IsHoliday matches the statute.
		holidays = []*cal.Holiday{
			dk.Nytaarsdag,
			dk.Skaertorsdag,
			dk.Langfredag,
			aa.Easter.Clone(&cal.Holiday{Name: "Påskedag", Type: cal.ObservancePublic}),
			dk.AndenPaaskedag,
			dk.StoreBededag.Clone(&cal.Holiday{EndYear: lastBededag}),
			dk.KristiHimmelfartsdag,
			aa.Pentecost.Clone(&cal.Holiday{Name: "Pinsedag", Type: cal.ObservancePublic}),
			dk.AndenPinsedag,
			dk.Juledag,
			dk.AndenJuledag,
		}
	case "NO":
		holidays = []*cal.Holiday{
			no.FoersteNyttaarsdag,
			no.Skjaertorsdag,
			no.Langfredag,
			aa.Easter.Clone(&cal.Holiday{Name: "Første påskedag", Type: cal.ObservancePublic}),
			no.AndrePaaskedag,
			no.Arbeiderenesdag,
			no.Grunnlovsdag,
			no.Kristihimmelfartsdag,
			aa.Pentecost.Clone(&cal.Holiday{Name: "Første pinsedag", Type: cal.ObservancePublic}),
			no.AndrePinsedag,
			no.FoersteJuledag,
			no.AndreJuledag,
		}
	default:
		return nil, fmt.Errorf("deadline: country %q: %w", country, ErrUnknownCountry)
	}
	loc, err := Location(country)
	if err != nil {
		return nil, err
	}
	return &Calendar{country: country, loc: loc, holidays: holidays}, nil
}

// Location returns the time zone whose dates count for a controller in country:
// Europe/Copenhagen for "DK", Europe/Oslo for "NO".
func Location(country string) (*time.Location, error) {
	zone, ok := zones[country]
	if !ok {
		return nil, fmt.Errorf("deadline: country %q: %w", country, ErrUnknownCountry)
	}
	loc, err := zone()
	if err != nil {
		return nil, fmt.Errorf("deadline: time zone for %s: %w", country, err)
	}
	return loc, nil
}

// The two time zones the desk knows, as TZif files copied from the Go toolchain's time zone
// database ($GOROOT/lib/time/zoneinfo.zip; TestZonesAsGoKnowsThem fails when Go's differ, and
// says how to copy them again). Lambda's provided.al2023 image has no zoneinfo, and the whole
// database (time/tzdata) would add 450 kB to every binary for two zones of 1 kB.
var (
	//go:embed zoneinfo/Europe_Copenhagen
	copenhagen []byte
	//go:embed zoneinfo/Europe_Oslo
	oslo []byte
)

// zones load each country's time zone once: every function asks for it twice at cold start
// (the calendar, the mails).
var zones = map[string]func() (*time.Location, error){
	"DK": sync.OnceValues(func() (*time.Location, error) { return time.LoadLocationFromTZData("Europe/Copenhagen", copenhagen) }),
	"NO": sync.OnceValues(func() (*time.Location, error) { return time.LoadLocationFromTZData("Europe/Oslo", oslo) }),
}

// Country returns the country code the calendar was built for.
func (c *Calendar) Country() string { return c.country }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// IsHoliday reports whether t's local date is a statutory public holiday.
func (c *Calendar) IsHoliday(t time.Time) bool { return c.isHoliday(c.day(t)) }

// IsWorkingDay reports whether t's local date is neither a Saturday, a Sunday nor
// a statutory public holiday.
func (c *Calendar) IsWorkingDay(t time.Time) bool { return c.isWorkingDay(c.day(t)) }

// StartOfDay returns the first instant (00:00 local) of t's local date.
func (c *Calendar) StartOfDay(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, c.loc)
}

// EndOfDay returns the last instant (23:59:59.999999999 local) of t's local date.
// That is the moment a period ending "at the end of the day" runs out; formatted
// with whole seconds it reads 23:59:59, as the reference states it.
func (c *Calendar) EndOfDay(t time.Time) time.Time { return c.endOf(c.day(t)) }

// LocalDate returns t's local date as YYYY-MM-DD, e.g. as a key for "once per day".
func (c *Calendar) LocalDate(t time.Time) string { return t.In(c.loc).Format(time.DateOnly) }

// WorkingDaysUntil counts working days from from's local date to deadline's local
// date, for escalation thresholds (docs/deadlines.md, escalation). With a = from's
// date and b = deadline's:
//
//   - a == b: 0 (due today);
//   - a < b: the number of working days d with a < d <= b, but at least 1,
//     so Friday → Monday is 1 and Saturday → Monday is 1;
//   - a > b: minus the number of working days d with b < d <= a, but at most -1,
//     so a deadline on Friday is -1 on Saturday, Sunday and Monday, -2 on Tuesday.
//
// The sign therefore always says whether the deadline date is ahead, today or past.
// For n >= 0 and a deadline on a working day (as Due and Extended return),
// WorkingDaysUntil(from, deadline) <= n exactly when deadline is not after
// AddWorkingDays(from, n).
func (c *Calendar) WorkingDaysUntil(from, deadline time.Time) int {
	a, b := c.day(from), c.day(deadline)
	switch a.Compare(b) {
	case 0:
		return 0
	case -1:
		return max(1, c.countWorkingDays(a, b))
	default:
		return -max(1, c.countWorkingDays(b, a))
	}
}

// AddWorkingDays returns the end of the local date that is the n-th working day
// after date's local date (before it when n < 0); date's own day is never counted.
// With n == 0 it is the end of date's local day, working day or not. The sweep
// uses it for its query horizon: AddWorkingDays(now, N) is the latest deadline that
// is at most N working days away.
func (c *Calendar) AddWorkingDays(date time.Time, n int) time.Time {
	day, step := c.day(date), 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		day = day.AddDate(0, 0, step)
		if c.isWorkingDay(day) {
			n--
		}
	}
	return c.endOf(day)
}

// The unexported helpers work on "days": a local date held as midnight UTC, so
// that day arithmetic never crosses a daylight-saving change.

// day returns t's local date as a day.
func (c *Calendar) day(t time.Time) time.Time {
	y, m, d := t.In(c.loc).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// endOf returns the last instant of day in the calendar's time zone. Danish and
// Norwegian clocks change at 01:00 UTC, so 23:59:59 local always exists.
func (c *Calendar) endOf(day time.Time) time.Time {
	y, m, d := day.Date()
	return time.Date(y, m, d, 23, 59, 59, 999_999_999, c.loc)
}

func (c *Calendar) isWorkingDay(day time.Time) bool {
	switch day.Weekday() {
	case time.Saturday, time.Sunday:
		return false
	}
	return !c.isHoliday(day)
}

func (c *Calendar) isHoliday(day time.Time) bool {
	y, m, d := day.Date()
	for _, h := range c.holidays {
		// Calc gives the date in cal.DefaultLoc; only its calendar fields matter.
		// The statutory (actual) date counts: neither country moves holidays.
		actual, _ := h.Calc(y)
		if actual.IsZero() {
			continue
		}
		if ay, am, ad := actual.Date(); ay == y && am == m && ad == d {
			return true
		}
	}
	return false
}

// countWorkingDays counts working days d with a < d <= b. It walks the days, which
// is plenty for spans of a few months; it is not meant for spans of decades.
func (c *Calendar) countWorkingDays(a, b time.Time) int {
	n := 0
	for d := a.AddDate(0, 0, 1); !d.After(b); d = d.AddDate(0, 0, 1) {
		if c.isWorkingDay(d) {
			n++
		}
	}
	return n
}
