package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// costResult is what infra/e2e's TestCostOfARequestsLife writes to $DSR_COST_OUT.
type costResult struct {
	Recorded string `json:"recorded"`
	Life     []struct {
		Name   string
		Shared bool
		Usage  map[string]float64
	} `json:"life"`
	Stored struct {
		TableBytes int64
		Months     float64
	} `json:"stored"`
	Fixed struct {
		Alarms            int
		SchedulesPerMonth float64
	} `json:"fixed"`
	Regions []struct {
		Region, Name string
		PerRequest   map[string]float64
		Per1000      float64
		Alone        float64
		Idle         map[string]float64
		IdleMonth    float64
	} `json:"regions"`
	Model   map[string]float64 `json:"model"`
	Targets map[string]float64 `json:"targets"`
}

// costRows runs a request's life on the local runner behind the meter (infra/cost) and
// prices it with infra/cost/prices.json.
func costRows(ctx context.Context, t *table, goTool, root, tmp string, log io.Writer, step stepFunc) error {
	step("cost: one request's life on the local runner, metered")
	out := filepath.Join(tmp, "cost.json")
	cmd := exec.CommandContext(ctx, goTool, "test", "-count=1", "-run", "^TestCostOfARequestsLife$", "-v", "-timeout", "10m", "./infra/e2e")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "DSR_COST_OUT="+out)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go test -run TestCostOfARequestsLife ./infra/e2e (rerun with -v to see it): %w", err)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		return err
	}
	var c costResult
	if err := json.Unmarshal(data, &c); err != nil {
		return fmt.Errorf("cost.json: %w", err)
	}
	for _, p := range c.Life {
		u := p.Usage
		what := fmt.Sprintf("%.0f invocations, %.0f HTTP API calls, %.1f read and %.0f+%.0f write units (table+indexes), %.0f mails",
			u["Invocations"], u["APICalls"], u["ReadUnits"], u["WriteUnits"], u["IndexWriteUnits"], u["Mails"])
		name := "a request's life: " + p.Name
		if p.Shared {
			name += " (once a day, for every request)"
		}
		t.info("Cost", name, what)
	}
	t.info("Cost", fmt.Sprintf("a request's partition, kept %.0f months (RetentionDays)", c.Stored.Months), fmt.Sprintf("%.1f KB", float64(c.Stored.TableBytes)/1000))
	for _, r := range c.Regions {
		t.rows = append(t.rows, row{group: "Cost", operation: fmt.Sprintf("%s: %.0f requests in a month, each through its life (%s)", r.Region, c.Model["requests"], breakdown(r.PerRequest, 1000)),
			measured: fmt.Sprintf("%.2f USD", r.Per1000), baseline: fmt.Sprintf("alone: %.4f USD", r.Alone), value: "–",
			target: fmt.Sprintf("≤ %.2f USD", c.Targets["per_1000"]), pass: r.Per1000 <= c.Targets["per_1000"]})
		t.rows = append(t.rows, row{group: "Cost", operation: fmt.Sprintf("%s: an idle deployment, a month (%s)", r.Region, breakdown(r.Idle, 1)),
			measured: fmt.Sprintf("%.2f USD", r.IdleMonth), baseline: "–", value: "–",
			target: fmt.Sprintf("≤ %.2f USD", c.Targets["idle_month"]), pass: r.IdleMonth <= c.Targets["idle_month"]})
	}
	t.info("Cost", "prices: infra/cost/prices.json", "recorded "+c.Recorded)
	return nil
}

// breakdown lists the lines of a cost over a cent, times n, largest first.
func breakdown(b map[string]float64, n float64) string {
	keys := make([]string, 0, len(b))
	for k, v := range b {
		if v*n >= 0.005 {
			keys = append(keys, k)
		}
	}
	sort.Slice(keys, func(i, j int) bool { return b[keys[i]] > b[keys[j]] })
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.2f", k, b[k]*n)
	}
	return strings.Join(parts, ", ")
}
