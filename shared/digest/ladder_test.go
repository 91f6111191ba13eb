package digest

import (
	"testing"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// The level a request is at, for the calendar's local dates, weekends and holidays included.
func TestLadderAt(t *testing.T) {
	dk, err := deadline.ForCountry("DK")
	if err != nil {
		t.Fatal(err)
	}
	loc := dk.Location()
	day := func(y int, m time.Month, d int) time.Time { return dk.EndOfDay(time.Date(y, m, d, 12, 0, 0, 0, loc)) }
	at := func(y int, m time.Month, d, hh, mm int) time.Time { return time.Date(y, m, d, hh, mm, 0, 0, loc) }
	open := func(due time.Time) *dsr.Request { return &dsr.Request{Status: dsr.Open, Due: due} }
	std := NewLadder(dk, []int{5, 2})
	fine := NewLadder(dk, []int{10, 3, 1})

	tests := []struct {
		name   string
		ladder Ladder
		r      *dsr.Request
		now    time.Time
		level  string // "" for none
		period string
		days   int
	}{
		{"six working days: nothing yet", std, open(day(2026, 11, 30)), at(2026, 11, 20, 7, 0), "", "", 0},
		{"five working days", std, open(day(2026, 11, 27)), at(2026, 11, 20, 7, 0), "wd5", "2026-11-27", 5},
		{"five working days, run on a Saturday", std, open(day(2026, 11, 27)), at(2026, 11, 21, 7, 0), "wd5", "2026-11-27", 5},
		{"three working days is still wd5", std, open(day(2026, 11, 25)), at(2026, 11, 20, 7, 0), "wd5", "2026-11-25", 3},
		{"two working days", std, open(day(2026, 11, 24)), at(2026, 11, 20, 7, 0), "wd2", "2026-11-24", 2},
		{"Saturday to Monday is one working day", std, open(day(2026, 11, 23)), at(2026, 11, 21, 7, 0), "wd2", "2026-11-23", 1},
		{"Christmas: 23 to 28 December is two working days", std, open(day(2026, 12, 28)), at(2026, 12, 23, 7, 0), "wd2", "2026-12-28", 2},
		{"due today, first thing", std, open(day(2026, 11, 20)), at(2026, 11, 20, 0, 0), LevelDueToday, "2026-11-20", 0},
		{"due today, last minute", std, open(day(2026, 11, 20)), at(2026, 11, 20, 23, 59), LevelDueToday, "2026-11-20", 0},
		{"overdue the next day, period is today", std, open(day(2026, 11, 20)), at(2026, 11, 21, 0, 0), LevelOverdue, "2026-11-21", -1},
		{"overdue by three working days", std, open(day(2026, 11, 20)), at(2026, 11, 25, 7, 0), LevelOverdue, "2026-11-25", -3},
		{"local date, not UTC: 00:30 in Copenhagen is the next day", std, open(day(2026, 11, 20)), time.Date(2026, 11, 20, 23, 30, 0, 0, time.UTC), LevelOverdue, "2026-11-21", -1},
		{"extended: the new deadline counts", std, &dsr.Request{Status: dsr.InProgress, Due: day(2026, 11, 20),
			Extension: &dsr.Extension{Deadline: day(2027, 1, 20)}}, at(2027, 1, 19, 7, 0), "wd2", "2027-01-20", 1},
		{"extended far ahead: nothing although the first deadline passed", std, &dsr.Request{Status: dsr.Open, Due: day(2026, 11, 20),
			Extension: &dsr.Extension{Deadline: day(2027, 1, 20)}}, at(2026, 11, 25, 7, 0), "", "", 0},
		{"closed: nothing", std, &dsr.Request{Status: dsr.Completed, Due: day(2026, 11, 20)}, at(2026, 11, 25, 7, 0), "", "", 0},
		{"unconfirmed: nothing", std, &dsr.Request{Status: dsr.PendingVerification, Due: day(2026, 11, 20)}, at(2026, 11, 25, 7, 0), "", "", 0},
		{"own thresholds: one day", fine, open(day(2026, 11, 23)), at(2026, 11, 20, 7, 0), "wd1", "2026-11-23", 1},
		{"own thresholds: two days is wd3", fine, open(day(2026, 11, 24)), at(2026, 11, 20, 7, 0), "wd3", "2026-11-24", 2},
		{"own thresholds: ten days", fine, open(day(2026, 12, 4)), at(2026, 11, 20, 7, 0), "wd10", "2026-12-04", 10},
		{"own thresholds: eleven days", fine, open(day(2026, 12, 7)), at(2026, 11, 20, 7, 0), "", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			esc, ok := tc.ladder.At(tc.r, tc.now)
			if !ok {
				if tc.level != "" {
					t.Fatalf("no level, want %s", tc.level)
				}
				return
			}
			if esc.Level.Name != tc.level || esc.Period != tc.period || esc.Days != tc.days {
				t.Fatalf("got %s %s %d, want %s %s %d", esc.Level.Name, esc.Period, esc.Days, tc.level, tc.period, tc.days)
			}
		})
	}
}

// The horizon reaches exactly the deadlines the largest threshold covers.
func TestLadderHorizon(t *testing.T) {
	dk, _ := deadline.ForCountry("DK")
	l := NewLadder(dk, []int{5, 2})
	now := time.Date(2026, 12, 21, 7, 0, 0, 0, dk.Location())
	want := time.Date(2026, 12, 29, 23, 59, 59, 999999999, dk.Location())
	if got := l.Horizon(now); !got.Equal(want) {
		t.Fatalf("horizon %s, want %s (Christmas holidays skipped)", got, want)
	}
	if names := l.Levels(); len(names) != 4 || names[0].Name != LevelOverdue || names[1].Name != LevelDueToday || names[2].Name != "wd2" || names[3].Name != "wd5" {
		t.Fatalf("levels %v, want most urgent first", names)
	}
}
