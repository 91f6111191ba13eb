package deadline

import (
	"testing"
	"time"

	"github.com/rickar/cal/v2/dk"
)

func mustCalendar(t testing.TB, country string) *Calendar {
	t.Helper()
	c, err := ForCountry(country)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// day returns noon on a local date, a time that is unambiguous in every zone.
func day(t testing.TB, c *Calendar, s string) time.Time {
	t.Helper()
	v, err := time.ParseInLocation(time.DateOnly, s, c.Location())
	if err != nil {
		t.Fatal(err)
	}
	return v.Add(12 * time.Hour)
}

func TestHolidays(t *testing.T) {
	// Every statutory holiday of the year, as docs/deadlines.md lists them.
	want := map[string][]string{
		"DK": {
			// 2023, with Store Bededag (5 May).
			"2023-01-01", "2023-04-06", "2023-04-07", "2023-04-09", "2023-04-10", "2023-05-05",
			"2023-05-18", "2023-05-28", "2023-05-29", "2023-12-25", "2023-12-26",
			// 2024, without it.
			"2024-01-01", "2024-03-28", "2024-03-29", "2024-03-31", "2024-04-01",
			"2024-05-09", "2024-05-19", "2024-05-20", "2024-12-25", "2024-12-26",
			// 2026.
			"2026-01-01", "2026-04-02", "2026-04-03", "2026-04-05", "2026-04-06",
			"2026-05-14", "2026-05-24", "2026-05-25", "2026-12-25", "2026-12-26",
		},
		"NO": {
			"2023-01-01", "2023-04-06", "2023-04-07", "2023-04-09", "2023-04-10", "2023-05-01",
			"2023-05-17", "2023-05-18", "2023-05-28", "2023-05-29", "2023-12-25", "2023-12-26",
			"2024-01-01", "2024-03-28", "2024-03-29", "2024-03-31", "2024-04-01", "2024-05-01",
			"2024-05-09", "2024-05-17", "2024-05-19", "2024-05-20", "2024-12-25", "2024-12-26",
			"2026-01-01", "2026-04-02", "2026-04-03", "2026-04-05", "2026-04-06", "2026-05-01",
			"2026-05-14", "2026-05-17", "2026-05-24", "2026-05-25", "2026-12-25", "2026-12-26",
		},
	}
	for country, dates := range want {
		c := mustCalendar(t, country)
		set := map[string]bool{}
		for _, d := range dates {
			set[d] = true
		}
		// Walk every day of the years so a holiday too many fails as well.
		for _, year := range []int{2023, 2024, 2026} {
			for d := time.Date(year, 1, 1, 12, 0, 0, 0, c.Location()); d.Year() == year; d = d.AddDate(0, 0, 1) {
				s := d.Format(time.DateOnly)
				if got := c.IsHoliday(d); got != set[s] {
					t.Errorf("%s IsHoliday(%s %s) = %v, want %v", country, s, d.Weekday(), got, set[s])
				}
				weekend := d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
				if got := c.IsWorkingDay(d); got != (!weekend && !set[s]) {
					t.Errorf("%s IsWorkingDay(%s %s) = %v", country, s, d.Weekday(), got)
				}
			}
		}
	}
}

func TestNotHolidays(t *testing.T) {
	cases := []struct{ country, date, why string }{
		{"DK", "2026-06-05", "Grundlovsdag (Fri)"},
		{"DK", "2025-06-05", "Grundlovsdag (Thu)"},
		{"DK", "2025-12-24", "Christmas Eve (Wed)"},
		{"DK", "2025-12-31", "New Year's Eve (Wed)"},
		{"DK", "2026-05-01", "1 May, and would-have-been Store Bededag 2026"},
		{"DK", "2024-04-26", "Store Bededag abolished from 2024"},
		{"DK", "2025-05-16", "Store Bededag abolished from 2024"},
		{"DK", "2024-05-17", "17 May is Norwegian"},
		{"NO", "2023-05-05", "Store Bededag is Danish"},
		{"NO", "2026-06-05", "Grundlovsdag is Danish"},
		{"NO", "2025-12-24", "Christmas Eve (Wed)"},
		{"NO", "2025-12-31", "New Year's Eve (Wed)"},
	}
	for _, tc := range cases {
		c := mustCalendar(t, tc.country)
		d := day(t, c, tc.date)
		if c.IsHoliday(d) || !c.IsWorkingDay(d) {
			t.Errorf("%s %s (%s): holiday %v, working day %v; want a working day",
				tc.country, tc.date, tc.why, c.IsHoliday(d), c.IsWorkingDay(d))
		}
	}
}

// The library's own Store Bededag stops at 2023 too; ForCountry pins the year
// regardless, and this records that the two agree.
func TestLibraryStoreBededag(t *testing.T) {
	if got, _ := dk.StoreBededag.Calc(2023); got.Format(time.DateOnly) != "2023-05-05" {
		t.Errorf("dk.StoreBededag 2023 = %v, want 2023-05-05", got)
	}
	if got, _ := dk.StoreBededag.Calc(2024); !got.IsZero() {
		t.Errorf("dk.StoreBededag 2024 = %v, want none", got)
	}
	if dk.StoreBededag.EndYear != lastBededag {
		t.Errorf("dk.StoreBededag.EndYear = %d, want %d", dk.StoreBededag.EndYear, lastBededag)
	}
}

// The local date decides, not the date of the instant in UTC.
func TestIsHolidayLocalDate(t *testing.T) {
	c := mustCalendar(t, "NO")
	// 30 Apr 22:30Z is 1 May 00:30 in Oslo (CEST).
	if !c.IsHoliday(utc(t, "2026-04-30T22:30:00Z")) {
		t.Error("30 Apr 22:30Z should be 1 May in Oslo")
	}
	if c.IsHoliday(utc(t, "2026-04-30T21:30:00Z")) {
		t.Error("30 Apr 21:30Z should be 30 Apr in Oslo")
	}
}

func TestWorkingDaysUntil(t *testing.T) {
	cases := []struct {
		country, from, deadline string
		want                    int
	}{
		{"DK", "2026-04-07", "2026-04-07", 0},  // due today
		{"DK", "2026-03-30", "2026-04-07", 3},  // 31 Mar, 1 Apr, (Easter 2-6 Apr), 7 Apr
		{"DK", "2026-03-26", "2026-04-07", 5},  // 27, 30, 31 Mar, 1, 7 Apr
		{"DK", "2026-04-06", "2026-04-07", 1},  // from Easter Monday
		{"DK", "2026-03-27", "2026-03-30", 1},  // Fri -> Mon
		{"DK", "2026-03-28", "2026-03-30", 1},  // Sat -> Mon
		{"DK", "2026-03-29", "2026-03-30", 1},  // Sun -> Mon
		{"DK", "2026-03-27", "2026-03-28", 1},  // a weekend deadline is still ahead
		{"DK", "2026-03-28", "2026-03-29", 1},  // no working day between, still ahead
		{"DK", "2026-03-28", "2026-03-27", -1}, // overdue on Saturday
		{"DK", "2026-03-29", "2026-03-27", -1}, // and Sunday
		{"DK", "2026-03-30", "2026-03-27", -1}, // Monday is the first working day overdue
		{"DK", "2026-03-31", "2026-03-27", -2},
		{"DK", "2026-04-07", "2026-04-01", -1}, // only 7 Apr counts after Easter
		{"DK", "2026-04-08", "2026-04-01", -2},
		{"DK", "2026-03-29", "2026-03-28", -1},
		{"DK", "2026-04-30", "2026-05-04", 2}, // 1 May, 4 May
		{"NO", "2026-04-30", "2026-05-04", 1}, // 1 May is a holiday in Norway
		{"DK", "2025-12-23", "2026-01-02", 5}, // 24, 29, 30, 31 Dec, 2 Jan
		{"NO", "2025-12-23", "2026-01-02", 5},
		{"DK", "2023-05-04", "2023-05-08", 1},  // Store Bededag 5 May 2023
		{"DK", "2024-04-25", "2024-04-29", 2},  // 26 Apr 2024 is a working day
		{"NO", "2024-05-16", "2024-05-21", 1},  // 17 May, Whit weekend and Monday
		{"DK", "2024-05-16", "2024-05-21", 2},  // 17 May counts in Denmark
		{"DK", "2026-03-02", "2026-04-07", 23}, // 4+5+5+5 in March to the 27th, 30, 31 Mar, 1 and 7 Apr
	}
	for _, tc := range cases {
		c := mustCalendar(t, tc.country)
		from, deadline := day(t, c, tc.from), c.EndOfDay(day(t, c, tc.deadline))
		if got := c.WorkingDaysUntil(from, deadline); got != tc.want {
			t.Errorf("%s WorkingDaysUntil(%s %s, %s %s) = %d, want %d", tc.country,
				tc.from, from.Weekday(), tc.deadline, deadline.Weekday(), got, tc.want)
		}
	}
}

func TestWorkingDaysUntilLocalDate(t *testing.T) {
	c := mustCalendar(t, "DK")
	deadline := c.EndOfDay(day(t, c, "2026-03-30")) // Monday
	// 26 Mar 23:30Z is Fri 27 Mar 00:30 in Copenhagen; 22:30Z is still Thursday.
	if got := c.WorkingDaysUntil(utc(t, "2026-03-26T23:30:00Z"), deadline); got != 1 {
		t.Errorf("from Fri 00:30 local = %d, want 1", got)
	}
	if got := c.WorkingDaysUntil(utc(t, "2026-03-26T22:30:00Z"), deadline); got != 2 {
		t.Errorf("from Thu 23:30 local = %d, want 2", got)
	}
	// Any time on the deadline's day is "due today", even past its end in UTC terms.
	if got := c.WorkingDaysUntil(utc(t, "2026-03-30T21:59:00Z"), deadline); got != 0 {
		t.Errorf("deadline day 23:59 local = %d, want 0", got)
	}
	if got := c.WorkingDaysUntil(utc(t, "2026-03-30T22:00:00Z"), deadline); got != -1 {
		t.Errorf("next local day 00:00 = %d, want -1", got)
	}
}

func TestAddWorkingDays(t *testing.T) {
	cases := []struct {
		country, from string
		n             int
		want          string
	}{
		{"DK", "2026-03-26", 5, "2026-04-07"}, // 27, 30, 31 Mar, 1 Apr, Easter, 7 Apr
		{"DK", "2026-03-26", 0, "2026-03-26"},
		{"DK", "2026-03-28", 0, "2026-03-28"}, // a Saturday stays itself
		{"DK", "2026-03-27", 1, "2026-03-30"}, // Fri + 1 -> Mon
		{"DK", "2026-03-28", 1, "2026-03-30"}, // Sat + 1 -> Mon
		{"DK", "2026-03-29", 2, "2026-03-31"},
		{"DK", "2026-04-30", 1, "2026-05-01"},
		{"NO", "2026-04-30", 1, "2026-05-04"}, // 1 May holiday, weekend
		{"NO", "2026-05-15", 2, "2026-05-19"}, // 17 May on a Sunday
		{"NO", "2024-05-16", 1, "2024-05-21"}, // 17 May, Whit weekend, Whit Monday
		{"DK", "2025-12-23", 2, "2025-12-29"}, // 24 Dec, then 29 Dec
		{"DK", "2023-05-04", 1, "2023-05-08"}, // Store Bededag 2023
		{"DK", "2024-04-25", 1, "2024-04-26"}, // not in 2024
		{"DK", "2025-12-31", 1, "2026-01-02"},
		{"DK", "2026-04-07", -1, "2026-04-01"},
		{"DK", "2026-04-07", -3, "2026-03-30"},
		{"DK", "2026-03-30", -1, "2026-03-27"},
	}
	for _, tc := range cases {
		c := mustCalendar(t, tc.country)
		got := c.AddWorkingDays(day(t, c, tc.from), tc.n)
		t.Run(tc.country+"/"+tc.from, func(t *testing.T) { checkEndOfDay(t, tc.country, got, tc.want) })
	}
	// The start is the local date: 27 Mar 23:30Z is Sat 28 Mar in Copenhagen.
	c := mustCalendar(t, "DK")
	checkEndOfDay(t, "DK", c.AddWorkingDays(utc(t, "2026-03-27T23:30:00Z"), 0), "2026-03-28")
	checkEndOfDay(t, "DK", c.AddWorkingDays(utc(t, "2026-03-26T23:30:00Z"), 1), "2026-03-30")
}

func TestDayHelpers(t *testing.T) {
	c := mustCalendar(t, "DK")
	at := utc(t, "2026-03-28T23:30:00Z") // 29 Mar 00:30 CET, the summer-time night
	if got := c.LocalDate(at); got != "2026-03-29" {
		t.Errorf("LocalDate = %s", got)
	}
	if got := c.StartOfDay(at).UTC().Format(time.RFC3339); got != "2026-03-28T23:00:00Z" {
		t.Errorf("StartOfDay = %s, want 00:00 CET", got)
	}
	if got := c.EndOfDay(at).UTC().Format(time.RFC3339Nano); got != "2026-03-29T21:59:59.999999999Z" {
		t.Errorf("EndOfDay = %s, want 23:59:59.999999999 CEST", got)
	}
	checkEndOfDay(t, "DK", c.EndOfDay(at), "2026-03-29")
}

// A Calendar is shared by concurrent invocations; run with -race.
func TestCalendarConcurrentUse(t *testing.T) {
	c := mustCalendar(t, "NO")
	received := utc(t, "2024-04-17T10:00:00Z")
	done := make(chan time.Time)
	for range 8 {
		go func() { done <- c.Due(received) }()
	}
	for range 8 {
		checkEndOfDay(t, "NO", <-done, "2024-05-21")
	}
}
