// Package schedule parses EventBridge Scheduler expressions (cron, rate, at) and says
// when they fire next, so the local runner can invoke scheduled functions the way the
// deployed schedule would.
package schedule

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // A schedule's time zone must load on machines without zoneinfo.
)

// Schedule says when an expression fires.
type Schedule interface {
	// Next returns the first firing time strictly after t, or the zero time if it
	// never fires again.
	Next(t time.Time) time.Time
}

// Parse parses a ScheduleExpression in the given IANA time zone ("" is UTC). The time
// zone applies to cron and at expressions; a rate counts from start, where the runner
// begins.
func Parse(expr, timezone string, start time.Time) (Schedule, error) {
	loc := time.UTC
	if timezone != "" {
		var err error
		if loc, err = time.LoadLocation(timezone); err != nil {
			return nil, fmt.Errorf("schedule time zone %q: %w", timezone, err)
		}
	}
	kind, body, ok := strings.Cut(strings.TrimSpace(expr), "(")
	if !ok || !strings.HasSuffix(body, ")") {
		return nil, fmt.Errorf("schedule %q: want cron(…), rate(…) or at(…)", expr)
	}
	body = strings.TrimSuffix(body, ")")
	var s Schedule
	var err error
	switch kind {
	case "cron":
		s, err = parseCron(body, loc)
	case "rate":
		s, err = parseRate(body, start)
	case "at":
		var t time.Time
		t, err = time.ParseInLocation("2006-01-02T15:04:05", body, loc)
		s = at(t)
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", expr, err)
	}
	return s, nil
}

type at time.Time

func (a at) Next(t time.Time) time.Time {
	if time.Time(a).After(t) {
		return time.Time(a)
	}
	return time.Time{}
}

type rate struct {
	start time.Time
	every time.Duration
}

func parseRate(body string, start time.Time) (Schedule, error) {
	fields := strings.Fields(body)
	if len(fields) != 2 {
		return nil, fmt.Errorf("rate: want \"value unit\"")
	}
	n, err := strconv.Atoi(fields[0])
	if err != nil || n < 1 {
		return nil, fmt.Errorf("rate: %q is not a positive whole number", fields[0])
	}
	unit := map[string]time.Duration{
		"minute": time.Minute, "minutes": time.Minute,
		"hour": time.Hour, "hours": time.Hour,
		"day": 24 * time.Hour, "days": 24 * time.Hour,
	}[fields[1]]
	if unit == 0 {
		return nil, fmt.Errorf("rate: unit %q is not minute(s), hour(s) or day(s)", fields[1])
	}
	return rate{start: start, every: time.Duration(n) * unit}, nil
}

func (r rate) Next(t time.Time) time.Time {
	if t.Before(r.start) {
		return r.start.Add(r.every)
	}
	n := t.Sub(r.start)/r.every + 1
	return r.start.Add(n * r.every)
}

// cron is the six-field EventBridge form: minutes hours day-of-month month day-of-week
// year. Exactly one of day-of-month and day-of-week is "?".
type cron struct {
	loc                    *time.Location
	minutes, hours, months set
	years                  set
	dom, dow               dayMatcher
}

// set holds the allowed values of a field; index = value.
type set []bool

type dayMatcher func(d time.Time) bool

var (
	monthNames = map[string]int{"JAN": 1, "FEB": 2, "MAR": 3, "APR": 4, "MAY": 5, "JUN": 6, "JUL": 7, "AUG": 8, "SEP": 9, "OCT": 10, "NOV": 11, "DEC": 12}
	// EventBridge numbers days of the week 1 (SUN) to 7 (SAT).
	dayNames = map[string]int{"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
)

const (
	minYear = 1970
	maxYear = 2199
)

func parseCron(body string, loc *time.Location) (Schedule, error) {
	f := strings.Fields(body)
	if len(f) != 6 {
		return nil, fmt.Errorf("cron: want 6 fields (minutes hours day-of-month month day-of-week year), got %d", len(f))
	}
	c := &cron{loc: loc}
	var err error
	if c.minutes, err = parseField(f[0], 0, 59, nil); err != nil {
		return nil, fmt.Errorf("minutes: %w", err)
	}
	if c.hours, err = parseField(f[1], 0, 23, nil); err != nil {
		return nil, fmt.Errorf("hours: %w", err)
	}
	if c.months, err = parseField(f[3], 1, 12, monthNames); err != nil {
		return nil, fmt.Errorf("month: %w", err)
	}
	if c.years, err = parseField(f[5], minYear, maxYear, nil); err != nil {
		return nil, fmt.Errorf("year: %w", err)
	}
	switch {
	case f[2] == "?" && f[4] == "?":
		return nil, fmt.Errorf("cron: day-of-month and day-of-week cannot both be ?")
	case f[2] != "?" && f[4] != "?":
		return nil, fmt.Errorf("cron: one of day-of-month and day-of-week must be ?")
	case f[2] != "?":
		if c.dom, err = parseDOM(f[2]); err != nil {
			return nil, fmt.Errorf("day-of-month: %w", err)
		}
		c.dow = func(time.Time) bool { return true }
	default:
		if c.dow, err = parseDOW(f[4]); err != nil {
			return nil, fmt.Errorf("day-of-week: %w", err)
		}
		c.dom = func(time.Time) bool { return true }
	}
	return c, nil
}

// parseField handles numbers (or names), *, lists, ranges and /steps.
func parseField(field string, lo, hi int, names map[string]int) (set, error) {
	s := make(set, hi+1)
	for _, part := range strings.Split(field, ",") {
		rng, stepText, hasStep := strings.Cut(part, "/")
		step := 1
		if hasStep {
			n, err := strconv.Atoi(stepText)
			if err != nil || n < 1 {
				return nil, fmt.Errorf("bad step %q", stepText)
			}
			step = n
		}
		from, to := lo, hi
		switch {
		case rng == "*":
		case strings.Contains(rng, "-"):
			a, b, _ := strings.Cut(rng, "-")
			var err error
			if from, err = value(a, lo, hi, names); err != nil {
				return nil, err
			}
			if to, err = value(b, lo, hi, names); err != nil {
				return nil, err
			}
			if to < from {
				return nil, fmt.Errorf("range %q runs backwards", rng)
			}
		default:
			v, err := value(rng, lo, hi, names)
			if err != nil {
				return nil, err
			}
			from, to = v, v
			if hasStep {
				to = hi // "5/15" means from 5 every 15.
			}
		}
		for v := from; v <= to; v += step {
			s[v] = true
		}
	}
	return s, nil
}

func value(text string, lo, hi int, names map[string]int) (int, error) {
	if v, ok := names[strings.ToUpper(text)]; ok {
		return v, nil
	}
	v, err := strconv.Atoi(text)
	if err != nil || v < lo || v > hi {
		return 0, fmt.Errorf("%q is not a value from %d to %d", text, lo, hi)
	}
	return v, nil
}

// parseDOM adds L (last day of the month), nW (the weekday nearest day n) and LW.
func parseDOM(field string) (dayMatcher, error) {
	switch {
	case field == "L":
		return func(d time.Time) bool { return d.Day() == lastDay(d) }, nil
	case field == "LW":
		return func(d time.Time) bool { return d.Day() == nearestWeekday(d, lastDay(d)) }, nil
	case strings.HasSuffix(field, "W"):
		n, err := value(strings.TrimSuffix(field, "W"), 1, 31, nil)
		if err != nil {
			return nil, err
		}
		return func(d time.Time) bool { return n <= lastDay(d) && d.Day() == nearestWeekday(d, n) }, nil
	}
	s, err := parseField(field, 1, 31, nil)
	if err != nil {
		return nil, err
	}
	return func(d time.Time) bool { return s[d.Day()] }, nil
}

// parseDOW adds n#k (the k-th such weekday of the month) and nL (the last one).
func parseDOW(field string) (dayMatcher, error) {
	weekday := func(d time.Time) int { return int(d.Weekday()) + 1 }
	if day, nth, ok := strings.Cut(field, "#"); ok {
		dv, err := value(day, 1, 7, dayNames)
		if err != nil {
			return nil, err
		}
		k, err := value(nth, 1, 5, nil)
		if err != nil {
			return nil, err
		}
		return func(d time.Time) bool { return weekday(d) == dv && (d.Day()-1)/7+1 == k }, nil
	}
	if day, ok := strings.CutSuffix(field, "L"); ok && day != "" {
		dv, err := value(day, 1, 7, dayNames)
		if err != nil {
			return nil, err
		}
		return func(d time.Time) bool { return weekday(d) == dv && d.Day()+7 > lastDay(d) }, nil
	}
	if field == "L" {
		field = "7" // L alone is the last day of the week, Saturday.
	}
	s, err := parseField(field, 1, 7, dayNames)
	if err != nil {
		return nil, err
	}
	return func(d time.Time) bool { return s[weekday(d)] }, nil
}

func lastDay(d time.Time) int {
	return time.Date(d.Year(), d.Month()+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// nearestWeekday is the Monday-to-Friday day nearest to day n of d's month, not
// crossing into another month.
func nearestWeekday(d time.Time, n int) int {
	t := time.Date(d.Year(), d.Month(), n, 0, 0, 0, 0, time.UTC)
	switch t.Weekday() {
	case time.Saturday:
		if n == 1 {
			return 3
		}
		return n - 1
	case time.Sunday:
		if n == lastDay(d) {
			return n - 2
		}
		return n + 1
	}
	return n
}

func (c *cron) Next(after time.Time) time.Time {
	t := after.In(c.loc)
	day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, c.loc)
	for ; day.Year() <= maxYear; day = day.AddDate(0, 0, 1) {
		if !c.years[day.Year()] {
			// Jump to the next year rather than walking its days.
			day = time.Date(day.Year()+1, 1, 1, 0, 0, 0, 0, c.loc).AddDate(0, 0, -1)
			continue
		}
		if !c.months[int(day.Month())] || !c.dom(day) || !c.dow(day) {
			continue
		}
		for h := 0; h < 24; h++ {
			if !c.hours[h] {
				continue
			}
			for m := 0; m < 60; m++ {
				if !c.minutes[m] {
					continue
				}
				fire := time.Date(day.Year(), day.Month(), day.Day(), h, m, 0, 0, c.loc)
				// A wall time skipped by a DST change normalises into another hour or day.
				if fire.Day() != day.Day() || fire.Hour() != h {
					continue
				}
				if fire.After(after) {
					return fire
				}
			}
		}
	}
	return time.Time{}
}
