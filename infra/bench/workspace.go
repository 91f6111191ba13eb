package main

import (
	"context"
	"fmt"
	"io"
)

// exportHeapBound is the most the live Go heap may grow while the workspace exports the
// busiest year of 100,000 stored requests: the file is cut at exportBudget (5 MB of JSON) and
// read 500 requests at a time, so it holds a part and a page, never the year. The admin
// function runs with 256 MB.
const exportHeapBound = 64 << 20

// workspacePaths name the rows of BenchmarkWorkspaceScaling (functions/admin).
var workspacePaths = []struct{ name, op string }{
	{"search-ref", "search by reference (opens the request)"},
	{"search-email", "search by address"},
	{"search-name", "search by name (a page of 25)"},
	{"list-open", "worklist: open, by deadline, with counts"},
	{"list-waiting", "worklist: waiting for confirmation"},
	{"list-closed", "worklist: closed (a page of 25)"},
	{"list-all", "worklist: all (a page of 25)"},
	{"list-type", "worklist: all of one type (a page of 25)"},
	{"open-request", "opening a request"},
	{"report", "report for a year"},
	{"export", "export of a year (CSV)"},
}

func workspaceRows(ctx context.Context, t *table, goTool, root string, quick bool, log io.Writer, step stepFunc) error {
	var env []string
	runs := "20x"
	if quick {
		env, runs = []string{"DSR_BENCH_WORKSPACE_LARGE=20000"}, "5x"
	}
	step("workspace at scale (seeding the large table takes a few minutes)")
	res, err := runBenchmarks(ctx, goTool, root, "./functions/admin", "^BenchmarkWorkspaceScaling$", runs, env, log)
	if err != nil {
		return err
	}
	w := res["BenchmarkWorkspaceScaling"]
	const group = "Workspace at scale"
	for _, p := range workspacePaths {
		t.paired(group, fmt.Sprintf("%s: among %.0f stored vs among 1,000, the same %.0f of this year (medians; ratio: median of paired runs)", p.op, w["stored"], w["result"]),
			ms(w[p.name+"-large-ms"]), ms(w[p.name+"-small-ms"]), w[p.name+"-ratio"], 1.5)
	}
	scans := 0.0
	for _, p := range workspacePaths {
		scans += w[p.name+"-scans"]
	}
	t.count(group, "Scans on all these paths, either table", scans, "0", scans == 0)
	t.count(group, fmt.Sprintf("export of the busiest year among %.0f stored: response as Lambda sends it (bytes; a part, the rest offered)", w["stored"]),
		w["export-large-bytes"], "≤ 6 MB", w["export-large-bytes"] <= 6<<20)
	t.count(group, fmt.Sprintf("export of the busiest year among %.0f stored: peak growth of the heap's objects (MB, live and not yet swept)", w["stored"]),
		w["export-large-heap-bytes"]/(1<<20), fmt.Sprintf("≤ %d MB", exportHeapBound>>20), w["export-large-heap-bytes"] <= exportHeapBound)
	t.info(group, fmt.Sprintf("seeding %.0f requests with their search entries (parallel BatchWriteItem)", w["stored"]), fmt.Sprintf("%.0f requests/s", w["seeded/s"]))
	return nil
}
