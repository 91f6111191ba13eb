package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// sizeLimit bounds the linux/arm64 binary of a function that links no S3 client (issue 18);
// one that does is held to its own floor instead (ownFloors, floorTarget).
const sizeLimit = 12e6

// lambdaFlags are the go build flags of the Makefile's LAMBDA_BUILD, read from the Makefile
// (without GOOS, GOARCH and CGO_ENABLED, which build sets), so that what is measured is what
// is deployed.
func lambdaFlags(root string) ([]string, error) {
	f, err := os.Open(filepath.Join(root, "Makefile"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, cmd, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(name) != "LAMBDA_BUILD" {
			continue
		}
		words, err := shellWords(cmd)
		if err != nil {
			return nil, fmt.Errorf("Makefile: LAMBDA_BUILD: %w", err)
		}
		for i, w := range words {
			if w == "build" {
				return words[i+1:], nil
			}
		}
		return nil, errors.New("Makefile: LAMBDA_BUILD runs no go build")
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return nil, errors.New("Makefile: no LAMBDA_BUILD")
}

// shellWords splits a command line as the shell does for what the Makefile writes: words
// between blanks, single and double quotes removed around what they keep together.
func shellWords(s string) ([]string, error) {
	var words []string
	var w strings.Builder
	in, quote := false, rune(0)
	for _, c := range s {
		switch {
		case quote != 0 && c == quote:
			quote = 0
		case quote != 0:
			w.WriteRune(c)
		case c == '\'' || c == '"':
			quote, in = c, true
		case c == ' ' || c == '\t':
			if in {
				words, in = append(words, w.String()), false
				w.Reset()
			}
		default:
			w.WriteRune(c)
			in = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unclosed quote in %q", s)
	}
	if in {
		words = append(words, w.String())
	}
	return words, nil
}

// armSizes builds every function and the floors (floor, and each function's own) for
// linux/arm64 with the Makefile's flags into tmp, two at a time, and returns each binary's
// size by name ("admin", "floor", "floors3", …).
func armSizes(ctx context.Context, goTool, root, tmp string) (map[string]int64, error) {
	pkgs := map[string]string{"floor": "./infra/bench/floor"}
	for _, f := range functions {
		pkgs[f] = "./functions/" + f
		if fl, ok := ownFloors[f]; ok {
			pkgs[fl] = "./infra/bench/" + fl
		}
	}
	sizes := make(map[string]int64, len(pkgs))
	var mu sync.Mutex
	var errs []error
	sem := make(chan struct{}, 2) // a build uses every core while it compiles; two overlap the links
	var wg sync.WaitGroup
	for name, pkg := range pkgs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			bin := filepath.Join(tmp, "arm64-"+name)
			err := build(ctx, goTool, root, pkg, "linux", "arm64", bin)
			var fi os.FileInfo
			if err == nil {
				fi, err = os.Stat(bin)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			sizes[name] = fi.Size()
		})
	}
	wg.Wait()
	return sizes, errors.Join(errs...)
}

// sizeBound is the most function f's binary may weigh: sizeLimit, or floorTarget times its
// own floor's for a function that has one; what says which.
func sizeBound(f string, sizes map[string]int64) (bound float64, what string) {
	if fl, ok := ownFloors[f]; ok {
		return floorTarget * float64(sizes[fl]), fmt.Sprintf("%.1f× %s", floorTarget, fl)
	}
	return sizeLimit, fmt.Sprintf("%.0f MB", sizeLimit/1e6)
}
