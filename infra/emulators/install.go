package emulators

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
)

// FindInfra returns the nearest folder named infra with a package.json at or above dir:
// a test runs in its package's folder, and a template may sit below the project root.
func FindInfra(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", fmt.Errorf("find infra/package.json: %w", err)
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "infra", "package.json")); err == nil {
			return filepath.Join(d, "infra"), nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no infra/package.json at or above %s: run from the project", dir)
		}
	}
}

// Install makes sure the emulators are installed in infra/node_modules, running npm ci in
// infra (the folder with package.json and its lock) when one is missing. go test starts
// several test binaries at once, and the local runner may start beside them: they take
// turns on a lock file, and look again once they hold it, because a half-finished install
// already has some of the files. logger (nil: none) hears about an install, which takes a
// while.
func Install(ctx context.Context, infra string, logger *slog.Logger) error {
	nodeModules := filepath.Join(infra, "node_modules")
	if installed(nodeModules) {
		return nil
	}
	unlock, err := lockFile(filepath.Join(infra, ".npm-install.lock"))
	if err != nil {
		return err
	}
	defer unlock()
	if installed(nodeModules) {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("the emulators are not installed in %s and npm is not on PATH: install Node.js 18 or later (with npm), then run npm ci --prefix %s", nodeModules, infra)
	}
	if logger != nil {
		logger.Info("installing the emulators", "cmd", "npm ci --prefix "+infra)
	}
	cmd := exec.CommandContext(ctx, npm, "ci", "--prefix", infra, "--no-audit", "--no-fund")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("npm ci --prefix %s: %w\n%s", infra, err, out)
	}
	if !installed(nodeModules) {
		return fmt.Errorf("npm ci --prefix %s did not install every emulator into %s: check infra/package.json", infra, nodeModules)
	}
	return nil
}

// installed checks .package-lock.json too: npm writes it last, so it marks a complete
// install.
func installed(nodeModules string) bool {
	paths := []string{".package-lock.json"}
	for _, e := range All {
		paths = append(paths, filepath.Join(".bin", e.Bin))
	}
	for _, p := range paths {
		if _, err := os.Stat(filepath.Join(nodeModules, p)); err != nil {
			return false
		}
	}
	return true
}
