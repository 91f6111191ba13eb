package main

import (
	"net/url"
	"strconv"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/i18n"
)

// The report and the exports cover a period of receipts: the last twelve months (this month
// and the eleven before it, the report's default) or a calendar year (?year=), in the desk's
// time zone. They read it a page at a time in receipt order (store.EachReceived): what they
// cost follows what the period holds, never what the table holds, and they hold no more than
// a page of requests at once.

// periodPage is how many requests one read of a period hands over.
const periodPage = 500

// period is a span of receipts.
type period struct {
	// Year is the calendar year, or 0 for the last twelve months.
	Year     int
	from, to time.Time
	// last is a moment in the period's last month, where its chart ends.
	last time.Time
}

// periodYears is how many calendar years before this one the report offers.
const periodYears = 3

// periodOf reads ?year=; without one (or with one the desk cannot have) it is the last
// twelve months.
func (h *handler) periodOf(c *call) period {
	loc := h.cal.Location()
	now := h.now().In(loc)
	if y, err := strconv.Atoi(c.Query.Get("year")); err == nil && y >= 2000 && y <= now.Year() {
		return period{Year: y,
			from: time.Date(y, time.January, 1, 0, 0, 0, 0, loc),
			to:   time.Date(y+1, time.January, 1, 0, 0, 0, 0, loc),
			last: time.Date(y, time.December, 15, 0, 0, 0, 0, loc),
		}
	}
	return period{
		from: time.Date(now.Year(), now.Month()-11, 1, 0, 0, 0, 0, loc),
		to:   time.Date(now.Year(), now.Month()+1, 1, 0, 0, 0, 0, loc),
		last: now,
	}
}

// label names the period in a sentence: "received in …".
func (p period) label(l i18n.Lang) string {
	if p.Year == 0 {
		return i18n.T(l, "admin.report.period.last12")
	}
	return strconv.Itoa(p.Year)
}

// path is the address of base for this period, from after to until (receipt positions, ""
// for the period's ends).
func (p period) path(base, after, until string) string {
	q := url.Values{}
	if p.Year != 0 {
		q.Set("year", strconv.Itoa(p.Year))
	}
	if after != "" {
		q.Set("after", after)
	}
	if until != "" {
		q.Set("until", until)
	}
	if len(q) == 0 {
		return base
	}
	return base + "?" + q.Encode()
}

// periodLink is one of the periods the report offers.
type periodLink struct {
	Label, Href string
	Current     bool
}

// periodLinks are the last twelve months, this year and the years before it.
func (h *handler) periodLinks(c *call, p period) []periodLink {
	links := []periodLink{{Label: i18n.T(c.Lang, "admin.report.period.last12_link"), Href: "/admin/report", Current: p.Year == 0}}
	this := h.now().In(h.cal.Location()).Year()
	for y := this; y >= this-periodYears; y-- {
		links = append(links, periodLink{Label: strconv.Itoa(y), Href: "/admin/report?year=" + strconv.Itoa(y), Current: p.Year == y})
	}
	return links
}

// eachPage calls fn with every page of the requests received in p after cursor, oldest first,
// until fn returns false or an error, or the period ends.
func (h *handler) eachPage(c *call, p period, cursor string, fn func([]*dsr.Request) (bool, error)) error {
	return h.reqs.EachReceived(c.ctx, p.from, p.to, cursor, periodPage, fn)
}
