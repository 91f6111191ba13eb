// Package digest holds what the DPO's daily digest says and how: the ladder of levels a
// request escalates through as its deadline nears (overdue, due today, N working days), and
// the one mail that reports requests at their levels. The sweep sends it; the workspace
// previews it.
package digest

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
	LevelOverdue  = "overdue"
	LevelDueToday = "due_today"
)

// Level is one step of the escalation ladder.
type Level struct {
	// Name keys the mark: "overdue", "due_today" or "wd<N>".
	Name string
	// Rank orders levels, most urgent (0) first.
	Rank int
	// WorkingDays is N for a "wd<N>" level, 0 otherwise.
	WorkingDays int
}

// Escalation is the level a request is at today, and the period that makes it "once".
type Escalation struct {
	Level Level
	// Period is the deadline's local date for the one-off levels (so an extension, which moves
	// the deadline, makes them due again) and today's local date for overdue (once a day).
	Period string
	// Days is the working days from today to the deadline: negative once it has passed.
	Days int
}

// Ladder assigns levels from the controller's calendar and the configured thresholds.
type Ladder struct {
	cal *deadline.Calendar
	// wd holds the working-day levels, smallest threshold (most urgent) first.
	wd []Level
}

// NewLadder makes the ladder of thresholds as config.LoadSweep reads them: at least one,
// distinct working days from 1, in any order.
func NewLadder(cal *deadline.Calendar, thresholds []int) Ladder {
	t := slices.Clone(thresholds)
	slices.Sort(t)
	l := Ladder{cal: cal}
	for i, n := range t {
		l.wd = append(l.wd, Level{Name: "wd" + strconv.Itoa(n), Rank: 2 + i, WorkingDays: n})
	}
	return l
}

// Levels lists every level, most urgent first.
func (l Ladder) Levels() []Level {
	return append([]Level{{Name: LevelOverdue, Rank: 0}, {Name: LevelDueToday, Rank: 1}}, l.wd...)
}

// Horizon is the latest deadline the sweep must read today: the end of the local day that is
// the largest threshold's number of working days away.
func (l Ladder) Horizon(now time.Time) time.Time {
	return l.cal.AddWorkingDays(now, l.wd[len(l.wd)-1].WorkingDays)
}

// At returns the level a request that escalates (dsr.Request.Escalates: an active one, or an
// unconfirmed one on the short clock) is at now, if any. Only the most urgent level that
// applies is returned: a request that enters late (filed close to the deadline, or a sweep that
// did not run for days) is reported at its current level, not at the ones it skipped.
func (l Ladder) At(r *dsr.Request, now time.Time) (Escalation, bool) {
	if !r.Escalates() {
		return Escalation{}, false
	}
	dl := r.Deadline()
	days := l.cal.WorkingDaysUntil(now, dl)
	switch {
	case now.After(dl):
		// The deadline is the last instant of its day, so this is never "today".
		return Escalation{Level: Level{Name: LevelOverdue, Rank: 0}, Period: l.cal.LocalDate(now), Days: days}, true
	case days == 0:
		return Escalation{Level: Level{Name: LevelDueToday, Rank: 1}, Period: l.cal.LocalDate(dl), Days: 0}, true
	}
	for _, lv := range l.wd {
		if days <= lv.WorkingDays {
			return Escalation{Level: lv, Period: l.cal.LocalDate(dl), Days: days}, true
		}
	}
	return Escalation{}, false
}
