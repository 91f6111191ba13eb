//go:build !unix

package emulators

// Without flock, concurrent installs are not serialised.
func lockFile(string) (func(), error) { return func() {}, nil }
