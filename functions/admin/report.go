package main

import (
	"fmt"
	"math"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
	"github.com/dsrdesk/dsrdesk/shared/web"
)

type reportView struct {
	// Period names the requests the report covers, by when they were received; Periods lead
	// to the others; Export and Audit are the period's files.
	Period        string
	Periods       []periodLink
	Export, Audit string
	// Types are the column heads, short, and their full names (a card's label on a phone).
	Types      []string
	TypeNames  []string
	Months     []monthRow
	TypeTotals []int
	Total      int

	// Answered counts completed and rejected requests: those the Art. 12 deadline applies to.
	Answered    int
	OnTime      int
	OnTimeShare string
	// Late are the answers that came after the deadline that applied to them, by which
	// deadline (dsr.Lateness): a refusal after one month counts, extended or not.
	Late []lateRow
	// AwaitingFee counts requests waiting for the requester to accept a fee (Art. 12(5)).
	AwaitingFee int
	MedianDays  string
	Overdue     int
	Active      int
	Pending     int
	Expired     int
	// Paused counts the requests whose clock stood still (or stands still) while the
	// controller waited for the requester to confirm their identity; PausedNow those waiting
	// so now.
	Paused, PausedNow int
	// Extended counts the requests whose deadline was extended (Art. 12(3)); Refusals the
	// refusals by their ground, most frequent first.
	Extended int
	Refusals []lateRow
	// Chart draws the period's requests by month, answered on time, late or not (yet).
	Chart *chart
}

type lateRow struct {
	Label string
	Count int
}

type monthRow struct {
	Label  string
	Counts []int
	Total  int
}

// stats is what the report counts, apart from how a page shows it.
type stats struct {
	byMonth  map[string][]int // "2026-03" → count per dsr.Types index
	answered int
	onTime   int
	late     map[dsr.Lateness]int
	fee      int
	days     []int // calendar days from receipt to answer, per answered request
	overdue  int
	active   int
	pending  int
	expired  int
	total    int
	paused   int
	// pausedNow counts the open requests whose clock stands still now.
	pausedNow int
	extended  int
	refusals  map[dsr.Ground]int
	// months tallies, per month of receipt ("2026-03"), the chart's bar.
	months map[string]monthTally
}

// newStats starts the counts.
func newStats() stats {
	return stats{byMonth: map[string][]int{}, late: map[dsr.Lateness]int{}, refusals: map[dsr.Ground]int{}, months: map[string]monthTally{}}
}

// count adds rs, one page of the period, to the report's numbers; now decides what is overdue.
func (h *handler) count(s *stats, rs []*dsr.Request, now time.Time) {
	for _, r := range rs {
		h.tally(s, r, now)
	}
}

// tally counts r, so that the report never holds more than a page of requests.
func (h *handler) tally(s *stats, r *dsr.Request, now time.Time) {
	loc := h.cal.Location()
	s.total++
	month := r.ReceivedAt.In(loc).Format("2006-01")
	if s.byMonth[month] == nil {
		s.byMonth[month] = make([]int, len(dsr.Types))
	}
	for i, t := range dsr.Types {
		if r.Type == t {
			s.byMonth[month][i]++
		}
	}
	if len(r.Pauses) > 0 {
		s.paused++
	}
	if r.Extension != nil {
		s.extended++
	}
	if r.Status == dsr.Rejected && r.Outcome != nil && r.Outcome.Category != "" {
		s.refusals[r.Outcome.Category]++
	}
	mt := s.months[month]
	switch {
	case answered(r) && r.Lateness() == dsr.OnTime:
		mt.onTime++
	case answered(r):
		mt.late++
	default:
		mt.other++
	}
	s.months[month] = mt
	if r.Status.Active() && r.Paused() != nil {
		s.pausedNow++
	}
	switch {
	case answered(r):
		s.answered++
		if late := r.Lateness(); late == dsr.OnTime {
			s.onTime++
		} else {
			s.late[late]++
		}
		s.days = append(s.days, daysBetween(r.ReceivedAt.In(loc), r.ClosedAt.In(loc)))
	case r.Status.Active():
		s.active++
		if r.AwaitingFee() {
			s.fee++
		}
		if now.After(r.Deadline()) {
			s.overdue++
		}
	case r.Status == dsr.PendingVerification:
		s.pending++
	case r.Status == dsr.Expired:
		s.expired++
	}
}

// daysBetween counts calendar days between two local dates: answered the day it came is 0.
func daysBetween(a, b time.Time) int {
	da := time.Date(a.Year(), a.Month(), a.Day(), 0, 0, 0, 0, time.UTC)
	db := time.Date(b.Year(), b.Month(), b.Day(), 0, 0, 0, 0, time.UTC)
	return int(db.Sub(da).Hours() / 24)
}

// median returns the median and false for an empty list.
func median(xs []int) (float64, bool) {
	if len(xs) == 0 {
		return 0, false
	}
	s := append([]int(nil), xs...)
	sort.Ints(s)
	m := len(s) / 2
	if len(s)%2 == 1 {
		return float64(s[m]), true
	}
	return float64(s[m-1]+s[m]) / 2, true
}

// report shows the accountability numbers of Art. 5(2) for the requests received in a period
// (the last twelve months, or a year): what came in, how fast it was answered, how much of it
// on time, and what is late now.
func (h *handler) report(c *call) web.Response {
	p := h.periodOf(c)
	s, now := newStats(), h.now()
	if err := h.eachPage(c, p, "", func(rs []*dsr.Request) (bool, error) {
		h.count(&s, rs, now)
		return true, nil
	}); err != nil {
		return h.fail(c, err)
	}
	l := c.Lang
	v := reportView{
		Period: p.label(l), Periods: h.periodLinks(c, p),
		Export: p.path("/admin/export.csv", "", ""), Audit: p.path("/admin/audit.csv", "", ""),
		Total: s.total, Answered: s.answered, OnTime: s.onTime,
		Overdue: s.overdue, Active: s.active, Pending: s.pending, Expired: s.expired,
		Paused: s.paused, PausedNow: s.pausedNow,
		TypeTotals: make([]int, len(dsr.Types)),
	}
	for _, t := range dsr.Types {
		v.Types = append(v.Types, i18n.T(l, "type."+string(t)+".short"))
		v.TypeNames = append(v.TypeNames, typeLabel(l, t))
	}
	months := make([]string, 0, len(s.byMonth))
	for m := range s.byMonth {
		months = append(months, m)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(months)))
	for _, m := range months {
		row := monthRow{Label: monthLabel(l, m), Counts: s.byMonth[m]}
		for i, n := range row.Counts {
			row.Total += n
			v.TypeTotals[i] += n
		}
		v.Months = append(v.Months, row)
	}
	v.AwaitingFee = s.fee
	for _, late := range []dsr.Lateness{dsr.LatePastDue, dsr.LateRefusalPastMonth, dsr.LatePastExtended} {
		if n := s.late[late]; n > 0 {
			v.Late = append(v.Late, lateRow{Label: i18n.T(l, "late."+string(late)), Count: n})
		}
	}
	if s.answered > 0 {
		v.OnTimeShare = i18n.T(l, "admin.report.percent", int(math.Round(100*float64(s.onTime)/float64(s.answered))))
	}
	if m, ok := median(s.days); ok {
		v.MedianDays = days(l, m)
	}
	v.Extended = s.extended
	for g, n := range s.refusals {
		v.Refusals = append(v.Refusals, lateRow{Label: i18n.T(l, "reject."+string(g)), Count: n})
	}
	sort.Slice(v.Refusals, func(i, j int) bool {
		a, b := v.Refusals[i], v.Refusals[j]
		return a.Count > b.Count || a.Count == b.Count && a.Label < b.Label
	})
	if s.total > 0 {
		v.Chart = monthChart(l, s.months, p.last, h.cal.Location())
	}
	return h.render(c, http.StatusOK, "report", "admin.report.title", v)
}

// monthLabel writes "2026-03" as "marts 2026" / "March 2026". i18n formats whole dates only,
// so the day is cut from the first of the month.
func monthLabel(l i18n.Lang, month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	d := i18n.Date(l, t)
	if _, rest, ok := strings.Cut(d, " "); ok {
		return rest
	}
	return d
}

// days writes a number of days, with a decimal comma in Danish and Norwegian.
func days(l i18n.Lang, n float64) string {
	if n == 1 {
		return i18n.T(l, "admin.report.days.one")
	}
	s := fmt.Sprintf("%.1f", n)
	s = strings.TrimSuffix(s, ".0")
	if l != i18n.EN {
		s = strings.Replace(s, ".", ",", 1)
	}
	return i18n.T(l, "admin.report.days.other", s)
}
