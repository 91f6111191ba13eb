package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// benchResult is one benchmark's metrics by unit ("ratio", "handler-ms", …).
type benchResult map[string]float64

// runBenchmarks runs the benchmarks matching pattern in pkg, each for benchtime, and returns
// their metrics by benchmark name (without the -GOMAXPROCS suffix). go test's own output goes
// to log as it comes.
func runBenchmarks(ctx context.Context, goTool, root, pkg, pattern, benchtime string, env []string, log io.Writer) (map[string]benchResult, error) {
	cmd := exec.CommandContext(ctx, goTool, "test", "-count=1", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-timeout", "30m", pkg)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout = io.MultiWriter(&out, log)
	cmd.Stderr = log
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench %s %s: %w", pattern, pkg, err)
	}
	results := map[string]benchResult{}
	sc := bufio.NewScanner(&out)
	for sc.Scan() {
		name, res, ok := parseBenchLine(sc.Text())
		if ok {
			results[name] = res
		}
	}
	return results, sc.Err()
}

// parseBenchLine reads "BenchmarkX-2  100  123 ns/op  1.1 ratio …".
func parseBenchLine(line string) (string, benchResult, bool) {
	f := strings.Fields(line)
	if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") || len(f)%2 != 0 {
		return "", nil, false
	}
	if _, err := strconv.Atoi(f[1]); err != nil {
		return "", nil, false
	}
	name := f[0]
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			name = name[:i]
		}
	}
	res := benchResult{}
	for i := 2; i+1 < len(f); i += 2 {
		v, err := strconv.ParseFloat(f[i], 64)
		if err != nil {
			return "", nil, false
		}
		res[f[i+1]] = v
	}
	return name, res, true
}
