package main

import (
	"context"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBinarySizes holds every function's linux/arm64 binary, built as the Makefile builds it
// for Lambda, to its bound (issue 18): 12 MB for a function without S3, 1.2× its own floor for
// one with it. With a warm build cache the builds take seconds; the first arm64 build on a
// machine compiles the standard library and the SDK for arm64 (two minutes on two busy cores).
func TestBinarySizes(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	sizes, err := armSizes(ctx, "go", root, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d binaries in %s", len(sizes), time.Since(start).Round(time.Millisecond))
	for _, f := range functions {
		bound, what := sizeBound(f, sizes)
		t.Logf("%s: %.2f MB (bound %.2f MB: %s)", f, float64(sizes[f])/1e6, bound/1e6, what)
		if float64(sizes[f]) > bound {
			t.Errorf("%s: the linux/arm64 binary is %.2f MB, over its bound of %.2f MB (%s)", f, float64(sizes[f])/1e6, bound/1e6, what)
		}
	}
}

// TestLambdaFlags reads the Makefile's LAMBDA_BUILD as the shell would run it.
func TestLambdaFlags(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	flags, err := lambdaFlags(root)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(flags, "-trimpath") || !slices.Contains(flags, "-ldflags=-s -w -buildid=") {
		t.Errorf("LAMBDA_BUILD's flags read as %q", flags)
	}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{` GOOS=linux $(GO) build -tags a,b -trimpath -ldflags='-s -w -buildid='`, []string{"GOOS=linux", "$(GO)", "build", "-tags", "a,b", "-trimpath", "-ldflags=-s -w -buildid="}},
		{`go build "-ldflags=-X 'a=b c'"  x`, []string{"go", "build", "-ldflags=-X 'a=b c'", "x"}},
		{`a '' b`, []string{"a", "", "b"}},
	} {
		if got, err := shellWords(tc.in); err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	if _, err := shellWords(`go build 'x`); err == nil {
		t.Error("an unclosed quote is read")
	}
}

// TestNoSchemaTables fails when a function links a package of the SDK's schema-based
// serializer. Each such package builds a table of its service's shapes at every cold start:
// DynamoDB's took 1.0 ms of a 4.4 ms start on the bench machine (3,150 allocations), about
// 0.4× hello, in the floor and in every function alike. The DynamoDB modules are held at the
// last releases before it (go.mod). To take a later release, for a fix the desk needs, lift
// the hold, run `go run ./infra/bench -only coldstart` and restate the README's Cold start
// figures; this test is then changed with them, on purpose.
func TestNoSchemaTables(t *testing.T) {
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range functions {
		cmd := exec.Command("go", "list", "-deps", "-tags", "lambda.norpc,nethttpomithttp2", "./functions/"+f)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list %s: %v", f, err)
		}
		for _, pkg := range strings.Fields(string(out)) {
			if strings.HasPrefix(pkg, "github.com/aws/") && strings.HasSuffix(pkg, "/schemas") {
				t.Errorf("%s links %s: its schema tables are built at every cold start", f, pkg)
			}
		}
	}
}
