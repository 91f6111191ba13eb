package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/shared/digest"
	"github.com/dsrdesk/dsrdesk/shared/dsr"
	"github.com/dsrdesk/dsrdesk/shared/errlog"
)

// metricsNamespace is where the sweep's CloudWatch metrics appear.
const metricsNamespace = "DSRDesk"

// Digest outcomes, as logged.
const (
	digestNone   = "none" // nothing to report
	digestSent   = "sent"
	digestFailed = "failed"
)

// tally counts what one run did: escalated counts the lines the digest reported, by level (and
// by the other lines' names). It holds references nowhere: what it logs is counts only.
type tally struct {
	mu         sync.Mutex
	levels     []level
	partitions map[dsr.Queue]int
	escalated  map[string]int
	reminders  int
	expired    int
	released   int
	retried    int
	skipped    int
	failures   int
	digest     string
	incomplete bool
}

func newTally(l ladder) *tally {
	return &tally{
		levels:     l.Levels(),
		partitions: map[dsr.Queue]int{},
		escalated:  map[string]int{},
		digest:     digestNone,
	}
}

func (t *tally) add(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
}

func (t *tally) found(q dsr.Queue) { t.add(func() { t.partitions[q]++ }) }
func (t *tally) remind()           { t.add(func() { t.reminders++ }) }
func (t *tally) expire()           { t.add(func() { t.expired++ }) }
func (t *tally) release()          { t.add(func() { t.released++ }) }
func (t *tally) retry(n int)       { t.add(func() { t.retried += n }) }
func (t *tally) skip()             { t.add(func() { t.skipped++ }) }
func (t *tally) fail()             { t.add(func() { t.failures++ }) }
func (t *tally) unfinished()       { t.add(func() { t.incomplete = true }) }
func (t *tally) digestFailed()     { t.add(func() { t.digest = digestFailed; t.failures++ }) }

func (t *tally) digestSent(lines []claimed) {
	t.add(func() {
		t.digest = digestSent
		for _, c := range lines {
			t.escalated[c.claim.Level]++
		}
	})
}

// summary logs the run's one summary line.
func (t *tally) summary(log *slog.Logger, err error, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	found := make([]any, 0, len(t.partitions))
	for _, q := range dsr.Queues {
		found = append(found, slog.Int(strings.ToLower(string(q)), t.partitions[q]))
	}
	escalated := make([]any, 0, len(t.levels))
	for _, l := range t.levels {
		escalated = append(escalated, slog.Int(l.Name, t.escalated[l.Name]))
	}
	attrs := []any{
		slog.Group("found", found...),
		slog.Group("escalated", escalated...),
		"undelivered", t.escalated[digest.LineUndelivered],
		"not_posted", t.escalated[digest.LineNotPosted],
		"not_downloaded", t.escalated[digest.LineNotDownloaded],
		"reminders", t.reminders,
		"expired", t.expired,
		"released", t.released,
		"retried", t.retried,
		"skipped", t.skipped,
		"failures", t.failures,
		"digest", t.digest,
		"complete", err == nil,
		"duration_ms", took.Milliseconds(),
	}
	if err != nil {
		attrs = append(attrs, errlog.Attr(err, outOfTime, noClaims))
		log.Error("sweep", attrs...)
		return
	}
	log.Info("sweep", attrs...)
}

// emf writes the same counts as one CloudWatch Embedded Metric Format record: CloudWatch Logs
// turns it into metrics in the DSRDesk namespace without an API call from the function.
func (t *tally) emf(w io.Writer, function string, at time.Time) {
	t.mu.Lock()
	values := map[string]int{
		"FoundOpen":       t.partitions[dsr.QueueOpen],
		"FoundUnverified": t.partitions[dsr.QueueUnverified],
		"FoundRetry":      t.partitions[dsr.QueueRetry],
		"Reminders":       t.reminders,
		"Expired":         t.expired,
		"Retried":         t.retried,
		"Skipped":         t.skipped,
		"Failures":        t.failures,
		"Undelivered":     t.escalated[digest.LineUndelivered],
		"NotPosted":       t.escalated[digest.LineNotPosted],
		"NotDownloaded":   t.escalated[digest.LineNotDownloaded],
		"DigestSent":      0,
		"Incomplete":      0,
	}
	if t.digest == digestSent {
		values["DigestSent"] = 1
	}
	if t.incomplete {
		values["Incomplete"] = 1
	}
	total := 0
	for _, l := range t.levels {
		values[metricName(l.Name)] = t.escalated[l.Name]
		total += t.escalated[l.Name]
	}
	values["Escalated"] = total
	t.mu.Unlock()

	type metric struct {
		Name string `json:"Name"`
		Unit string `json:"Unit"`
	}
	var metrics []metric
	rec := map[string]any{"Function": function}
	for _, name := range slices.Sorted(maps.Keys(values)) {
		metrics = append(metrics, metric{Name: name, Unit: "Count"})
		rec[name] = values[name]
	}
	rec["_aws"] = map[string]any{
		"Timestamp": at.UnixMilli(),
		"CloudWatchMetrics": []any{map[string]any{
			"Namespace":  metricsNamespace,
			"Dimensions": [][]string{{"Function"}},
			"Metrics":    metrics,
		}},
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return // only plain values above: cannot happen
	}
	// One line, one write: CloudWatch Logs reads an EMF record per log event.
	_, _ = w.Write(append(b, '\n'))
}

// metricName is the metric for a level: "overdue" → "EscalatedOverdue", "wd5" → "EscalatedWd5".
func metricName(level string) string {
	var b strings.Builder
	b.WriteString("Escalated")
	for _, part := range strings.Split(level, "_") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}
