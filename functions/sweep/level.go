package main

import (
	"slices"
	"strconv"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/deadline"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
)

// Level names are the keys of the escalation marks stored on each request (esc.<name>):
// renaming one would report every request at that level again.
const (
	levelOverdue  = "overdue"
	levelDueToday = "due_today"
)

// level is one step of the escalation ladder.
type level struct {
	// Name keys the mark: "overdue", "due_today" or "wd<N>".
	Name string
	// Rank orders levels, most urgent (0) first.
	Rank int
	// WorkingDays is N for a "wd<N>" level, 0 otherwise.
	WorkingDays int
}

// escalation is the level a request is at today, and the period that makes it "once".
type escalation struct {
	Level level
	// Period is the deadline's local date for the one-off levels (so an extension, which moves
	// the deadline, makes them due again) and today's local date for overdue (once a day).
	Period string
	// Days is the working days from today to the deadline: negative once it has passed.
	Days int
}

// ladder assigns levels from the controller's calendar and the configured thresholds.
type ladder struct {
	cal *deadline.Calendar
	// wd holds the working-day levels, smallest threshold (most urgent) first.
	wd []level
}

// newLadder makes the ladder of thresholds as config.LoadSweep reads them: at least one,
// distinct working days from 1, in any order.
func newLadder(cal *deadline.Calendar, thresholds []int) ladder {
	t := slices.Clone(thresholds)
	slices.Sort(t)
	l := ladder{cal: cal}
	for i, n := range t {
		l.wd = append(l.wd, level{Name: "wd" + strconv.Itoa(n), Rank: 2 + i, WorkingDays: n})
	}
	return l
}

// levels lists every level, most urgent first.
func (l ladder) levels() []level {
	return append([]level{{Name: levelOverdue, Rank: 0}, {Name: levelDueToday, Rank: 1}}, l.wd...)
}

// horizon is the latest deadline the sweep must read today: the end of the local day that is
// the largest threshold's number of working days away.
func (l ladder) horizon(now time.Time) time.Time {
	return l.cal.AddWorkingDays(now, l.wd[len(l.wd)-1].WorkingDays)
}

// at returns the level a request that escalates (dsr.Request.Escalates: an active one, or an
// unconfirmed one on the short clock) is at now, if any. Only the most urgent level that
// applies is returned: a request that enters late (filed close to the deadline, or a sweep that
// did not run for days) is reported at its current level, not at the ones it skipped.
func (l ladder) at(r *dsr.Request, now time.Time) (escalation, bool) {
	if !r.Escalates() {
		return escalation{}, false
	}
	dl := r.Deadline()
	days := l.cal.WorkingDaysUntil(now, dl)
	switch {
	case now.After(dl):
		// The deadline is the last instant of its day, so this is never "today".
		return escalation{Level: level{Name: levelOverdue, Rank: 0}, Period: l.cal.LocalDate(now), Days: days}, true
	case days == 0:
		return escalation{Level: level{Name: levelDueToday, Rank: 1}, Period: l.cal.LocalDate(dl), Days: 0}, true
	}
	for _, lv := range l.wd {
		if days <= lv.WorkingDays {
			return escalation{Level: lv, Period: l.cal.LocalDate(dl), Days: days}, true
		}
	}
	return escalation{}, false
}
