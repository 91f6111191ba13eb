// Command bench measures the desk against the targets of its performance issue and prints one
// table: AWS round trips per operation, the handlers' overhead over the bare SDK calls they
// make, the sweep over 100,000 stored requests against 1,000, each function's cold start
// against a hello-world aws-lambda-go binary, the arm64 binaries' sizes, and what the desk
// costs: a request's life and an idle month, metered and priced (infra/cost).
//
//	go run ./infra/bench            # what make bench runs
//	go run ./infra/bench -quick     # a smaller sweep table and fewer runs, for a quick look
//
// The benchmarks themselves are ordinary go test benchmarks next to the code they measure
// (functions/*/..._bench_test.go); this command runs them against the emulators, adds the
// cold starts and sizes it measures itself, and compares everything with its target. It
// exits non-zero if any target is missed.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// functions are the deployed functions, by package.
var functions = []string{"intake", "sweep", "admin", "portal", "inbound"}

// ownFloors are the functions that link an SDK client more than every function does, each
// held to a floor of its own: hello with the clients it really calls (infra/bench/floors3 is
// the inbound function's, with S3), within floorTarget of it.
var ownFloors = map[string]string{"inbound": "floors3"}

// floorTarget bounds what a function with a floor of its own may add to it.
const floorTarget = 1.2

func main() {
	quick := flag.Bool("quick", false, "sweep 20,000 stored requests instead of 100,000, fewer iterations and cold starts")
	verbose := flag.Bool("v", false, "show go test's output")
	out := flag.String("o", "", "also write the table (Markdown) to this file")
	only := flag.String("only", "", "comma-separated sections to run (coldstart, size, trips, overhead, sweep, cost, workspace); default all")
	flag.Parse()
	sections := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		if s = strings.TrimSpace(s); s != "" {
			sections[s] = true
		}
	}
	want := func(s string) bool { return len(sections) == 0 || sections[s] }
	if err := run(*quick, *verbose, *out, want); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(quick, verbose bool, outFile string, want func(string) bool) error {
	started := time.Now()
	root, err := repoRoot()
	if err != nil {
		return err
	}
	goTool := os.Getenv("GO")
	if goTool == "" {
		goTool = "go"
	}
	log := io.Discard
	if verbose {
		log = os.Stderr
	}
	ctx := context.Background()
	step := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
	}

	var t table
	tmp, err := os.MkdirTemp("", "dsrdesk-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	// Cold starts first, while nothing else runs.
	if want("coldstart") {
		if err := coldStartRows(ctx, &t, goTool, root, tmp, quick, step); err != nil {
			return err
		}
	}
	if want("size") {
		if err := sizeRows(ctx, &t, goTool, root, tmp, step); err != nil {
			return err
		}
	}
	if want("trips") {
		if err := tripRows(ctx, &t, goTool, root, log, step); err != nil {
			return err
		}
	}
	if want("overhead") {
		if err := overheadRows(ctx, &t, goTool, root, quick, log, step); err != nil {
			return err
		}
	}
	if want("sweep") {
		if err := sweepRows(ctx, &t, goTool, root, quick, log, step); err != nil {
			return err
		}
	}
	if want("cost") {
		if err := costRows(ctx, &t, goTool, root, tmp, log, step); err != nil {
			return err
		}
	}

	if want("workspace") {
		if err := workspaceRows(ctx, &t, goTool, root, quick, log, step); err != nil {
			return err
		}
	}

	md := t.markdown() + "\n" + machine() + "\n"
	fmt.Print("\n" + md)
	fmt.Fprintf(os.Stderr, "bench: done in %s\n", time.Since(started).Round(time.Second))
	if outFile != "" {
		if err := os.WriteFile(outFile, []byte(md), 0o644); err != nil {
			return err
		}
	}
	if t.failed() {
		return errors.New("a target was missed")
	}
	return nil
}

type stepFunc func(format string, args ...any)

func coldStartRows(ctx context.Context, t *table, goTool, root, tmp string, quick bool, step stepFunc) error {
	goos, goarch := hostPlatform()
	step("building the functions and hello for %s/%s", goos, goarch)
	bins := map[string]string{"hello": filepath.Join(tmp, "hello"), "floor": filepath.Join(tmp, "floor"), "floors3": filepath.Join(tmp, "floors3")}
	for _, b := range []string{"hello", "floor", "floors3"} {
		if err := build(ctx, goTool, root, "./infra/bench/"+b, goos, goarch, bins[b]); err != nil {
			return err
		}
	}
	for _, f := range functions {
		bins[f] = filepath.Join(tmp, f)
		if err := build(ctx, goTool, root, "./functions/"+f, goos, goarch, bins[f]); err != nil {
			return err
		}
	}
	env, err := functionEnv(root)
	if err != nil {
		return err
	}
	runs := 61
	if quick {
		runs = 11
	}
	step("cold starts: %d runs of each, taking turns", runs)
	medians, ratios, err := coldStarts(bins, "hello", env, runs)
	if err != nil {
		return err
	}
	const target = 2
	for _, f := range functions {
		t.paired("Cold start", f+": process start → first Runtime API poll (medians; ratio: median of paired runs)", medians[f], medians["hello"], ratios[f], target)
	}
	t.floor("Cold start", floorWhat, fmtDuration(medians["floor"]), fmtDuration(medians["hello"]), fmt.Sprintf("%.2f×", ratios["floor"]))
	t.floor("Cold start", floorS3What, fmtDuration(medians["floors3"]), fmtDuration(medians["hello"]), fmt.Sprintf("%.2f×", ratios["floors3"]))
	for _, f := range functions {
		if fl, ok := ownFloors[f]; ok {
			// Both are paired with hello in every run; their ratio to it divides out.
			t.paired("Cold start", f+": against its own floor, "+fl+" (ratios to hello divided)", medians[f], medians[fl], ratios[f]/ratios[fl], floorTarget)
		}
	}
	return nil
}

func sizeRows(ctx context.Context, t *table, goTool, root, tmp string, step stepFunc) error {
	step("building the functions for linux/arm64")
	sizes, err := armSizes(ctx, goTool, root, tmp)
	if err != nil {
		return err
	}
	for _, f := range functions {
		n := sizes[f]
		if fl, ok := ownFloors[f]; ok {
			// Held to its own floor (sizeBound), not to sizeLimit.
			t.info("Binary size", f+": linux/arm64 bootstrap", fmt.Sprintf("%.1f MB", float64(n)/1e6))
			t.ratioOf("Binary size", f+": against its own floor, "+fl, fmt.Sprintf("%.1f MB", float64(n)/1e6),
				fmt.Sprintf("%.1f MB", float64(sizes[fl])/1e6), float64(n)/float64(sizes[fl]), floorTarget)
			continue
		}
		t.size("Binary size", f+": linux/arm64 bootstrap", n, sizeLimit)
	}
	t.floor("Binary size", floorWhat+": linux/arm64", fmt.Sprintf("%.1f MB", float64(sizes["floor"])/1e6), "–", "–")
	t.floor("Binary size", floorS3What+": linux/arm64", fmt.Sprintf("%.1f MB", float64(sizes["floors3"])/1e6), "–", "–")
	return nil
}

func tripRows(ctx context.Context, t *table, goTool, root string, log io.Writer, step stepFunc) error {
	step("round trips (each AWS call delayed 50 ms so calls made together overlap)")
	intakeTrips, err := runBenchmarks(ctx, goTool, root, "./functions/intake", "^BenchmarkRoundTrips$", "2x", nil, log)
	if err != nil {
		return err
	}
	adminTrips, err := runBenchmarks(ctx, goTool, root, "./functions/admin", "^BenchmarkRoundTrips$", "2x", nil, log)
	if err != nil {
		return err
	}
	portalTrips, err := runBenchmarks(ctx, goTool, root, "./functions/portal", "^BenchmarkRoundTrips$", "2x", nil, log)
	if err != nil {
		return err
	}
	inboundTrips, err := runBenchmarks(ctx, goTool, root, "./functions/inbound", "^BenchmarkRoundTrips$", "2x", nil, log)
	if err != nil {
		return err
	}
	it, at, pt := intakeTrips["BenchmarkRoundTrips"], adminTrips["BenchmarkRoundTrips"], portalTrips["BenchmarkRoundTrips"]
	// Which calls follow each answer is asserted by TestRoundTrips and TestActionRoundTrips.
	for _, r := range []struct {
		op     string
		m      benchResult
		name   string
		target int
	}{
		{"the form page, a container's first (reads the deployment key)", it, "form-first", 3},
		{"form submission, a container's first (reads the deployment key)", it, "submit-first", 3},
		{"form submission", it, "submit", 3},
		{"JSON submission", it, "submit-json", 3},
		{"confirmation", it, "confirm", 3},
		{"confirmation of a used link", it, "confirm-again", 3},
		{"DPO action with a mail (complete)", at, "complete", 3},
		{"DPO action without a mail (note)", at, "note", 3},
		{"DPO request page", at, "detail", 3},
		{"DPO asks the requester (identity, clock paused)", at, "ask", 3},
		{"DPO action form (with its reply template)", at, "action-form", 3},
		{"DPO mail preview", at, "preview", 3},
		{"DPO worklist (open, with counts)", at, "worklist", 3},
		{"DPO list of closed requests", at, "closed-list", 3},
		{"DPO search by name", at, "search", 3},
		{"DPO registers a letter (issue 13 bounds it by 2)", at, "register", 2},
		{"DPO digest preview", at, "digest", 3},
		{"requester's status page", pt, "open", 2},
		{"requester's reply", pt, "reply", 2},
		{"lost-link form", pt, "lost-link", 3},
		{"requester's download of a delivered file", pt, "download", 2},
	} {
		n, measured := r.m[r.name+"-trips"]
		t.trips(r.op, n, r.m[r.name+"-after-trips"], float64(r.target), measured)
	}
	// Nobody waits for a mail to the privacy address: every call counts, end to end. The
	// issue bounds every inbound mail by 4 (TestRoundTrips in functions/inbound holds each
	// sequence, and fails any over 4).
	in := inboundTrips["BenchmarkRoundTrips"]
	for _, r := range []struct {
		op, name string
		target   float64
	}{
		{"a mail that becomes a request (read, stored, acknowledged, its text and state recorded)", "request", 4},
		{"a reply that joins its request (read with its request, message and change, the DPO told, recorded)", "reply", 4},
		{"a reply that starts the clock again (as a reply, the partition's retention moved with the record)", "reply-resumes", 4},
		{"an auto-reply (decided from the receipt's header)", "auto-reply", 0},
		{"spam (quarantined from the receipt's verdict)", "spam", 1},
	} {
		n, measured := in[r.name+"-trips"]
		t.endToEnd(r.op, n, in[r.name+"-calls"], r.target, measured)
	}
	return nil
}

func overheadRows(ctx context.Context, t *table, goTool, root string, quick bool, log io.Writer, step stepFunc) error {
	iterations := "300x"
	if quick {
		iterations = "50x"
	}
	step("handler overhead: %s of each handler against its bare calls", iterations)
	over, err := runBenchmarks(ctx, goTool, root, "./functions/intake", "^Benchmark(Submit|Confirm)$", iterations, nil, log)
	if err != nil {
		return err
	}
	for _, b := range []struct{ name, op string }{{"BenchmarkSubmit", "form submission"}, {"BenchmarkConfirm", "confirmation"}} {
		r := over[b.name]
		t.ratio("Handler overhead", b.op+": handler vs its bare SDK calls (mean)", ms(r["handler-ms"]), ms(r["bare-ms"]), 1.3)
	}
	return nil
}

func sweepRows(ctx context.Context, t *table, goTool, root string, quick bool, log io.Writer, step stepFunc) error {
	var sweepEnv []string
	sweepRuns := "10x"
	if quick {
		sweepEnv, sweepRuns = []string{"DSR_BENCH_SWEEP_LARGE=20000"}, "5x"
	}
	step("sweep scaling (seeding the large table takes a while)")
	sw, err := runBenchmarks(ctx, goTool, root, "./functions/sweep", "^BenchmarkSweepScaling$", sweepRuns, sweepEnv, log)
	if err != nil {
		return err
	}
	s := sw["BenchmarkSweepScaling"]
	t.ratio("Sweep", fmt.Sprintf("sweep of %.0f due among %.0f stored vs among 1,000 (mean)", s["due"], s["stored"]), ms(s["large-ms"]), ms(s["small-ms"]), 1.5)
	t.count("Sweep", "index Queries per run (3 partitions, every due item on one page)", s["queries"], "≤ 1 per page: 3", s["queries"] <= 3)
	t.count("Sweep", "Scans per run", s["scans"], "0", s["scans"] == 0)
	t.count("Sweep", "digest mails per run", s["digests"], "1", s["digests"] == 1)
	t.info("Sweep", fmt.Sprintf("seeding %.0f requests (parallel BatchWriteItem)", s["stored"]), fmt.Sprintf("%.0f items/s", s["seeded/s"]))
	return nil
}

// floorWhat names the floor binary in the table (see infra/bench/floor).
const floorWhat = "floor: AWS config from the environment (shared/awsenv), DynamoDB and SES clients, html/template, no code of ours"

// floorS3What names the inbound function's own floor (see infra/bench/floors3).
const floorS3What = "floors3: the floor and an S3 client (the inbound function's clients), no code of ours"

func ms(v float64) time.Duration { return time.Duration(v * float64(time.Millisecond)) }

// machine says what the table was measured on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	return fmt.Sprintf("Measured %s on %d CPUs (%s), %s %s/%s, against dynalite and aws-ses-v2-local on loopback.",
		time.Now().UTC().Format("2006-01-02"), runtime.NumCPU(), model, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

// repoRoot walks up from the working directory to go.mod.
func repoRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err == nil {
		if mod := strings.TrimSpace(string(out)); mod != "" && mod != os.DevNull {
			return filepath.Dir(mod), nil
		}
	}
	return "", errors.New("run from inside the repository (no go.mod found)")
}
