package main

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// row is one line of the table.
type row struct {
	group, operation, measured, baseline, value, target string
	pass                                                bool
	// accepted explains a miss that is kept on purpose; it becomes a note under the table.
	accepted string
}

type table struct{ rows []row }

func (t *table) ratio(group, op string, measured, baseline time.Duration, target float64) {
	r := float64(measured) / float64(baseline)
	t.rows = append(t.rows, row{group: group, operation: op,
		measured: fmtDuration(measured), baseline: fmtDuration(baseline),
		value: fmt.Sprintf("%.2f×", r), target: fmt.Sprintf("≤ %.1f×", target), pass: r <= target})
}

// paired is ratio with the ratio measured separately (see coldStarts); accepted explains a
// miss, as for size.
func (t *table) paired(group, op string, measured, baseline time.Duration, r, target float64, accepted string) {
	row := row{group: group, operation: op,
		measured: fmtDuration(measured), baseline: fmtDuration(baseline),
		value: fmt.Sprintf("%.2f×", r), target: fmt.Sprintf("≤ %.1f×", target), pass: r <= target}
	if !row.pass {
		row.accepted = accepted
	}
	t.rows = append(t.rows, row)
}

func (t *table) trips(op string, n, target float64, accepted string) {
	r := row{group: "Round trips", operation: op + ": sequential AWS round trips before the response",
		measured: fmt.Sprintf("%.0f", n), baseline: "–", value: fmt.Sprintf("%.0f", n),
		target: fmt.Sprintf("≤ %.0f", target), pass: n <= target && n > 0}
	if !r.pass && n > 0 {
		r.accepted = accepted
	}
	t.rows = append(t.rows, r)
}

func (t *table) count(group, op string, n float64, target string, pass bool) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: fmt.Sprintf("%.0f", n), baseline: "–",
		value: fmt.Sprintf("%.0f", n), target: target, pass: pass})
}

func (t *table) size(group, op string, bytes int64, limit float64, accepted string) {
	r := row{group: group, operation: op, measured: fmt.Sprintf("%.1f MB", float64(bytes)/1e6), baseline: "–",
		value: "–", target: fmt.Sprintf("≤ %.0f MB", limit/1e6), pass: float64(bytes) <= limit}
	if !r.pass {
		r.accepted = accepted
	}
	t.rows = append(t.rows, r)
}

// floor is a measurement to read the others by, with no target of its own.
func (t *table) floor(group, op, measured, baseline, value string) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: measured, baseline: baseline, value: value, target: "–", pass: true})
}

func (t *table) info(group, op, measured string) {
	t.rows = append(t.rows, row{group: group, operation: op, measured: measured, baseline: "–", value: "–", target: "–", pass: true})
}

// failed reports a missed target that no note accounts for.
func (t *table) failed() bool {
	for _, r := range t.rows {
		if !r.pass && r.accepted == "" {
			return true
		}
	}
	return false
}

func (t *table) markdown() string {
	var b strings.Builder
	b.WriteString("| Operation | Measured | Baseline | Ratio or count | Target | Result |\n")
	b.WriteString("|---|---|---|---|---|---|\n")
	var notes []string
	for _, r := range t.rows {
		result := "pass"
		switch {
		case r.pass && r.target == "–":
			result = "–"
		case !r.pass && r.accepted != "":
			i := slices.Index(notes, r.accepted)
			if i < 0 {
				notes = append(notes, r.accepted)
				i = len(notes) - 1
			}
			result = fmt.Sprintf("over, kept (%d)", i+1)
		case !r.pass:
			result = "**FAIL**"
		}
		fmt.Fprintf(&b, "| %s: %s | %s | %s | %s | %s | %s |\n", r.group, r.operation, r.measured, r.baseline, r.value, r.target, result)
	}
	if len(notes) > 0 {
		b.WriteString("\n")
		for i, n := range notes {
			fmt.Fprintf(&b, "(%d) %s\n", i+1, n)
		}
	}
	return b.String()
}

func fmtDuration(d time.Duration) string {
	return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000)
}
