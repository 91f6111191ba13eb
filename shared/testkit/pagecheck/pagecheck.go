// Package pagecheck is a test helper: it has every page of a function parsed, which a running
// function does only for the pages it renders (web.Pages parses each when first rendered).
package pagecheck

import (
	"html/template"
	"io/fs"
	"path"
	"strings"
	"testing"
)

// Each asks page for every file matching pattern in fsys, by the name web.Pages gives it (the
// base name without extension), fails t for each that does not parse, and returns how many
// there were.
func Each(t testing.TB, fsys fs.FS, pattern string, page func(name string) (*template.Template, error)) int {
	t.Helper()
	files, err := fs.Glob(fsys, pattern)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := page(strings.TrimSuffix(path.Base(f), path.Ext(f))); err != nil {
			t.Error(err)
		}
	}
	return len(files)
}
