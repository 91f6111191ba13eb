package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/dsrdesk/dsrdesk/infra/samtemplate"
)

// build compiles every function for the host into a fresh folder. The builds run
// side by side; the go command's cache makes them cheap after the first run.
func (r *Runner) build(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "dsrdesk-local-")
	if err != nil {
		return fmt.Errorf("build folder: %w", err)
	}
	r.buildDir = dir
	goBin, err := exec.LookPath("go")
	if err != nil {
		return errors.New("the go command is not on PATH: it is needed to build the functions")
	}
	start := time.Now()
	errs := make([]error, len(r.order))
	sem := make(chan struct{}, 2) // a build already uses every core; two overlap the linking.
	var wg sync.WaitGroup
	for i, id := range r.order {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = r.buildOne(ctx, goBin, r.functions[id].def)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	r.log.Info("built functions", "count", len(r.order), "duration", time.Since(start).Round(time.Millisecond))
	return nil
}

// buildOne builds the function's main package with the flags Lambda builds use but
// for this machine's OS and architecture, so that the runner can execute it.
func (r *Runner) buildOne(ctx context.Context, goBin string, fn *samtemplate.Function) error {
	dir, pkg, flags, err := r.mainPackage(ctx, fn)
	if err != nil {
		return err
	}
	// The flags the target's go build passes (the Makefile's LAMBDA_BUILD: its tags give the
	// same HTTP client, without the bundled HTTP/2, as on Lambda), for this machine.
	args := append(append([]string{"build"}, flags...), "-o", r.bootstrap(fn.LogicalID), pkg)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = dir
	// For the host: a GOOS/GOARCH left over from a sam build must not leak in.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GOOS=") && !strings.HasPrefix(kv, "GOARCH=") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	if msg, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("function %s does not build (go build %s in %s): %w\n%s", fn.LogicalID, pkg, dir, err, strings.TrimSpace(string(msg)))
	}
	return nil
}

// mainPackage finds what to build and with which flags. BuildMethod go1.x (or none): the
// package in CodeUri, no flags, as sam build does. BuildMethod makefile: the package and the
// flags (all but -o) the Makefile's build-<LogicalId> target passes to go build, read from
// make -n, because the target itself cross-compiles for Lambda and its binary would not run
// here.
func (r *Runner) mainPackage(ctx context.Context, fn *samtemplate.Function) (dir, pkg string, flags []string, err error) {
	codeDir := fn.CodeURI
	if !filepath.IsAbs(codeDir) {
		codeDir = filepath.Join(r.opts.Dir, codeDir)
	}
	if fn.BuildMethod != "makefile" {
		return codeDir, ".", nil, nil
	}
	target := "build-" + fn.LogicalID
	makeBin, err := exec.LookPath("make")
	if err != nil {
		return "", "", nil, fmt.Errorf("function %s has BuildMethod makefile: make is not on PATH to read its %s target", fn.LogicalID, target)
	}
	cmd := exec.CommandContext(ctx, makeBin, "-n", "-C", codeDir, target, "ARTIFACTS_DIR="+filepath.Dir(r.bootstrap(fn.LogicalID)))
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		return "", "", nil, fmt.Errorf("function %s has BuildMethod makefile: make -n %s in %s: %w\n%s", fn.LogicalID, target, codeDir, err, stderr)
	}
	for _, line := range strings.Split(string(out), "\n") {
		if flags, pkgs := goBuild(line); len(pkgs) > 0 {
			return codeDir, pkgs[0], flags, nil
		}
	}
	return "", "", nil, fmt.Errorf("function %s has BuildMethod makefile, but its %s target runs no go build:\n%s", fn.LogicalID, target, out)
}

// valueFlags are the go build flags that take their value as the next argument.
var valueFlags = map[string]bool{
	"-o": true, "-tags": true, "-ldflags": true, "-gcflags": true, "-asmflags": true, "-p": true,
	"-mod": true, "-modfile": true, "-pkgdir": true, "-toolexec": true, "-buildmode": true,
	"-compiler": true, "-installsuffix": true, "-overlay": true, "-pgo": true, "-C": true,
	"-gccgoflags": true, "-covermode": true, "-coverpkg": true,
}

// goBuild returns the flags, all but -o, and the package arguments of a "go build" in a
// shell line.
func goBuild(line string) (flags, pkgs []string) {
	words := shellWords(line)
	for i := 0; i+1 < len(words); i++ {
		if filepath.Base(words[i]) != "go" || words[i+1] != "build" {
			continue
		}
		for j := i + 2; j < len(words); j++ {
			w := words[j]
			switch {
			case w == "&&" || w == ";" || w == "||" || w == "|":
				return flags, pkgs
			case strings.HasPrefix(w, "-"):
				name, _, hasValue := strings.Cut(w, "=")
				name = strings.Replace(name, "--", "-", 1)
				flag := []string{w}
				if !hasValue && valueFlags[name] && j+1 < len(words) {
					j++
					flag = append(flag, words[j])
				}
				if name != "-o" {
					flags = append(flags, flag...)
				}
			default:
				pkgs = append(pkgs, w)
			}
		}
		return flags, pkgs
	}
	return nil, nil
}

// shellWords splits a command line the way sh would for simple commands: quotes and
// backslashes, no expansions.
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for i := 0; i < len(line); i++ {
		c := rune(line[i])
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			} else if c == '\\' && quote == '"' && i+1 < len(line) {
				i++
				cur.WriteByte(line[i])
			} else {
				cur.WriteRune(c)
			}
		case c == '\'' || c == '"':
			quote, inWord = c, true
		case c == '\\' && i+1 < len(line):
			i++
			cur.WriteByte(line[i])
			inWord = true
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

func (r *Runner) bootstrap(id string) string {
	return filepath.Join(r.buildDir, id, "bootstrap")
}
