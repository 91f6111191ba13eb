package main

import (
	"fmt"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	group, operation, measured, baseline, value, target string
	pass                                                bool
}

type table struct{ rows []row }

func (t *table) ratio(group, op string, measured, baseline time.Duration, target float64) {
	r := float64(measured) / float64(baseline)
	t.rows = append(t.rows, row{group: group, operation: op,
		measured: fmtDuration(measured), baseline: fmtDuration(baseline),
		value: fmt.Sprintf("%.2f×", r), target: fmt.Sprintf("≤ %.1f×", target), pass: r <= target})
}

// ratioOf is ratio for measures that are not durations.
func (t *table) ratioOf(group, op, measured, baseline string, r, target float64) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: measured, baseline: baseline,
		value: fmt.Sprintf("%.2f×", r), target: fmt.Sprintf("≤ %.1f×", target), pass: r <= target})
}

// endToEnd is a count of round trips for work nobody waits for: all of them, with the calls
// they hold.
func (t *table) endToEnd(op string, n, calls, target float64, measured bool) {
	t.rows = append(t.rows, row{group: "Round trips", operation: op + ": sequential AWS round trips end to end",
		measured: fmt.Sprintf("%.0f", n), baseline: fmt.Sprintf("%.0f calls", calls), value: fmt.Sprintf("%.0f", n),
		target: fmt.Sprintf("≤ %.0f", target), pass: n <= target && measured})
}

// paired is ratio with the ratio measured separately (see coldStarts).
func (t *table) paired(group, op string, measured, baseline time.Duration, r, target float64) {
	t.rows = append(t.rows, row{group: group, operation: op,
		measured: fmtDuration(measured), baseline: fmtDuration(baseline),
		value: fmt.Sprintf("%.2f×", r), target: fmt.Sprintf("≤ %.1f×", target), pass: r <= target})
}

// trips is a count of round trips before the response; after counts the ones made once the
// response has gone, which no one waits for (the mails and their record).
// trips adds a round-trip row; measured is false when the benchmark reported no figure, which
// fails the row (an operation that needs no call at all before its answer reports 0).
func (t *table) trips(op string, n, after, target float64, measured bool) {
	t.rows = append(t.rows, row{group: "Round trips", operation: op + ": sequential AWS round trips before the response",
		measured: fmt.Sprintf("%.0f", n), baseline: fmt.Sprintf("%.0f after it", after), value: fmt.Sprintf("%.0f", n),
		target: fmt.Sprintf("≤ %.0f", target), pass: n <= target && measured})
}

func (t *table) count(group, op string, n float64, target string, pass bool) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: fmt.Sprintf("%.0f", n), baseline: "–",
		value: fmt.Sprintf("%.0f", n), target: target, pass: pass})
}

func (t *table) size(group, op string, bytes int64, limit float64) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: fmt.Sprintf("%.1f MB", float64(bytes)/1e6), baseline: "–",
		value: "–", target: fmt.Sprintf("≤ %.0f MB", limit/1e6), pass: float64(bytes) <= limit})
}

// floor is a measurement to read the others by, with no target of its own.
func (t *table) floor(group, op, measured, baseline, value string) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: measured, baseline: baseline, value: value, target: "–", pass: true})
}

func (t *table) info(group, op, measured string) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: measured, baseline: "–", value: "–", target: "–", pass: true})
}

// failed reports a missed target.
func (t *table) failed() bool {
	for _, r := range t.rows {
		if !r.pass {
			return true
		}
	}
	return false
}

func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| Operation | Measured | Baseline | Ratio or count | Target | Result |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	for _, r := range t.rows {
		result := "pass"
		switch {
		case r.pass && r.target == "–":
			result = "–"
		case !r.pass:
			result = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s | %s |\n", r.group, r.operation, r.measured, r.baseline, r.value, r.target, result)
	}
	return b.String()
}

func fmtDuration(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
