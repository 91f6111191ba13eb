package main

import (
	"time"

	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The report's chart: the requests received each month of the last year, each month's bar
// split into those answered on time, answered late and not answered (yet). It is inline SVG
// drawn on the server, so it needs no script and prints; each bar has a title a screen reader
// reads, and the table below it holds the same numbers.

// chartMonths is how many months the chart shows, ending with the current one.
const chartMonths = 12

// The chart's geometry, in SVG user units: a bar and the gap after it, the plot's height,
// and room above a bar (its count) and below the plot (the month).
const (
	barWidth   = 26
	barGap     = 12
	plotHeight = 120
	chartTop   = 18
	chartFoot  = 22
)

type chart struct {
	W, H, Base int
	Bars       []bar
	Legend     []legendEntry
}

type bar struct {
	Label, Title string
	Total        int
	CX, TY       int
	Parts        []barPart
}

type barPart struct {
	X, Y, W, H int
	Class      string
}

type legendEntry struct{ Label, Class string }

// monthTally is what a month's bar shows.
type monthTally struct{ onTime, late, other int }

// monthChart draws the chart from each month's tally ("2026-03" → counts), for the
// chartMonths ending with now's month.
func monthChart(l i18n.Lang, tally map[string]monthTally, now time.Time, loc *time.Location) *chart {
	first := time.Date(now.In(loc).Year(), now.In(loc).Month()-chartMonths+1, 1, 0, 0, 0, 0, loc)
	peak := 1
	for i := range chartMonths {
		t := tally[first.AddDate(0, i, 0).Format("2006-01")]
		peak = max(peak, t.onTime+t.late+t.other)
	}
	c := &chart{W: chartMonths * (barWidth + barGap), H: chartTop + plotHeight + chartFoot, Base: chartTop + plotHeight}
	c.Legend = []legendEntry{
		{i18n.T(l, "admin.chart.on_time"), "bar-ok"},
		{i18n.T(l, "admin.chart.late"), "bar-late"},
		{i18n.T(l, "admin.chart.other"), "bar-other"},
	}
	for i := range chartMonths {
		m := first.AddDate(0, i, 0)
		t := tally[m.Format("2006-01")]
		x := i*(barWidth+barGap) + barGap/2
		b := bar{Total: t.onTime + t.late + t.other, CX: x + barWidth/2, Label: shortMonth(l, m)}
		b.Title = i18n.T(l, "admin.chart.bar", monthLabel(l, m.Format("2006-01")), b.Total, t.onTime, t.late, t.other)
		y := c.Base
		for _, p := range []struct {
			n     int
			class string
		}{{t.onTime, "bar-ok"}, {t.late, "bar-late"}, {t.other, "bar-other"}} {
			if p.n == 0 {
				continue
			}
			h := max(1, p.n*plotHeight/peak)
			y -= h
			b.Parts = append(b.Parts, barPart{X: x, Y: y, W: barWidth, H: h, Class: p.class})
		}
		b.TY = y - 4
		c.Bars = append(c.Bars, b)
	}
	return c
}

// shortMonth is a month's name cut to three letters, with the year under January's.
func shortMonth(l i18n.Lang, m time.Time) string {
	name := []rune(monthLabel(l, m.Format("2006-01")))
	if len(name) > 3 {
		name = name[:3]
	}
	if m.Month() == time.January {
		return string(name) + " " + m.Format("06")
	}
	return string(name)
}
